"""The demo trust as plain records, generated from a seed (pure: no Flask, no database).

``generate(seed, today=..., now=...)`` returns the same records for the same arguments, so a
demo, a screenshot and a bug report can be reproduced exactly. Every random choice comes from a
``random.Random`` seeded with a string built from the seed and what is being chosen (a school, a
pupil), never from the global generator or from set ordering, so adding a field to one pupil does
not reshuffle every other pupil.

What it models, and why each part is there (docs/demo.md has the figures):

- A trust of three schools (a primary of about 300, a secondary of about 1,200, a special school
  of about 150) in local authority 823, with the 2026/27 roll plus last year's leavers (the
  primary's year 6, the secondary's year 11, the special school's year 13); most of the primary's
  year 6 moved up to the secondary's year 7, keeping their UPN (statistics are per enrolment).
- Families: siblings at the same school share parents (one contact row linked to each child),
  surname, free school meals, home language and term-time holidays.
- Absence: each pupil has an underlying absence rate drawn from a skewed (log-normal)
  distribution, raised for free school meals and SEN, shared partly within families, and
  calibrated per phase to the DfE's 2025/26 figures (absence 5.3% / 8.5% / 13.2%, persistent
  absence 14% / 24% / 36%). Illness comes in spells of one to five days, peaks in December and
  January; unexplained absence dips attendance on Mondays and Fridays and at the end of July;
  families take holidays (G) beside half terms; a handful of pupils slide into persistent
  absence over the year and a few are severely absent.
- Registers as an MIS exports them under the 2024 code table: every session of every pupil on
  roll on a pupil day, ``#`` on INSET days, nothing on holidays; absences in the last few school
  days still ``N`` (reason not yet established), a few older than five school days (work for the
  officer); today's morning register when the run is after 10:00 London time.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from outreach.demo import names
from outreach.demo.calendar import YEAR_2025_26, YEAR_2026_27, YEARS, DayKind, SchoolYear
from outreach.schools.upn import make_upn

DEFAULT_SEED = 2026
TRUST_NAME = "Riverside Learning Trust"
DEMO_PASSWORD = "riverside-demo-only"  # documented; only for a local demo (OUTREACH_DEMO_PASSWORD overrides)
LA_CODE = "823"
DRAMA_MOBILE_BASE = 447700900000  # Ofcom's drama range: +44 7700 900000 to 900999
DRAMA_MOBILE_COUNT = 1000
LONDON = ZoneInfo("Europe/London")
TODAY_REGISTER_CLOSES = time(10, 0)  # today's AM marks exist only once the morning register is done
OTHER_LAS = ("821", "822", "825", "826", "873", "874", "919", "209", "330", "886")


@dataclass(frozen=True)
class SchoolSpec:
    """A demo school and the figures its pupils are calibrated to."""

    key: str
    urn: str
    name: str
    phase: str
    estab: str
    years: tuple[str, ...]  # year groups in 2026/27, youngest first; the youngest joined in Sep 2026
    per_year: int  # pupils per year group at full scale
    forms: int  # registration groups per year
    absence: float  # target share of possible sessions missed (DfE 2025/26 by phase)
    tune: float  # measured correction from the pupils' rates to the school's realised absence
    spread: float  # log-normal sigma of pupil absence rates: sets the persistent absence share
    unauthorised_share: float
    fsm: float
    sen_support: float
    ehc: float
    eal: float
    late: float  # chance a pupil present in the morning arrives late
    slide: float  # chance a pupil slides into persistent absence during the year
    severe: float  # chance a pupil is severely absent
    contact_phone: str  # Ofcom's drama landline range 01632 960xxx
    contact_email: str
    top_year_leaves: date  # when last year's top year left
    move_up_to: str | None = None  # school key most of the top year moved to


SCHOOLS: tuple[SchoolSpec, ...] = (
    SchoolSpec("primary", "149801", "Riverside Primary Academy", "primary", "2431",
               ("R", "1", "2", "3", "4", "5", "6"), 43, 2, absence=0.0528, tune=0.92, spread=0.7, unauthorised_share=0.30,
               fsm=0.25, sen_support=0.14, ehc=0.04, eal=0.22, late=0.018, slide=0.02, severe=0.01,
               contact_phone="+441632960101", contact_email="office@riverside-primary.example",
               top_year_leaves=date(2026, 7, 17), move_up_to="secondary"),
    SchoolSpec("secondary", "149802", "Riverside Academy", "secondary", "4107",
               ("7", "8", "9", "10", "11"), 240, 8, absence=0.0849, tune=0.78, spread=0.7, unauthorised_share=0.40,
               fsm=0.27, sen_support=0.14, ehc=0.04, eal=0.20, late=0.028, slide=0.03, severe=0.03,
               contact_phone="+441632960202", contact_email="office@riverside-academy.example",
               top_year_leaves=date(2026, 6, 26)),
    SchoolSpec("special", "149803", "Willow Bank School", "special", "7012",
               tuple(str(y) for y in range(1, 14)), 12, 1, absence=0.1317, tune=0.64, spread=0.8, unauthorised_share=0.22,
               fsm=0.42, sen_support=0.0, ehc=1.0, eal=0.14, late=0.02, slide=0.05, severe=0.07,
               contact_phone="+441632960303", contact_email="office@willowbank.example",
               top_year_leaves=date(2026, 7, 17)),
)
SCHOOL_KEYS = tuple(s.key for s in SCHOOLS)


# --- records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class DemoPupil:
    upn: str
    forename: str
    surname: str
    preferred_forename: str | None
    date_of_birth: date
    year_group: str
    reg_group: str
    fsm: bool
    sen_status: str
    eal: bool
    sex: str
    admission_date: date
    leaving_date: date | None
    family: int  # index of the family within the school (siblings share it)


@dataclass(frozen=True)
class DemoContact:
    name: str
    phone: str | None  # E.164, drama range only
    email: str | None
    preferred_language: str
    sms_consent: bool
    links: tuple[tuple[int, str, int], ...]  # (pupil index, relationship, priority)


Mark = tuple[int, date, str, str]  # (pupil index, date, session, code)


@dataclass(frozen=True)
class DemoSchool:
    spec: SchoolSpec
    pupils: tuple[DemoPupil, ...]
    contacts: tuple[DemoContact, ...]
    marks: tuple[Mark, ...]

    def on_roll(self, day: date) -> int:
        return sum(1 for p in self.pupils if p.admission_date <= day and (p.leaving_date is None or p.leaving_date >= day))


@dataclass(frozen=True)
class DemoUser:
    email: str
    role: str
    name: str
    school_keys: tuple[str, ...] = ()
    trust: bool = False


USERS: tuple[DemoUser, ...] = (
    DemoUser("admin@riverside.example", "admin", "Demo Administrator"),
    DemoUser("trust.lead@riverside.example", "trust_lead", "Priya Sandhu (trust lead)", trust=True),
    DemoUser("head@riverside-primary.example", "head", "Martin Okoro (head, primary)", ("primary",)),
    DemoUser("attendance@riverside.example", "attendance_officer", "Jo Whitfield (attendance officer)",
             ("primary", "secondary")),
)


@dataclass(frozen=True)
class DemoData:
    seed: int
    scale: float
    today: date
    trust_name: str
    schools: tuple[DemoSchool, ...]
    users: tuple[DemoUser, ...]

    def school(self, key: str) -> DemoSchool:
        return next(s for s in self.schools if s.spec.key == key)

    def digest(self) -> str:
        """SHA-256 over every pupil, contact and mark in a fixed order: equal digests mean
        identical demos."""
        h = hashlib.sha256()
        for school in self.schools:
            h.update(f"S|{school.spec.urn}\n".encode())
            for p in school.pupils:
                h.update(("P|" + "|".join(str(v) for v in vars(p).values()) + "\n").encode())
            for c in school.contacts:
                h.update(("C|" + "|".join(str(v) for v in vars(c).values()) + "\n").encode())
            for i, day, session, code in school.marks:
                h.update(f"M|{school.pupils[i].upn}|{day.isoformat()}|{session}|{code}\n".encode())
        return h.hexdigest()


# --- small helpers -----------------------------------------------------------------------------

def seeded_random(seed: int, *parts: object) -> random.Random:
    """A generator for one purpose (a school, a pupil, a demo step). String seeds are hashed with
    SHA-512 by ``random.seed``: stable across runs, platforms and PYTHONHASHSEED."""
    return random.Random(":".join(str(p) for p in (seed, *parts)))


_rng = seeded_random


def _nc_number(year: str) -> int:
    return 0 if year == "R" else int(year)


def _year_before(year: str) -> str | None:
    n = _nc_number(year)
    return None if year == "R" else ("R" if n == 1 else str(n - 1))


def _weighted(rng: random.Random, options: Iterable[tuple[str, int]]) -> str:
    items = list(options)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def drama_number(n: int) -> str:
    """The n-th number (0-999) of Ofcom's mobile drama range, in E.164."""
    if not 0 <= n < DRAMA_MOBILE_COUNT:
        raise ValueError("the drama range has numbers 0 to 999")
    return f"+{DRAMA_MOBILE_BASE + n}"


