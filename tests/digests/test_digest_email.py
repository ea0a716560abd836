"""The digest goes through a real SMTP server (aiosmtpd on loopback) and is checked as received:
figures against sums made here from the constructed marks, the inline chart, the links."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from html.parser import HTMLParser

import pytest
from flask import Flask

from outreach.attendance import national
from outreach.digests import jobs, services
from outreach.digests.models import Digest
from outreach.extensions import db
from tests.dashboard.world import signed_in_client
from tests.digests.conftest import HEAD_EMAIL, MONDAY, PUBLIC, REGISTERS, WEEK, DigestWorld, SmtpServer

ABSENT = {"I", "O"}  # the only absence codes the constructed registers use
MONDAY_0700_LONDON = datetime(2026, 11, 23, 7, 0, tzinfo=timezone.utc)  # GMT in November


class Tables(HTMLParser):
    """Every <table> as (caption, rows of cell texts): enough to read figures back out of the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self.images: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "caption":
            self._caption = []
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "a":
            self.links.append(a.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption" and self._caption is not None:
            self.tables[-1] = ("".join(self._caption).strip(), self.tables[-1][1])
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def table(self, caption: str) -> dict[str, list[str]]:
        for cap, rows in self.tables:
            if cap == caption:
                return {row[0]: row[1:] for row in rows}
        raise AssertionError(f"no table {caption!r} in {[c for c, _ in self.tables]}")


def expected(period: str) -> dict[str, str]:
    """Attendance, absence, PA and SA for "this"/"last" week or the "year" (both weeks), summed
    here from REGISTERS: sessions summed over pupils; PA at >= 10% of a pupil's sessions missed."""
    picks = {"last": [0], "this": [1], "year": [0, 1]}[period]
    possible = absent = pa = sa = 0
    for weeks in REGISTERS.values():
        codes = [c for i in picks for c in weeks[i]]
        missed = sum(c in ABSENT for c in codes)
        possible += len(codes)
        absent += missed
        pa += missed * 10 >= len(codes)
        sa += missed * 2 >= len(codes)
    n = len(REGISTERS)
    return {"Attendance": f"{100 * (possible - absent) / possible:.1f}%",
            "Overall absence": f"{100 * absent / possible:.1f}%",
            "Persistent absence (pupils)": f"{100 * pa / n:.1f}% ({pa})",
            "Severe absence (pupils)": f"{100 * sa / n:.1f}% ({sa})",
            "Pupils with sessions": str(n)}


def parse_html(message) -> Tables:  # type: ignore[no-untyped-def]
    html = message.get_body(preferencelist=("html",)).get_content()
    tables = Tables()
    tables.feed(html)
    return tables


def test_digest_received_over_smtp_with_figures_chart_and_links(app: Flask, digest_world: DigestWorld,
                                                                 smtp_server: SmtpServer) -> None:
    outcome = services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    assert outcome.reason == "sent"
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert smtp_server.recipients() == [HEAD_EMAIL]
    assert message["To"] == HEAD_EMAIL and message["From"] == "digest@outreach.example.org"
    assert "Ash Primary" in message["Subject"] and "16 November 2026" in message["Subject"]
    assert message["Message-ID"] == f"<digest.100001.{WEEK.lower()}@outreach.example.org>"

    # Figures: this week, last week, this year from the marks; England and the LA as published.
    tables = parse_html(message)
    figures = tables.table("Attendance, absence and persistent absence")
    assert figures["Measure"][:3] == ["This week", "Last week", "This year"]
    this, last, year = expected("this"), expected("last"), expected("year")
    assert this["Attendance"] == "84.0%" and last["Attendance"] == "96.0%"  # the sums above, by hand
    for measure in this:
        assert figures[measure][:3] == [this[measure], last[measure], year[measure]], measure
    ref = national.reference_figures("primary", "823")
    assert figures["Measure"][3:] == ["England", ref["la"]["name"]]
    assert figures["Attendance"][3:] == [f"{ref['national']['attendance_pct']:.1f}%", f"{ref['la']['attendance_pct']:.1f}%"]
    assert figures["Persistent absence (pupils)"][3] == f"{ref['national']['persistent_absence_pct']:.1f}%"

    # Newly persistently absent this week: p3 and p5 (p4 was already PA from last week).
    newly = tables.table("Pupils who crossed the line this week")
    names = {digest_world.pupils[k].forename + " Example" for k in ("p3", "p5")}
    assert set(newly) - {"Pupil"} == names
    assert digest_world.pupils["p4"].forename + " Example" not in newly

    # The chart: an inline PNG part whose Content-ID the HTML references.
    cids = [src[4:] for src in tables.images if src.startswith("cid:")]
    assert len(cids) == 1
    related = [p for p in message.walk() if p.get_content_type() == "image/png"]
    assert len(related) == 1
    assert related[0]["Content-ID"] == f"<{cids[0]}>"
    assert related[0].get_content().startswith(b"\x89PNG\r\n\x1a\n")
    assert message.get_body(preferencelist=("plain",)) is not None  # a text alternative too

    # Links: absolute on the public base URL, and they open for the head.
    assert tables.links and all(link.startswith(PUBLIC + "/") for link in tables.links)
    paths = {link[len(PUBLIC):] for link in tables.links}
    assert {"/schools/100001", f"/schools/100001/digests/{WEEK}"} <= paths
    client = signed_in_client(app, HEAD_EMAIL)
    for path in paths:
        assert client.get(path).status_code == 200, path

    # The plain text carries the same figures.
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert re.search(rf"Attendance \| {re.escape(this['Attendance'])} \| {re.escape(last['Attendance'])} \| "
                     rf"{re.escape(year['Attendance'])}", text)
    assert f"{PUBLIC}/schools/100001/digests/{WEEK}" in text

    # Archived exactly as sent.
    digest = db.session.get(Digest, outcome.digest.id)
    assert digest.status == "sent" and digest.sent_at is not None and digest.attempts == 1
    assert digest.recipients == [HEAD_EMAIL]
    received = message.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")
    assert digest.html.strip() == received.strip()  # SMTP carries CRLF line ends
    assert digest.png == related[0].get_content()


def test_weekly_job_twice_sends_once_per_school_week(app: Flask, digest_world: DigestWorld,
                                                     smtp_server: SmtpServer) -> None:
    first = jobs.send_due_digests(MONDAY_0700_LONDON)
    again = jobs.send_due_digests(MONDAY_0700_LONDON.replace(hour=9))  # a restart, or a second run
    assert first == {"sent": 1}
    assert again == {"already_done": 1}
    assert len(smtp_server.messages) == 1
    assert services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON).reason == "already_sent"
    assert len(smtp_server.messages) == 1
    assert db.session.query(Digest).count() == 1


