"""Gateways: how an outbox row leaves the building.

``TwilioGateway`` talks to Twilio's Messages API with the real ``twilio`` client. The API base
URL is configurable (``TWILIO_API_BASE_URL``) so tests, the benchmark and staging can point it at
a stand-in; it sends from the Messaging Service (``TWILIO_MESSAGING_SERVICE_SID``) when one is
configured, else from ``TWILIO_FROM_NUMBER``; each message carries a StatusCallback URL on the
public base URL that names the outbox row, so Twilio's status reports find it.

``ConsoleGateway`` is the default when no Twilio credentials are configured (a laptop, the demo):
it "sends" by printing the message to the process's standard output and records it as sent with a
local SID. Log lines from either gateway carry ids only, never a phone number or a body.

Both answer ``find_sent``, the reconciler's question after a crash: did this message reach the
gateway already?
"""
from __future__ import annotations

import logging
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol, TextIO

from flask import Flask

from outreach.core.timeutil import utcnow
from outreach.messaging.delivery import local_sid

log = logging.getLogger(__name__)
# The twilio client logs every request at INFO, query string included (a list by To is a phone
# number): give it a logger of its own that only speaks up for warnings.
_twilio_http_log = logging.getLogger("outreach.messaging.twilio_http")
_twilio_http_log.setLevel(logging.WARNING)


@dataclass(frozen=True)
class SendRequest:
    outbox_id: int
    phone: str
    body: str
    status_callback: str | None = None


@dataclass(frozen=True)
class SendResult:
    sid: str
    twilio_status: str


@dataclass(frozen=True)
class RemoteMessage:
    """A message as the gateway holds it (the reconciler's view)."""

    sid: str
    to: str
    body: str
    status: str
    date_created: datetime  # UTC


class GatewayError(Exception):
    """A send the gateway answered with an error. ``http_status`` None with ``unknown=True``
    means no answer arrived (timeout, reset connection): the message may or may not have been
    accepted, so the row is reconciled, not simply resent."""

    def __init__(self, message: str, *, http_status: int | None = None, code: int | None = None,
                 unknown: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.code = code
        self.unknown = unknown


class Gateway(Protocol):
    name: str

    def send(self, request: SendRequest) -> SendResult: ...

    def find_sent(self, phone: str, body: str, since: datetime, exclude: set[str]) -> RemoteMessage | None: ...


class ConsoleGateway:
    """Prints each message to ``stream`` (stdout) instead of sending it."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lock = threading.Lock()

    def send(self, request: SendRequest) -> SendResult:
        sid = local_sid(utcnow(), request.outbox_id)
        with self._lock:
            # The console gateway's whole point: show the developer what would have been sent.
            print(f"--- SMS {sid} to {request.phone} (outbox #{request.outbox_id})\n{request.body}\n---",
                  file=self.stream, flush=True)
        log.info("console gateway: outbox id=%s recorded as sent sid=%s", request.outbox_id, sid)
        return SendResult(sid=sid, twilio_status="sent")

    def find_sent(self, phone: str, body: str, since: datetime, exclude: set[str]) -> RemoteMessage | None:
        """Nothing left the machine, so nothing can have been sent twice: resending is safe."""
        return None


class TwilioGateway:
    """The real Twilio client. One ``twilio.rest.Client`` per thread (the sender sends from a
    small pool of threads; requests' sessions are not promised to be thread-safe)."""

    name = "twilio"
    # How far back before a claim the reconciler looks, for clock skew between us and Twilio.
    CLOCK_SKEW = timedelta(minutes=2)

    def __init__(self, account_sid: str, auth_token: str, *, messaging_service_sid: str | None = None,
                 from_number: str | None = None, api_base_url: str | None = None, timeout: float = 15.0) -> None:
        if not (messaging_service_sid or from_number):
            raise ValueError("set TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER to send through Twilio")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.messaging_service_sid = messaging_service_sid
        self.from_number = from_number
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        self.timeout = timeout
        self._local = threading.local()
        # The twilio package and the Messages API modules it loads lazily take ~0.1-0.3 s to
        # import. Here, not in the first send: a request must reach Twilio soon after the
        # sender's rate limiter let it start (see delivery.RateLimiter), and the first ones
        # would otherwise wait for the imports.
        self._client().api.v2010.account.messages  # noqa: B018

    def _client(self):
        client = getattr(self._local, "client", None)
        if client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            client = Client(self.account_sid, self._auth_token,
                            http_client=TwilioHttpClient(timeout=self.timeout, max_retries=0,
                                                          logger=_twilio_http_log))
            if self.api_base_url:
                # The Api domain builds every URL from base_url (including next-page links).
                client.api.base_url = self.api_base_url
            self._local.client = client
        return client

    def send(self, request: SendRequest) -> SendResult:
        from requests import RequestException
        from twilio.base.exceptions import TwilioException, TwilioRestException

        kwargs = {"to": request.phone, "body": request.body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if request.status_callback:
            kwargs["status_callback"] = request.status_callback
        try:
            message = self._client().messages.create(**kwargs)
        except TwilioRestException as exc:
            raise GatewayError(str(exc.msg)[:300], http_status=exc.status, code=exc.code) from None
        except RequestException as exc:
            raise GatewayError(f"no answer from Twilio: {type(exc).__name__}", unknown=True) from None
        except TwilioException as exc:  # e.g. a response that is not JSON
            raise GatewayError(f"unreadable answer from Twilio: {exc}"[:300], unknown=True) from None
        return SendResult(sid=message.sid, twilio_status=str(message.status))

    def find_sent(self, phone: str, body: str, since: datetime, exclude: set[str]) -> RemoteMessage | None:
        """The newest message Twilio holds to ``phone`` (from our number, when we send from one)
        created since ``since`` (less clock skew) with exactly ``body``, whose SID is not in
        ``exclude`` (SIDs already owned by an outbox row or an earlier attempt).

        Twilio lists a number's messages newest first, so the scan stops at the first older than
        the window: a few requests even for a busy number. No DateSent filter, on purpose: a
        message Twilio accepted but has not yet sent has no date_sent and would be missed."""
        floor = since.astimezone(timezone.utc) - self.CLOCK_SKEW
        kwargs = {"to": phone, "page_size": 50}
        if self.from_number and not self.messaging_service_sid:
            kwargs["from_"] = self.from_number
        for message in self._client().messages.stream(**kwargs):
            created = message.date_created
            if created is not None and created.astimezone(timezone.utc) < floor:
                return None
            if message.sid in exclude or message.body != body or message.direction != "outbound-api":
                continue
            return RemoteMessage(sid=message.sid, to=message.to, body=message.body, status=str(message.status),
                                 date_created=created.astimezone(timezone.utc) if created else floor)
        return None


def gateway_for(app: Flask) -> Gateway:
    """Twilio when an account SID and auth token are configured, else the console."""
    config = app.config
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    if sid and token:
        return TwilioGateway(sid, token, messaging_service_sid=config.get("TWILIO_MESSAGING_SERVICE_SID"),
                             from_number=config.get("TWILIO_FROM_NUMBER"),
                             api_base_url=config.get("TWILIO_API_BASE_URL"),
                             timeout=float(config.get("SMS_HTTP_TIMEOUT_SECONDS", 15.0)))
    return ConsoleGateway()