# Illness by month (flu and colds peak in December and January), relative to the year's mean.
_SEASON = {9: 0.65, 10: 0.95, 11: 1.1, 12: 1.45, 1: 1.35, 2: 1.1, 3: 0.95, 4: 0.8, 5: 0.8, 6: 0.85, 7: 0.9, 8: 1.0}
# Unexplained absence by weekday: Mondays and Fridays are the dips every school sees.
_WEEKDAY_UNAUTH = (1.35, 0.85, 0.8, 0.85, 1.35)
_WEEKDAY_ILL = (1.15, 0.95, 0.95, 0.95, 1.0)


def _season_norm(days: list[date]) -> tuple[float, float]:
    ill = sum(_SEASON[d.month] * _WEEKDAY_ILL[d.weekday()] for d in days) / len(days)
    un = sum(_WEEKDAY_UNAUTH[d.weekday()] for d in days) / len(days)
    return ill, un


# --- people ------------------------------------------------------------------------------------

@dataclass
class _Slot:
    year: str  # year group the pupil is in now (or was in when they left last summer)
    graduate: bool  # last year's top year: left in summer 2026
    entry: bool  # joined the youngest year in September 2026
    family: int = -1
    incoming: "_Mover | None" = None


@dataclass
class _Family:
    surname: str
    language: str  # home language: "en" or one of names.EAL_LANGUAGES
    eal: bool
    fsm: bool
    factor: float  # shared part of the family's absence propensity
    joins: date | None = None
    leaves: date | None = None
    holidays: set[date] = field(default_factory=set)  # term-time holiday days (G), shared
    authorised: set[date] = field(default_factory=set)  # exceptional circumstances (C)
    contacts: list[tuple[str, str, str | None, str | None, str, bool]] = field(default_factory=list)


