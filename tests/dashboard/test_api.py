"""The JSON API: bearer tokens only, scoping, pagination, JSON errors, audit, OpenAPI."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from outreach.core.accounts import services
from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from tests.dashboard.world import World, signed_in_client
from tests.factories import make_pupil


@pytest.fixture()
def api(app: Flask, world: World):
    """A client calling as a given role: ``api("officer").get(...)``."""
    tokens: dict[str, str] = {}

    class Caller:
        def __init__(self, who: str | None):
            if who and who not in tokens:
                tokens[who] = services.create_token(world.users[who], "tests")[1]
            self.headers = {"Authorization": f"Bearer {tokens[who]}"} if who else {}
            self.client = app.test_client()

        def get(self, path: str, **kw: Any):
            return self.client.get(path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

        def open(self, path: str, method: str):
            return self.client.open(path, method=method, headers=self.headers)

    return Caller


def test_no_token_is_401_with_json_and_challenge(api) -> None:
    response = api(None).get("/api/v1/schools")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json["error"].startswith("authentication required")
    assert set(response.json) == {"error", "details"}


@pytest.mark.parametrize("header", ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer ", "bearer otk_" + "a" * 43, "Bearer " + "x" * 500])
def test_bad_tokens_are_401(app: Flask, world: World, header: str) -> None:
    response = app.test_client().get("/api/v1/schools", headers={"Authorization": header})
    assert response.status_code == 401 and response.is_json


def test_the_session_cookie_is_not_accepted_for_the_api(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("admin"))
    assert client.get("/schools").status_code == 200
    response = client.get("/api/v1/schools")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_token_user_wins_over_a_cookie_sent_alongside(app: Flask, world: World, api) -> None:
    client = signed_in_client(app, world.email("admin"))  # cookie of an admin ...
    token = services.create_token(world.users["head"], "t")[1]  # ... token of a head
    response = client.get("/api/v1/schools", headers={"Authorization": f"Bearer {token}"})
    assert [s["urn"] for s in response.json["data"]] == ["100001"]


def test_revoked_token_stops_at_once(app: Flask, world: World) -> None:
    token, secret = services.create_token(world.users["officer"], "t")
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/schools", headers=headers).status_code == 200
    services.revoke_token(token)
    assert app.test_client().get("/api/v1/schools", headers=headers).status_code == 401


def test_schools_list_is_scoped_with_counts(api, world: World) -> None:
    body = api("officer").get("/api/v1/schools").json
    assert [s["urn"] for s in body["data"]] == ["100001", "100002"]
    ash = body["data"][0]
    assert ash == {"urn": "100001", "name": "Ash Primary", "phase": "primary", "la_code": "823", "estab": "2001",
                   "trust": "North Trust", "pupils_on_roll": 4}
    assert body["meta"] == {"page": 1, "per_page": 25, "total": 2, "pages": 1}
    assert [s["urn"] for s in api("admin").get("/api/v1/schools?q=ced").json["data"]] == ["100003"]


def test_school_detail_has_the_roll(api) -> None:
    body = api("head").get("/api/v1/schools/100001").json
    assert body["roll"]["on_roll"] == 4 and body["roll"]["left"] == 1
    assert body["roll"]["by_year_group"] == [{"year_group": "R", "pupils": 1}, {"year_group": "1", "pupils": 2},
                                             {"year_group": "6", "pupils": 1}]


def test_pagination_links_and_headers(api, world: World) -> None:
    for n in range(30):
        make_pupil(world.schools["B"], surname=f"Z{n:02d}", year_group="4")
    db.session.commit()
    response = api("officer").get("/api/v1/schools/100002/pupils?year_group=4&per_page=7&page=2")
    body = response.json
    assert response.status_code == 200
    assert body["meta"] == {"page": 2, "per_page": 7, "total": 30, "pages": 5}
    assert [p["surname"] for p in body["data"]] == [f"Z{n:02d}" for n in range(7, 14)]
    assert body["links"]["next"].endswith("/api/v1/schools/100002/pupils?year_group=4&page=3&per_page=7")
    assert body["links"]["prev"].endswith("page=1&per_page=7")
    assert 'rel="next"' in response.headers["Link"] and response.headers["X-Total-Count"] == "30"
    last = api("officer").get("/api/v1/schools/100002/pupils?year_group=4&per_page=7&page=5").json
    assert len(last["data"]) == 2 and last["links"]["next"] is None
    beyond = api("officer").get("/api/v1/schools/100002/pupils?page=99").json
    assert beyond["data"] == [] and beyond["meta"]["page"] == 99


def test_pupils_on_roll_unless_asked(api) -> None:
    assert api("officer").get("/api/v1/schools/100001/pupils").json["meta"]["total"] == 4
    assert api("officer").get("/api/v1/schools/100001/pupils?include_left=true").json["meta"]["total"] == 5


@pytest.mark.parametrize("query, field", [
    ("per_page=0", "per_page"), ("per_page=101", "per_page"), ("page=0", "page"), ("page=abc", "page"),
    ("year_group=13b", "year_group"), ("include_left=maybe", "include_left"), ("colour=red", "colour"),
])
def test_bad_query_is_400_with_marshmallow_messages(api, query: str, field: str) -> None:
    response = api("officer").get(f"/api/v1/schools/100001/pupils?{query}")
    assert response.status_code == 400
    assert response.json["error"] == "invalid query parameters"
    assert field in response.json["details"]


def test_endpoint_without_query_refuses_parameters(api) -> None:
    response = api("officer").get("/api/v1/schools/100001?x=1")
    assert response.status_code == 400 and response.json["details"] == ["x"]


def test_not_found_and_method_not_allowed_are_json(api) -> None:
    caller = api("officer")
    for path in ("/api/v1/schools/100003", "/api/v1/schools/999999", "/api/v1/pupils/99999999", "/api/v1/nothing"):
        response = caller.get(path)
        assert response.status_code == 404 and response.is_json, path
    assert caller.get("/api/v1/pupils/99999999999999999999").status_code == 404  # beyond any integer key
    response = caller.open("/api/v1/schools", "DELETE")
    assert response.status_code == 405 and response.is_json and "GET" in response.headers["Allow"]


def test_pupil_record_is_audited(api, world: World) -> None:
    pupil = world.pupils["A"][0]
    body = api("head").get(f"/api/v1/pupils/{pupil.id}").json
    assert body["id"] == pupil.id and body["school_urn"] == "100001" and body["upn"] == pupil.upn
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pupil.view")).one()
    assert event.user_id == world.users["head"].id and event.user_email == "head@ash.example.org"
    assert event.pupil_ids == [pupil.id] and event.school_id == world.schools["A"].id and event.via == "api"
    assert event.ip == "127.0.0.1"


def test_pupil_list_audits_the_pupils_returned(api, world: World) -> None:
    api("officer").get("/api/v1/schools/100001/pupils?per_page=2")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "pupils.list")).one()
    assert len(event.pupil_ids) == 2 and event.detail["page"] == 1


def test_an_invisible_pupil_is_not_audited_as_seen(api, world: World) -> None:
    assert api("head").get(f"/api/v1/pupils/{world.pupils['C'][0].id}").status_code == 404
    assert db.session.scalars(select(AuditEvent)).all() == []


def test_openapi_document_is_generated_from_the_registry(app: Flask, api) -> None:
    from openapi_spec_validator import validate

    doc = api(None).get("/api/v1/openapi.json").json
    validate(doc)
    assert doc["openapi"] == "3.0.3"
    assert doc["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": "An API token (otk_...) created by an administrator."}
    assert doc["security"] == [{"bearerAuth": []}]
    # Other features add their paths (the last assertion checks every route is documented).
    assert set(doc["paths"]) >= {"/api/v1/schools", "/api/v1/schools/{urn}", "/api/v1/schools/{urn}/pupils",
                                 "/api/v1/pupils/{pupil_id}"}
    pupils = doc["paths"]["/api/v1/schools/{urn}/pupils"]["get"]
    names = {p["name"] for p in pupils["parameters"]}
    assert names == {"urn", "page", "per_page", "year_group", "include_left"}
    ok = pupils["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok == {"$ref": "#/components/schemas/PupilPage"}
    assert {"400", "401", "404"} <= set(pupils["responses"])
    pupil_schema = doc["components"]["schemas"]["Pupil"]
    assert {"upn", "date_of_birth", "school_urn"} <= set(pupil_schema["properties"])
    assert pupil_schema["properties"]["date_of_birth"]["nullable"] is True
    # Every API route in the app is in the document, and nothing else is.
    api_rules = {r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/") and not r.rule.endswith("openapi.json")}
    assert len(api_rules) == len(doc["paths"])


def test_pupil_pages_cost_the_same_queries_whatever_their_size(api, world: World) -> None:
    """No query per pupil (the audit commit must not expire the rows being serialised)."""
    from sqlalchemy import event

    for n in range(40):
        make_pupil(world.schools["B"], surname=f"Q{n:02d}")
    db.session.commit()
    caller = api("officer")
    caller.get("/api/v1/schools/100002/pupils?per_page=1")  # token touched, caches warm

    def count(per_page: int) -> int:
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert caller.get(f"/api/v1/schools/100002/pupils?per_page={per_page}").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    assert count(40) == count(2)
