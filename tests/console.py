"""Helpers for the operator console tests (the `console` client fixture is in tests/conftest.py)."""
from __future__ import annotations

from typing import Any


def listed(response: Any) -> set[str]:
    """The primary keys of the rows a console list page shows."""
    assert response.status_code == 200, response.content
    return {str(row.pk) for row in response.context["cl"].result_list}


def shown_messages(response: Any) -> list[str]:
    """The texts of the messages (`message_user`) a followed console response shows."""
    return [str(message) for message in response.context["messages"]]
