"""After-hooks from configuration (`selfservice.flows.<flow>.after[.<method>].hooks`), as Kratos reads them.

A per-method list replaces the flow-level one; `session` always runs last. Hooks this server does
not run yet (`web_hook`, `require_verified_address`, …) are skipped with a warning, as Kratos skips
names it does not know. The `verification` hook needs no configuring: registration and settings
run it whenever verification is enabled, as Kratos inserts it.
"""
from __future__ import annotations

import functools
import logging

from kratos_project.config import get_config

logger = logging.getLogger("kratos.hooks")
SUPPORTED = {
    "registration": {"session", "verification", "show_verification_ui"},
    "login": {"revoke_active_sessions"},
    "settings": {"verification"},
    "recovery": {"revoke_active_sessions"},
}


def after_hooks(flow: str, method: str) -> list[str]:
    config = get_config()
    configured = (config.get(f"selfservice.flows.{flow}.after.{method}.hooks")
                  or config.get(f"selfservice.flows.{flow}.after.hooks") or ())
    names = [str(hook.get("hook")) for hook in configured]
    for name in names:
        if name not in SUPPORTED.get(flow, set()):
            _warn_unsupported(flow, name)
    return sorted((n for n in names if n in SUPPORTED.get(flow, set())), key=lambda name: name == "session")


@functools.cache
def _warn_unsupported(flow: str, name: str) -> None:
    logger.warning("after-%s hook %r is not supported yet and is skipped", flow, name)