@dataclass(frozen=True)
class _Mover:
    """A primary year 6 who moved up to the secondary's year 7."""

    pupil: DemoPupil
    rate: float
    family: _Family


@dataclass
class _Profile:
    """How one pupil's absence behaves (never stored: it only drives the marks)."""

    rate: float
    late: float
    slide_from: date | None = None
    slide_to_rate: float = 0.0
    severe: bool = False
    part_time_from: date | None = None  # C2 afternoons (a reduced timetable)
    athlete: bool = False
    alternative_provision: bool = False  # K on Wednesdays
    suspensions: tuple[date, ...] = ()
    left_last_year: bool = False  # left during or at the end of 2025/26: year group is last year's


class _UpnAllocator:
    """Valid, unique UPNs: the LA and establishment of the school that allocated them (the
    pupil's first school), the year allocated, and a serial."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.serials: dict[tuple[int, int, int], int] = {}

    def take(self, la: int, estab: int, year: int) -> str:
        key = (la, estab, year % 100)
        while True:
            serial = self.serials.get(key, 0)
            if serial > 999:
                estab = estab + 1 if estab < 9999 else 1000
                key = (la, estab, year % 100)
                continue
            self.serials[key] = serial + 1
            upn = make_upn(la, estab, year, serial)
            if upn not in self.used:
                self.used.add(upn)
                return upn


def _school_days(until: date) -> tuple[list[date], list[date]]:
    """(last year's open days, this year's open days up to ``until``)."""
    return YEAR_2025_26.open_days(), [d for d in YEAR_2026_27.open_days() if d <= until]


def _pupil_day(cal: SchoolYear, rng: random.Random, after: date | None = None, before: date | None = None) -> date:
    days = [d for d in cal.pupil_days() if (after is None or d > after) and (before is None or d < before)]
    return rng.choice(days)


def _build_families(spec: SchoolSpec, slots: list[_Slot], rng: random.Random) -> list[_Family]:
    """Group pupils into families of one to three children in different year groups."""
    order = [s for s in slots if s.incoming is None]
    rng.shuffle(order)
    families: list[_Family] = []
    taken: set[int] = set()
    for pos, slot in enumerate(order):
        if id(slot) in taken:
            continue
        size = _weighted(rng, (("1", 66), ("2", 26), ("3", 8)))
        members = [slot]
        years = {slot.year if not slot.graduate else "G" + slot.year}
        for other in order[pos + 1: pos + 60]:
            if len(members) >= int(size):
                break
            key = other.year if not other.graduate else "G" + other.year
            if id(other) in taken or key in years or other.year == slot.year:
                continue
            members.append(other)
            years.add(key)
        index = len(families)
        for m in members:
            taken.add(id(m))
            m.family = index
        families.append(_new_family(spec, rng))
    for slot in slots:
        if slot.incoming is not None:
            # The same parents, as this school's own rows; holidays are drawn afresh here.
            f = slot.incoming.family
            slot.family = len(families)
            families.append(_Family(f.surname, f.language, f.eal, f.fsm, f.factor, contacts=list(f.contacts)))
    return families


def _new_family(spec: SchoolSpec, rng: random.Random) -> _Family:
    eal = rng.random() < spec.eal
    language = _weighted(rng, names.EAL_LANGUAGES) if eal else "en"
    pool = names.BY_LANGUAGE.get(language, names.ENGLISH)
    return _Family(surname=rng.choice(pool["surnames"]), language=language, eal=eal,
                   fsm=rng.random() < spec.fsm, factor=rng.gauss(0.0, 1.0))


def _family_contacts(family: _Family, rng: random.Random) -> None:
    """One or two parents or carers. Families whose home language has translated templates
    often prefer messages in it."""
    pool = names.BY_LANGUAGE.get(family.language, names.ENGLISH)
    prefers = family.language if family.language in names.MESSAGE_LANGUAGES and rng.random() < 0.55 else "en"
    first_is_mother = rng.random() < 0.78
    people = [("mother" if first_is_mother else "father", "F" if first_is_mother else "M", family.surname)]
    if rng.random() < 0.62:
        roll = rng.random()
        if roll < 0.06:
            people.append(("grandparent", "F" if rng.random() < 0.7 else "M", family.surname))
        elif roll < 0.1:
            people.append(("carer", "F" if rng.random() < 0.5 else "M", rng.choice(pool["surnames"])))
        else:
            other = "father" if first_is_mother else "mother"
            surname = family.surname if rng.random() < 0.85 else rng.choice(pool["surnames"])
            people.append((other, "M" if first_is_mother else "F", surname))
    for priority, (relationship, sex, surname) in enumerate(people, start=1):
        forename = rng.choice(pool[sex])
        name = f"{forename} {surname}"
        has_phone = rng.random() < (0.98 if priority == 1 else 0.8)
        email = f"{forename}.{surname}{rng.randint(1, 99)}@example.com".lower() if rng.random() < 0.6 else None
        consent = rng.random() < 0.93
        family.contacts.append((relationship, name, "phone" if has_phone else None, email, prefers, consent))


def _profile(spec: SchoolSpec, family: _Family, sen: str, rng: random.Random, base: float,
             own: float | None = None) -> _Profile:
    # National gaps: free school meals about twice the absence of other pupils; SEN support
    # about 1.7 times and EHC plans 2.3 times that of pupils without SEN.
    mult = (2.2 if family.fsm else 1.0) * {"N": 1.0, "K": 1.9, "E": 2.4 if spec.phase != "special" else 1.0}[sen]
    rate = own if own is not None else base * mult * math.exp(spec.spread * (0.55 * family.factor + 0.835 * rng.gauss(0, 1)))
    profile = _Profile(rate=min(rate, 0.45), late=spec.late * (6.0 if rng.random() < 0.04 else rng.uniform(0.3, 1.6)))
    roll = rng.random() / (1.8 if family.fsm else 1.0)
    if roll < spec.severe:
        profile.severe = True
        profile.rate = rng.uniform(0.5, 0.8)
        if spec.phase != "primary" and rng.random() < 0.4:
            profile.part_time_from = _pupil_day(YEAR_2025_26, rng, after=date(2025, 11, 1), before=date(2026, 3, 1))
    elif roll < spec.severe + spec.slide:
        # Sliding: fine in the autumn, then a growing problem (a family crisis, anxiety...).
        cal = YEAR_2025_26 if rng.random() < 0.7 else YEAR_2026_27
        window = (date(2025, 10, 1), date(2026, 2, 28)) if cal is YEAR_2025_26 else (date(2026, 9, 7), date(2026, 10, 20))
        profile.slide_from = _pupil_day(cal, rng, after=window[0], before=window[1])
        profile.slide_to_rate = rng.uniform(0.16, 0.4)
        profile.rate = min(profile.rate, 0.04)
    if spec.phase == "secondary":
        profile.athlete = rng.random() < 0.05
        profile.alternative_provision = rng.random() < 0.006
        if rng.random() < 0.025 + (0.03 if family.fsm else 0.0):
            profile.suspensions = tuple(sorted({_pupil_day(rng.choice(YEARS), rng) for _ in range(rng.randint(1, 2))}))
    return profile


def _rate_on(profile: _Profile, day: date) -> float:
    if profile.slide_from is None or day < profile.slide_from:
        return profile.rate
    progress = min(1.0, (day - profile.slide_from).days / 56.0)  # over about eight weeks
    return profile.rate + (profile.slide_to_rate - profile.rate) * progress


# --- marks ---------------------------------------------------------------------------------------

@dataclass
class _Context:
    """One school's fixed facts for the mark loop."""

    spec: SchoolSpec
    recent: dict[date, int]  # this year's pupil days -> school days before today
    trips: dict[tuple[str, str], date]  # (academic year label, year group then) -> trip day
    eid: date
    work_experience: tuple[date, date]
    days: list["_Day"]


