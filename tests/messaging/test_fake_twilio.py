"""The fake Twilio itself: the spec check catches what it should, and it behaves like the API."""
from __future__ import annotations

import base64
import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from twilio.request_validator import RequestValidator

from tests.fakes.twilio_server import FakeTwilio, twilio_signature


def call(fake: FakeTwilio, method: str, path: str, params: dict | None = None, *, auth: tuple[str, str] | None = None):
    auth = auth or (fake.account_sid, fake.auth_token)
    data = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
    url = fake.base_url + path + ("?" + urllib.parse.urlencode(params) if method == "GET" and params else "")
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode(),
        "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture()
def fake():
    server = FakeTwilio().start()
    yield server
    server.stop()


def messages_path(fake: FakeTwilio) -> str:
    return f"/2010-04-01/Accounts/{fake.account_sid}/Messages.json"


def test_create_fetch_and_list_like_the_api(fake):
    status, created = call(fake, "POST", messages_path(fake), {"To": "+447700900001", "From": fake.from_number,
                                                              "Body": "hello"})
    assert status == 201 and created["sid"].startswith("SM") and len(created["sid"]) == 34
    call(fake, "POST", messages_path(fake), {"To": "+447700900002", "From": fake.from_number, "Body": "two"})
    status, fetched = call(fake, "GET", f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{created['sid']}.json")
    assert status == 200 and fetched["body"] == "hello"
    status, listed = call(fake, "GET", messages_path(fake), {"To": "+447700900001"})
    assert [m["sid"] for m in listed["messages"]] == [created["sid"]]
    status, page = call(fake, "GET", messages_path(fake), {"PageSize": 1})
    assert [m["body"] for m in page["messages"]] == ["two"] and page["next_page_uri"]  # newest first
    assert fake.spec_errors == []


def test_wrong_credentials_get_twilio_20003(fake):
    status, body = call(fake, "POST", messages_path(fake), {"To": "+447700900001", "Body": "x"}, auth=(fake.account_sid, "nope"))
    assert status == 401 and body["code"] == 20003


def test_spec_check_catches_a_request_the_real_api_would_reject(fake):
    call(fake, "GET", messages_path(fake), {"PageSize": "lots"})  # PageSize must be an integer
    assert any("PageSize" in e or "request GET" in e for e in fake.spec_errors)


def test_spec_check_catches_a_malformed_account_sid(fake):
    fake.account_sid = "AC-not-hex"
    call(fake, "GET", messages_path(fake))
    assert fake.spec_errors and fake.spec_errors[0].startswith("request GET")


def test_spec_check_catches_a_response_the_real_api_would_not_give(fake, monkeypatch):
    original = fake._resource

    def broken(msg):
        data = original(msg)
        data["sid"] = "XX123"  # not SM/MM + 32 hex
        return data

    monkeypatch.setattr(fake, "_resource", broken)
    call(fake, "POST", messages_path(fake), {"To": "+447700900001", "From": fake.from_number, "Body": "x"})
    assert any(e.startswith("response 201") for e in fake.spec_errors)


def test_signature_matches_twilios_own_validator():
    url = "https://outreach.example.org/webhooks/twilio/status/7?x=1"
    params = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "Body": "Ça va? 👍"}
    signature = twilio_signature("token123", url, params)
    assert RequestValidator("token123").validate(url, params, signature)
    assert not RequestValidator("token124").validate(url, params, signature)


def test_injected_failures(fake):
    fake.fail_next(1, status=429)
    fake.fail_number("+447700900009", 21614)
    s1, b1 = call(fake, "POST", messages_path(fake), {"To": "+447700900001", "From": fake.from_number, "Body": "x"})
    s2, b2 = call(fake, "POST", messages_path(fake), {"To": "+447700900001", "From": fake.from_number, "Body": "x"})
    s3, b3 = call(fake, "POST", messages_path(fake), {"To": "+447700900009", "From": fake.from_number, "Body": "x"})
    assert (s1, b1["code"]) == (429, 20429) and s2 == 201 and (s3, b3["code"]) == (400, 21614)
    assert len(fake.sent()) == 1 and fake.spec_errors == []


def test_spec_check_reads_the_posted_form(fake):
    """A create without To breaks the spec (To is its one required field): the check must have
    seen the body, not an empty stream."""
    status, body = call(fake, "POST", messages_path(fake), {"From": fake.from_number, "Body": "x"})
    assert status == 400
    assert any("To" in e for e in fake.spec_errors), fake.spec_errors
