"""Impact statistics, pure (numpy; no Flask, no database).

For each participating pupil with a start date: attendance over the ``weeks`` school weeks before
the start week and the ``weeks`` school weeks from it, beside a comparison of similar pupils at
the same school who did not take part, measured over the same weeks. Similar means: the same
free-school-meals status and SEN status (exact strata), and the nearest prior attendance within
the stratum (``k`` nearest neighbours, with replacement). When a stratum has nobody, matching
relaxes to FSM and any-SEN, then FSM alone, then the whole school, and says so.

The effect is the mean over participants of (their change - their comparison's mean change):
difference in differences at pupil level, in percentage points of attendance. Its interval is a
percentile bootstrap over participants with a fixed seed, so the same data always gives the same
answer. Below ``min_pupils`` measured participants the answer is "too few pupils to tell".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Mapping, Sequence

import numpy as np

DEFAULT_WEEKS = 6
DEFAULT_K = 3
MIN_PUPILS = 5
BOOTSTRAP_SAMPLES = 2000
SEED = 20240819


@dataclass(frozen=True)
class PupilSeries:
    """One pupil's weekly sessions: week start (Monday) -> (attended, possible)."""

    pupil_id: int
    weeks: Mapping[date, tuple[int, int]]
    fsm: bool = False
    sen: str = "N"  # N none, K SEN support, E EHC plan


@dataclass(frozen=True)
class Matched:
    """One measured participant and its comparison."""

    pupil_id: int
    before: float
    after: float
    comparison_ids: tuple[int, ...]
    comparison_before: float
    comparison_after: float
    match_level: str  # "fsm+sen", "fsm+any_sen", "fsm", "school"

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def comparison_change(self) -> float:
        return self.comparison_after - self.comparison_before

    @property
    def difference(self) -> float:
        return self.change - self.comparison_change


@dataclass(frozen=True)
class ImpactResult:
    label: str
    weeks: int
    matched: tuple[Matched, ...]
    not_measured: int  # participants without enough weeks before or since, or no one to compare with
    too_few: bool
    effect: float | None  # points, participants' change minus comparison's
    ci_low: float | None
    ci_high: float | None
    confidence: float
    summary: str
    notes: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return len(self.matched)

    @property
    def comparison_n(self) -> int:
        return len({c for m in self.matched for c in m.comparison_ids})

    @property
    def participants_change(self) -> float | None:
        return float(np.mean([m.change for m in self.matched])) if self.matched else None

    @property
    def comparison_change(self) -> float | None:
        return float(np.mean([m.comparison_change for m in self.matched])) if self.matched else None

    @property
    def significant(self) -> bool:
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def periods(school_weeks: Sequence[date], start: date, weeks: int) -> tuple[list[date], list[date]] | None:
    """The ``weeks`` school weeks before ``start``'s week and the ``weeks`` from it (None when the
    school's calendar does not hold that many on either side)."""
    ordered = sorted(school_weeks)
    first = _monday(start)
    i = next((j for j, w in enumerate(ordered) if w >= first), len(ordered))
    before, after = ordered[max(0, i - weeks):i], ordered[i:i + weeks]
    if len(before) < weeks or len(after) < weeks:
        return None
    return before, after


def attendance(series: PupilSeries, weeks: Iterable[date]) -> float | None:
    attended = possible = 0
    for w in weeks:
        a, p = series.weeks.get(w, (0, 0))
        attended += a
        possible += p
    return None if possible == 0 else 100.0 * attended / possible


_LEVELS = ("fsm+sen", "fsm+any_sen", "fsm", "school")


def _stratum(level: str, s: PupilSeries) -> tuple:
    return {"fsm+sen": (s.fsm, s.sen), "fsm+any_sen": (s.fsm, s.sen != "N"), "fsm": (s.fsm,), "school": ()}[level]