@dataclass(frozen=True)
class _Day:
    """What the mark loop needs to know about one open day, worked out once per school."""

    day: date
    inset: bool
    last_year: bool  # in 2025/26 (year groups were one lower)
    sessions: tuple[str, ...]  # today: AM only
    ill: float  # illness factor: season and weekday, normalised to a mean of 1
    unexplained: float  # unexplained-absence factor: weekday and the end of July, mean 1
    closed_unplanned: bool  # whole site closed unexpectedly (Y4)


def _day_table(days: list[date], today: date, closure: date | None) -> list[_Day]:
    ill_norm, un_norm = _season_norm(YEAR_2025_26.pupil_days())
    table = []
    for day in days:
        cal = YEAR_2025_26 if day <= YEAR_2025_26.end else YEAR_2026_27
        wd = day.weekday()
        end_of_year = 1.6 if (day.month == 7 and day.day >= 13) else 1.0
        table.append(_Day(day, cal.kind(day) is DayKind.INSET, cal is YEAR_2025_26,
                          ("AM",) if day == today else ("AM", "PM"),
                          _SEASON[day.month] * _WEEKDAY_ILL[wd] / ill_norm,
                          _WEEKDAY_UNAUTH[wd] / un_norm * end_of_year, day == closure))
    return table


def _unexplained(ctx: _Context, day: date, code: str, rng: random.Random) -> str:
    """Absence still waiting for a reason: nearly all of today's, many of the last five school
    days', a few older ones the office has not chased."""
    ago = ctx.recent.get(day)
    if ago is None:
        return code
    chance = 0.7 if ago == 0 else 0.42 if ago <= 5 else 0.04 if ago <= 20 else 0.0
    return "N" if rng.random() < chance else code


