"""The link method: one-time links sent by email. Serves recovery and verification; disabled by
default (`selfservice.methods.link.enabled`)."""
from __future__ import annotations

from typing import ClassVar

from strategies.link.recovery import LinkRecovery
from strategies.link.form import METHOD
from strategies.link.verification import LinkVerification


class LinkStrategy(LinkVerification, LinkRecovery):
    id: ClassVar[str] = METHOD


Strategy = LinkStrategy
