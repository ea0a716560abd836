"""A stand-in for Twilio's Messages API (2010-04-01) on loopback, for tests and the benchmark.

The real ``twilio`` client talks to it over HTTP (``TWILIO_API_BASE_URL``). It is stateful: every
accepted message gets a unique ``SM`` + 32 hex SID and is stored, and can be fetched and listed
with the real API's filters (To, From, DateSent, DateSent<, DateSent>, PageSize, Page). Its store
is the truth a test checks "sent exactly once" against.

It can misbehave on purpose: the next N requests fail (429, 500 or a Twilio error code), a number
always fails with a code (21211, 21610 ...), or every response is delayed (so a test can SIGKILL
a sender mid-batch). It can call the app back the way Twilio does: signed status callbacks to the
message's ``StatusCallback`` and signed inbound messages, signed with the auth token over the
public URL while the bytes go to the app's loopback address (the app stands behind a "proxy").

Every request it receives and every response it gives is checked against Twilio's published
OpenAPI description (``/work/shared/specs/twilio_api_v2010.json``) with openapi-core; mismatches
are collected in ``spec_errors`` and the ``fake_twilio`` fixture fails the test on any.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = Path(os.environ.get("TWILIO_SPEC_PATH", "/work/shared/specs/twilio_api_v2010.json"))
API = "/2010-04-01/Accounts/{account}/Messages"

# What Twilio answers for the errors we inject (code -> (http status, message)).
ERRORS = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource was not found"),
    20429: (429, "Too Many Requests"),
    21211: (400, "Invalid 'To' Phone Number"),
    21408: (400, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number"),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
    30003: (400, "Unreachable destination handset"),
}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-") -> None:  # no access log: tests print only failures
        pass


@lru_cache(maxsize=1)
def _openapi():
    """The spec, loaded once per process (it is 1.8 MB)."""
    from openapi_core import Config, OpenAPI

    with SPEC_PATH.open(encoding="utf-8") as f:
        spec = json.load(f)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """X-Twilio-Signature as Twilio computes it: HMAC-SHA1 over the full URL followed by each POST
    parameter name and value, sorted by name, base64. Written out here (not twilio's helper) so
    the app's check is tested against the documented algorithm, not against itself."""
    payload = url + "".join(k + params[k] for k in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(timezone.utc).replace(microsecond=0), usegmt=False).replace("-0000", "+0000")


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str | None
    messaging_service_sid: str | None
    body: str
    status_callback: str | None
    date_created: datetime
    status: str = "queued"
    date_sent: datetime | None = None
    date_updated: datetime | None = None
    error_code: int | None = None
    error_message: str | None = None


@dataclass
class _Failure:
    status: int
    code: int | None


@dataclass
class FakeTwilio:
    """The server. ``start()`` binds 127.0.0.1 on a free port; ``base_url`` is what
    ``TWILIO_API_BASE_URL`` should be. ``app_url`` (set by the test) is where callbacks really
    go; ``public_base_url`` is the URL they are signed for."""

    account_sid: str = field(default_factory=lambda: "AC" + secrets.token_hex(16))
    auth_token: str = field(default_factory=lambda: secrets.token_hex(16))
    from_number: str = "+447700900999"
    validate: bool = True
    app_url: str | None = None
    public_base_url: str | None = None

    def __post_init__(self) -> None:
        self.messages: dict[str, FakeMessage] = {}
        self.order: list[str] = []  # SIDs in creation order
        self._order_by_to: dict[str, list[str]] = {}  # the same, per recipient (Twilio's list by To is indexed too)
        self.requests: list[tuple[str, str, float]] = []  # (method, path, monotonic time) of every request
        self.create_times: list[float] = []  # monotonic time of each accepted create
        self.spec_errors: list[str] = []
        self.callback_results: list[int] = []  # HTTP status the app answered each callback with
        self.delay_seconds = 0.0
        self._fail_next: list[_Failure] = []
        self._fail_numbers: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeTwilio":
        if self.validate:
            _openapi()
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        # Clients keep connections alive (the twilio client pools them): do not wait for those
        # handler threads on stop.
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- misbehaviour ------------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 500, code: int | None = None) -> None:
        """The next ``count`` create requests fail with HTTP ``status`` (or Twilio error ``code``
        and its status); nothing is stored for them."""
        if code is not None:
            status = ERRORS[code][0]
        with self._lock:
            self._fail_next.extend(_Failure(status, code) for _ in range(count))

    def fail_number(self, phone: str, code: int) -> None:
        """Every create to ``phone`` fails with Twilio error ``code`` (e.g. 21211, 21614)."""
        with self._lock:
            self._fail_numbers[phone] = code

    # --- what was sent -----------------------------------------------------------------------

    def sent(self) -> list[FakeMessage]:
        with self._lock:
            return [self.messages[sid] for sid in self.order]

    def sent_to(self, phone: str) -> list[FakeMessage]:
        return [m for m in self.sent() if m.to == phone]

    # --- callbacks to the app ------------------------------------------------------------------

    def _deliver(self, url: str, params: dict[str, str]) -> int:
        """POST ``params`` to the app, signed for ``url`` (the public URL), sent to ``app_url``."""
        target = url
        if self.app_url and self.public_base_url and url.startswith(self.public_base_url):
            target = self.app_url.rstrip("/") + url[len(self.public_base_url.rstrip("/")):]
        data = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(target, data=data, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(self.auth_token, url, params),
            "User-Agent": "TwilioProxy/1.1"})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                code = resp.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        self.callback_results.append(code)
        return code

    def status_callback(self, sid: str, status: str, *, error_code: int | None = None) -> int:
        """Move message ``sid`` to ``status`` here and tell the app as Twilio would."""
        with self._lock:
            msg = self.messages[sid]
            msg.status = status
            msg.date_updated = datetime.now(timezone.utc)
            if status in ("sent", "delivered") and msg.date_sent is None:
                msg.date_sent = msg.date_updated
            if error_code is not None:
                msg.error_code = error_code
                msg.error_message = ERRORS.get(error_code, (0, "error"))[1]
        if not msg.status_callback:
            raise AssertionError(f"message {sid} was sent without a StatusCallback")
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.account_sid, "To": msg.to, "From": msg.from_ or self.from_number,
                  "ApiVersion": "2010-04-01"}
        if msg.messaging_service_sid:
            params["MessagingServiceSid"] = msg.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self._deliver(msg.status_callback, params)

    def replay_status_callback(self, sid: str, status: str, *, error_code: int | None = None) -> int:
        """The same callback again, without changing the stored message (Twilio retries)."""
        msg = self.messages[sid]
        params = {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status,
                  "AccountSid": self.account_sid, "To": msg.to, "From": msg.from_ or self.from_number,
                  "ApiVersion": "2010-04-01"}
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self._deliver(msg.status_callback or "", params)

    def inbound(self, url: str, from_: str, body: str, *, sid: str | None = None, to: str | None = None) -> tuple[str, int]:
        """A text from ``from_`` arrives: POST it (signed) to the app's inbound webhook ``url``
        (a public URL). Returns (MessageSid, the app's HTTP status)."""
        sid = sid or "SM" + secrets.token_hex(16)
        params = {"MessageSid": sid, "SmsSid": sid, "SmsMessageSid": sid, "AccountSid": self.account_sid,
                  "From": from_, "To": to or self.from_number, "Body": body, "NumMedia": "0",
                  "NumSegments": "1", "ApiVersion": "2010-04-01", "FromCountry": "GB", "ToCountry": "GB"}
        return sid, self._deliver(url, params)

    # --- the HTTP side -------------------------------------------------------------------------

    def _wsgi(self, environ: dict, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append((request.method, request.path, time.monotonic()))
        oreq = self._as_twilio(environ, request) if self.validate else None
        if oreq is not None and not self._check_request(request, oreq):
            # The real API would refuse it too; say so the way Twilio does.
            response = Response(json.dumps({"code": 20001, "message": "Invalid request (see spec_errors)",
                                            "more_info": "https://www.twilio.com/docs/errors/20001", "status": 400}),
                                status=400, mimetype="application/json")
            return response(environ, start_response)
        response = self._route(request)
        if self.delay_seconds:
            # After the work, before the answer: a sender killed now has had its message
            # accepted without hearing so (the crash the reconciler exists for).
            time.sleep(self.delay_seconds)
        if oreq is not None:
            self._check_response(request, oreq, response)
        return response(environ, start_response)

    @staticmethod
    def _as_twilio(environ: dict, request: Request):
        """The request as openapi-core sees it, as if it had gone to https://api.twilio.com."""
        from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest

        as_twilio = dict(environ, HTTP_HOST="api.twilio.com", SERVER_NAME="api.twilio.com", SERVER_PORT="443")
        as_twilio["wsgi.url_scheme"] = "https"
        # werkzeug caches the parsed form on the first Request; a fresh one re-reads the body.
        body = request.get_data()
        as_twilio["wsgi.input"] = __import__("io").BytesIO(body)
        as_twilio["CONTENT_LENGTH"] = str(len(body))
        return WerkzeugOpenAPIRequest(Request(as_twilio))

    def _check_request(self, request: Request, oreq) -> bool:
        try:
            _openapi().validate_request(oreq)
        except Exception as exc:  # openapi-core raises a family of errors; all are mismatches
            self.spec_errors.append(f"request {request.method} {request.path}: {_explain(exc)}")
            return False
        return True

    def _check_response(self, request: Request, oreq, response: Response) -> None:
        """2xx responses against the spec; errors (the spec has none) against Twilio's shape."""
        from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse

        if 200 <= response.status_code < 300:
            try:
                _openapi().validate_response(oreq, WerkzeugOpenAPIResponse(response))
            except Exception as exc:
                self.spec_errors.append(f"response {response.status_code} to {request.method} {request.path}: {_explain(exc)}")
        else:
            # The spec defines no error responses; check the shape Twilio documents instead.
            payload = json.loads(response.get_data())
            if set(payload) != {"code", "message", "more_info", "status"} or payload["status"] != response.status_code:
                self.spec_errors.append(f"error body {payload!r} is not Twilio's shape")

    def _route(self, request: Request) -> Response:
        base = API.format(account=self.account_sid)
        if not self._authorised(request):
            return self._error(20003)
        path = request.path
        if path == base + ".json" and request.method == "POST":
            return self._create(request)
        if path == base + ".json" and request.method == "GET":
            return self._list(request)
        if path.startswith(base + "/") and path.endswith(".json") and request.method == "GET":
            sid = path[len(base) + 1:-5]
            with self._lock:
                msg = self.messages.get(sid)
            if msg is None:
                return self._error(20404)
            return self._json(self._resource(msg), 200)
        return self._error(20404)

    def _authorised(self, request: Request) -> bool:
        auth = request.authorization
        return bool(auth and auth.username == self.account_sid and auth.password == self.auth_token)

    def _create(self, request: Request) -> Response:
        form = request.form
        to = form.get("To", "")
        if not to:
            return self._error(21604)
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return Response(json.dumps({"code": 21603, "message": "'From' or 'MessagingServiceSid' is required",
                                        "more_info": "https://www.twilio.com/docs/errors/21603", "status": 400}),
                            status=400, mimetype="application/json")
        with self._lock:
            failure = self._fail_next.pop(0) if self._fail_next else None
            number_code = self._fail_numbers.get(to)
        if failure is not None:
            if failure.code is not None:
                return self._error(failure.code)
            return self._error(None, status=failure.status)
        if number_code is not None:
            return self._error(number_code)
        now = datetime.now(timezone.utc)
        msg = FakeMessage(sid="SM" + secrets.token_hex(16), to=to, from_=form.get("From") or self.from_number,
                          messaging_service_sid=form.get("MessagingServiceSid"), body=form.get("Body", ""),
                          status_callback=form.get("StatusCallback"), date_created=now, date_updated=now,
                          status="accepted" if form.get("MessagingServiceSid") else "queued")
        with self._lock:
            self.messages[msg.sid] = msg
            self.order.append(msg.sid)
            self._order_by_to.setdefault(msg.to, []).append(msg.sid)
            self.create_times.append(time.monotonic())
        return self._json(self._resource(msg), 201)

    def _list(self, request: Request) -> Response:
        args = request.args
        page_size = min(int(args.get("PageSize", 50)), 1000)
        page = int(args.get("Page", 0))

        def sent_on(msg: FakeMessage):
            return msg.date_sent.date() if msg.date_sent else None

        def keep(msg: FakeMessage) -> bool:
            if args.get("To") and msg.to != args["To"]:
                return False
            if args.get("From") and msg.from_ != args["From"]:
                return False
            for key, test in (("DateSent", lambda d, v: d == v), ("DateSent<", lambda d, v: d <= v),
                              ("DateSent>", lambda d, v: d >= v)):
                if args.get(key):
                    wanted = datetime.fromisoformat(args[key][:10]).date()
                    day = sent_on(msg)
                    if day is None or not test(day, wanted):
                        return False
            return True

        with self._lock:
            # Newest first, as Twilio lists them.
            order = self._order_by_to.get(args["To"], []) if args.get("To") else self.order
            matched = [self.messages[sid] for sid in reversed(order) if keep(self.messages[sid])]
        chunk = matched[page * page_size:(page + 1) * page_size]
        base = API.format(account=self.account_sid) + ".json"
        query = {k: v for k, v in args.items() if k not in ("Page", "PageSize", "PageToken")}

        def uri(p: int) -> str:
            return base + "?" + urllib.parse.urlencode({**query, "PageSize": page_size, "Page": p})

        has_next = (page + 1) * page_size < len(matched)
        payload = {
            "messages": [self._resource(m) for m in chunk], "end": page * page_size + max(len(chunk) - 1, 0),
            "first_page_uri": uri(0), "page": page, "page_size": page_size, "start": page * page_size,
            "next_page_uri": (uri(page + 1) + f"&PageToken=PASM{secrets.token_hex(16)}") if has_next else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "uri": uri(page),
        }
        return self._json(payload, 200)

    def _resource(self, msg: FakeMessage) -> dict[str, Any]:
        base = API.format(account=self.account_sid)
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": msg.body,
            "date_created": _rfc2822(msg.date_created),
            "date_sent": _rfc2822(msg.date_sent) if msg.date_sent else None,
            "date_updated": _rfc2822(msg.date_updated or msg.date_created),
            "direction": "outbound-api", "error_code": msg.error_code, "error_message": msg.error_message,
            "from": msg.from_, "messaging_service_sid": msg.messaging_service_sid, "num_media": "0",
            "num_segments": "1", "price": None, "price_unit": "GBP", "sid": msg.sid, "status": msg.status,
            "subresource_uris": {"media": f"{base}/{msg.sid}/Media.json"},
            "to": msg.to, "uri": f"{base}/{msg.sid}.json",
        }

    @staticmethod
    def _json(payload: dict[str, Any], status: int) -> Response:
        return Response(json.dumps(payload), status=status, mimetype="application/json")

    @staticmethod
    def _error(code: int | None, status: int | None = None) -> Response:
        if code is None:
            message = {429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}.get(
                status or 500, "Server error")
            payload = {"code": 20500 if (status or 500) >= 500 else 20429, "message": message,
                       "more_info": "https://www.twilio.com/docs/errors/20500", "status": status or 500}
        else:
            http_status, message = ERRORS[code]
            status = http_status
            payload = {"code": code, "message": message,
                       "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": http_status}
        return Response(json.dumps(payload), status=status, mimetype="application/json")


def parse_rfc2822(text: str) -> datetime:
    return parsedate_to_datetime(text)


def _explain(exc: Exception) -> str:
    parts = [f"{type(exc).__name__}: {exc}"]
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(str(e.message) for e in details)
        cause = cause.__cause__
    return " <- ".join(parts)
