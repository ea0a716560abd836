"""The compose page's request: which template, which parents, which values, when. Pure.

The compose form is a plain GET form (it changes nothing), so the review it leads to can be
reloaded and linked; the confirm form carries the same arguments back as hidden fields. This
module turns those arguments into a checked ``ComposeRequest`` and back, and derives the
episode key that makes a second confirm of the same review a no-op at the outbox.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable, Mapping, Sequence
from zoneinfo import ZoneInfo

from outreach.core.errors import UserError
from outreach.messaging.compose import AudienceFilter, ContactMode
from outreach.messaging.placeholders import COMMON_PLACEHOLDERS, PURPOSES

# Filled by the page itself, not typed: days missed come from the rollups.
COMPUTED_PLACEHOLDERS = frozenset({"days_missed", "since_date"})
SEN_CHOICES = {"K": "SEN support", "E": "EHC plan", "N": "No SEN"}
TRI = {"": None, "yes": True, "no": False}
MAX_VALUE_CHARACTERS = 100
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
_GROUP_RE = re.compile(r"^[\w .\-/]{1,20}$")

Args = Mapping[str, Sequence[str]]


def _one(args: Args, key: str) -> str:
    values = args.get(key) or ()
    return (values[0] if values else "").strip()


def _many(args: Args, key: str) -> list[str]:
    return sorted({v.strip() for v in (args.get(key) or ()) if v and v.strip()})


def _tri(args: Args, key: str, label: str) -> bool | None:
    raw = _one(args, key).lower()
    if raw not in TRI:
        raise UserError(f"{label}: choose any, yes or no")
    return TRI[raw]


@dataclass(frozen=True)
class ComposeRequest:
    template: str
    year_groups: tuple[str, ...] = ()
    reg_groups: tuple[str, ...] = ()
    sen: tuple[str, ...] = ()
    fsm: bool | None = None
    eal: bool | None = None
    persistent_absence: bool | None = None
    severe_absence: bool | None = None  # 50% or more this year; applied by staff_services.build_review
    contact_mode: ContactMode = ContactMode.FIRST
    values: tuple[tuple[str, str], ...] = ()  # placeholder -> text typed on the form
    since: date | None = None  # attendance concern: days missed counted from
    send_at: datetime | None = None  # aware, London; None: as soon as quiet hours allow
    extra_errors: tuple[str, ...] = field(default=(), compare=False)

    @property
    def audience(self) -> AudienceFilter:
        return AudienceFilter(year_groups=frozenset(self.year_groups), reg_groups=frozenset(self.reg_groups),
                              fsm=self.fsm, sen_statuses=frozenset(self.sen), eal=self.eal,
                              persistent_absence=self.persistent_absence)

    def value_map(self) -> dict[str, str]:
        return dict(self.values)

    def as_args(self) -> list[tuple[str, str]]:
        """Back to form arguments (hidden fields of the confirm form, links back to the form)."""
        out: list[tuple[str, str]] = [("template", self.template)]
        out += [("year", y) for y in self.year_groups] + [("reg", r) for r in self.reg_groups]
        out += [("sen", s) for s in self.sen]
        for key, value in (("fsm", self.fsm), ("eal", self.eal), ("pa", self.persistent_absence),
                           ("sa", self.severe_absence)):
            if value is not None:
                out.append((key, "yes" if value else "no"))
        if self.contact_mode is ContactMode.ALL:
            out.append(("contacts", "all"))
        out += [(f"v_{k}", v) for k, v in self.values]
        if self.since:
            out.append(("since", self.since.isoformat()))
        if self.send_at:
            out.append(("send_at", self.send_at.strftime("%Y-%m-%dT%H:%M")))
        return out

    def audience_description(self) -> list[str]:
        """The filters in words, for the review page ('Year 3, Year 4', 'Free school meals')."""
        parts = []
        if self.year_groups:
            parts.append("Year groups: " + ", ".join(self.year_groups))
        if self.reg_groups:
            parts.append("Registration groups: " + ", ".join(self.reg_groups))
        if self.sen:
            parts.append("SEN: " + ", ".join(SEN_CHOICES[s] for s in self.sen))
        for label, value in (("Free school meals", self.fsm), ("English as an additional language", self.eal),
                             ("Persistently absent (10% or more this year)", self.persistent_absence),
                             ("Severely absent (50% or more this year)", self.severe_absence)):
            if value is not None:
                parts.append(label if value else f"Not: {label[0].lower()}{label[1:]}")
        return parts or ["Every pupil on roll"]

    def episode_key(self, template_version: str, today: date) -> str:
        """The same review confirmed twice (a double click, the back button) gives the same key,
        so the outbox stores each message once. A new day, other values, other parents or an
        edited template make a new episode."""
        material = json.dumps({"args": self.as_args(), "template": template_version, "day": today.isoformat()},
                              sort_keys=True, separators=(",", ":"))
        return "page:" + hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def parse_compose(args: Args, *, purpose_of: Mapping[str, str], timezone: ZoneInfo,
                  now: datetime, sen_choices: Iterable[str] = SEN_CHOICES) -> ComposeRequest:
    """Check the form's arguments. ``purpose_of`` maps the school's template names to their
    purposes. Every problem is listed in one UserError; nothing is guessed."""
    problems: list[str] = []
    template = _one(args, "template").lower()
    if not template:
        raise UserError("choose a template", details=["template: choose one of the school's templates"])
    if not _NAME_RE.match(template) or template not in purpose_of:
        raise UserError("no such template at this school", details=[f"template: {template[:60]!r}"])
    purpose = PURPOSES[purpose_of[template]]
    years, regs, sen = _many(args, "year"), _many(args, "reg"), _many(args, "sen")
    for label, items in (("year group", years), ("registration group", regs)):
        for item in items:
            if not _GROUP_RE.match(item):
                problems.append(f"{label} {item[:20]!r} is not a group name")
    for s in sen:
        if s not in set(sen_choices):
            problems.append(f"SEN status {s[:5]!r}: choose from {', '.join(SEN_CHOICES)}")
    try:
        fsm = _tri(args, "fsm", "Free school meals")
        eal = _tri(args, "eal", "English as an additional language")
        pa = _tri(args, "pa", "Persistent absence")
        sa = _tri(args, "sa", "Severe absence")
    except UserError as exc:
        raise UserError("the audience filters need fixing", details=[exc.message]) from None
    mode_raw = _one(args, "contacts") or "first"
    if mode_raw not in ("first", "all"):
        problems.append("contacts: choose the first contact who can be texted, or every contact")
    values: list[tuple[str, str]] = []
    for name in purpose.extra_placeholders:
        if name in COMPUTED_PLACEHOLDERS:
            continue
        value = " ".join(_one(args, f"v_{name}").split())
        if not value:
            problems.append(f"{{{name}}}: give a value (it appears in the message)")
        elif len(value) > MAX_VALUE_CHARACTERS:
            problems.append(f"{{{name}}}: at most {MAX_VALUE_CHARACTERS} characters")
        elif "{" in value or "}" in value:
            problems.append(f"{{{name}}}: braces cannot be sent")
        else:
            values.append((name, value))
    since = None
    if "days_missed" in purpose.extra_placeholders:
        raw = _one(args, "since")
        if raw:
            try:
                since = date.fromisoformat(raw)
            except ValueError:
                problems.append(f"count days missed since: {raw[:20]!r} is not a date (YYYY-MM-DD)")
            else:
                if since > now.astimezone(timezone).date():
                    problems.append("count days missed since: the date is in the future")
        else:
            problems.append("count days missed since: give a date")
    send_at = None
    raw_at = _one(args, "send_at")
    if raw_at:
        try:
            naive = datetime.strptime(raw_at, "%Y-%m-%dT%H:%M")
        except ValueError:
            problems.append(f"send at: {raw_at[:20]!r} is not a date and time")
        else:
            send_at = london_wall_time(naive, timezone)
            if send_at < now - timedelta(minutes=1):
                problems.append("send at: that time has passed (leave it empty to send as soon as allowed)")
            elif send_at > now + timedelta(days=366):
                problems.append("send at: at most a year ahead")
    if problems:
        raise UserError("the message cannot be prepared yet", details=problems)
    return ComposeRequest(template=template, year_groups=tuple(years), reg_groups=tuple(regs), sen=tuple(sen),
                          fsm=fsm, eal=eal, persistent_absence=pa, severe_absence=sa,
                          contact_mode=ContactMode.ALL if mode_raw == "all" else ContactMode.FIRST,
                          values=tuple(values), since=since, send_at=send_at)


def london_wall_time(naive: datetime, timezone: ZoneInfo) -> datetime:
    """A time typed on the school's clock as an aware datetime. In the repeated October hour
    the first (summer-time) pass is meant; a time in the missing March hour does not exist on
    the wall clock, so it is moved to the same number of minutes after the jump (01:30 -> 02:30)."""
    aware = naive.replace(tzinfo=timezone, fold=0)
    roundtrip = aware.astimezone(ZoneInfo("UTC")).astimezone(timezone)
    if roundtrip.replace(tzinfo=None) != naive:  # in the gap
        return (naive + timedelta(hours=1)).replace(tzinfo=timezone, fold=0)
    return aware


def placeholders_to_ask(purpose_key: str) -> list[str]:
    """The values the compose form asks for, for this purpose (the rest are filled for it)."""
    purpose = PURPOSES[purpose_key]
    return [n for n in purpose.extra_placeholders if n not in COMPUTED_PLACEHOLDERS and n not in COMMON_PLACEHOLDERS]


def review_fingerprint(keys: Iterable[str]) -> str:
    """A short digest of the messages a review showed: the confirm checks nothing changed."""
    return hashlib.sha256("\n".join(sorted(keys)).encode("utf-8")).hexdigest()[:24]