_SPELLS = (1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 5)  # days ill, mean ~1.9


def _pupil_marks(ctx: _Context, index: int, pupil: DemoPupil, family: _Family, profile: _Profile,
                 rng: random.Random) -> Iterator[Mark]:
    spec = ctx.spec
    us = spec.unauthorised_share
    muslim = family.language in names.MUSLIM_BACKGROUNDS and rng.random() < 0.6
    # Days this pupil's present sessions carry another code: their year group's trip (V),
    # last year's year 10 work experience week (W).
    year_last = pupil.year_group if profile.left_last_year else _year_before(pupil.year_group)
    trips = {ctx.trips.get((YEAR_2025_26.label, year_last or "")), ctx.trips.get((YEAR_2026_27.label, pupil.year_group))}
    work_experience = spec.phase == "secondary" and year_last == "10"
    leaving = pupil.leaving_date or date.max
    ill_left = 0
    for info in ctx.days:
        day = info.day
        if day < pupil.admission_date or day > leaving:
            continue
        if info.inset:
            for s in info.sessions:
                yield (index, day, s, "#")
            continue
        if info.closed_unplanned:
            for s in info.sessions:
                yield (index, day, s, "Y4")
            continue
        codes: dict[str, str] = {}
        if day in family.holidays:
            codes = {"AM": "G", "PM": "G"}
        elif day in family.authorised:
            codes = {"AM": "C", "PM": "C"}
        elif day in profile.suspensions:
            codes = {"AM": "E", "PM": "E"}
        elif muslim and day == ctx.eid:
            codes = {"AM": "R", "PM": "R"}
        elif ill_left > 0:
            ill_left -= 1
            codes = {"AM": "I", "PM": "I"}
        else:
            rate = profile.rate if profile.severe else _rate_on(profile, day)
            auth_rate = rate * (1 - us)
            if profile.severe:  # at a special school mostly ill health; elsewhere mostly unexplained
                un_p = rate * (0.35 if spec.phase == "special" else 0.75) * info.unexplained
                ill_p = rate * (0.33 if spec.phase == "special" else 0.2)
            else:
                un_p = rate * us * 0.78 * info.unexplained
                ill_p = auth_rate * 0.84 * info.ill / 1.9
            roll = rng.random()
            if roll < ill_p:
                spell = rng.choice(_SPELLS)
                ill_left = spell - 1
                if spell == 1 and rng.random() < 0.15:
                    codes = {"PM": "I"}  # sent home ill at lunchtime
                else:
                    codes = {"AM": "I", "PM": "I"}
            elif roll < ill_p + un_p:
                codes = {"AM": "O", "PM": "O"} if rng.random() < 0.75 else ({"PM": "O"} if rng.random() < 0.6 else {"AM": "O"})
            elif roll < ill_p + un_p + auth_rate * 0.16:
                codes = {rng.choice(("AM", "PM")): "M"}  # a medical or dental appointment
        for s in info.sessions:
            code = codes.get(s)
            if code is None:
                if day in trips:
                    code = "V"
                elif profile.part_time_from is not None and s == "PM" and day >= profile.part_time_from:
                    code = "C2"  # a reduced timetable: afternoons off, authorised
                elif profile.alternative_provision and day.weekday() == 2:
                    code = "K"
                elif profile.athlete and s == "PM" and day.weekday() == 3 and rng.random() < 0.12:
                    code = "P"
                elif work_experience and info.last_year and ctx.work_experience[0] <= day <= ctx.work_experience[1]:
                    code = "W"
                elif s == "AM":
                    roll = rng.random()
                    code = "U" if roll < profile.late * 0.12 else "L" if roll < profile.late else "/"
                else:
                    code = "\\"
            elif code in ("I", "O"):
                code = _unexplained(ctx, day, code, rng)
            yield (index, day, s, code)


