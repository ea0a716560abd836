"""Twilio's webhooks: delivery status reports and received texts.

Configure in Twilio (the number, or the Messaging Service's "Integration"):
- "A message comes in": ``POST {OUTREACH_PUBLIC_BASE_URL}/webhooks/twilio/inbound``
- status callbacks need no configuration: every message we send names its own,
  ``{OUTREACH_PUBLIC_BASE_URL}/webhooks/twilio/status/<outbox id>``
  (``/webhooks/twilio/status`` without the id also works, matching by MessageSid, for a
  Messaging Service's own status callback setting).

Every request must carry a valid ``X-Twilio-Signature`` for the *public* URL (the configured base
URL plus the path and query string), so the check is right behind a proxy or load balancer that
rewrites the host or scheme. Missing or forged signatures get 403 and change nothing. Both
endpoints are idempotent on replay (Twilio retries): inbound texts are recorded once by
MessageSid, and a status only ever moves a row forward. CSRF does not apply (no session, no
form of ours; the signature is the authentication).
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from outreach.extensions import csrf
from outreach.messaging import services

log = logging.getLogger(__name__)

bp = Blueprint("twilio_webhooks", __name__, url_prefix="/webhooks/twilio")
csrf.exempt(bp)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url() -> str:
    """The URL Twilio called, as Twilio saw it: the configured public base URL, this path and
    the query string exactly as received."""
    base = (current_app.config.get("OUTREACH_PUBLIC_BASE_URL") or "").rstrip("/")
    query = request.query_string.decode("latin-1")
    return base + request.path + (f"?{query}" if query else "")


def _verify() -> dict[str, str]:
    """The POST parameters, or 403 unless the signature is Twilio's."""
    from twilio.request_validator import RequestValidator

    token = current_app.config.get("TWILIO_AUTH_TOKEN")
    signature = request.headers.get("X-Twilio-Signature", "")
    params = request.form.to_dict(flat=True)
    if not token or not signature or not RequestValidator(token).validate(public_url(), params, signature):
        log.warning("twilio webhook %s: missing or invalid signature (from %s)", request.path, request.remote_addr)
        abort(403)
    return params


def _int_or_none(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


@bp.post("/status")
@bp.post("/status/<int:outbox_id>")
def status(outbox_id: int | None = None) -> tuple[str, int]:
    params = _verify()
    sid = params.get("MessageSid") or params.get("SmsSid") or ""
    state = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
    if not sid or not state:
        return "", 400
    config = current_app.config
    outcome = services.apply_status_callback(
        sid, state, error_code=_int_or_none(params.get("ErrorCode")), outbox_id=outbox_id,
        max_attempts=int(config.get("SMS_MAX_ATTEMPTS", 6)),
        retry_base_seconds=float(config.get("SMS_RETRY_BASE_SECONDS", 30.0)))
    log.info("twilio status sid=%s status=%s outbox id=%s: %s", sid, state, outcome.outbox_id, outcome.note)
    return "", 204


@bp.post("/inbound")
def inbound() -> Response:
    params = _verify()
    sid = params.get("MessageSid") or params.get("SmsMessageSid") or params.get("SmsSid") or ""
    phone = params.get("From") or ""
    if not sid or not phone:
        return Response("MessageSid and From are required", status=400, mimetype="text/plain")
    services.receive_inbound(sid, phone, params.get("Body", ""), to_number=params.get("To"))
    # Replies go through the outbox (recorded, rate-limited); answer Twilio with empty TwiML.
    return Response(EMPTY_TWIML, mimetype="text/xml")
