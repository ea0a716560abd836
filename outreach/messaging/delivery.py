"""The rules of delivering an SMS, without Flask or a database (tested directly).

- which failures are worth retrying (429, 5xx, 30003) and which are permanent (a bad number,
  an opted-out number), and how long to wait before the next attempt;
- how Twilio's message statuses map to an outbox row's, and which changes are allowed (a row
  never moves backwards: a late ``sent`` after ``delivered`` changes nothing);
- the carrier keywords a family may reply with (STOP, START, HELP ...);
- a rate limiter that keeps the sender at, and never over, the configured messages per second.
"""
from __future__ import annotations

import bisect
import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

# --- failures ------------------------------------------------------------------------------

# Twilio error codes that say the number itself cannot be texted: never retried, and the
# contact's number is marked so an officer can correct it.
BAD_NUMBER_CODES = {
    21211: "not a valid phone number (Twilio 21211)",
    21214: "not a reachable phone number (Twilio 21214)",
    21408: "Twilio may not send to this number's country (21408)",
    21612: "Twilio cannot route to this number (21612)",
    21614: "not a mobile number (Twilio 21614)",
    30005: "unknown or inactive number (Twilio 30005)",
    30006: "a landline or a network that cannot receive texts (Twilio 30006)",
}
# The recipient replied STOP to our sender at the carrier/Twilio level: an opt-out, not a bad number.
UNSUBSCRIBED_CODE = 21610
# Transient: the handset was unreachable (switched off, no signal); Twilio reports it on the
# status callback (and our fake can also return it on create).
RETRY_CODES = {30003, 20429}


@dataclass(frozen=True)
class FailureKind:
    """What to do about a failed attempt."""

    retry: bool  # try again later
    bad_number: str | None = None  # reason to store on the contact
    opted_out: bool = False  # record an opt-out for the number


def classify_failure(http_status: int | None, code: int | None) -> FailureKind:
    """429 and 5xx (Twilio busy or broken) and 30003 are retried; a number Twilio rejects is
    marked bad; 21610 is an opt-out; any other 4xx is permanent (retrying a request Twilio
    refused as malformed would only fail again)."""
    if code in RETRY_CODES or http_status == 429 or (http_status is not None and http_status >= 500):
        return FailureKind(retry=True)
    if code == UNSUBSCRIBED_CODE:
        return FailureKind(retry=False, opted_out=True)
    if code in BAD_NUMBER_CODES:
        return FailureKind(retry=False, bad_number=BAD_NUMBER_CODES[code])
    return FailureKind(retry=False)


def backoff(attempts: int, base_seconds: float = 30.0, cap_seconds: float = 3600.0) -> timedelta:
    """Wait before attempt ``attempts + 1``: base, 2x base, 4x base ... up to ``cap_seconds``.
    No jitter: the token bucket already spreads the retried rows out."""
    if attempts < 1:
        return timedelta(0)
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** (attempts - 1))))


# --- statuses ------------------------------------------------------------------------------

# How far along a row is; a callback may only move it forward.
RANK = {"scheduled": 0, "queued": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3,
        "cancelled": 3, "blocked": 3}
TERMINAL = {"delivered", "undelivered", "failed", "cancelled", "blocked"}

# Twilio MessageStatus -> outbox status. Twilio's own queued/accepted/sending mean Twilio has it,
# which for us is already ``sent`` (the SID is stored).
TWILIO_TO_OUTBOX = {
    "accepted": "sent", "scheduled": "sent", "queued": "sent", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "delivered",
    "undelivered": "undelivered", "failed": "failed", "canceled": "cancelled",
}


def status_after_callback(current: str, twilio_status: str) -> str | None:
    """The row's new status for a callback, or None when the callback changes nothing (unknown
    status, a step backwards, or a second terminal status after the first)."""
    new = TWILIO_TO_OUTBOX.get(twilio_status.lower())
    if new is None or new == current:
        return None
    if current in TERMINAL or RANK[new] <= RANK[current]:
        return None
    return new


# --- carrier keywords ------------------------------------------------------------------------

OPT_OUT_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"})
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})

_EDGE = re.compile(r"^[\s\"'.,!?]+|[\s\"'.,!?]+$")


def keyword(body: str) -> tuple[str, str] | None:
    """``("opt_out" | "opt_in" | "help", WORD)`` when the whole message is one carrier keyword
    (any case, surrounding spaces and punctuation ignored: " Stop. " is STOP), else None. Like
    Twilio, a keyword inside a sentence ("please stop the texts on Fridays") is not one: that
    reply goes to an officer, who reads it."""
    word = _EDGE.sub("", body or "").upper()
    if not word or " " in word:
        return None
    if word in OPT_OUT_WORDS:
        return "opt_out", word
    if word in OPT_IN_WORDS:
        return "opt_in", word
    if word in HELP_WORDS:
        return "help", word
    return None


# --- rate -------------------------------------------------------------------------------------

