"""A flow's UI container laid out as HTML forms, for the default pages (selfservice/pages.py).

Generic on purpose: every node type (input, img, a, text, script, div) and every group renders without
template changes, so a strategy added later shows up on the pages as it shows up in the API. As Ory's
own UIs do, each method group gets a form of its own that also carries the `default` group's nodes
(the anti-CSRF token, the identifier): a form then posts exactly what an API client would send for one
method, and the required fields of one method never block another method's button.
"""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from selfservice.ui import Message, Node

DEFAULT_GROUP = "default"
_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True)
class NodeMessage:
    dom_id: str
    message: Message


@dataclass(frozen=True)
class NodeView:
    """One node as the template renders it: its Kratos attributes plus the page's ids and wiring."""

    node: Node
    dom_id: str
    messages: tuple[NodeMessage, ...]
    autofocus: bool = False

    @property
    def type(self) -> str:
        return str(self.node["type"])

    @property
    def attributes(self) -> Mapping[str, Any]:
        return self.node["attributes"]

    @property
    def input_type(self) -> str:
        return str(self.attributes.get("type", ""))

    @property
    def label(self) -> Message | None:
        return self.node.get("meta", {}).get("label") or self.attributes.get("label")

    @property
    def value(self) -> str | None:
        value = self.attributes.get("value")
        if value is None:
            return None
        # A form posts strings; Kratos decodes "true"/"false" and numbers by the identity schema.
        return ("true" if value else "false") if isinstance(value, bool) else str(value)

    @property
    def checked(self) -> bool:
        return self.attributes.get("value") in (True, "true")

    @property
    def described_by(self) -> str:
        return " ".join(m.dom_id for m in self.messages)

    @property
    def invalid(self) -> bool:
        return any(m.message.get("type") == "error" for m in self.messages)

    @property
    def data_attributes(self) -> list[tuple[str, str]]:
        """A `div` node's `data` map as `data-*` attributes (e.g. a captcha widget's settings)."""
        data = self.attributes.get("data") or {}
        return [(f"data-{_UNSAFE_ID_CHARS.sub('-', str(k))}", str(v)) for k, v in data.items()]


@dataclass(frozen=True)
class FormView:
    group: str  # the method group; "default" when the flow has no other group
    action: str
    method: str
    nodes: list[NodeView] = field(default_factory=list)

    @property
    def has_fields(self) -> bool:
        """Whether the form asks for something (not only hidden values and buttons)."""
        return any(n.type == "input" and n.input_type not in ("hidden", "submit", "button") for n in self.nodes)


def needs_titles(forms: Sequence[FormView]) -> bool:
    """Sections get headings when more than one of them asks for something (settings: profile and
    password); a lone form with a second button (registration's "Back") needs none."""
    return sum(form.has_fields for form in forms) > 1


def forms_of(ui: Mapping[str, Any]) -> list[FormView]:
    """The forms of a UI container: one per method group, in the order the groups first appear."""
    nodes: Sequence[Node] = ui.get("nodes") or []
    groups = list(dict.fromkeys(n["group"] for n in nodes if n["group"] != DEFAULT_GROUP)) or [DEFAULT_GROUP]
    forms = [FormView(group, str(ui.get("action", "")), str(ui.get("method", "POST")).upper()) for group in groups]
    for form in forms:
        members = [n for n in nodes if n["group"] in (DEFAULT_GROUP, form.group)]
        form.nodes.extend(_node_view(form.group, node) for node in members)
    _focus_first_invalid(forms)
    return forms


def _node_view(group: str, node: Node) -> NodeView:
    attributes = node["attributes"]
    # A node of the `default` group appears in every form: the form's group keeps its ids unique.
    dom_id = _UNSAFE_ID_CHARS.sub("-", f"{group}-{attributes.get('name') or attributes.get('id') or node['type']}")
    messages = tuple(NodeMessage(f"{dom_id}-message-{index}", message)
                     for index, message in enumerate(node.get("messages") or []))
    return NodeView(node, dom_id, messages)


def _focus_first_invalid(forms: list[FormView]) -> None:
    """The first field with an error gets the focus, so a keyboard or screen reader user lands on it."""
    for form in forms:
        for index, view in enumerate(form.nodes):
            if view.type == "input" and view.invalid:
                form.nodes[index] = NodeView(view.node, view.dom_id, view.messages, autofocus=True)
                return
