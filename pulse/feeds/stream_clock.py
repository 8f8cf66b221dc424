"""Time sanity for recorded streams: each file's ticks checked against the file's own clock.

A recording has no trustworthy receipt time to compare with (NDJSON tick files often have
none), but it has its own clock: the latest exchange time seen so far in the file. A line
whose time is absurd or far ahead of that clock would, once replayed, drag its symbol (and
``Engine.now``) into the future, after which every genuine tick of the file is out of order:
one ``ts: 1e300`` froze a symbol for the rest of a file. :func:`follow_clock` wraps one file's
tick stream and applies, per tick:

* **start**: the clock starts at the median time of the first ``confirm`` ticks and the
  typical gap at their median gap; any of them too far past that clock is dropped, so a bad
  first line cannot set the clock;
* **absurd** time (outside 2000-01-01 .. 2100-01-01 in epoch seconds; non-finite values never
  get this far): dropped, counted in ``parse_failures["bad_ts"]``;
* **far ahead**, more than ``max_jump`` seconds past the clock (or ``SPACING_FACTOR`` times
  the stream's typical gap between advancing ticks, measured every ``SPACING_EVERY``
  advances, if that is larger: a sparse recording is not held at every tick): *held*, not
  yet emitted. If the next ``confirm - 1`` ticks are also that far past the old clock and
  agree with the first held tick (not more than ``max_jump`` before it), the stream really
  jumped (overnight, a weekend, a recorder restart): the held ticks are emitted in order and the
  clock follows (``clock_resets``). Otherwise the held ticks are dropped and counted in
  ``clock_skew``. At the end of the file unconfirmed held ticks are dropped too;
* **behind** the clock: passed on unchanged (late and out-of-order ticks are the engine's
  call), and ``confirm`` ticks more than ``max_jump`` behind with no advance of the clock in
  between move the clock back (a recording whose clock was set back, or a bogus run that got
  confirmed), so one bad run cannot blind the check for good.

Checking each file before the time merge keeps one bad line from breaking the merge: a file
whose next tick says 1e300 would otherwise sit at the merge's end and let every other file
run ahead of the rest of it.

Cost per tick on the fast path: a generator step, three comparisons and, when the clock
advances, two assignments and a counter (``bench/feed_time_bench.py`` measures it); the
holding logic runs only on the rare tick that jumps. Pure Python; no Django import.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

from pulse.engine.tick import Tick
from pulse.feeds.base import FeedCounters

MIN_EPOCH = 946_684_800.0  # 2000-01-01T00:00:00Z
MAX_EPOCH = 4_102_444_800.0  # 2100-01-01T00:00:00Z
DEFAULT_MAX_JUMP = 300.0  # seconds ahead of the stream clock a tick may be without proof
DEFAULT_CONFIRM = 3  # ticks (the first included) that must agree before a jump is followed
SPACING_FACTOR = 10.0  # a sparse stream may jump this many typical gaps without proof
SPACING_EVERY = 64  # advances of the clock between two measurements of the typical gap


def follow_clock(ticks: Iterable[Tick], stats: FeedCounters, *,
                 max_jump: float = DEFAULT_MAX_JUMP,
                 confirm: int = DEFAULT_CONFIRM) -> Iterator[Tick]:
    """Yield ``ticks`` (one file, in file order) checked against the stream's own clock."""
    failures = stats.parse_failures
    confirm = max(1, int(confirm))
    stream = iter(ticks)
    # Start: the clock is the median time of the first ``confirm`` sane ticks and the spacing
    # their median gap, so a bad first line can set neither; ticks far ahead are dropped.
    start: list[Tick] = []
    for tick in stream:
        if MIN_EPOCH <= tick.ts < MAX_EPOCH:
            start.append(tick)
            if len(start) >= confirm:
                break
        else:
            failures["bad_ts"] += 1
    if not start:
        return
    times = sorted(t.ts for t in start)
    clock = times[(len(times) - 1) // 2]
    gaps = sorted(b - a for a, b in itertools.pairwise(times))
    jump = _jump(gaps[(len(gaps) - 1) // 2] if gaps else 0.0, max_jump)
    for tick in start:
        if tick.ts > clock + jump:
            stats.clock_skew += 1
        else:
            clock = max(clock, tick.ts)
            yield tick
    limit = clock + jump  # ts above this is held
    mark, advances = clock, 0  # the typical gap is measured every SPACING_EVERY advances
    held: list[Tick] = []
    behind, behind_clock, behind_max = 0, clock, 0.0  # ticks far behind this clock
    for tick in stream:
        ts = tick.ts
        if ts <= limit:
            if held:  # the jump was not confirmed
                stats.clock_skew += len(held)
                held.clear()
            if ts > clock:
                clock = ts
                limit = ts + jump
                advances += 1
                if advances == SPACING_EVERY:
                    jump = _jump((ts - mark) / SPACING_EVERY, max_jump)
                    mark, advances = ts, 0
            elif ts < clock - max_jump:
                if not ts >= MIN_EPOCH:
                    failures["bad_ts"] += 1
                    continue
                if behind_clock != clock:  # the clock moved since: start counting again
                    behind, behind_clock = 0, clock
                behind += 1
                behind_max = ts if behind == 1 else max(behind_max, ts)
                if behind >= confirm:  # the recording's clock went back: follow it
                    clock = behind_max
                    limit = clock + jump
                    mark, advances, behind = clock, 0, 0
                    stats.clock_resets += 1
            yield tick
            continue
        if not ts < MAX_EPOCH:  # also NaN
            failures["bad_ts"] += 1
            continue
        # Far ahead of the clock: hold it until the following ticks confirm the jump.
        if held and ts < held[0].ts - max_jump:  # disagrees with the held ones
            stats.clock_skew += len(held)
            held.clear()
        held.append(tick)
        if len(held) >= confirm:
            stats.clock_resets += 1
            gaps = sorted(b.ts - a.ts for a, b in itertools.pairwise(held))
            jump = _jump(gaps[(len(gaps) - 1) // 2] if gaps else 0.0, max_jump)
            clock = max(clock, *(t.ts for t in held))
            limit = clock + jump
            mark, advances, behind = clock, 0, 0
            yield from held
            held.clear()
    stats.clock_skew += len(held)


def _jump(spacing: float, max_jump: float) -> float:
    """Return how far ahead of the clock a tick may be without proof, given the typical gap."""
    return max(max_jump, SPACING_FACTOR * spacing)
