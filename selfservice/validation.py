"""JSON Schema violations of submitted traits → Kratos's UI messages, on the node they concern."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kratos_project.errors import SchemaValidationError
from selfservice.text import ui_text
from selfservice.ui import Message

_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


def _node_name(path: Any) -> str:
    return ".".join(str(p) for p in path)


def _message(error: Any) -> tuple[str, Message]:
    """One jsonschema error as (node name, uiText), using Kratos's message ids."""
    node = _node_name(error.absolute_path)
    validator, expected, instance = error.validator, error.validator_value, error.instance
    if validator == "required":
        missing = next((name for name in expected if not isinstance(instance, Mapping) or name not in instance), "")
        return f"{node}.{missing}", ui_text(4000002, property=missing)
    if validator == "minLength":
        return node, ui_text(4000003, min_length=expected, actual_length=len(instance))
    if validator == "maxLength":
        return node, ui_text(4000017, max_length=expected, actual_length=len(instance))
    if validator == "pattern":
        return node, ui_text(4000004, pattern=expected)
    if validator == "format" and expected in ("email", "tel"):
        return node, ui_text(4000040 if expected == "email" else 4000041, value=instance)
    if validator in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        ids = {"minimum": 4000018, "exclusiveMinimum": 4000019, "maximum": 4000020, "exclusiveMaximum": 4000021}
        key = "minimum" if "inimum" in validator else "maximum"
        return node, ui_text(ids[validator], **{key: expected, "actual": instance})
    if validator == "type":
        allowed = expected if isinstance(expected, list) else [expected]
        return node, ui_text(4000026, allowed_types=allowed, actual_type=_TYPE_NAMES.get(type(instance), "null"))
    if validator == "const":
        return node, ui_text(4000029, expected=expected)
    return node, ui_text(4000001, reason=error.message)


def trait_messages(error: SchemaValidationError) -> list[tuple[str | None, Message]]:
    return [_message(violation) for violation in error.violations] or [(None, ui_text(4000001, reason=error.reason))]
