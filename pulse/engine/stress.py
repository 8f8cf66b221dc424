"""Per-symbol stress detection: price moves over fixed horizons and volatility spikes.

Thresholds are turned into price levels once per grid cell (the reference price only changes
when the cell changes), so the per-tick cost is two comparisons against a gate; only a tick
that crosses the gate pays for scoring, cooldown and de-duplication.

A move is scored over the time its reference really spans (``max(W, ref_age)``), so a
reference left stale by a silence does not turn a slow move into a many-sigma one-minute
event. Events of one symbol that follow each other within ``episode_gap`` seconds form an
episode: they carry the id of its first event, so a shock is one card that escalates.
"""

from __future__ import annotations

import math

from pulse.engine.events import (
    CRITICAL,
    DOWN,
    MOVE_PREFIX,
    UP,
    VOL_SPIKE,
    WARNING,
    StressEvent,
)

INF = math.inf
_SEVERITY = (None, WARNING, CRITICAL)


class Alarm:
    """Cooldown and re-arm state of one (symbol, event type, direction).

    A new event needs the alarm armed and the cooldown elapsed; a higher severity than the
    last event fired (escalation) bypasses both. The alarm disarms when it fires and re-arms
    when the signal falls back to the re-arm level.
    """

    __slots__ = ("armed", "last_sev", "last_ts")

    def __init__(self) -> None:
        self.armed = True
        self.last_ts = -INF
        self.last_sev = 0

    def may_fire(self, sev: int, ts: float, cooldown: float) -> bool:
        """Return True if an event of severity rank ``sev`` (1 or 2) may fire at ``ts``."""
        if self.armed and ts - self.last_ts >= cooldown:
            return True
        return sev > self.last_sev and ts > self.last_ts

    def fired(self, sev: int, ts: float) -> None:
        """Record that an event fired."""
        self.armed = False
        self.last_ts = ts
        self.last_sev = sev

    def lowest_firing(self) -> int:
        """Return the lowest severity rank that could fire now (3 = none)."""
        return 1 if self.armed else self.last_sev + 1


class MoveRule:
    """Price levels for one move horizon, recomputed at each cell boundary."""

    __slots__ = ("cells", "dn_crit", "dn_rearm", "dn_warn", "down", "gap", "ref", "ref_ts",
                 "scale", "seconds", "span", "type", "up", "up_crit", "up_rearm", "up_warn")

    def __init__(self, seconds: float, cells: int, label: str) -> None:
        self.seconds = seconds
        self.cells = cells
        self.type = MOVE_PREFIX + label
        self.up = Alarm()
        self.down = Alarm()
        self.ref: float | None = None  # reference close; None when not available
        self.ref_ts = 0.0
        self.span = seconds  # seconds the return is scored over: max(W, reference age)
        self.gap = False  # True when the reference is stale (the span is well beyond W)
        self.scale: float | None = None  # sigma * sqrt(span) in log units; None w/o baseline
        self.up_warn = self.up_crit = self.up_rearm = INF
        self.dn_warn = self.dn_crit = self.dn_rearm = 0.0