def test_interrupted_send_is_not_resent_but_force_sends(app: Flask, digest_world: DigestWorld,
                                                        smtp_server: SmtpServer) -> None:
    db.session.add(Digest(school_id=digest_world.school.id, week=WEEK, week_start=MONDAY, status="sending",
                          recipients=[HEAD_EMAIL]))
    db.session.commit()
    assert jobs.send_due_digests(MONDAY_0700_LONDON) == {"already_done": 1}
    assert services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON).reason == "in_progress"
    assert smtp_server.messages == []
    assert services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON, force=True).reason == "sent"
    assert len(smtp_server.messages) == 1


def test_smtp_down_marks_failed_then_pending_work_retries(app: Flask, digest_world: DigestWorld,
                                                         smtp_server: SmtpServer,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.digests.conftest import free_port

    monkeypatch.setitem(app.config, "SMTP_PORT", free_port())  # nothing listens there
    outcome = services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    assert outcome.reason == "failed"
    assert outcome.digest.attempts == 1 and outcome.digest.last_error
    monkeypatch.setitem(app.config, "SMTP_PORT", smtp_server.port)
    assert jobs.send_pending(MONDAY_0700_LONDON) == 0  # too soon: the first retry waits 5 minutes
    assert smtp_server.messages == []
    assert jobs.send_pending(MONDAY_0700_LONDON.replace(minute=6)) == 1
    assert len(smtp_server.messages) == 1
    assert db.session.get(Digest, outcome.digest.id).status == "sent"


def test_week_without_sessions_is_archived_not_sent(app: Flask, digest_world: DigestWorld,
                                                    smtp_server: SmtpServer) -> None:
    from datetime import date

    outcome = services.send_digest(digest_world.school, date(2026, 10, 26), now=MONDAY_0700_LONDON)  # half term
    assert outcome.reason == "skipped" and outcome.digest.skip_reason == "no school sessions that week"
    assert smtp_server.messages == []


def test_no_head_means_no_email(app: Flask, smtp_server: SmtpServer) -> None:
    from tests.factories import make_school

    school = make_school(urn="100009", name="Headless School")
    db.session.commit()
    outcome = services.send_digest(school, MONDAY, now=MONDAY_0700_LONDON)
    assert outcome.reason == "skipped" and "no active head" in (outcome.digest.skip_reason or "")
    assert smtp_server.messages == []


def test_officers_included_when_configured(app: Flask, digest_world: DigestWorld, smtp_server: SmtpServer,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from outreach.core.accounts import services as accounts
    from tests.dashboard.world import PASSWORD, fast_password_hashing

    with fast_password_hashing(app):
        accounts.create_user("officer@ash.example.org", "attendance_officer", PASSWORD, school_urns=["100001"])
    monkeypatch.setitem(app.config, "DIGEST_INCLUDE_OFFICERS", True)
    assert services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON).reason == "sent"
    assert sorted(smtp_server.recipients()) == [HEAD_EMAIL, "officer@ash.example.org"]


def test_cli_send_and_bad_input(app: Flask, runner, digest_world: DigestWorld, smtp_server: SmtpServer) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(args=["digest", "send", "--school", "100001", "--week", WEEK])
    assert result.exit_code == 0, result.output
    assert "sent digest 2026-W47 for 100001 to 1 recipient(s)" in result.output
    again = runner.invoke(args=["digest", "send", "--school", "100001", "--week", WEEK])
    assert again.exit_code == 0 and "already sent" in again.output
    assert len(smtp_server.messages) == 1
    for args, words in ((["--week", "2026-47"], "week must look like 2026-W48"), (["--week", "2026-W54"], "no ISO week 54"),
                        (["--week", "2999-W01"], "has not ended yet")):
        bad = runner.invoke(args=["digest", "send", "--school", "100001", *args])
        assert bad.exit_code == 1 and words in bad.output, bad.output
    missing = runner.invoke(args=["digest", "send", "--school", "999999"])
    assert missing.exit_code == 1 and "no school with URN 999999" in missing.output
    listed = runner.invoke(args=["digest", "list", "--school", "100001"])
    assert "2026-W47  sent" in listed.output
    preview = runner.invoke(args=["digest", "preview", "--school", "100001", "--week", WEEK])
    assert preview.exit_code == 0 and "ATTENDANCE AT A GLANCE" in preview.output
    assert len(smtp_server.messages) == 1  # preview sends nothing


def test_console_backend_prints_when_no_smtp_host(app: Flask, digest_world: DigestWorld, capsys,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setitem(app.config, "SMTP_HOST", None)
    outcome = services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    assert outcome.reason == "sent"
    out = capsys.readouterr().out
    assert f"--- email (console backend: SMTP_HOST not set) to {HEAD_EMAIL}" in out
    assert "Subject: Ash Primary: attendance for the week of 16 November 2026 (84.0%)" in out
    assert "ATTENDANCE AT A GLANCE" in out and "--- end of email" in out


def test_a_refused_recipient_does_not_make_the_others_get_it_twice(app: Flask, digest_world: DigestWorld,
                                                                   smtp_server: SmtpServer,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from outreach.core.accounts import services as accounts
    from tests.dashboard.world import PASSWORD, fast_password_hashing

    with fast_password_hashing(app):
        accounts.create_user("refused@ash.example.org", "attendance_officer", PASSWORD, school_urns=["100001"])
    monkeypatch.setitem(app.config, "DIGEST_INCLUDE_OFFICERS", True)
    outcome = services.send_digest(digest_world.school, MONDAY, now=MONDAY_0700_LONDON)
    assert outcome.reason == "sent"
    assert smtp_server.recipients() == [HEAD_EMAIL]
    assert outcome.digest.status == "sent" and "refused@ash.example.org" in (outcome.digest.last_error or "")
    assert jobs.send_pending(MONDAY_0700_LONDON.replace(hour=12)) == 0  # nothing to retry
    assert len(smtp_server.messages) == 1


def test_two_senders_at_once_send_one_email(app: Flask, digest_world: DigestWorld, smtp_server: SmtpServer) -> None:
    """The clock and ``outreach digest send`` at the same moment (two threads, two sessions):
    both build, one claims the row, the other sends nothing."""
    import threading

    from outreach.schools.models import School

    school_id = digest_world.school.id
    barrier = threading.Barrier(2)
    reasons: list[str] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with app.app_context():
                school = db.session.get(School, school_id)
                barrier.wait(10)
                reasons.append(services.send_digest(school, MONDAY, now=MONDAY_0700_LONDON).reason)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sorted(reasons)[-1] == "sent" and reasons.count("sent") == 1, reasons
    assert len(smtp_server.messages) == 1
    assert db.session.query(Digest).count() == 1
