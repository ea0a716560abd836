"""Pure parts: pickup times, the reply parser and the rota builder (hypothesis properties)."""
from __future__ import annotations

from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outreach.walking_bus import messages
from outreach.walking_bus.reply_parser import edit_distance_at_most_one, parse
from outreach.walking_bus.rota import Adult, RouteDay, adults_needed, build_rota, choose_substitute, peak_places
from outreach.walking_bus.times import parse_days, pickup_times
from outreach.messaging.segments import analyse


# --- pickup times -----------------------------------------------------------------------------

def test_pickup_times_count_back_from_arrival() -> None:
    assert pickup_times(time(8, 40), [5, 7, 10]) == [time(8, 18), time(8, 23), time(8, 30)]
    assert pickup_times(time(8, 40), [0]) == [time(8, 40)]
    assert pickup_times(time(8, 40), []) == []


def test_pickup_times_refuse_bad_legs_and_midnight() -> None:
    with pytest.raises(ValueError, match="0 to 120"):
        pickup_times(time(8, 40), [5, -1])
    with pytest.raises(ValueError, match="before midnight"):
        pickup_times(time(0, 30), [60])


def test_days_parse_school_days_only() -> None:
    assert parse_days("Mon, wed FRI") == (0, 2, 4)
    assert parse_days(["tuesday", "thu"]) == (1, 3)
    with pytest.raises(ValueError, match="unknown school day 'sat'"):
        parse_days("mon,sat")


# --- replies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,weekdays", [
    ("CANT MON", (0,)), ("CAN'T MONDAY", (0,)), ("cannot mon", (0,)), ("can not Mon.", (0,)),
    ("  cant   tues ", (1,)), ("Can’t wednesday!", (2,)), ("CNAT THURS", (3,)), ("cant fridya", (4,)),
    ("Cant-Mon", (0,)), ("cant mon tue", (0, 1)), ("sorry I cant do thursday", (3,)), ("CANT WENDESDAY", (2,)),
    ("cannto fri", (4,)), ("cant thrusday", (3,)),
])
def test_cant_with_days_case_spacing_punctuation_typos(text: str, weekdays: tuple[int, ...]) -> None:
    reply = parse(text)
    assert reply.kind == "cant" and reply.weekdays == weekdays


def test_cant_today_tomorrow_and_missing_day() -> None:
    assert parse("cant tomorrow").relative_days == (1,)
    assert parse("CANT TODAY").relative_days == (0,)
    assert parse("cant").kind == "unknown" and parse("cant").problem == "no day"
    assert parse("cant someday").kind == "unknown"


@pytest.mark.parametrize("text,kind,count", [
    ("DONE", "done", None), ("done.", "done", None), ("ARRIVED", "done", None), ("arived", "done", None),
    ("Dnoe", "done", None), ("done 7", "done", 7), ("COUNT 7", "count", 7), ("count:7", "count", 7),
    ("COUNT7", "count", 7), ("coutn 12", "count", 12), ("count seven", "count", 7), ("8", "count", 8),
])
def test_done_and_count(text: str, kind: str, count: int | None) -> None:
    reply = parse(text)
    assert (reply.kind, reply.count) == (kind, count)


@pytest.mark.parametrize("text", ["", "hello", "HELP", "dont", "none", "yes", "can you ring me", "count",
                                  "count lots", "count 900", "done and dusted", "cat mon", "dne"])
def test_not_understood(text: str) -> None:
    assert parse(text).kind == "unknown"


def test_short_words_get_no_typo_allowance() -> None:
    assert parse("mon").kind == "unknown"
    assert parse("cant mno").kind == "unknown"  # 'mno' is 3 letters: no slips allowed
    assert edit_distance_at_most_one("monday", "mnoday")
    assert not edit_distance_at_most_one("monday", "mondayss")


