"""The sender: due outbox rows out through the gateway, each exactly once.

One pass (``Sender.run``, called by the clock every minute through ``jobs.send_due_messages``):

1. **Reconcile** rows left ``queued`` by a sender that died (its claim is older than
   ``SMS_CLAIM_LEASE_SECONDS``, or its process is gone from this host) or whose last attempt got
   no answer (timeout): ask the gateway whether the message is already there (Twilio: list the
   number's messages, newest first, since the claim; match the exact body and a SID no row owns).
   Found: store the SID, ``sent``. Not found: it was never accepted, send it. Only with none of
   this sender's own requests in flight (an unanswered one could pass for the orphan); several
   numbers are asked about at once, one number's rows one after another.
2. **Claim** a batch of due rows (``scheduled``, ``not_before`` and ``next_attempt_at`` passed):
   on PostgreSQL ``SELECT ... FOR UPDATE SKIP LOCKED`` then an UPDATE of those rows in the same
   transaction, so concurrent senders never take the same row and never wait for each other; on
   SQLite one ``UPDATE ... WHERE id IN (SELECT ... LIMIT n)``, atomic under the single writer. Claimed rows are ``queued`` with ``claimed_by``/``claimed_at`` and one more attempt,
   committed *before* any request, so a crash leaves evidence to reconcile.
3. **Check again** at send time: an opted-out number is ``blocked``; a row whose time falls in
   its school's quiet hours (enqueued directly, or held back by retries) is deferred to the next
   allowed time; a direct reply to a text just received is exempt.
4. **Send** at the configured rate (``delivery.RateLimiter``: catches up short stalls, never more
   than the rate reaching the gateway in any second; a few requests in flight at once, so
   Twilio's latency does not cap the rate) and store the answers: each row's SID and ``sent``
   together, or its error, committed in groups (one executemany) at most ``COMMIT_INTERVAL``
   apart. The next batch is claimed while the last requests of this one are in flight. 429, 5xx
   and 30003 are retried with exponential backoff; permanent errors fail the row, and a bad
   number is marked on the contact.

Only the main thread touches the database; worker threads only make HTTP requests.
"""
from __future__ import annotations

import logging
import math
import os
import secrets
import socket
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, or_, select, update

from outreach.core.timeutil import ensure_utc, utcnow
from outreach.extensions import db
from outreach.messaging import delivery
from outreach.messaging.gateways import Gateway, GatewayError, RemoteMessage, SendRequest, SendResult, gateway_for
from outreach.messaging.models import OptOut, OutboxMessage
from outreach.messaging.quiet_hours import QuietHoursPolicy, is_allowed, next_allowed_send

log = logging.getLogger(__name__)

STATUS_CALLBACK_PATH = "/webhooks/twilio/status"
COMMIT_INTERVAL = 0.1  # seconds: the longest a gateway's answer waits to be stored

_outbox = OutboxMessage.__table__
# A gateway's answer on its row, for many rows in one executemany: the SID and ``sent`` together,
# only if the row is still queued and ours.
_MARK_SENT = (update(_outbox)
              .where(_outbox.c.id == bindparam("b_id"), _outbox.c.status == "queued",
                     _outbox.c.claimed_by == bindparam("b_owner"))
              .values(status="sent", twilio_sid=bindparam("b_sid"), twilio_status=bindparam("b_twilio_status"),
                      sent_at=bindparam("b_now"), error_code=None, error_message=None, next_attempt_at=None,
                      updated_at=bindparam("b_now")))


@dataclass(frozen=True)
class SenderSettings:
    rate_per_second: float = 1.0
    rate_slack_seconds: float = math.inf  # see delivery.RateLimiter
    concurrency: int = 4
    batch_size: int = 50
    max_attempts: int = 6
    retry_base_seconds: float = 30.0
    claim_lease_seconds: float = 600.0
    public_base_url: str | None = None

    @classmethod
    def from_app(cls, app: Flask) -> "SenderSettings":
        c = app.config
        return cls(rate_per_second=float(c.get("SMS_RATE_PER_SECOND", 1.0)),
                   rate_slack_seconds=float(c.get("SMS_RATE_SLACK_SECONDS", math.inf)),
                   concurrency=max(1, int(c.get("SMS_SENDER_CONCURRENCY", 4))),
                   batch_size=max(1, int(c.get("SMS_BATCH_SIZE", 50))),
                   max_attempts=max(1, int(c.get("SMS_MAX_ATTEMPTS", 6))),
                   retry_base_seconds=float(c.get("SMS_RETRY_BASE_SECONDS", 30.0)),
                   claim_lease_seconds=float(c.get("SMS_CLAIM_LEASE_SECONDS", 600.0)),
                   public_base_url=c.get("OUTREACH_PUBLIC_BASE_URL"))


