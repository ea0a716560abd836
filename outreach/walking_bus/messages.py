"""The words of the texts ambassadors and parents receive. Pure.

Short (one or two SMS segments), plain GSM characters, and every ambassador text ends with the
reply words so the next step is always on the screen. Ambassadors' texts never name children:
a phone is lost more easily than a register.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time

from outreach.walking_bus.times import hhmm, short_date

REPLY_WORDS = "Reply CANT {day} if you can't walk."


@dataclass(frozen=True)
class Walk:
    """One walk as an ambassador sees it."""

    day: date
    route_name: str
    first_stop: str
    first_pickup: time
    children: int

    def line(self) -> str:
        kids = f"{self.children} child{'ren' if self.children != 1 else ''}"
        return f"{short_date(self.day)} {self.route_name}: {self.first_stop} {hhmm(self.first_pickup)}, {kids}"


def _first(name: str) -> str:
    return (name.strip().split() or ["there"])[0]


def _cant_day(walks: list[Walk]) -> str:
    return short_date(walks[0].day).split()[0].upper() if walks else "MON"


def _week(name: str, walks: list[Walk], school_name: str, *, intro: str, empty: str) -> str:
    if not walks:
        return f"Hi {_first(name)}, {empty}. Thank you! {school_name}"
    lines = "; ".join(w.line() for w in walks)
    return f"Hi {_first(name)}, {intro}: {lines}. {REPLY_WORDS.format(day=_cant_day(walks))} {school_name}"


def schedule(name: str, week: date, walks: list[Walk], school_name: str) -> str:
    return _week(name, walks, school_name, intro=f"your walking bus week from {week.day} {week:%b}",
                 empty=f"no walking bus walks for you in the week of {week.day} {week:%b}")


def reminder(name: str, walk: Walk, school_name: str) -> str:
    return (f"Hi {_first(name)}, reminder: walking bus {walk.line()}. "
            f"{REPLY_WORDS.format(day=_cant_day([walk]))} {school_name}")


def change(name: str, week: date, walks: list[Walk], school_name: str) -> str:
    return _week(name, walks, school_name, intro="rota change. Your walks now",
                 empty=f"rota change: you have no walking bus walks now in the week of {week.day} {week:%b}")


def cant_noted(days: list[date], covered: int, uncovered: int) -> str:
    when = ", ".join(short_date(d) for d in days)
    if covered == 0 and uncovered == 0:
        return f"Thanks, noted you can't walk {when}. You weren't on the rota then."
    if uncovered == 0:
        return f"Thanks, noted you can't walk {when}. Cover is arranged."
    return f"Thanks, noted you can't walk {when}. We've told the school so they can find cover."


def arrival(parent_name: str, child_names: str, route_name: str, at: time, school_name: str) -> str:
    return (f"Hello {_first(parent_name)}, {child_names} arrived at school safely with the {route_name} "
            f"walking bus at {hhmm(at)}. {school_name}. Reply STOP to opt out")