def test_help_text_and_texts_fit_in_two_segments() -> None:
    from outreach.walking_bus.reply_parser import HELP_TEXT

    assert "HELP" not in HELP_TEXT.split()  # the carrier owns HELP
    assert analyse(HELP_TEXT).segments <= 2 and not analyse(HELP_TEXT).is_unicode
    walks = [messages.Walk(date(2026, 3, 2) + timedelta(days=i), "Green Lane", "Library", time(8, 18), 6) for i in range(5)]
    body = messages.schedule("Sam Walker", date(2026, 3, 2), walks, "Ash Primary")
    assert "Mon 2 Mar Green Lane: Library 08:18, 6 children" in body and "Reply CANT MON" in body
    assert analyse(body).segments <= 3


# --- rota ------------------------------------------------------------------------------------------

MONDAY = date(2026, 3, 2)
DAYS = [MONDAY + timedelta(days=i) for i in range(5)]


def test_adults_needed_follows_ratio_and_minimum() -> None:
    assert adults_needed(0, 6, 2) == 0
    assert adults_needed(1, 6, 2) == 2
    assert adults_needed(13, 6, 2) == 3
    assert adults_needed(18, 6, 2) == 3
    assert adults_needed(19, 6, 1) == 4


@st.composite
def scenarios(draw):  # type: ignore[no-untyped-def]
    n_routes = draw(st.integers(1, 4))
    route_days = []
    for r in range(1, n_routes + 1):
        max_children = draw(st.integers(1, 24))
        ratio, minimum = draw(st.integers(3, 8)), draw(st.integers(1, 2))
        for day in draw(st.sets(st.sampled_from(DAYS), min_size=1)):
            children = draw(st.integers(0, max_children))
            route_days.append(RouteDay(r, day, children, adults_needed(children, ratio, minimum)))
    adults = []
    for a in range(1, draw(st.integers(0, 12)) + 1):
        available = frozenset(draw(st.sets(st.sampled_from(DAYS))))
        prefs = frozenset(draw(st.sets(st.integers(1, n_routes), max_size=2)))
        adults.append(Adult(a, available, prefs))
    return route_days, adults


def _check_invariants(route_days, adults, rota, fixed=frozenset()) -> None:  # type: ignore[no-untyped-def]
    by_id = {a.id: a for a in adults}
    needed = {rd.key: rd.needed for rd in route_days}
    load = rota.loads(by_id)
    busy: dict[date, list[int]] = {}
    for (route_id, day), ids in rota.assignments.items():
        assert len(ids) <= needed[(route_id, day)], "more adults than the walk needs"
        for a in ids:
            assert day in by_id[a].available, "an unavailable adult was assigned"
            busy.setdefault(day, []).append(a)
    for day, ids in busy.items():
        assert len(ids) == len(set(ids)), "an adult is on two routes the same morning"
    gaps = {(g.route_id, g.day): g for g in rota.gaps}
    for rd in route_days:
        assigned = len(rota.assignments.get(rd.key, []))
        if assigned < rd.needed:
            assert gaps[rd.key].short == rd.needed - assigned
            free = [a for a in adults if rd.day in a.available and a.id not in busy.get(rd.day, [])]
            assert not free, "a gap was left while an available adult was free that morning"
        else:
            assert rd.key not in gaps
    # Fairness: no walk could pass to a free, eligible adult with two or more fewer walks.
    for (route_id, day), ids in rota.assignments.items():
        for giver in ids:
            if (route_id, day, giver) in fixed:  # the officer's choice stands
                continue
            for taker in adults:
                if day in taker.available and taker.id not in busy.get(day, []) and load[taker.id] <= load[giver] - 2:
                    assert not taker.accepts(route_id) and by_id[giver].accepts(route_id), "load is not spread fairly"


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_rota_invariants(scenario) -> None:  # type: ignore[no-untyped-def]
    route_days, adults = scenario
    rota = build_rota(route_days, adults)
    _check_invariants(route_days, adults, rota)
    assert build_rota(route_days, adults).assignments == rota.assignments  # deterministic


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.data())
def test_rota_keeps_fixed_assignments(scenario, data) -> None:  # type: ignore[no-untyped-def]
    route_days, adults = scenario
    if not route_days or not adults:
        return
    rd = data.draw(st.sampled_from([r for r in route_days]))
    free = [a for a in adults if rd.day in a.available]
    if not free or rd.needed == 0:
        return
    pinned = free[0].id
    rota = build_rota(route_days, adults, {rd.key: [pinned]})
    assert pinned in rota.assignments[rd.key]
    _check_invariants(route_days, adults, rota, fixed={(rd.route_id, rd.day, pinned)})


