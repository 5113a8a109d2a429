"""The JSON Schema of scenario files, as editors and ``dcsim schema`` see it.

pydantic derives the schema of a complete scenario from :class:`~dcsim.scenario.schema.Scenario`;
a file may also be a variant of another (``extends:`` a base file, ``set:`` dotted paths, see
:func:`dcsim.scenario.load.load_with_extends`). A variant need not repeat the required fields
its base provides, so they are required only of a file without ``extends``.

References
----------
JSON Schema draft 2020-12, https://json-schema.org/draft/2020-12 (``if``/``then``/``else``,
``dependentRequired``).
"""

from __future__ import annotations

from typing import Any

from dcsim.scenario.schema import Scenario

#: The dialect of the emitted schema.
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: Identifier of the scenario schema: a URN, since the project publishes no schema URL.
SCHEMA_ID = "urn:dcsim:schema:scenario"

__all__ = ["SCHEMA_DIALECT", "SCHEMA_ID", "scenario_json_schema"]


def scenario_json_schema() -> dict[str, Any]:
    """JSON Schema of a scenario file: a complete scenario, or a variant of one.

    Returns
    -------
    dict
        The schema, with ``$schema`` (draft 2020-12) and ``$id`` first.
    """
    body = Scenario.model_json_schema()
    required = body.pop("required", [])
    props = body["properties"]
    props["extends"] = {
        "type": "string",
        "minLength": 1,
        "title": "Extends",
        "description": (
            "This file is a variant of the scenario file named here (a path relative to this "
            "file's folder); its other top-level keys replace the base's."
        ),
    }
    props["set"] = {
        "type": "object",
        "title": "Set",
        "description": (
            "Changes to the base file: dotted field paths (list items by index or by name, "
            "e.g. sites.campus.import_limit_mw) mapped to their new values."
        ),
        "propertyNames": {"pattern": r"^[^.\s]+(\.[^.\s]+)*$"},
    }
    schema: dict[str, Any] = {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **body}
    # The fields a base provides are required only of a file that is not a variant.
    schema["if"] = {"required": ["extends"]}
    schema["then"] = {}
    schema["else"] = {"required": required}
    schema["dependentRequired"] = {"set": ["extends"]}
    return schema
