"""The strategy registry, built once in `StrategiesConfig.ready`.

A strategy is one class per method (password, code, totp, …); implementing a flow's protocol
declares that it serves that flow. Flows ask the registry for the enabled strategies of their
protocol (`selfservice.methods.<id>.enabled`).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from kratos_project.config import get_config

T = TypeVar("T")


class StrategyRegistry:
    _ordered: tuple[object, ...] = ()

    def populate(self, strategies: Iterable[object]) -> None:
        # Idempotent: Django may call ready() more than once.
        self._ordered = tuple(strategies)

    def for_flow(self, protocol: type[T]) -> list[T]:
        config = get_config()
        return [s for s in self._ordered
                if isinstance(s, protocol) and config.get(f"selfservice.methods.{s.id}.enabled", False)]


registry = StrategyRegistry()
