"""The strategy registry, built once in `StrategiesConfig.ready`.

A strategy is one class per method (password, code, totp, …); implementing a flow's protocol
declares that it serves that flow. Flows ask the registry for the strategies of their protocol.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


class StrategyRegistry:
    _ordered: tuple[object, ...] = ()

    def populate(self, strategies: Iterable[object]) -> None:
        # Idempotent: Django may call ready() more than once.
        self._ordered = tuple(strategies)

    def for_flow(self, protocol: type[T]) -> list[T]:
        return [s for s in self._ordered if isinstance(s, protocol)]


registry = StrategyRegistry()
