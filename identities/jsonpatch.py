"""RFC 6902 JSON Patch over plain JSON values (RFC 6901 pointers), for `PATCH /admin/identities/{id}`."""
from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any


class PatchError(ValueError):
    """The patch document is malformed, or an operation cannot apply (RFC 6902 §5: apply none)."""


def parse_pointer(pointer: Any) -> list[str]:
    if not isinstance(pointer, str):
        raise PatchError(f"a JSON pointer must be a string, not {json_type(pointer)}")
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"JSON pointer must start with '/': {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _child(container: Any, token: str, *, for_add: bool = False) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise PatchError(f"path member {token!r} does not exist")
        return container[token]
    if isinstance(container, list):
        return container[_index(container, token, for_add=for_add)]
    raise PatchError(f"cannot descend into a {type(container).__name__} with {token!r}")


def _index(array: list[Any], token: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(array)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"invalid array index {token!r}")
    index = int(token)
    if index > len(array) or (index == len(array) and not for_add):
        raise PatchError(f"array index {index} is out of bounds")
    return index


def _parent(document: Any, tokens: list[str]) -> tuple[Any, str]:
    if not tokens:
        raise PatchError("the operation cannot target the whole document")
    node = document
    for token in tokens[:-1]:
        node = _child(node, token)
    return node, tokens[-1]


def _get(document: Any, tokens: list[str]) -> Any:
    node = document
    for token in tokens:
        node = _child(node, token)
    return node


def _add(document: Any, tokens: list[str], value: Any) -> None:
    parent, last = _parent(document, tokens)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, for_add=True), value)
    else:
        raise PatchError(f"cannot add {last!r} to a {type(parent).__name__}")


def _remove(document: Any, tokens: list[str]) -> Any:
    parent, last = _parent(document, tokens)
    value = _child(parent, last)
    if isinstance(parent, dict):
        del parent[last]
    else:
        del parent[_index(parent, last, for_add=False)]
    return value


def _replace(document: Any, tokens: list[str], value: Any) -> None:
    _remove(document, tokens)
    _add(document, tokens, value)


def apply_patch(document: Any, operations: Any) -> Any:
    """Return a patched deep copy of `document`; the input is never modified."""
    if not isinstance(operations, Sequence) or isinstance(operations, (str, bytes)):
        raise PatchError("a JSON Patch document must be an array of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        result = _apply_one(result, operation)
    return result


def _apply_one(document: Any, operation: Any) -> Any:
    if not isinstance(operation, Mapping) or "op" not in operation or "path" not in operation:
        raise PatchError("every operation needs `op` and `path`")
    op, tokens = operation["op"], parse_pointer(operation["path"])
    if op in ("add", "replace", "test") and "value" not in operation:
        raise PatchError(f"operation {op!r} needs a `value`")
    if op in ("move", "copy") and "from" not in operation:
        raise PatchError(f"operation {op!r} needs `from`")
    if not tokens and op in ("add", "replace"):
        return copy.deepcopy(operation["value"])
    if op == "add":
        _add(document, tokens, copy.deepcopy(operation["value"]))
    elif op == "remove":
        _remove(document, tokens)
    elif op == "replace":
        _replace(document, tokens, copy.deepcopy(operation["value"]))
    elif op == "move":
        _add(document, tokens, _remove(document, parse_pointer(operation["from"])))
    elif op == "copy":
        _add(document, tokens, copy.deepcopy(_get(document, parse_pointer(operation["from"]))))
    elif op == "test":
        if _get(document, tokens) != operation["value"]:
            raise PatchError(f"test operation failed at {operation['path']!r}")
    else:
        raise PatchError(f"unknown operation {op!r}")
    return document
