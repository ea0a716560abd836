"""Impact statistics on constructed data: a known effect is recovered, no effect is not invented,
and too few pupils say so."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from outreach.impact import stats

WEEKS = [date(2025, 1, 6) + timedelta(weeks=i) for i in range(16) if i not in (6,)]  # week 7 a half term
START = date(2025, 2, 26)  # a Wednesday; its week is the 8th school week


def _pool(n: int, *, effect: float, base_effect: float = 0.0, participants: int, noise: bool, seed: int = 1,
          fsm_every: int = 3) -> tuple[dict[int, stats.PupilSeries], dict[int, date]]:
    """``n`` pupils: weekly sessions (10 a week) at a per-pupil rate, which changes from START's week by
    ``base_effect`` points for everyone and by ``effect`` more for the first ``participants``."""
    rng = np.random.default_rng(seed)
    pool, chosen = {}, {}
    for pid in range(1, n + 1):
        rate = 0.70 + 0.15 * ((pid * 7919) % 100) / 100  # 70% to 85%, spread
        weeks = {}
        for w in WEEKS:
            r = rate
            if w >= START - timedelta(days=START.weekday()):
                r = rate + (base_effect + (effect if pid <= participants else 0)) / 100
            attended = int(rng.binomial(10, min(1.0, max(0.0, r)))) if noise else 10 * r
            weeks[w] = (attended, 10)
        pool[pid] = stats.PupilSeries(pid, weeks, fsm=pid % fsm_every == 0, sen="K" if pid % 5 == 0 else "N")
        if pid <= participants:
            chosen[pid] = START
    return pool, chosen


def test_exact_known_effect_is_recovered_exactly():
    pool, chosen = _pool(60, effect=4.0, base_effect=1.0, participants=12, noise=False)
    result = stats.measure(chosen, pool, WEEKS, weeks=6)
    assert result.n == 12 and not result.too_few
    assert result.effect == pytest.approx(4.0, abs=1e-9)
    assert result.ci_low == pytest.approx(4.0) and result.ci_high == pytest.approx(4.0)
    assert result.summary == "Attendance of the 12 pupils rose 4.0 points more than similar pupils (95% interval 4.0 to 4.0)"


def test_noisy_known_effect_lies_within_its_interval_and_excludes_zero():
    pool, chosen = _pool(200, effect=6.0, participants=30, noise=True, seed=7)
    result = stats.measure(chosen, pool, WEEKS, weeks=6)
    assert result.ci_low < 6.0 < result.ci_high
    assert result.ci_low > 0 and result.significant
    assert result.summary.startswith("Attendance of the 30 pupils rose")


def test_no_effect_gives_an_interval_containing_zero():
    pool, chosen = _pool(200, effect=0.0, base_effect=2.0, participants=30, noise=True, seed=11)
    result = stats.measure(chosen, pool, WEEKS, weeks=6)
    assert result.ci_low < 0 < result.ci_high and not result.significant
    assert "could be chance" in result.summary


def test_too_few_pupils_to_tell():
    pool, chosen = _pool(40, effect=10.0, participants=3, noise=False)
    result = stats.measure(chosen, pool, WEEKS, weeks=6)
    assert result.too_few and result.effect is None
    assert result.summary == "Too few pupils to tell: 3 measured, at least 5 are needed"


def test_deterministic_for_a_seed():
    pool, chosen = _pool(120, effect=3.0, participants=20, noise=True, seed=3)
    a = stats.measure(chosen, pool, WEEKS)
    b = stats.measure(chosen, pool, WEEKS)
    assert (a.effect, a.ci_low, a.ci_high) == (b.effect, b.ci_low, b.ci_high)


def test_matching_keeps_fsm_and_sen_strata_and_relaxes_when_empty():
    pool, chosen = _pool(60, effect=0.0, participants=10, noise=False)
    matched, _ = stats.match(chosen, pool, WEEKS, weeks=6)
    for m in matched:
        me = pool[m.pupil_id]
        assert m.match_level == "fsm+sen"
        assert all((pool[c].fsm, pool[c].sen) == (me.fsm, me.sen) for c in m.comparison_ids)
        assert not set(m.comparison_ids) & set(chosen)
    # an EHC-plan pupil with no EHC-plan peers is matched in a wider group, and the result says so
    lonely = stats.PupilSeries(999, pool[1].weeks, fsm=False, sen="E")
    pool[999] = lonely
    matched, _ = stats.match({999: START}, pool, WEEKS, weeks=6)
    assert matched[0].match_level == "fsm+any_sen"
    assert "outside their exact FSM/SEN group" in stats.summarise(matched, min_pupils=1).notes[0]


def test_participants_without_enough_weeks_are_not_measured():
    pool, chosen = _pool(30, effect=0.0, participants=6, noise=False)
    chosen[1] = WEEKS[2]  # only 2 school weeks before
    chosen[2] = WEEKS[-2]  # only 2 school weeks since
    result = stats.measure(chosen, pool, WEEKS, weeks=6, min_pupils=1)
    assert result.n == 4 and result.not_measured == 2
    assert any("2 not measured" in n for n in result.notes)


def test_periods_skip_holiday_weeks():
    before, after = stats.periods(WEEKS, START, 3)
    assert before == [date(2025, 1, 27), date(2025, 2, 3), date(2025, 2, 10)]  # 17 Feb (half term) skipped
    assert after == [date(2025, 2, 24), date(2025, 3, 3), date(2025, 3, 10)]


@settings(max_examples=30, deadline=None)
@given(effect=st.floats(-15, 15), base=st.floats(-3, 3))
def test_property_exact_effects_are_recovered(effect, base):
    pool, chosen = _pool(40, effect=effect, base_effect=base, participants=8, noise=False)
    # keep rates inside 0..100% so the constructed effect is the true one
    if any(a > 10 for s in pool.values() for a, _ in s.weeks.values()):
        return
    result = stats.measure(chosen, pool, WEEKS, weeks=6)
    expected = np.mean([ (stats.attendance(pool[p], stats.periods(WEEKS, START, 6)[1])
                          - stats.attendance(pool[p], stats.periods(WEEKS, START, 6)[0])) for p in chosen]) \
        - np.mean([m.comparison_change for m in result.matched])
    assert result.effect == pytest.approx(expected, abs=1e-9)
    assert result.ci_low <= result.effect + 1e-9 and result.effect <= result.ci_high + 1e-9