@dataclass
class SendReport:
    """What one pass did (ids and counts only: safe to log)."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    blocked: int = 0
    deferred: int = 0
    unknown: int = 0  # no answer from the gateway: reconciled on a later pass
    reconciled: int = 0  # found already at the gateway after a crash: not resent
    released: int = 0  # claimed but handed back (throttled by the gateway, or out of time)
    throttled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Row:
    """What the sender needs of a claimed row (plain values: commits do not reload them)."""

    id: int
    school_id: int
    contact_id: int | None
    phone: str
    body: str
    attempts: int
    claimed_at: datetime
    reply_to_sid: str | None
    superseded_sids: list[str] = field(default_factory=list)


def sender_identity() -> str:
    """``host:pid:random``: unique per process; the host and pid let a restarted sender on the
    same machine see at once that a claim's owner is dead instead of waiting for the lease."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"


def _process_dead(claimed_by: str) -> bool:
    """True only when the claim was made on this host by a process that no longer exists (or is a
    zombie). Anything uncertain counts as alive: the lease then decides."""
    try:
        host, pid_text, _ = claimed_by.rsplit(":", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname()[:40] or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


class Sender:
    def __init__(self, gateway: Gateway, settings: SenderSettings, *, identity: str | None = None) -> None:
        self.gateway = gateway
        self.settings = settings
        self.identity = identity or sender_identity()
        self._policies: dict[int, QuietHoursPolicy] = {}
        # One limiter for this sender's life, not one per pass: a worker (``sms send --forever``)
        # runs pass after pass, and a fresh limiter would forget the second just sent.
        self.limiter = delivery.RateLimiter(settings.rate_per_second, slack_seconds=settings.rate_slack_seconds)

    # --- the pass ------------------------------------------------------------------------------

    def run(self, now: datetime | None = None, *, max_seconds: float = 50.0, until_empty: bool = True) -> SendReport:
        """Send what is due, batch after batch, until nothing is due or ``max_seconds`` have
        passed (the clock calls this every minute; one pass must not run into the next).
        ``now`` fixes the time for tests; by default each batch uses the current time.

        The next batch is claimed while the last few requests of this one are in flight (the
        claim's database work overlaps Twilio's latency instead of stopping the sends), and the
        rate limiter catches up the odd short stall without ever going over the rate."""
        report = SendReport()
        deadline = time.monotonic() + max_seconds
        self._policies = {}
        with ThreadPoolExecutor(max_workers=self.settings.concurrency, thread_name_prefix="sms") as pool:
            pump = _Pump(self, pool, self.limiter, deadline, report, now)
            claiming = True
            while True:
                if claiming and (report.throttled or time.monotonic() >= deadline):
                    claiming = False
                if claiming and len(pump.pending) <= self.settings.concurrency:
                    claiming = self._refill(pump, now, report) and until_empty
                if not pump.step() and not claiming:
                    break
            pump.finish()
        if report.claimed:
            log.info("sender %s: %s", self.identity, report.as_dict())
        return report

    def _refill(self, pump: "_Pump", fixed_now: datetime | None, report: SendReport) -> bool:
        """Reconcile what a dead sender left, claim the next batch, screen it and queue it on
        ``pump``. False when nothing was due."""
        moment = ensure_utc(fixed_now) if fixed_now is not None else utcnow()
        pump.flush()  # the answers so far are on their rows before anyone looks at SIDs
        orphans = self._orphans(moment)
        rows: list[_Row] = []
        if orphans:
            # Nothing of ours may be in flight while the gateway is asked what it holds: a
            # message we have sent but not heard back about would look like the orphan's.
            pump.drain()
            rows = self._reconcile(orphans, moment, report, pump.pool)
        rows += self._claim(moment, self.settings.batch_size)
        if not rows:
            return False
        report.claimed += len(rows)
        pump.pending.extend(self._screen(rows, moment, report))
        return True

    # --- claiming ------------------------------------------------------------------------------

    def _claim(self, now: datetime, limit: int) -> list[_Row]:
        due = (select(OutboxMessage.id)
               .where(OutboxMessage.status == "scheduled", OutboxMessage.not_before <= now,
                      or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
               .order_by(OutboxMessage.not_before, OutboxMessage.id)
               .limit(limit)
               .with_for_update(skip_locked=True))
        if db.session.get_bind().dialect.name == "postgresql":
            # Lock the batch first, then update exactly those rows. (Inside ``UPDATE ... WHERE id
            # IN (subquery)`` PostgreSQL may re-run the locking subquery and claim more than
            # ``limit`` rows.) The locks hold until the commit below.
            target = OutboxMessage.id.in_(list(db.session.scalars(due)) or [-1])
        else:
            # SQLite: one statement, so the single writer lock makes select-and-claim atomic.
            target = OutboxMessage.id.in_(due.scalar_subquery())
        stmt = (update(OutboxMessage)
                .where(target, OutboxMessage.status == "scheduled")
                .values(status="queued", claimed_by=self.identity, claimed_at=now,
                        attempts=OutboxMessage.attempts + 1, updated_at=now)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False))
        ids = [r[0] for r in db.session.execute(stmt)]
        rows = self._load(ids)
        db.session.commit()
        return rows

    def _load(self, ids: list[int]) -> list[_Row]:
        if not ids:
            return []
        found = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.school_id, OutboxMessage.contact_id, OutboxMessage.phone,
                   OutboxMessage.body, OutboxMessage.attempts, OutboxMessage.claimed_at,
                   OutboxMessage.reply_to_sid, OutboxMessage.superseded_sids)
            .where(OutboxMessage.id.in_(ids))
            .order_by(OutboxMessage.not_before, OutboxMessage.id)).all()
        return [_Row(r.id, r.school_id, r.contact_id, r.phone, r.body, r.attempts, ensure_utc(r.claimed_at),
                     r.reply_to_sid, list(r.superseded_sids or [])) for r in found]

    # --- reconciling ---------------------------------------------------------------------------

    def _orphans(self, now: datetime) -> list[tuple[int, str | None, datetime | None]]:
        """Rows left ``queued`` by a sender that is dead (or past its lease), and unowned rows
        whose last attempt got no answer once their backoff has passed. Reads only."""
        stale_before = now - timedelta(seconds=self.settings.claim_lease_seconds)
        candidates = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.claimed_by, OutboxMessage.claimed_at, OutboxMessage.next_attempt_at)
            .where(OutboxMessage.status == "queued")).all()
        dead: dict[str, bool] = {}
        orphans = []
        for row_id, owner, claimed_at, next_at in candidates:
            if owner == self.identity:
                continue
            if owner is None:
                if next_at is None or ensure_utc(next_at) <= now:
                    orphans.append((row_id, owner, claimed_at))
            elif (claimed_at is not None and ensure_utc(claimed_at) < stale_before) or \
                    dead.setdefault(owner, _process_dead(owner)):
                orphans.append((row_id, owner, claimed_at))
        return orphans

    def _reconcile(self, orphans: list[tuple[int, str | None, datetime | None]], now: datetime,
                   report: SendReport, pool: ThreadPoolExecutor) -> list[_Row]:
        """Take over rows whose attempt may have reached the gateway without its answer being
        stored; settle the ones the gateway has; return the rest, to send.

        The gateway is asked about several numbers at once (after a crash a whole batch waits on
        these questions), but about one number's rows one after another, each excluding the SIDs
        already matched, so two identical texts to one number can never both take one SID."""
        taken: list[int] = []
        for row_id, owner, _claimed_at in orphans:
            owner_clause = OutboxMessage.claimed_by.is_(None) if owner is None else OutboxMessage.claimed_by == owner
            result = db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row_id, OutboxMessage.status == "queued", owner_clause)
                .values(claimed_by=self.identity, updated_at=now)
                .execution_options(synchronize_session=False))
            if result.rowcount:
                taken.append(row_id)
        rows = self._load(taken)
        db.session.commit()
        if not rows:
            return []
        by_phone: dict[str, list[_Row]] = {}
        for row in rows:
            by_phone.setdefault(row.phone, []).append(row)
        owned: dict[str, set[str]] = {}
        for phone, sid in db.session.execute(
                select(OutboxMessage.phone, OutboxMessage.twilio_sid)
                .where(OutboxMessage.phone.in_(list(by_phone)), OutboxMessage.twilio_sid.is_not(None))):
            owned.setdefault(phone, set()).add(sid)
        db.session.commit()
        asked = [pool.submit(self._ask_gateway, group, owned.get(phone, set())) for phone, group in by_phone.items()]
        to_send: list[_Row] = []
        for future in asked:
            for row, found, error in future.result():
                if error is not None:
                    self._unknown(row, now, f"reconcile failed: {error}")
                    report.unknown += 1
                elif found is not None:
                    self._mark_sent(row, SendResult(found.sid, found.status), now)
                    report.reconciled += 1
                    log.info("sender %s: outbox id=%s was already at the gateway (sid=%s): not resent",
                             self.identity, row.id, found.sid)
                else:
                    to_send.append(row)
        if to_send:
            # Never accepted: each will be sent now, as a new attempt.
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in to_send]))
                               .values(attempts=OutboxMessage.attempts + 1, claimed_at=now, updated_at=now)
                               .execution_options(synchronize_session=False))
            for row in to_send:
                row.attempts += 1
                row.claimed_at = now
        db.session.commit()
        return to_send

    def _ask_gateway(self, rows: list[_Row], owned: set[str]) -> list[tuple[_Row, RemoteMessage | None, str | None]]:
        """In a worker thread (no database): for each of one number's rows, the message the
        gateway holds for it, or None, or why the question failed."""
        exclude = set(owned)
        answers: list[tuple[_Row, RemoteMessage | None, str | None]] = []
        for row in rows:
            try:
                found = self.gateway.find_sent(row.phone, row.body, row.claimed_at, exclude | set(row.superseded_sids))
            except GatewayError as exc:
                answers.append((row, None, exc.message))
                continue
            except Exception as exc:  # the gateway's own error types, a bad answer
                answers.append((row, None, type(exc).__name__))
                continue
            if found is not None:
                exclude.add(found.sid)
            answers.append((row, found, None))
        return answers

    # --- checks at send time ---------------------------------------------------------------------

    def _policy(self, school_id: int) -> QuietHoursPolicy:
        if school_id not in self._policies:
            from outreach.messaging.quiet_hours_settings import policy_for_school

            self._policies[school_id] = policy_for_school(school_id)
        return self._policies[school_id]

    def _screen(self, rows: list[_Row], now: datetime, report: SendReport) -> list[_Row]:
        phones = sorted({r.phone for r in rows})
        opted_out = set(db.session.scalars(select(OptOut.phone).where(OptOut.phone.in_(phones)))) if phones else set()
        keep = []
        for row in rows:
            if row.phone in opted_out:
                self._finish(row, now, status="blocked", error_message="number opted out (replied STOP)")
                report.blocked += 1
            elif row.reply_to_sid is None and not is_allowed(now, self._policy(row.school_id)):
                later = next_allowed_send(now, self._policy(row.school_id))
                db.session.execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id == row.id, OutboxMessage.status == "queued",
                           OutboxMessage.claimed_by == self.identity)
                    .values(status="scheduled", not_before=later, claimed_by=None,
                            attempts=OutboxMessage.attempts - 1, updated_at=now)
                    .execution_options(synchronize_session=False))
                report.deferred += 1
            else:
                keep.append(row)
        db.session.commit()
        return keep

    # --- sending -----------------------------------------------------------------------------------

    def _request(self, row: _Row) -> SendRequest:
        callback = None
        if self.settings.public_base_url:
            callback = f"{self.settings.public_base_url.rstrip('/')}{STATUS_CALLBACK_PATH}/{row.id}"
        return SendRequest(outbox_id=row.id, phone=row.phone, body=row.body, status_callback=callback)

    # --- recording outcomes --------------------------------------------------------------------------

    def _mark_sent(self, row: _Row, result: SendResult, now: datetime) -> None:
        """The SID and ``sent`` in one statement (see ``_sent_params``)."""
        db.session.execute(_MARK_SENT, [self._sent_params(row, result, now)])

    def _sent_params(self, row: _Row, result: SendResult, now: datetime) -> dict[str, Any]:
        """One row's values for ``_MARK_SENT``: the SID and ``sent`` together, conditional on the
        row still being ours and queued (a status callback that arrived first, naming the row,
        has already stored both)."""
        return {"b_id": row.id, "b_owner": self.identity, "b_sid": result.sid,
                "b_twilio_status": result.twilio_status, "b_now": now}

    def _unknown(self, row: _Row, now: datetime, message: str) -> None:
        """No answer: leave the row ``queued`` (it may be at the gateway), unowned, and reconcile
        it once the backoff has passed."""
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "queued")
            .values(claimed_by=None, error_message=message[:300],
                    next_attempt_at=now + delivery.backoff(row.attempts, self.settings.retry_base_seconds),
                    updated_at=now)
            .execution_options(synchronize_session=False))

    def _finish(self, row: _Row, now: datetime, *, status: str, error_code: int | None = None,
                error_message: str | None = None) -> None:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "queued")
            .values(status=status, error_code=error_code, error_message=(error_message or "")[:300] or None,
                    claimed_by=None, next_attempt_at=None, updated_at=now)
            .execution_options(synchronize_session=False))

    def _failed_attempt(self, row: _Row, exc: GatewayError, now: datetime, report: SendReport) -> None:
        if exc.unknown:
            self._unknown(row, now, exc.message)
            report.unknown += 1
            log.warning("sender %s: outbox id=%s: %s; will reconcile", self.identity, row.id, exc.message)
            return
        kind = delivery.classify_failure(exc.http_status, exc.code)
        if exc.http_status == 429:
            report.throttled = True  # stop this pass: Twilio asks us to slow down
        if kind.retry and row.attempts < self.settings.max_attempts:
            wait_for = delivery.backoff(row.attempts, self.settings.retry_base_seconds)
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.status == "queued")
                .values(status="scheduled", claimed_by=None, error_code=exc.code or exc.http_status,
                        error_message=exc.message[:300], next_attempt_at=now + wait_for, updated_at=now)
                .execution_options(synchronize_session=False))
            report.retried += 1
            log.info("sender %s: outbox id=%s: %s (code %s), retry in %ss", self.identity, row.id,
                     exc.http_status, exc.code, int(wait_for.total_seconds()))
            return
        self._finish(row, now, status="failed", error_code=exc.code or exc.http_status, error_message=exc.message)
        report.failed += 1
        if kind.opted_out:
            from outreach.messaging.services import record_opt_out

            record_opt_out(row.phone, school_id=row.school_id, keyword=f"TWILIO-{exc.code}", message_sid=None, now=now)
        elif kind.bad_number:
            from outreach.messaging.services import mark_number_invalid

            mark_number_invalid(row.phone, kind.bad_number, error_code=exc.code, now=now, except_id=row.id)
        db.session.commit()
        log.warning("sender %s: outbox id=%s failed permanently (code %s)", self.identity, row.id, exc.code)


