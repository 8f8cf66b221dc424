"""Firing decisions over time: cooldown per (rule, symbol), once-mode and the rate limit.

Inside a cooldown, an event that escalates the episode the rule last fired for (the engine's
``episode`` id, a higher severity than that fire) still fires: one shock alerts once, and
again only if it becomes critical, never once per follow-up card.

State lives in memory in the ingest process. What must survive a restart is also written
by the router: cooldowns per (rule, symbol) to ``AlertCooldown`` (read back through
:meth:`FiringState.restore`), once-mode disarming and throttling flags to the rule row. The
per-minute rate window is not kept: it is a minute long.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from pulse.alerts.matching import ONCE, RuleSpec

FIRE = "fire"
COOLDOWN = "cooldown"
THROTTLED = "throttled"
DISARMED = "disarmed"
_SEVERITY_RANK = {"warning": 1, "critical": 2}


class FiringState:
    """Decide whether a matching event fires its rule now."""

    def __init__(self) -> None:
        # (rule id, symbol) -> event time of the last fire, for "every time with cooldown".
        self.last_fire: dict[tuple[int, str], float] = {}
        # (rule id, symbol) -> (episode, severity rank) of the last fire: escalations of that
        # episode bypass the cooldown. Kept in memory only (after a restart, cooldown rules).
        self.last_episode: dict[tuple[int, str], tuple[str, int]] = {}
        # rule id -> wall times of recent fires, at most max_per_minute kept.
        self.recent: dict[int, deque[float]] = {}
        # Once-mode rules fired in this process before the database row says so.
        self.disarmed: set[int] = set()
        # Whether persisted cooldowns were read back (once per process, see restore()).
        self.restored = False

    def decide(self, spec: RuleSpec, event: dict[str, Any], now: float) -> str:
        """Return FIRE, COOLDOWN, DISARMED or THROTTLED for a matching ``event`` at wall
        time ``now``, and record a fire.
        """
        if spec.mode == ONCE and spec.id in self.disarmed:
            return DISARMED
        key = (spec.id, str(event.get("symbol")))
        ts = float(event.get("ts") or 0.0)
        last = self.last_fire.get(key)
        episode = event.get("episode")
        rank = _SEVERITY_RANK.get(str(event.get("severity")), 0)
        if (spec.mode != ONCE and last is not None and ts - last < spec.cooldown
                and not self._escalates(key, episode, rank)):
            return COOLDOWN
        recent = self.recent.setdefault(spec.id, deque())
        while recent and now - recent[0] >= 60.0:
            recent.popleft()
        if len(recent) >= spec.max_per_minute:
            return THROTTLED
        recent.append(now)
        self.last_fire[key] = ts
        if isinstance(episode, str):
            self.last_episode[key] = (episode, rank)
        if spec.mode == ONCE:
            self.disarmed.add(spec.id)
        return FIRE

    def _escalates(self, key: tuple[int, str], episode: Any, rank: int) -> bool:
        """Return True if ``episode`` is the one last fired for ``key``, at a lower severity."""
        last = self.last_episode.get(key)
        return last is not None and last[0] == episode and rank > last[1]

    def copy(self) -> FiringState:
        """Return an independent copy (restored when a transaction fails)."""
        other = FiringState()
        other.last_fire = dict(self.last_fire)
        other.last_episode = dict(self.last_episode)
        other.recent = {k: deque(v) for k, v in self.recent.items()}
        other.disarmed = set(self.disarmed)
        other.restored = self.restored
        return other

    def restore(self, cooldowns: list[tuple[int, str, float]]) -> None:
        """Take persisted (rule id, symbol, last fire event time) rows; newer times win."""
        for rule_id, symbol, ts in cooldowns:
            key = (rule_id, symbol)
            if ts > self.last_fire.get(key, -float("inf")):
                self.last_fire[key] = ts
        self.restored = True

    def rearmed(self, rule_id: int) -> None:
        """Forget that a once-mode rule fired (the user re-armed it)."""
        self.disarmed.discard(rule_id)
