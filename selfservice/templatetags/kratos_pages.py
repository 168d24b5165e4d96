"""Template filters of the default pages: Kratos UI texts in the browser's language, group titles.

Translations are ordinary Django catalogues (`locale/<lang>/LC_MESSAGES/django.po`, compiled with
`compilemessages`) keyed by Kratos message id: `msgid "kratos:1010022"`, the way Ory's UIs translate
by id. A translation may use the message's context as `{placeholders}` (`kratos:4000032` has
`{min_length}`); a message without one keeps the English text Kratos put on the flow.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

register = template.Library()

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_GROUP_TITLES = {
    "default": "", "password": _("Password"), "profile": _("Profile"), "code": _("One-time code"),
    "link": _("Email link"), "oidc": _("Social sign-in"), "saml": _("Single sign-on"), "totp": _("Authenticator app"),
    "lookup_secret": _("Backup recovery codes"), "webauthn": _("Security key"), "passkey": _("Passkey"),
    "identifier_first": "", "captcha": "",
}


@register.filter
def kratos_text(message: Mapping[str, Any] | None) -> str:
    if not message:
        return ""
    msgid = f"kratos:{message.get('id')}"
    translated = gettext(msgid)
    if translated == msgid:
        return str(message.get("text", ""))
    context = message.get("context") or {}
    return _PLACEHOLDER.sub(lambda m: str(context[m[1]]) if m[1] in context else m[0], translated)


@register.filter
def group_title(group: str) -> str:
    """A method group's section heading; a group Kratos adds later is titled by its name."""
    title = _GROUP_TITLES.get(group)
    return str(title) if title is not None else group.replace("_", " ").capitalize()