# --- schools --------------------------------------------------------------------------------

def _generate_school(spec: SchoolSpec, seed: int, scale: float, today: date, include_today: bool,
                     upns: _UpnAllocator, incoming: list[_Mover]) -> tuple[DemoSchool, list[_Mover]]:
    rng = _rng(seed, spec.key)
    until = today if include_today else today - timedelta(days=1)
    last_year_days, this_year_days = _school_days(until)
    this_year_pupil_days = [d for d in this_year_days if YEAR_2026_27.kind(d) is DayKind.PUPIL]

    # Slots: this year's year groups, plus last year's top year (who left last summer).
    slots: list[_Slot] = []
    for year in spec.years:
        n = max(2, round(spec.per_year * scale * rng.uniform(0.99, 1.09)))
        slots += [_Slot(year, graduate=False, entry=(year == spec.years[0])) for _ in range(n)]
    n_grad = max(2, round(spec.per_year * scale * rng.uniform(0.94, 1.04)))
    slots += [_Slot(spec.years[-1], graduate=True, entry=False) for _ in range(n_grad)]
    entry_slots = [s for s in slots if s.entry]
    for slot, mover in zip(entry_slots, incoming):
        slot.incoming = mover

    families = _build_families(spec, slots, _rng(seed, spec.key, "families"))
    members: dict[int, list[_Slot]] = {}
    for slot in slots:
        members.setdefault(slot.family, []).append(slot)

    # Joiners and leavers during the year, whole families at a time (moving house).
    frac_this_year = len(this_year_pupil_days) / 190
    for index, family in enumerate(families):
        if any(s.incoming is not None for s in members[index]):
            continue
        frng = _rng(seed, spec.key, "moves", index)
        kids = members[index]
        roll = frng.random()
        only_entry = all(s.entry for s in kids)
        has_grad = any(s.graduate for s in kids)
        if roll < 0.035 and not only_entry:
            family.joins = _pupil_day(YEAR_2025_26, frng, after=date(2025, 9, 10), before=date(2026, 6, 1))
        elif roll < 0.035 + 0.03 * frac_this_year and not has_grad and this_year_pupil_days[1:]:
            family.joins = frng.choice(this_year_pupil_days[1:])
        elif roll < 0.07 and not any(s.entry for s in kids):
            family.leaves = _pupil_day(YEAR_2025_26, frng, after=date(2025, 9, 20), before=date(2026, 6, 20))
        elif roll < 0.07 + 0.025 * frac_this_year and not has_grad and this_year_pupil_days[5:]:
            family.leaves = frng.choice(this_year_pupil_days[5:])

    # Term-time holidays beside half terms (G), and the odd authorised absence for
    # exceptional circumstances (C): shared by siblings.
    for index, family in enumerate(families):
        hrng = _rng(seed, spec.key, "holidays", index)
        for cal in YEARS:
            for before, after in cal.half_term_edges():
                if after > until:
                    continue
                if hrng.random() < 0.035:
                    days = cal.pupil_days()
                    if hrng.random() < 0.5:  # leaving early
                        pos = days.index(before)
                        family.holidays.update(days[max(0, pos - hrng.randint(1, 4)): pos + 1])
                    else:  # coming back late
                        pos = days.index(after)
                        family.holidays.update(days[pos: pos + hrng.randint(1, 5)])
            if hrng.random() < 0.02:
                start = _pupil_day(cal, hrng)
                days = cal.pupil_days()
                pos = days.index(start)
                family.authorised.update(days[pos: pos + hrng.randint(1, 3)])
        if not family.contacts:  # movers bring their parents with them
            _family_contacts(family, _rng(seed, spec.key, "contacts", index))

    # Pupils.
    la = int(LA_CODE)
    prng = _rng(seed, spec.key, "pupils")
    pupils: list[DemoPupil] = []
    profiles: list[_Profile] = []
    leavers: list[_Mover] = []
    form_letters = "ABCDEFGH"[: spec.forms]
    first_day_this_year = YEAR_2026_27.pupil_days()[0]
    for slot in slots:
        family = families[slot.family]
        if slot.incoming is not None:
            moved = slot.incoming.pupil
            pupil = DemoPupil(moved.upn, moved.forename, moved.surname, moved.preferred_forename,
                              moved.date_of_birth, slot.year, f"{slot.year}{prng.choice(form_letters)}",
                              moved.fsm, moved.sen_status, moved.eal, moved.sex, first_day_this_year, None, slot.family)
            pupils.append(pupil)
            profiles.append(_profile(spec, family, pupil.sen_status, prng, 0.0, own=slot.incoming.rate))
            continue
        nc = _nc_number(slot.year)  # a graduate's year group is the one they left from
        year_start = 2025 if slot.graduate else 2026
        reception_year = year_start - nc
        sex = "F" if prng.random() < 0.49 else "M"
        pool = names.BY_LANGUAGE.get(family.language, names.ENGLISH)
        forename = prng.choice(pool[sex])
        dob = date(reception_year - 5, 9, 1) + timedelta(days=prng.randrange(365))
        # Admission: the first day of their first year here, or when the family arrived.
        first_year_here = year_start - (spec.years.index(slot.year) if not slot.graduate else len(spec.years) - 1)
        admission = date(first_year_here, 9, 3) if not slot.entry else first_day_this_year
        if family.joins is not None and family.joins > admission:
            admission = family.joins
        leaving = spec.top_year_leaves if slot.graduate else None
        if family.leaves is not None and family.leaves > admission:
            leaving = min(leaving, family.leaves) if leaving else family.leaves
        elif family.leaves is not None:
            continue  # the family left before this child would have started
        # A pupil who left last year keeps the year group they left from, as the MIS does.
        left_last_year = leaving is not None and leaving <= YEAR_2025_26.end
        year_group = slot.year if (slot.graduate or not left_last_year) else (_year_before(slot.year) or "R")
        if spec.phase == "special":
            sen = "E"
        else:
            r = prng.random()
            sen = "E" if r < spec.ehc else "K" if r < spec.ehc + spec.sen_support else "N"
        # UPN from the pupil's first school: this one for most, elsewhere for joiners and (at
        # the secondary) a feeder primary.
        if spec.phase == "primary" and family.joins is None and first_year_here == reception_year:
            upn = upns.take(la, int(spec.estab), reception_year)
        elif prng.random() < 0.8:
            upn = upns.take(la, 2000 + prng.randrange(1, 60), reception_year)
        else:
            upn = upns.take(int(prng.choice(OTHER_LAS)), 2000 + prng.randrange(1, 400), reception_year)
        preferred = names.SHORT_FORMS.get(forename) if prng.random() < 0.5 else None
        pupil = DemoPupil(upn, forename, family.surname, preferred, dob, year_group,
                          f"{year_group}{prng.choice(form_letters)}", family.fsm, sen, family.eal, sex,
                          admission, leaving, slot.family)
        pupils.append(pupil)
        profiles.append(_profile(spec, family, sen, prng, spec.absence))
        profiles[-1].left_last_year = slot.graduate or left_last_year
        if slot.graduate and leaving == spec.top_year_leaves and spec.move_up_to and prng.random() < 0.6:
            leavers.append(_Mover(pupil, profiles[-1].rate, family))

    # Calibrate: scale the ordinary pupils' rates so the school's expected absence meets the
    # phase figure (the sliding and severely absent pupils come on top, as they do in life).
    ordinary = [p for p in profiles if not p.severe and p.slide_from is None]
    if ordinary:
        mean = sum(min(p.rate, 0.45) for p in ordinary) / len(ordinary)
        target = spec.absence * spec.tune
        factor = target / mean if mean > 0 else 1.0
        for p in ordinary:
            p.rate = min(p.rate * factor, 0.45)

    # Contacts: one row per parent, linked to each of the family's children at this school.
    contacts = _contacts(spec, seed, families, pupils)

    recent_days = [d for d in this_year_days if YEAR_2026_27.kind(d) is DayKind.PUPIL]
    recent = {d: len(recent_days) - 1 - i for i, d in enumerate(recent_days)}
    if not include_today:
        recent = {d: n + 1 for d, n in recent.items()}
    trng = _rng(seed, spec.key, "calendar")
    trips = {}
    for cal in YEARS:
        for year in dict.fromkeys((*(_year_before(y) or "R" for y in spec.years), *spec.years)):
            trips[(cal.label, year)] = _pupil_day(cal, trng, after=date(cal.start.year, 9, 20))
    closure = date(2026, 1, 13) if spec.phase == "special" else None  # the boiler failed
    ctx = _Context(spec=spec, recent=recent, trips=trips,
                   eid=date(2026, 3, 20), work_experience=(date(2026, 7, 6), date(2026, 7, 10)),
                   days=_day_table(last_year_days + this_year_days, today, closure))
    marks: list[Mark] = []
    for index, (pupil, profile) in enumerate(zip(pupils, profiles)):
        mrng = _rng(seed, spec.key, "marks", pupil.upn)
        marks.extend(_pupil_marks(ctx, index, pupil, families[pupil.family], profile, mrng))
    return DemoSchool(spec, tuple(pupils), tuple(contacts), tuple(marks)), leavers


