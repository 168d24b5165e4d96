"""The code method: one-time codes sent to an address. Serves recovery and verification (login and
registration by code are not offered yet); enabled by default (`selfservice.methods.code.enabled`)."""
from __future__ import annotations

from typing import ClassVar

from strategies.code.recovery import CodeRecovery
from strategies.code.verification import METHOD, CodeVerification


class CodeStrategy(CodeVerification, CodeRecovery):
    id: ClassVar[str] = METHOD


Strategy = CodeStrategy
