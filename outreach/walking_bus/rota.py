"""Building a week's walking-bus rota. Pure (no Flask, no database), deterministic.

Input: the week's route-days (each with how many adults it needs) and the ambassadors (which dates
they can walk, which routes they prefer), plus assignments already fixed (an officer's edits).
Output: who walks which route-day, and every route-day left short (a gap), with by how many.

Rules, in order of importance:

1. Never an adult who is unavailable that date, never an adult on two routes the same morning,
   never more adults on a route-day than it needs.
2. Cover as many places as possible: a route-day is only short when every adult free that
   morning is already walking (so a gap is real and the officer must find someone).
3. Preferences: an ambassador who named preferred routes walks others only to fill a place no
   one else free that morning could fill.
4. Fairness: the load (walks in the week) is spread so no adult could hand one of their walks
   to an eligible free adult with at least two fewer walks. That local rule minimises the
   largest load and then the spread (variance) reachable by single moves.
5. Determinism: ties are broken by ambassador id, so the same input gives the same rota.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Mapping, Sequence


def adults_needed(children: int, children_per_adult: int, min_adults: int) -> int:
    """Adults a walk needs: one per ``children_per_adult`` children (rounded up), never fewer than
    ``min_adults``; a walk with no children enrolled does not run and needs nobody."""
    if children_per_adult < 1:
        raise ValueError("children per adult must be at least 1")
    if children <= 0:
        return 0
    return max(min_adults, math.ceil(children / children_per_adult))


def peak_places(places: Iterable[tuple[date, date | None]], start: date, end: date | None) -> int:
    """The most places (start, end inclusive; end None = open) held on any one day of
    [``start``, ``end``]: what a new place over that period would be added to. A route is full
    for a new place when this reaches its maximum, however the other places are spread."""
    events: list[tuple[date, int]] = []
    for s, e in places:
        lo = max(s, start)
        hi = e if end is None else (end if e is None else min(e, end))
        if hi is not None and hi < lo:
            continue
        events.append((lo, 1))
        if hi is not None:
            events.append((date.fromordinal(hi.toordinal() + 1), -1))
    peak = current = 0
    for _, delta in sorted(events, key=lambda ev: (ev[0], ev[1])):  # leavings before joinings on a day
        current += delta
        peak = max(peak, current)
    return peak


@dataclass(frozen=True)
class RouteDay:
    route_id: int
    day: date
    children: int
    needed: int

    @property
    def key(self) -> tuple[int, date]:
        return (self.route_id, self.day)


@dataclass(frozen=True)
class Adult:
    id: int
    available: frozenset[date]  # dates this week the adult can walk (unavailability already removed)
    preferred_routes: frozenset[int] = frozenset()  # empty: happy to walk any route

    def accepts(self, route_id: int) -> bool:
        return not self.preferred_routes or route_id in self.preferred_routes


@dataclass(frozen=True)
class Gap:
    route_id: int
    day: date
    needed: int
    assigned: int

    @property
    def short(self) -> int:
        return self.needed - self.assigned


@dataclass
class Rota:
    assignments: dict[tuple[int, date], list[int]] = field(default_factory=dict)  # (route, day) -> adult ids
    gaps: list[Gap] = field(default_factory=list)

    def loads(self, adults: Iterable[int] = ()) -> dict[int, int]:
        out = {a: 0 for a in adults}
        for ids in self.assignments.values():
            for a in ids:
                out[a] = out.get(a, 0) + 1
        return out

    def pairs(self) -> list[tuple[int, date, int]]:
        return sorted((r, d, a) for (r, d), ids in self.assignments.items() for a in ids)


def _rank(adult: Adult, route_id: int, load: int) -> tuple[int, int, int]:
    return (0 if adult.accepts(route_id) else 1, load, adult.id)


def build_rota(route_days: Sequence[RouteDay], adults: Sequence[Adult],
               fixed: Mapping[tuple[int, date], Sequence[int]] | None = None) -> Rota:
    """The rota for ``route_days`` (see the module doc). ``fixed`` assignments are kept as they are
    (counted in loads and in who is busy each morning) and topped up to what each route-day needs."""
    by_id = {a.id: a for a in adults}
    rota = Rota({rd.key: list(dict.fromkeys((fixed or {}).get(rd.key, ()))) for rd in route_days})
    fixed_pairs = {(k, a) for k, ids in rota.assignments.items() for a in ids}
    busy: dict[date, set[int]] = defaultdict(set)
    load: dict[int, int] = defaultdict(int)
    for (route_id, day), ids in rota.assignments.items():
        for a in ids:
            busy[day].add(a)
            load[a] += 1

    def candidates(rd: RouteDay) -> list[Adult]:
        return [a for a in adults if rd.day in a.available and a.id not in busy[rd.day]]

    # Hardest first: the route-days with the fewest free adults for each place still open.
    pending = [rd for rd in route_days if rd.needed > len(rota.assignments[rd.key])]
    while pending:
        def scarcity(rd: RouteDay) -> tuple[float, date, int]:
            open_places = rd.needed - len(rota.assignments[rd.key])
            return (len(candidates(rd)) / open_places, rd.day, rd.route_id)

        rd = min(pending, key=scarcity)
        free = candidates(rd)
        if not free:
            pending.remove(rd)
            continue
        chosen = min(free, key=lambda a: _rank(a, rd.route_id, load[a.id]))
        rota.assignments[rd.key].append(chosen.id)
        busy[rd.day].add(chosen.id)
        load[chosen.id] += 1
        if len(rota.assignments[rd.key]) >= rd.needed:
            pending.remove(rd)

    _balance(rota, route_days, by_id, busy, load, fixed_pairs)
    for ids in rota.assignments.values():
        ids.sort()
    rota.gaps = [Gap(rd.route_id, rd.day, rd.needed, len(rota.assignments[rd.key]))
                 for rd in sorted(route_days, key=lambda r: (r.day, r.route_id))
                 if len(rota.assignments[rd.key]) < rd.needed]
    return rota


def _balance(rota: Rota, route_days: Sequence[RouteDay], by_id: Mapping[int, Adult], busy: dict[date, set[int]],
             load: dict[int, int], fixed_pairs: set) -> None:
    """Move single walks from heavier to lighter adults until no move lowers the spread: a move
    from load L to load <= L - 2 always lowers the sum of squares, so this ends."""
    keys = sorted(rota.assignments, key=lambda k: (k[1], k[0]))
    improved = True
    while improved:
        improved = False
        for key in keys:
            route_id, day = key
            for giver in sorted(rota.assignments[key], key=lambda a: (-load[a], a)):
                if (key, giver) in fixed_pairs:
                    continue
                giver_ok = by_id[giver].accepts(route_id) if giver in by_id else True
                takers = [a for a in by_id.values()
                          if day in a.available and a.id not in busy[day] and load[a.id] <= load[giver] - 2
                          and (a.accepts(route_id) or not giver_ok)]
                if not takers:
                    continue
                taker = min(takers, key=lambda a: _rank(a, route_id, load[a.id]))
                ids = rota.assignments[key]
                ids[ids.index(giver)] = taker.id
                busy[day].discard(giver)
                busy[day].add(taker.id)
                load[giver] -= 1
                load[taker.id] += 1
                improved = True
                break


def choose_substitute(route_id: int, day: date, adults: Sequence[Adult], busy: Iterable[int],
                      loads: Mapping[int, int]) -> int | None:
    """The adult to cover one place on ``route_id`` on ``day``: free that morning; first those
    the route suits (no preferences, or it is one of theirs), then the lightest load this week,
    then the lowest id. None if nobody is free."""
    taken = set(busy)
    free = [a for a in adults if day in a.available and a.id not in taken]
    if not free:
        return None
    return min(free, key=lambda a: _rank(a, route_id, loads.get(a.id, 0))).id