def _contacts(spec: SchoolSpec, seed: int, families: list[_Family], pupils: list[DemoPupil]) -> list[DemoContact]:
    """Phones come only from the drama range, which has 1,000 numbers: each school walks a
    shuffled permutation of them, so numbers repeat only once a school has used them all (the
    secondary, with more parents than numbers) and across schools; (name, phone) stays unique
    per school, as the contacts table requires."""
    numbers = list(range(DRAMA_MOBILE_COUNT))
    _rng(seed, spec.key, "phones").shuffle(numbers)
    next_number = 0
    used: set[tuple[str, str]] = set()
    children: dict[int, list[int]] = {}
    for i, pupil in enumerate(pupils):
        children.setdefault(pupil.family, []).append(i)
    out: list[DemoContact] = []
    for index, family in enumerate(families):
        kids = children.get(index)
        if not kids:
            continue
        for priority, (relationship, name, wants_phone, email, language, consent) in enumerate(family.contacts, start=1):
            phone = None
            if wants_phone:
                while True:
                    phone = drama_number(numbers[next_number % DRAMA_MOBILE_COUNT])
                    next_number += 1
                    if (name, phone) not in used:
                        used.add((name, phone))
                        break
            out.append(DemoContact(name, phone, email, language, consent,
                                   tuple((k, relationship, priority) for k in kids)))
    return out


