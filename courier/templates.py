"""Message templates: ours under `templates/courier/<template_type>/`, overridable as in Kratos.

Each part of a message is looked up in this order (Kratos `courier/template/load_template.go`):

1. the URI under `courier.templates.<template>.<valid|invalid>.<email|sms>…` (`file://`, `base64://`,
   `http(s)://`), e.g. `courier.templates.recovery_code.valid.email.body.html`;
2. `<courier.template_override_path>/<template_type>/<file>`, the layout of our own directory;
3. our template.

Files per template type: `email.subject.txt`, `email.body.txt`, `email.body.html` and, for the
types Kratos can send by SMS, `sms.body.txt`. Our HTML parts extend `_layout.html`; the four
`*_invalid` types share `_unknown_address.{txt,html}`. The override directory may replace these too.

Difference from Kratos: templates are Django templates (`{{ recovery_code }}`, `{% if … %}`), not
Go templates (`{{ .RecoveryCode }}`), so an override written for Kratos must be translated. The
context holds the template data under Kratos's JSON names (`to`, `recovery_code`, `recovery_url`,
`verification_code`, `verification_url`, `login_code`, `registration_code`, `identity`, `traits`,
`request_url`, `transient_payload`, `expires_in_minutes`). Plain-text parts are rendered without
HTML escaping; the HTML part escapes as Django does.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import template
from django.conf import settings
from django.template import Context, Engine, TemplateDoesNotExist

from kratos_project.config import get_config
from kratos_project.fetcher import fetch

EMAIL_TEMPLATE_TYPES = (
    "recovery_invalid", "recovery_valid", "recovery_code_invalid", "recovery_code_valid",
    "verification_invalid", "verification_valid", "verification_code_invalid", "verification_code_valid",
    "login_code_valid", "registration_code_valid", "stub",
)
# Kratos has SMS templates for the code methods only (`courier/sms_templates.go`).
SMS_TEMPLATE_TYPES = ("recovery_code_valid", "verification_code_valid", "login_code_valid",
                      "registration_code_valid", "stub")

BUILTIN_DIR = Path(settings.BASE_DIR) / "templates" / "courier"

# Filters for HTTP channel body templates (`courier.channels`): `{{ ctx.recipient|json }}`.
register = template.Library()


@register.filter(name="json")
def json_filter(value: Any) -> str:
    return json.dumps(value)


class TemplateError(Exception):
    """A template could not be loaded or rendered; the message says which and why."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body: str
    html_body: str


@dataclass(frozen=True)
class _Part:
    file: str  # under <template_type>/
    config_key: str  # under courier.templates.<template>.<valid|invalid>.
    html: bool


_SUBJECT = _Part("email.subject.txt", "email.subject", html=False)
_BODY = _Part("email.body.txt", "email.body.plaintext", html=False)
_HTML = _Part("email.body.html", "email.body.html", html=True)
_SMS = _Part("sms.body.txt", "sms.body.plaintext", html=False)


def render_email(template_type: str, data: dict[str, Any]) -> RenderedEmail:
    if template_type not in EMAIL_TEMPLATE_TYPES:
        raise TemplateError(f"unknown email template type {template_type!r}")
    subject = _render(template_type, _SUBJECT, data)
    return RenderedEmail(
        # Kratos trims the subject; a header cannot hold line breaks, so they become spaces.
        subject=" ".join(subject.split()),
        body=_render(template_type, _BODY, data),
        html_body=_render(template_type, _HTML, data),
    )


def render_sms(template_type: str, data: dict[str, Any]) -> str:
    if template_type not in SMS_TEMPLATE_TYPES:
        raise TemplateError(f"there is no SMS template for {template_type!r}")
    return _render(template_type, _SMS, data).strip()  # a trailing line break costs SMS characters


def render_http_body(source: str, ctx: dict[str, Any]) -> str:
    """An HTTP channel body template (Django syntax, with the `json` filter) over Kratos's `ctx`."""
    try:
        return _engine("").from_string(source).render(Context({"ctx": ctx}, autoescape=False))
    except template.TemplateSyntaxError as error:
        raise TemplateError(f"the request body template is invalid: {error}") from error


def _render(template_type: str, part: _Part, data: dict[str, Any]) -> str:
    override_path = get_config().get("courier.template_override_path") or ""
    uri = _config_uri(template_type, part)
    try:
        if uri:
            compiled = _from_uri(uri, override_path)
        else:
            compiled = _engine(override_path).get_template(f"{template_type}/{part.file}")
    except TemplateDoesNotExist as error:
        raise TemplateError(f"no template {template_type}/{part.file}") from error
    except template.TemplateSyntaxError as error:
        raise TemplateError(f"template {uri or f'{template_type}/{part.file}'} is invalid: {error}") from error
    # The Context, not the Engine, decides escaping when a compiled template renders.
    return compiled.render(Context(data, autoescape=part.html))


def _config_uri(template_type: str, part: _Part) -> str:
    if template_type == "stub":
        return ""  # Kratos's test stub has no configuration keys
    name, _, validity = template_type.rpartition("_")  # "recovery_code_valid" → recovery_code, valid
    return get_config().get(f"courier.templates.{name}.{validity}.{part.config_key}") or ""


@functools.lru_cache(maxsize=64)
def _from_uri(uri: str, override_path: str) -> template.Template:
    # Cached per URI as Kratos caches remote templates: an http(s) template is fetched once.
    try:
        source = fetch(uri).decode("utf-8")
    except (OSError, ValueError) as error:
        raise TemplateError(f"cannot load the template {uri.split('://')[0]}://…: {error}") from error
    return _engine(override_path).from_string(source)


@functools.cache
def _engine(override_path: str) -> Engine:
    dirs = [Path(override_path)] if override_path else []
    return Engine(dirs=[*dirs, BUILTIN_DIR], builtins=["courier.templates"])
