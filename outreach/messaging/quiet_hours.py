"""When a school may text families: quiet hours and closed days, in local time. Pure.

The default is no messages between 20:00 and 08:00 and none on Sundays, on the school's wall
clock (Europe/London). A message composed in quiet time is not refused: it is deferred to the next
allowed instant, which ``next_allowed_send`` computes in UTC for the outbox's ``not_before``.

Clock changes make "the next 08:00" subtle. In March the wall clock jumps from 01:00 to 02:00, so
01:30 does not exist; in October it falls back from 02:00 to 01:00, so 01:30 happens twice. This
module never adds hours to a wall-clock time. It decides "is this instant allowed?" by converting
the instant to local time (always unambiguous), and finds the next allowed instant among the only
instants where the answer can change: the policy's boundary times on each local day (both
occurrences of an ambiguous one; the moment the clock jumps past a nonexistent one), local
midnights (closed days) and the clock changes themselves.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


def _parse_time(text: str, what: str) -> time:
    match = _TIME_RE.match(text.strip())
    if not match:
        raise ValueError(f"{what} must be a 24-hour time like 20:00, got {text!r}")
    return time(int(match.group(1)), int(match.group(2)))


def parse_days(text: str) -> frozenset[int]:
    """'sun' or 'sat,sun' (or '' for none) as weekday numbers, Monday = 0."""
    days: set[int] = set()
    for part in re.split(r"[,\s]+", text.strip().lower()):
        if not part:
            continue
        key = part[:3]
        if key not in DAY_NAMES:
            raise ValueError(f"unknown day {part!r}: use mon, tue, wed, thu, fri, sat, sun")
        days.add(DAY_NAMES.index(key))
    return frozenset(days)


@dataclass(frozen=True)
class QuietHoursPolicy:
    """No sends from ``quiet_start`` until ``quiet_end`` (local wall clock; the span may cross
    midnight, and equal times mean no quiet hours), and none at all on ``closed_days``
    (weekday numbers, Monday = 0)."""

    quiet_start: time = time(20, 0)
    quiet_end: time = time(8, 0)
    closed_days: frozenset[int] = field(default_factory=lambda: frozenset({6}))
    timezone: str = "Europe/London"

    def __post_init__(self) -> None:
        if self.quiet_start.tzinfo is not None or self.quiet_end.tzinfo is not None:
            raise ValueError("quiet hours are wall-clock times: give them without a time zone")
        object.__setattr__(self, "closed_days", frozenset(self.closed_days))
        if not all(isinstance(d, int) and 0 <= d <= 6 for d in self.closed_days):
            raise ValueError("closed days must be weekday numbers 0 (Monday) to 6 (Sunday)")
        if len(self.closed_days) == 7:
            raise ValueError("at least one day of the week must allow messages")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc

    @classmethod
    def from_strings(cls, hours: str = "20:00-08:00", closed_days: str = "sun",
                     timezone: str = "Europe/London") -> "QuietHoursPolicy":
        """Build from settings text: hours '20:00-08:00' (or '' / 'none' for no quiet hours),
        closed days 'sun' or 'sat,sun' (or '' for none). Raises ValueError naming the problem."""
        text = hours.strip().lower()
        if text in ("", "none", "off"):
            start = end = time(0, 0)
        else:
            parts = re.split(r"\s*(?:-|–|to)\s*", text)
            if len(parts) != 2:
                raise ValueError(f"quiet hours must look like 20:00-08:00, got {hours!r}")
            start, end = _parse_time(parts[0], "quiet hours start"), _parse_time(parts[1], "quiet hours end")
        return cls(quiet_start=start, quiet_end=end, closed_days=parse_days(closed_days), timezone=timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def has_quiet_hours(self) -> bool:
        return self.quiet_start != self.quiet_end

    def hours_text(self) -> str:
        if not self.has_quiet_hours:
            return "none"
        return f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"

    def days_text(self) -> str:
        return ",".join(DAY_NAMES[d] for d in sorted(self.closed_days))

    def describe(self) -> str:
        """'No messages 20:00-08:00, nor on Sunday (Europe/London time).'"""
        full = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
        parts = []
        if self.has_quiet_hours:
            parts.append(f"No messages {self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}")
        if self.closed_days:
            days = " or ".join(full[d] for d in sorted(self.closed_days))
            parts.append(f"nor on {days}" if parts else f"No messages on {days}")
        if not parts:
            return f"Messages may be sent at any time ({self.timezone} time)."
        return ", ".join(parts) + f" ({self.timezone} time)."


DEFAULT_POLICY = QuietHoursPolicy()


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("give an aware datetime (UTC): a naive time is ambiguous across clock changes")


def _in_quiet_span(wall: time, policy: QuietHoursPolicy) -> bool:
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start > end:  # crosses midnight, e.g. 20:00-08:00
        return wall >= start or wall < end
    return start <= wall < end


def is_allowed(moment: datetime, policy: QuietHoursPolicy = DEFAULT_POLICY) -> bool:
    """True when a message may be sent at ``moment`` (an aware datetime)."""
    _require_aware(moment)
    local = moment.astimezone(policy.zone)
    if local.weekday() in policy.closed_days:
        return False
    return not _in_quiet_span(local.time().replace(tzinfo=None), policy)


def _first_offset_change(lo: datetime, hi: datetime, zone: ZoneInfo) -> datetime:
    """The first UTC instant in (lo, hi] whose UTC offset differs from lo's (one is known to)."""
    base = lo.astimezone(zone).utcoffset()
    low, high = 0, int((hi - lo).total_seconds())
    while high - low > 1:  # offsets change on whole seconds
        mid = (low + high) // 2
        if (lo + timedelta(seconds=mid)).astimezone(zone).utcoffset() == base:
            low = mid
        else:
            high = mid
    return lo + timedelta(seconds=high)