class _Pump:
    """One pass's sends: rows waiting (``pending``), requests in flight in the worker threads,
    and answers not yet stored. Only the thread that owns the pump touches the database.

    Answers are stored in groups, one executemany UPDATE and one commit at most
    ``COMMIT_INTERVAL`` apart: a commit (or even a statement) per message would spend the
    sender's time on the database instead of on sends. A crash loses at most one group of
    answers, which the reconciler then finds at the gateway."""

    def __init__(self, sender: Sender, pool: ThreadPoolExecutor, limiter: delivery.RateLimiter, deadline: float,
                 report: SendReport, fixed_now: datetime | None) -> None:
        self.sender = sender
        self.pool = pool
        self.limiter = limiter
        self.deadline = deadline
        self.report = report
        self.fixed_now = fixed_now
        self.pending: deque[_Row] = deque()
        self.in_flight: dict[Future, _Row] = {}
        self._answers: list[dict[str, Any]] = []
        self._started: dict[Future, float] = {}  # the limiter's note of each request's start
        self._ended: dict[Future, float] = {}  # when each ended: set by the worker threads
        self._last_flush = time.monotonic()

    def _note_end(self, future: Future) -> None:
        self._ended[future] = time.monotonic()

    def _moment(self) -> datetime:
        return ensure_utc(self.fixed_now) if self.fixed_now is not None else utcnow()

    def _may_send(self) -> bool:
        return bool(self.pending) and len(self.in_flight) < self.sender.settings.concurrency \
            and not self.report.throttled and time.monotonic() < self.deadline

    def step(self) -> bool:
        """Do the next thing: store answers, start a send, or wait for either. False when there
        is nothing to do (nothing in flight, nothing that may be sent now)."""
        done = [f for f in self.in_flight if f.done()]
        if done:
            self._settle(done)
        # By time only: at low latency the requests in flight often drop to none, and a commit
        # each time would be a commit per message (on SQLite, an fsync each).
        if self._answers and time.monotonic() - self._last_flush >= COMMIT_INTERVAL:
            self.flush()
        if done:
            return True
        if self._may_send():
            pause = self.limiter.delay()
            if pause <= 0.0:
                started = self.limiter.start()
                row = self.pending.popleft()
                future = self.pool.submit(self.sender.gateway.send, self.sender._request(row))
                self._started[future] = started
                # When the request ended, taken in the worker thread: the main thread may notice
                # later (busy on the database), and the limiter counts from the true end.
                future.add_done_callback(self._note_end)
                self.in_flight[future] = row
            elif self.in_flight:
                wait(list(self.in_flight), timeout=pause, return_when=FIRST_COMPLETED)
            else:
                time.sleep(min(pause, COMMIT_INTERVAL))
            return True
        if self.in_flight:
            wait(list(self.in_flight), timeout=COMMIT_INTERVAL, return_when=FIRST_COMPLETED)
            return True
        self.flush()
        return False

    def _settle(self, futures: list[Future]) -> None:
        sender, report = self.sender, self.report
        for future in futures:
            row = self.in_flight.pop(future)
            self.limiter.finish(self._started.pop(future), self._ended.pop(future, None))
            moment = self._moment()
            try:
                result = future.result()
            except GatewayError as exc:
                sender._failed_attempt(row, exc, moment, report)
            except Exception as exc:  # a bug or an unexpected library error: treat as no answer
                log.exception("sender %s: outbox id=%s: unexpected error", sender.identity, row.id)
                sender._unknown(row, moment, f"unexpected error: {type(exc).__name__}")
                report.unknown += 1
            else:
                self._answers.append(sender._sent_params(row, result, moment))
                report.sent += 1

    def flush(self) -> None:
        """Store the answers so far and commit."""
        if self._answers:
            db.session.execute(_MARK_SENT, self._answers)
            self._answers = []
        db.session.commit()
        self._last_flush = time.monotonic()

    def drain(self) -> None:
        """Wait for every request in flight and store its answer."""
        while self.in_flight:
            settled, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
            self._settle(list(settled))
        self.flush()

    def finish(self) -> None:
        """End of the pass: store every answer, hand back rows claimed but not sent (throttled
        by the gateway, or out of time)."""
        self.drain()
        if self.pending:
            ids = [r.id for r in self.pending]
            db.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "queued",
                       OutboxMessage.claimed_by == self.sender.identity)
                .values(status="scheduled", claimed_by=None, attempts=OutboxMessage.attempts - 1,
                        updated_at=self._moment())
                .execution_options(synchronize_session=False))
            db.session.commit()
            self.report.released += len(ids)
            self.pending.clear()


def send_due(app: Flask | None = None, now: datetime | None = None, *, gateway: Gateway | None = None,
             max_seconds: float = 50.0, until_empty: bool = True) -> SendReport:
    """One pass of the sender with the app's gateway and settings (in an app context)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    sender = Sender(gateway or gateway_for(app), SenderSettings.from_app(app))
    return sender.run(now, max_seconds=max_seconds, until_empty=until_empty)