def test_rota_spreads_load_and_respects_preferences() -> None:
    route_days = [RouteDay(1, d, 6, 2) for d in DAYS] + [RouteDay(2, d, 6, 2) for d in DAYS]
    adults = [Adult(i, frozenset(DAYS), frozenset({1}) if i <= 2 else frozenset()) for i in range(1, 7)]
    rota = build_rota(route_days, adults)
    loads = rota.loads(a.id for a in adults)
    assert max(loads.values()) - min(loads.values()) <= 1
    assert sum(loads.values()) == 20 and not rota.gaps
    assert all(route == 1 for route, _, a in rota.pairs() if a in (1, 2))


def test_rota_reports_gap_when_adults_are_short() -> None:
    rota = build_rota([RouteDay(1, MONDAY, 13, 3)], [Adult(1, frozenset({MONDAY})), Adult(2, frozenset({MONDAY}))])
    assert [(g.route_id, g.day, g.short) for g in rota.gaps] == [(1, MONDAY, 1)]


def test_substitute_suits_route_then_light_load() -> None:
    adults = [Adult(1, frozenset({MONDAY}), frozenset({4})), Adult(2, frozenset({MONDAY}), frozenset({5})),
              Adult(3, frozenset({MONDAY}))]
    assert choose_substitute(5, MONDAY, adults, busy=[], loads={2: 3, 3: 1}) == 3  # lighter, route suits both
    assert choose_substitute(5, MONDAY, adults, busy=[3], loads={1: 0, 2: 3}) == 2  # 1 prefers another route
    assert choose_substitute(5, MONDAY, adults, busy=[2, 3], loads={}) == 1  # better than nobody
    assert choose_substitute(4, MONDAY, adults, busy=[1, 2, 3], loads={}) is None
    assert choose_substitute(4, MONDAY, adults, busy=[1, 2, 3], loads={}) is None


# --- capacity ------------------------------------------------------------------------------------

_days = st.integers(0, 40).map(lambda n: MONDAY + timedelta(days=n))
_period = st.tuples(_days, st.one_of(st.none(), st.integers(0, 20))).map(
    lambda p: (p[0], None if p[1] is None else p[0] + timedelta(days=p[1])))


@settings(max_examples=200, deadline=None)
@given(st.lists(_period, max_size=8), _period)
def test_peak_places_matches_counting_every_day(existing, new) -> None:  # type: ignore[no-untyped-def]
    start, end = new
    last = end or MONDAY + timedelta(days=80)
    days = [start + timedelta(days=i) for i in range((last - start).days + 1)]
    brute = max((sum(1 for s, e in existing if s <= d and (e is None or d <= e)) for d in days), default=0)
    assert peak_places(existing, start, end) == brute


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 4), st.lists(_period, max_size=12))
def test_accepting_places_below_the_peak_never_overfills(capacity, requests) -> None:  # type: ignore[no-untyped-def]
    accepted: list[tuple[date, date | None]] = []
    for start, end in requests:
        if peak_places(accepted, start, end) < capacity:
            accepted.append((start, end))
    for n in range(90):
        day = MONDAY + timedelta(days=n)
        assert sum(1 for s, e in accepted if s <= day and (e is None or day <= e)) <= capacity
