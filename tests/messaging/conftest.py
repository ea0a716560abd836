"""Fixtures for messaging content tests: a school with its phone number and default templates."""
from __future__ import annotations

import pytest

from outreach.extensions import db as _db
from outreach.messaging.templates import ensure_default_templates
from outreach.schools.models import School
from tests.factories import make_school


@pytest.fixture()
def school(db) -> School:
    school = make_school(urn="100001", name="Oak Tree Primary")
    school.contact_phone = "+441632960000"
    _db.session.commit()
    return school


@pytest.fixture()
def school_with_templates(school: School) -> School:
    ensure_default_templates(school)
    return school


# --- sending: the fake Twilio server, the app on loopback, outbox rows ------------------------

import threading  # noqa: E402
from datetime import datetime, timedelta, timezone  # noqa: E402
from typing import Iterator  # noqa: E402

from flask import Flask  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from outreach.messaging.compose import OutgoingMessage  # noqa: E402
from outreach.messaging.outbox import enqueue_many  # noqa: E402
from outreach.messaging.quiet_hours_settings import set_quiet_hours  # noqa: E402
from tests.fakes.twilio_server import FakeTwilio  # noqa: E402

PUBLIC_BASE = "https://outreach.example.org"  # what Twilio sees; the app itself is on loopback


@pytest.fixture()
def fake_twilio() -> Iterator[FakeTwilio]:
    """A fresh fake Twilio; the test fails if any request or response broke Twilio's spec."""
    fake = FakeTwilio(public_base_url=PUBLIC_BASE).start()
    yield fake
    fake.stop()
    assert fake.spec_errors == [], "\n".join(fake.spec_errors)


@pytest.fixture()
def twilio_config(app: Flask, fake_twilio: FakeTwilio) -> Iterator[dict]:
    """The app configured to send through the fake (and to accept its signatures)."""
    settings = {"TWILIO_ACCOUNT_SID": fake_twilio.account_sid, "TWILIO_AUTH_TOKEN": fake_twilio.auth_token,
                "TWILIO_FROM_NUMBER": fake_twilio.from_number, "TWILIO_MESSAGING_SERVICE_SID": None,
                "TWILIO_API_BASE_URL": fake_twilio.base_url, "OUTREACH_PUBLIC_BASE_URL": PUBLIC_BASE,
                "SMS_RATE_PER_SECOND": 200.0, "SMS_RETRY_BASE_SECONDS": 30.0, "SMS_MAX_ATTEMPTS": 4,
                "SMS_HTTP_TIMEOUT_SECONDS": 5.0}
    saved = {k: app.config.get(k) for k in settings}
    app.config.update(settings)
    yield settings
    app.config.update(saved)


class _Quiet(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture()
def live_app(app: Flask, twilio_config: dict, fake_twilio: FakeTwilio) -> Iterator[str]:
    """The app served on loopback; the fake's callbacks reach it there, signed for PUBLIC_BASE."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    server.block_on_close = False  # the fake's callbacks may leave a connection open
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake_twilio.app_url = f"http://127.0.0.1:{server.server_port}"
    yield fake_twilio.app_url
    server.shutdown()
    server.server_close()


@pytest.fixture()
def open_school(school: School) -> School:
    """A school with no quiet hours, so sends are due whatever time the tests run."""
    set_quiet_hours(school, "none", "")
    _db.session.commit()
    return school


def outgoing(school: School, n: int, *, phone: str | None = None, prefix: str = "msg",
             not_before: datetime | None = None, contact_id: int | None = None) -> list[OutgoingMessage]:
    """``n`` messages with distinct bodies (so the fake's store can be checked per message)."""
    due = not_before or datetime.now(timezone.utc) - timedelta(minutes=1)
    return [OutgoingMessage(school_id=school.id, contact_id=contact_id, phone=phone or f"+4477009{i:05d}",  # type: ignore[arg-type]
                            body=f"{prefix} {i}: Oak Tree Primary. Reply STOP to opt out.", language="en",
                            purpose="test", pupil_ids=(), not_before_utc=due, idempotency_key=f"{prefix}:{i}")
            for i in range(n)]


def enqueue_test_messages(school: School, n: int, **kwargs) -> list[int]:
    rows = enqueue_many(outgoing(school, n, **kwargs))
    _db.session.commit()
    return [r.id for r in rows]