def wall_time_instants(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The UTC instants at which the local clock reaches ``wall`` on ``day``: one normally, two
    when the time happens twice (October), and the instant of the jump when it does not exist
    (March), because that is when the clock first passes it."""
    naive = datetime.combine(day, wall)
    first = naive.replace(tzinfo=zone, fold=0).astimezone(timezone.utc)
    second = naive.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
    if first == second:
        return [first]
    if first.astimezone(zone).replace(tzinfo=None) == naive:  # exists twice
        return sorted({first, second})
    # nonexistent: fold=1 reads it with the later offset (an instant before the jump), fold=0
    # with the earlier one (an instant after it); the jump lies between.
    lo, hi = min(first, second), max(first, second)
    return [_first_offset_change(lo, hi, zone)]


def _clock_changes(day: date, zone: ZoneInfo) -> list[datetime]:
    start = wall_time_instants(day, time(0, 0), zone)[0]
    end = wall_time_instants(day + timedelta(days=1), time(0, 0), zone)[0]
    if start.astimezone(zone).utcoffset() == end.astimezone(zone).utcoffset():
        return []
    return [_first_offset_change(start, end, zone)]


def next_allowed_send(moment: datetime, policy: QuietHoursPolicy = DEFAULT_POLICY) -> datetime:
    """The earliest instant at or after ``moment`` when a message may be sent, in UTC.

    ``moment`` must be timezone-aware. A moment already allowed is returned unchanged (in UTC).
    """
    _require_aware(moment)
    moment = moment.astimezone(timezone.utc)
    if is_allowed(moment, policy):
        return moment
    zone = policy.zone
    first_day = moment.astimezone(zone).date()
    boundaries = {policy.quiet_start, policy.quiet_end, time(0, 0)}
    # At most six closed days in a row, then at most one quiet span: ten days always suffice.
    for offset in range(10):
        day = first_day + timedelta(days=offset)
        candidates = _clock_changes(day, zone)
        for wall in boundaries:
            candidates.extend(wall_time_instants(day, wall, zone))
        for candidate in sorted(c for c in candidates if c > moment):
            if is_allowed(candidate, policy):
                return candidate
    raise AssertionError("unreachable: a valid policy allows some time every week")  # pragma: no cover