class TokenBucket:
    """At most ``rate`` acquisitions per second on average, bursts of at most ``capacity``.

    ``acquire`` blocks until a token is free; ``delay``/``take`` are the same without blocking,
    for a caller with other work to do meanwhile. Tokens accrue continuously against the clock
    (not a sleep after each send), so a sender that keeps up sends at exactly ``rate`` per second
    however long each request takes, and one that fell behind by less than ``capacity`` tokens
    catches up. Thread-safe; the clock and sleep functions are injectable for tests."""

    def __init__(self, rate: float, capacity: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not (rate > 0 and math.isfinite(rate)):
            raise ValueError("rate must be a positive number of messages per second")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._last = clock()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def delay(self) -> float:
        """Seconds until a token is free (0.0: one is free now)."""
        with self._lock:
            self._refill()
            # A hair of tolerance: 0.1 s x 10/s may add up to 0.99999999 tokens, and a wait
            # of 1e-17 s would never move the clock on.
            if self._tokens >= 1.0 - 1e-9:
                return 0.0
            return max((1.0 - self._tokens) / self.rate, 1e-6)

    def take(self) -> None:
        """Spend a token (call when ``delay()`` said 0)."""
        with self._lock:
            self._refill()
            self._tokens = max(0.0, self._tokens - 1.0)

    def acquire(self) -> None:
        while True:
            wait = self.delay()
            if wait <= 0.0:
                self.take()
                return
            self._sleep(wait)


class RateLimiter:
    """The sender's limit: on average ``rate`` requests per second, and never more than ``rate``
    (at least one) reaching the gateway in any one second.

    Two rules, because each alone is wrong. A token bucket of one token (what the sender had)
    loses every moment the sender spends on other work (claiming the next batch, storing
    answers): it cannot catch up, so 100/s became ~85/s. A bucket that banks more catches up,
    but a bucket of ``C`` tokens lets ``rate + C`` through in a second. So the bucket banks up to
    ``burst_seconds`` of sends (catch-up after a short stall), and a second rule caps every
    second: a request may start only while fewer than ``floor(rate)`` others are *counted*,
    where a request counts from its start until a second after it reached the gateway.

    When did it reach the gateway? Somewhere between its start and its end: a slow one (a busy
    machine at either end, a new connection) arrives late, bunched with the next. So a request
    counts until a second after its end, which is certainly after its arrival. Take any second
    at the gateway and the request in it that started last: every other request in that second
    started before it and arrived (so still counted) less than a second before it started; the
    rule allowed it only with fewer than ``floor(rate)`` counted. So the gateway never sees more
    than ``floor(rate)`` in a second. The price is the requests' latency: at full rate about
    ``rate / (1 + latency)`` per second (on loopback ~1%).

    Against a distant gateway (Twilio answers in ~0.2 s) that price may be cut with
    ``slack_seconds``: a request then counts until a second after ``min(end, start + slack)``,
    which holds the guarantee only while requests arrive within ``slack_seconds`` of starting.
    The default (infinite) assumes nothing.

    Use ``delay()`` (0.0: a request may start now), ``started = start()`` as it starts and
    ``finish(started, at)`` when it has ended, answered or not. The limit is per process (one
    sender runs; see docs/messaging.md). Not thread-safe: the sender's main thread owns it."""

    WINDOW = 1.0  # seconds

    def __init__(self, rate: float, *, burst_seconds: float = 0.25, slack_seconds: float = math.inf,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        if not slack_seconds >= 0:  # NaN too
            raise ValueError("slack_seconds must be a number of seconds, 0 or more")
        self.bucket = TokenBucket(rate, capacity=max(1.0, rate * burst_seconds), clock=clock, sleep=sleep)
        self.per_window = max(1, math.floor(rate + 1e-9))
        self.slack = slack_seconds
        self._counted: list[float] = []  # sorted: until when (less WINDOW) each recent request counts
        self._clock = clock
        self._sleep = sleep

    def delay(self) -> float:
        """Seconds until the next request may start (0.0: now)."""
        wait = self.bucket.delay()
        now = self._clock()
        expired = bisect.bisect_right(self._counted, now - self.WINDOW)
        if expired:
            del self._counted[:expired]
        busy = len(self._counted) - self.per_window + 1
        if busy > 0:  # the ``busy`` that count longest-ago must stop counting first
            wait = max(wait, self._counted[busy - 1] + self.WINDOW - now)
        return max(0.0, wait)

    def start(self) -> float:
        """A request starts (call when ``delay()`` said 0); returns its start for ``finish``."""
        self.bucket.take()
        started = self._clock()
        bisect.insort(self._counted, started + self.slack)
        return started

    def finish(self, started: float, at: float | None = None) -> None:
        """The request that ``start`` returned ``started`` for has ended (answered, failed or
        timed out), ``at`` that moment on this limiter's clock (default now; never earlier than
        the real end). It then counts from its end, if that was sooner than the slack."""
        ended = self._clock() if at is None else at
        if ended >= started + self.slack:
            return
        i = bisect.bisect_left(self._counted, started + self.slack)
        if i < len(self._counted) and self._counted[i] == started + self.slack:
            del self._counted[i]
            bisect.insort(self._counted, ended)

    def acquire(self) -> float:
        """Block until a request may start, then ``start`` it."""
        while (wait := self.delay()) > 0.0:
            self._sleep(wait)
        return self.start()


def local_sid(moment: datetime, outbox_id: int) -> str:
    """A SID for a message the console gateway 'sent': never confused with Twilio's (SM...)."""
    return f"LOCAL{moment:%Y%m%d%H%M%S}{outbox_id:010d}"
