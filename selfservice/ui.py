"""The UI container of a flow (`ui.action`, `ui.method`, `ui.nodes`, `ui.messages`), as Kratos emits it.

Nodes are plain dicts in Kratos's JSON shape (reference §3.3, §3.5): every node has exactly `type`,
`group`, `attributes`, `messages` and `meta`; input attributes always carry `name`, `type`,
`disabled` and `node_type`, and omit `value`/`required`/`autocomplete`/`pattern` when empty. A
container is stored on the flow row as that JSON and rebuilt from it, so what a client sees is what
was saved.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfservice.text import ui_text

Node = dict[str, Any]
Message = dict[str, Any]


def input_node(
    name: str,
    group: str,
    *,
    type: str = "text",
    value: Any = None,
    required: bool = False,
    autocomplete: str | None = None,
    pattern: str | None = None,
    disabled: bool = False,
    max_length: int | None = None,
    label: Message | None = None,
) -> Node:
    attributes: dict[str, Any] = {"name": name, "type": type}
    if value is not None:
        attributes["value"] = value
    if required:
        attributes["required"] = True
    if autocomplete:
        attributes["autocomplete"] = autocomplete
    if pattern:
        attributes["pattern"] = pattern
    attributes["disabled"] = disabled
    if max_length:
        attributes["maxlength"] = max_length
    attributes["node_type"] = "input"
    return {"type": "input", "group": group, "attributes": attributes, "messages": [],
            "meta": {"label": label} if label else {}}


def submit_node(name: str, value: str, group: str, label: Message) -> Node:
    return input_node(name, group, type="submit", value=value, label=label)


def anchor_node(node_id: str, href: str, group: str, title: Message) -> Node:
    """A link (`type: a`), e.g. the "Continue" of a completed verification; its label is its title."""
    return {"type": "a", "group": group, "attributes": {"href": href, "title": title, "id": node_id, "node_type": "a"},
            "messages": [], "meta": {"label": title}}


def csrf_node(token: str) -> Node:
    return input_node("csrf_token", "default", type="hidden", value=token, required=True)


# JSON Schema `format` → input type and autocomplete (Kratos's NewInputFieldFromSchema).
_FORMAT_TYPES = {
    "date-time": ("datetime-local", None), "email": ("email", "email"), "tel": ("tel", "tel"),
    "date": ("date", None), "uri": ("url", "url"), "regex": ("text", None),
}


def trait_nodes(schema: Mapping[str, Any], group: str = "default") -> list[Node]:
    """One input per scalar trait of an identity schema, named `traits.<path>`, in schema order."""
    return [_trait_node(name, prop, required=required, group=group)
            for name, prop, required in scalar_traits(schema) if prop.get("type") != "array"]


def scalar_traits(schema: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any], bool]]:
    """(node name, property schema, required) of every non-object trait, nested objects flattened."""
    return list(_walk(schema.get("properties", {}).get("traits", {}), "traits"))


def _walk(schema: Mapping[str, Any], prefix: str) -> Iterable[tuple[str, Mapping[str, Any], bool]]:
    required = set(schema.get("required", []))
    for name, prop in (schema.get("properties") or {}).items():
        if prop.get("type") == "object":
            yield from _walk(prop, f"{prefix}.{name}")
        else:
            yield f"{prefix}.{name}", prop, name in required


def _trait_node(name: str, prop: Mapping[str, Any], *, required: bool, group: str) -> Node:
    kind = prop.get("type")
    input_type = "checkbox" if kind == "boolean" else "number" if kind in ("number", "integer") else "text"
    autocomplete = None
    if prop.get("format") in _FORMAT_TYPES:
        input_type, autocomplete = _FORMAT_TYPES[prop["format"]]
    title = prop.get("title")
    return input_node(
        name, group, type=input_type, required=required, autocomplete=autocomplete, pattern=prop.get("pattern"),
        disabled=bool(prop.get("disableFormField")),
        label=ui_text(1070002, title=title, name=name) if title else None,
    )


def flatten(document: Any, prefix: str) -> dict[str, Any]:
    """`{"traits": {"name": {"first": "Ada"}}}` → `{"traits.name.first": "Ada"}` (node names)."""
    if not isinstance(document, Mapping):
        return {prefix: document}
    flat: dict[str, Any] = {}
    for key, value in document.items():
        flat.update(flatten(value, f"{prefix}.{key}"))
    return flat


@dataclass
class UIContainer:
    action: str
    method: str = "POST"
    nodes: list[Node] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> UIContainer:
        return cls(action=data["action"], method=data["method"], nodes=list(data["nodes"]),
                   messages=list(data.get("messages", [])))

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"action": self.action, "method": self.method, "nodes": self.nodes}
        if self.messages:
            body["messages"] = self.messages
        return body

    def find(self, name: str, group: str | None = None) -> Node | None:
        return next((n for n in self.nodes if _name(n) == name and (group is None or n["group"] == group)), None)

    def upsert(self, node: Node) -> None:
        """Replace the node with the same name and group, or append it."""
        for index, existing in enumerate(self.nodes):
            if _name(existing) == _name(node) and existing["group"] == node["group"]:
                self.nodes[index] = node
                return
        self.nodes.append(node)

    def remove(self, predicate: Callable[[Node], bool]) -> None:
        self.nodes = [n for n in self.nodes if not predicate(n)]

    def set_csrf(self, token: str) -> None:
        self.upsert(csrf_node(token))

    def set_values(self, values: Mapping[str, Any], *, group: str | None = None) -> None:
        """Fill input values by node name (e.g. submitted traits), never for secrets."""
        for node in self.nodes:
            attributes = node["attributes"]
            if attributes.get("node_type") != "input" or attributes["type"] in ("password", "submit"):
                continue
            if (group is None or node["group"] == group) and attributes.get("name") in values:
                attributes["value"] = values[attributes["name"]]

    def reset_messages(self) -> None:
        self.messages = []
        for node in self.nodes:
            node["messages"] = []

    def add_message(self, message: Message, node_name: str | None = None) -> None:
        """A message on the named node, or on the container when no node is named.

        A named node the form lacks (the password on the first screen of a two-step registration)
        is added as a plain text input carrying the message, as Kratos's Container.AddMessage does.
        """
        if not node_name:
            self.messages.append(message)
            return
        node = self.find(node_name)
        if node is None:
            node = input_node(node_name, "default")
            self.nodes.append(node)
        node["messages"].append(message)


def _name(node: Node) -> str:
    return node["attributes"].get("name") or node["attributes"].get("id", "")


def sort_nodes(nodes: list[Node], groups: Sequence[str], keys: Sequence[str]) -> list[Node]:
    """Kratos's SortBySchema: by group (unlisted groups first), then by key prefix; `method` last.

    `default` and `password` count as one group, so the identifier and the password stay together.
    """
    def group_rank(node: Node) -> int:
        group = "default" if node["group"] == "password" and "default" in groups else node["group"]
        return groups.index(group) + 1 if group in groups else 0

    def key_rank(node: Node) -> int:
        name = _name(node)
        if name == "method":
            return len(keys) + 1
        return next((i for i, key in enumerate(keys) if name == key or name.startswith(key + ".")), len(keys))

    return sorted(nodes, key=lambda n: (group_rank(n), key_rank(n)))


_IDENTIFIER_MARKS = (("password", "identifier"), ("webauthn", "identifier"), ("passkey", "display_name"),
                     ("totp", "account_name"), ("code", "identifier"))


def identifier_label(schema: Mapping[str, Any]) -> Message:
    """The login `identifier` label: the trait's title when exactly one titled trait identifies
    (Kratos's GetIdentifierLabelFromSchema), else the generic "ID"."""
    marked = [(name, prop) for name, prop, _ in scalar_traits(schema) if _identifies(prop)]
    if len(marked) == 1 and marked[0][1].get("title"):
        name, prop = marked[0]
        return ui_text(1070002, title=prop["title"], name=name)
    return ui_text(1070004)


def _identifies(prop: Mapping[str, Any]) -> bool:
    credentials = (prop.get("ory.sh/kratos") or {}).get("credentials") or {}
    return any((credentials.get(method) or {}).get(flag) for method, flag in _IDENTIFIER_MARKS)
