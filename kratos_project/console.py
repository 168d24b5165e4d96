"""What every page of the operator console (Django admin on the admin port) has in common.

The console shows rows and changes them only through actions that call the same services as the
admin API, so no page offers a form that writes a row.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views import static

# Django's admin files change only with Django itself.
STATIC_MAX_AGE_SECONDS = 24 * 3600


class ReadOnlyAdmin(admin.ModelAdmin):
    """A console page: rows are listed and shown, never added or edited; actions call services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> list[str]:
        # Every field a page shows is read-only: no page renders an input. Pages declare `fields` or
        # `fieldsets`, so Django does not ask back for the read-only fields to build them.
        return flatten_fieldsets(self.get_fieldsets(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # The change page is view-only; the permission itself still gates the actions.
        return obj is None and super().has_change_permission(request)

    def change_each(self, request: HttpRequest, queryset: QuerySet[Any], change: Callable[[Any], object],
                    note: str) -> int:
        """An action's body: `change` (a service call) for every selected row, all or none, each row's
        history noting `note`; returns how many rows were changed."""
        with transaction.atomic():
            rows = list(queryset)
            for row in rows:
                change(row)
                self.log_change(request, row, note)
        return len(rows)

    def pretty_json(self, value: Any) -> str:
        if value is None:
            return self.get_empty_value_display()
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False))

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
        return html_table(headers, rows) or self.get_empty_value_display()


def html_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> SafeString | None:
    """An HTML table, or None without rows; cells are escaped unless already safe (`format_html`)."""
    cells = [format_html_join("", "<td>{}</td>", ((cell,) for cell in row)) for row in rows]
    if not cells:
        return None
    return format_html(
        "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
        format_html_join("", "<th>{}</th>", ((header,) for header in headers)),
        format_html_join("", "<tr>{}</tr>", ((row,) for row in cells)),
    )


def static_file(request: HttpRequest, path: str) -> HttpResponse:
    """The console's CSS, scripts and images (Django admin's static files, `STATIC_URL`), served by
    the admin port itself so that a bare `manage.py serve` shows a styled console; a deployment with a
    file server in front can run `collectstatic` and serve `STATIC_ROOT` instead. Only files the
    static finders know are served: a path reaching outside their folders is not found."""
    try:
        found = finders.find(path)
    except SuspiciousFileOperation:
        found = None
    if not isinstance(found, str):
        raise Http404(path)
    response = static.serve(request, os.path.basename(found), document_root=os.path.dirname(found))
    response["Cache-Control"] = f"public, max-age={STATIC_MAX_AGE_SECONDS}"
    return response