def generate(seed: int = DEFAULT_SEED, *, scale: float = 1.0, now: datetime | None = None) -> DemoData:
    """The whole demo for ``seed``. ``now`` is the moment of the run: an aware datetime (any
    zone) or a naive London wall-clock time; marks run to yesterday, plus today's morning
    session once it is 10:00 in London.
    ``scale`` shrinks every year group (tests use 0.1-0.25; 1.0 is the full-size trust)."""
    if not 0 < scale <= 1.0:
        raise ValueError("scale must be in (0, 1]")
    if now is None:
        now = datetime.now(LONDON)
    elif now.tzinfo is not None:
        now = now.astimezone(LONDON)  # a UTC moment: 09:30 UTC is 10:30 in London in summer time
    today = now.date()
    if today < YEAR_2026_27.start:
        raise ValueError("the demo runs from September 2026: set the date on or after 1 September 2026")
    if today > YEAR_2026_27.end:
        today = YEAR_2026_27.end  # 2026/27 complete: later years have no calendar yet
    include_today = (now.date() == today and now.time().replace(tzinfo=None) >= TODAY_REGISTER_CLOSES
                     and YEAR_2026_27.kind(today) is DayKind.PUPIL)
    upns = _UpnAllocator()
    schools: list[DemoSchool] = []
    movers: dict[str, list[_Mover]] = {}
    for spec in SCHOOLS:
        school, leavers = _generate_school(spec, seed, scale, today, include_today, upns, movers.get(spec.key, []))
        if spec.move_up_to:
            movers[spec.move_up_to] = leavers
        schools.append(school)
    return DemoData(seed=seed, scale=scale, today=today, trust_name=TRUST_NAME, schools=tuple(schools), users=USERS)
