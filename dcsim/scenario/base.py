"""Base model and field types shared by every part of the scenario schema.

The schema is split by block (workloads and plant in :mod:`dcsim.scenario.schema`, the grid
contract, cooling plant and build-out in their own modules); they all derive from
:class:`ScenarioModel` so that an unknown key is an error everywhere.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Frac = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]


class ScenarioModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, defaults are validated."""

    model_config = ConfigDict(extra="forbid", validate_default=True)