def match(participants: Mapping[int, date], pool: Mapping[int, PupilSeries], school_weeks: Sequence[date], *,
          weeks: int = DEFAULT_WEEKS, k: int = DEFAULT_K) -> tuple[list[Matched], int]:
    """Measure each participant and find its ``k`` nearest comparison pupils. Returns the matched
    participants and how many could not be measured."""
    matched: list[Matched] = []
    not_measured = 0
    others = [s for pid, s in sorted(pool.items()) if pid not in participants]
    for pupil_id, start in sorted(participants.items()):
        series = pool.get(pupil_id)
        window = periods(school_weeks, start, weeks)
        if series is None or window is None:
            not_measured += 1
            continue
        before_weeks, after_weeks = window
        before, after = attendance(series, before_weeks), attendance(series, after_weeks)
        if before is None or after is None:
            not_measured += 1
            continue
        candidates = []
        for other in others:
            ob, oa = attendance(other, before_weeks), attendance(other, after_weeks)
            if ob is not None and oa is not None:
                candidates.append((other, ob, oa))
        chosen = None
        for level in _LEVELS:
            key = _stratum(level, series)
            stratum = [c for c in candidates if _stratum(level, c[0]) == key]
            if stratum:
                chosen = (level, sorted(stratum, key=lambda c: (abs(c[1] - before), c[0].pupil_id))[:k])
                break
        if chosen is None:
            not_measured += 1
            continue
        level, nearest = chosen
        matched.append(Matched(pupil_id, before, after, tuple(c[0].pupil_id for c in nearest),
                               float(np.mean([c[1] for c in nearest])), float(np.mean([c[2] for c in nearest])), level))
    return matched, not_measured


def bootstrap_interval(values: Sequence[float], *, confidence: float = 0.95, samples: int = BOOTSTRAP_SAMPLES,
                       seed: int = SEED) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean; deterministic for a given seed."""
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, len(data), size=(samples, len(data)))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def _points(x: float) -> str:
    return f"{abs(x):.1f} point{'s' if round(abs(x), 1) != 1 else ''}"


def describe(label: str, n: int, effect: float, own_change: float, low: float, high: float, confidence: float) -> str:
    """Plain words: 'Attendance of the 12 pupils rose 3.1 points more than similar pupils (95% interval 0.8 to 5.4)'."""
    who = f"the {n} {label}" if n != 1 else f"the 1 {label.rstrip('s')}"
    if round(effect, 1) == 0:
        text = f"Attendance of {who} changed about the same as similar pupils"
    elif effect > 0:
        verb = "rose" if own_change > 0 else "fell"
        text = f"Attendance of {who} {verb} {_points(effect)} {'more' if verb == 'rose' else 'less'} than similar pupils"
    else:
        verb = "fell" if own_change < 0 else "rose"
        text = f"Attendance of {who} {verb} {_points(effect)} {'more' if verb == 'fell' else 'less'} than similar pupils"
    interval = f"{confidence * 100:.0f}% interval {low:.1f} to {high:.1f}"
    if low <= 0 <= high:
        return f"{text}; the difference could be chance ({interval})"
    return f"{text} ({interval})"


def summarise(matched: Sequence[Matched], *, label: str = "pupils", weeks: int = DEFAULT_WEEKS, not_measured: int = 0,
              min_pupils: int = MIN_PUPILS, confidence: float = 0.95, seed: int = SEED) -> ImpactResult:
    """The effect, its interval and the words for it (also for pooling several schools' matches)."""
    matched = tuple(matched)
    notes = []
    relaxed = sum(1 for m in matched if m.match_level != "fsm+sen")
    if relaxed:
        notes.append(f"{relaxed} of {len(matched)} matched outside their exact FSM/SEN group (too few similar pupils)")
    if not_measured:
        notes.append(f"{not_measured} not measured: fewer than {weeks} school weeks of attendance before or since the start")
    if len(matched) < min_pupils:
        summary = (f"Too few {label} to tell: {len(matched)} measured, at least {min_pupils} are needed")
        return ImpactResult(label, weeks, matched, not_measured, True, None, None, None, confidence, summary, tuple(notes))
    diffs = [m.difference for m in matched]
    effect = float(np.mean(diffs))
    low, high = bootstrap_interval(diffs, confidence=confidence, seed=seed)
    own = float(np.mean([m.change for m in matched]))
    return ImpactResult(label, weeks, matched, not_measured, False, effect, low, high, confidence,
                        describe(label, len(matched), effect, own, low, high, confidence), tuple(notes))


def measure(participants: Mapping[int, date], pool: Mapping[int, PupilSeries], school_weeks: Sequence[date], *,
            label: str = "pupils", weeks: int = DEFAULT_WEEKS, k: int = DEFAULT_K, min_pupils: int = MIN_PUPILS,
            confidence: float = 0.95, seed: int = SEED) -> ImpactResult:
    """Difference in differences for ``participants`` (pupil id -> start date) against ``pool``
    (every pupil of the school, participants included)."""
    matched, not_measured = match(participants, pool, school_weeks, weeks=weeks, k=k)
    return summarise(matched, label=label, weeks=weeks, not_measured=not_measured, min_pupils=min_pupils,
                     confidence=confidence, seed=seed)
