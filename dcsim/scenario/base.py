"""Base model and field types shared by every part of the scenario schema.

The schema is split by block (workloads and plant in :mod:`dcsim.scenario.schema`, the grid
contract, cooling plant and build-out in their own modules); they all derive from
:class:`ScenarioModel` so that an unknown key is an error everywhere, and so that one
number policy holds for every field: a number must be finite (``.inf`` and ``.nan`` are
refused) and at most :data:`MAX_ABS_NUMBER` in magnitude (integers: within 64 bits). Where a
field has no limit, its description says that ``null`` means so; infinity never does.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Frac = Annotated[float, Field(ge=0, le=1)]
Name = Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]

#: Longest scenario name [characters]: it names the results folder, and a folder name
#: may have 255 bytes on common filesystems (the run id and temporaries need the rest).
MAX_SCENARIO_NAME_CHARS = 100


def _folder_name(value: str) -> str:
    if value.strip(".") == "":
        raise PydanticCustomError(
            "scenario_name",
            f"{value!r} cannot name a results folder; expected letters, digits, '_', '-' or "
            "'.', not only dots",
        )
    return value


#: A scenario name: also the name of its results folder (``results/<name>/``).
ScenarioName = Annotated[
    str,
    Field(min_length=1, max_length=MAX_SCENARIO_NAME_CHARS, pattern=r"^[A-Za-z0-9_.-]+$"),
    AfterValidator(_folder_name),
]

#: Largest magnitude of a number in a scenario. Far above any quantity a campus has in its
#: field's unit (1e15 s is 32 million years; 1e15 MW a million times the world's capacity),
#: and far below where sums and products of such numbers overflow to infinity.
MAX_ABS_NUMBER = 1e15
#: Largest magnitude of an integer (seeds, counts): what a 64-bit array holds.
MAX_ABS_INT = 2**63 - 1


def _check_numbers(value: Any) -> None:
    """Raise for a non-finite or absurdly large number in a value, its lists and mappings."""
    if isinstance(value, bool) or isinstance(value, BaseModel):
        return  # a nested model checked its own fields
    if isinstance(value, float):
        if not math.isfinite(value):
            raise PydanticCustomError("finite_number", "Input should be a finite number")
        if abs(value) > MAX_ABS_NUMBER:
            raise PydanticCustomError(
                "scenario_number_too_large",
                f"{value!r} is larger than {MAX_ABS_NUMBER:g} in magnitude; expected a "
                "number of sensible size in the field's unit",
            )
    elif isinstance(value, int):
        if abs(value) > MAX_ABS_INT:
            raise PydanticCustomError(
                "scenario_number_too_large",
                f"{value} does not fit in 64 bits; expected an integer of sensible size",
            )
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_numbers(item)
    elif isinstance(value, dict):
        for item in value.values():
            _check_numbers(item)


class ScenarioModel(BaseModel):
    """Base of every scenario model: unknown keys are errors, numbers finite and sensible.

    Defaults are validated too; the number policy is the module docstring's.
    """

    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _finite_numbers(cls, value: Any) -> Any:
        _check_numbers(value)
        return value