class StressDetector:
    """Move and vol-spike rules of one symbol with their alarms and the per-tick gate."""

    __slots__ = ("cooldown", "episode", "episode_gap", "episode_last", "episode_seq",
                 "gap_limit", "hi", "lo", "pct", "pct_rearm", "rules", "sigma_mode", "spike",
                 "spike_crit", "spike_rearm", "spike_warn", "z_crit", "z_rearm", "z_warn")

    def __init__(self, rules: list[MoveRule], *, sigma_mode: bool, z_warn: float,
                 z_crit: float, z_rearm: float, pct: dict[str, list[float]], pct_rearm: float,
                 spike_warn: float, spike_crit: float, spike_rearm: float,
                 cooldown: float, episode_gap: float = 300.0, gap_limit: float = 1.5) -> None:
        self.rules = rules
        self.sigma_mode = sigma_mode
        self.z_warn = z_warn
        self.z_crit = z_crit
        self.z_rearm = z_rearm
        self.pct = pct  # type -> [warning %, critical %] for this symbol's asset class
        self.pct_rearm = pct_rearm
        self.spike = Alarm()
        self.spike_warn = spike_warn
        self.spike_crit = spike_crit
        self.spike_rearm = spike_rearm
        self.cooldown = cooldown
        self.episode_gap = episode_gap
        self.gap_limit = gap_limit  # reference age / W above which a move spans a gap
        self.episode: str | None = None  # id of the first event of the current episode
        self.episode_last = -INF  # ts of the latest event of the current episode
        self.episode_seq = 0
        # Gate: a tick with lo < price < hi cannot fire anything.
        self.hi = INF
        self.lo = 0.0

    def refresh(self, refs: list[tuple[float, float] | None], sigma: float | None,
                price: float, now: float) -> None:
        """Recompute levels from each rule's reference (price, ts) and the baseline sigma
        (log units per sqrt second), scored over ``max(W, now - ref ts)`` where ``now`` is
        the start of the open cell; re-arm alarms whose signal fell back, judged on
        ``price`` (the latest close); rebuild the gate.
        """
        sigma_mode = self.sigma_mode
        gap_limit = self.gap_limit
        for rule, ref in zip(self.rules, refs, strict=True):
            seconds = rule.seconds
            if ref is None:
                span = seconds
            else:
                age = now - ref[1]
                span = age if age > seconds else seconds
            rule.span = span
            rule.gap = span > seconds * gap_limit
            scale = None if sigma is None else sigma * math.sqrt(span)
            rule.scale = scale
            if ref is None or (sigma_mode and scale is None):
                rule.ref = None
                rule.up_warn = rule.up_crit = rule.up_rearm = INF
                rule.dn_warn = rule.dn_crit = rule.dn_rearm = 0.0
                continue
            p0, ts0 = ref
            rule.ref = p0
            rule.ref_ts = ts0
            if sigma_mode:
                warn = math.exp(self.z_warn * scale)
                crit = math.exp(self.z_crit * scale)
                rearm = math.exp(self.z_rearm * scale)
                rule.up_warn = p0 * warn
                rule.up_crit = p0 * crit
                rule.up_rearm = p0 * rearm
                rule.dn_warn = p0 / warn
                rule.dn_crit = p0 / crit
                rule.dn_rearm = p0 / rearm
            else:
                warn, crit = self.pct[rule.type]
                rearm = warn * self.pct_rearm
                rule.up_warn = p0 * (1.0 + warn / 100.0)
                rule.up_crit = p0 * (1.0 + crit / 100.0)
                rule.up_rearm = p0 * (1.0 + rearm / 100.0)
                rule.dn_warn = p0 * (1.0 - warn / 100.0)
                rule.dn_crit = max(p0 * (1.0 - crit / 100.0), 0.0)
                rule.dn_rearm = p0 * (1.0 - rearm / 100.0)
            if not rule.up.armed and price <= rule.up_rearm:
                rule.up.armed = True
            if not rule.down.armed and price >= rule.dn_rearm:
                rule.down.armed = True
        self._regate()

    def check_moves(self, price: float, ts: float, symbol: str, asset: str,
                    regime: str) -> list[StressEvent]:
        """Score a tick that crossed the gate; return at most one event per direction.

        When several horizons fire in the same direction on one tick, the highest severity
        (then the largest |z|, then the shortest horizon) becomes the event and the others
        are named in its ``also`` field; all of them enter cooldown.
        """
        events: list[StressEvent] = []
        for direction in (UP, DOWN):
            fired: list[tuple[int, float, int, MoveRule]] = []
            for i, rule in enumerate(self.rules):
                if rule.ref is None:
                    continue
                if direction == UP:
                    sev = 2 if price >= rule.up_crit else 1 if price >= rule.up_warn else 0
                    alarm = rule.up
                else:
                    sev = 2 if price <= rule.dn_crit else 1 if price <= rule.dn_warn else 0
                    alarm = rule.down
                if sev and alarm.may_fire(sev, ts, self.cooldown):
                    z = self._z(price, rule)
                    fired.append((sev, abs(z) if z is not None else 0.0, -i, rule))
            if not fired:
                continue
            fired.sort(key=lambda item: item[:3], reverse=True)
            sev, _, _, best = fired[0]
            for s, _, _, rule in fired:
                (rule.up if direction == UP else rule.down).fired(s, ts)
            level = ((best.up_crit if sev == 2 else best.up_warn) if direction == UP
                     else (best.dn_crit if sev == 2 else best.dn_warn))
            events.append(self._episode(StressEvent(
                symbol=symbol, asset=asset, type=best.type, direction=direction,
                severity=_SEVERITY[sev], ts=ts, value=price / best.ref - 1.0,
                threshold=level / best.ref - 1.0, z=self._z(price, best),
                window=best.seconds, regime=regime, ref_price=best.ref,
                ref_age=ts - best.ref_ts, price=price,
                also=tuple(rule.type for _, _, _, rule in fired[1:]),
                span=best.span, gap=best.gap)))
        # Levels stay; the gate moves so that disarmed alarms stop waking the slow path.
        self._regate()
        return events

    def check_spike(self, short_rate: float | None, base_rate: float | None,
                    seconds_per_year: float, ts: float, window: float, symbol: str,
                    asset: str, regime: str, price: float) -> StressEvent | None:
        """Score the short-window (jump-robust) variance rate against the baseline rate (both
        per second); return a ``vol_spike`` event (the caller fills in its reference) or None.
        """
        if short_rate is None or base_rate is None or base_rate <= 0.0:
            return None
        ratio = math.sqrt(short_rate / base_rate)
        alarm = self.spike
        if not alarm.armed and ratio <= self.spike_rearm:
            alarm.armed = True
        sev = 2 if ratio >= self.spike_crit else 1 if ratio >= self.spike_warn else 0
        if not sev or not alarm.may_fire(sev, ts, self.cooldown):
            return None
        alarm.fired(sev, ts)
        base_vol = math.sqrt(base_rate * seconds_per_year)
        return self._episode(StressEvent(
            symbol=symbol, asset=asset, type=VOL_SPIKE, direction=UP, severity=_SEVERITY[sev],
            ts=ts, value=math.sqrt(short_rate * seconds_per_year),
            threshold=base_vol * (self.spike_crit if sev == 2 else self.spike_warn),
            z=ratio, window=window, regime=regime, ref_price=None, ref_age=None, price=price))

    def _episode(self, event: StressEvent) -> StressEvent:
        """Attach ``event`` to the symbol's open episode (its previous event is at most
        ``episode_gap`` seconds old) or open a new one with the event's own id.
        """
        if self.episode is not None and event.ts - self.episode_last <= self.episode_gap:
            self.episode_seq += 1
        else:
            self.episode = event.id
            self.episode_seq = 0
        self.episode_last = event.ts
        event.episode = self.episode
        event.episode_seq = self.episode_seq
        return event

    def _z(self, price: float, rule: MoveRule) -> float | None:
        scale = rule.scale
        if scale is None or scale <= 0.0 or rule.ref is None:
            return None
        return math.log(price / rule.ref) / scale

    def _regate(self) -> None:
        hi = INF
        lo = 0.0
        for rule in self.rules:
            if rule.ref is None:
                continue
            lowest = rule.up.lowest_firing()
            hi = min(hi, rule.up_warn if lowest == 1 else rule.up_crit if lowest == 2 else INF)
            lowest = rule.down.lowest_firing()
            lo = max(lo, rule.dn_warn if lowest == 1 else rule.dn_crit if lowest == 2 else 0.0)
        self.hi = hi
        self.lo = lo
