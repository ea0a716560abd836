"""Walk EVERY route of the app as every role and as an anonymous visitor.

The table below says what each endpoint must answer. It is data: a page or API endpoint added
later without an entry here fails ``test_every_route_has_expectations``, so nothing ships
unguarded. Values: an HTTP status, or LOGIN (a redirect to the sign-in page).

Path values name things in the test world (tests/dashboard/world.py): "A" is a school the
officer, head and trust lead can all see; "B" the officer's second school (the head cannot see
it); "C" is in another trust; "missing" is a URN no school has.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from flask import Flask, url_for

from outreach.core.accounts import services
from tests.dashboard.world import World, csrf_token, signed_in_client

LOGIN = "login"
ROLES = ("anonymous", "admin", "trust_lead", "head", "officer")


def every(status: Any, anonymous: Any = LOGIN, **overrides: Any) -> dict[str, Any]:
    out = {role: status for role in ROLES}
    out["anonymous"] = anonymous
    out.update(overrides)
    return out


def admin_only(ok: Any = 200) -> dict[str, Any]:
    return every(403, admin=ok)


@dataclass
class Case:
    expect: dict[str, Any]
    path: dict[str, Callable[[World], Any]] = field(default_factory=dict)
    query: dict[str, Callable[[World], Any]] = field(default_factory=dict)
    method: str = "GET"
    data: dict[str, str] = field(default_factory=dict)
    api: bool = False  # bearer token per role instead of a session


def urn(key: str) -> Callable[[World], str]:
    return lambda w: "99999999" if key == "missing" else w.schools[key].urn


def pupil(key: str) -> Callable[[World], int]:
    return lambda w: 2_000_000 if key == "missing" else w.pupils[key][0].id


def user_id(who: str) -> Callable[[World], int]:
    return lambda w: w.users[who].id


def import_row(kind: str, key: str) -> Callable[[World], int]:
    """An import batch ("batch") or a finished web upload ("upload") at school ``key``, made on
    first use (a completed upload: confirming or cancelling it is a 400 for those who may write)."""
    def make(w: World) -> int:
        from outreach.extensions import db
        from outreach.registers.models import ImportBatch
        from outreach.registers.upload_models import ImportUpload

        if f"{kind}-{key}" not in w.extra:
            school_id = w.schools[key].id
            row: Any = (ImportBatch(school_id=school_id, kind="registers", file_name="walk.csv", format="long",
                                    status="completed") if kind == "batch" else
                        ImportUpload(school_id=school_id, kind="registers", file_name="walk.csv", stored_name="x",
                                     status="completed", created_by="walker"))
            db.session.add(row)
            db.session.commit()
            w.extra[f"{kind}-{key}"] = row.id
        return w.extra[f"{kind}-{key}"]
    return make


SCHOOL_A = every(200)
SCHOOL_B = every(200, head=404)
SCHOOL_C = every(404, admin=200)
MISSING = every(404)
API = {"anonymous": 401}

EXPECTATIONS: dict[str, list[Case]] = {
    "static": [Case(every(200, anonymous=200), path={"filename": lambda w: "css/app.css"})],
    "healthz": [Case(every(200, anonymous=200))],
    "home": [Case(every(302))],
    "auth.login": [Case(every(302, anonymous=200))],
    "auth.logout": [Case(every(LOGIN), method="POST")],  # signed out, back to the sign-in page
    "auth.account": [Case(every(200))],
    "schools.index": [Case(every(200))],
    "schools.switch": [Case(every(302), query={"urn": urn("A")}), Case(every(404, admin=302), query={"urn": urn("C")}),
                       Case(every(302, head=404), query={"urn": urn("B")})],
    "schools.home": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_B, path={"urn": urn("B")}),
                     Case(SCHOOL_C, path={"urn": urn("C")}), Case(MISSING, path={"urn": urn("missing")})],
    "imports.index": [Case(every(200, head=302))],  # a one-school user goes straight to the school's imports
    "imports.school": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_B, path={"urn": urn("B")}),
                       Case(SCHOOL_C, path={"urn": urn("C")}), Case(MISSING, path={"urn": urn("missing")})],
    # No file sent: write roles get the form back with its error (400); read roles may not upload.
    "imports.upload": [Case(every(403, admin=400, officer=400), path={"urn": urn("A")}, method="POST"),
                       Case(every(404, admin=400), path={"urn": urn("C")}, method="POST"),
                       Case(every(404), path={"urn": urn("missing")}, method="POST")],
    "imports.upload_detail": [
        Case(SCHOOL_A, path={"urn": urn("A"), "upload_id": import_row("upload", "A")}),
        Case(SCHOOL_C, path={"urn": urn("C"), "upload_id": import_row("upload", "C")}),
        Case(every(404), path={"urn": urn("A"), "upload_id": import_row("upload", "C")}),  # another school's upload
        Case(every(404), path={"urn": urn("A"), "upload_id": lambda w: 999_999})],
    "imports.confirm": [Case(every(403, admin=400, officer=400), path={"urn": urn("A"), "upload_id": import_row("upload", "A")},
                             method="POST"),
                        Case(every(404, admin=400), path={"urn": urn("C"), "upload_id": import_row("upload", "C")}, method="POST")],
    "imports.cancel": [Case(every(403, admin=400, officer=400), path={"urn": urn("A"), "upload_id": import_row("upload", "A")},
                            method="POST"),
                       # B with A's upload: no such upload at B (the trust lead may see B, but not change it).
                       Case(every(404, trust_lead=403), path={"urn": urn("B"), "upload_id": import_row("upload", "A")},
                            method="POST")],
    "imports.batch": [Case(SCHOOL_A, path={"urn": urn("A"), "batch_id": import_row("batch", "A")}),
                      Case(SCHOOL_B, path={"urn": urn("B"), "batch_id": import_row("batch", "B")}),
                      Case(SCHOOL_C, path={"urn": urn("C"), "batch_id": import_row("batch", "C")}),
                      Case(every(404), path={"urn": urn("B"), "batch_id": import_row("batch", "A")})],
    "imports_api.list_imports": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                                 Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True),
                                 Case({**MISSING, **API}, path={"urn": urn("missing")}, api=True)],
    "imports_api.get_import": [Case({**SCHOOL_A, **API}, path={"batch_id": import_row("batch", "A")}, api=True),
                               Case({**SCHOOL_B, **API}, path={"batch_id": import_row("batch", "B")}, api=True),
                               Case({**SCHOOL_C, **API}, path={"batch_id": import_row("batch", "C")}, api=True),
                               Case({**MISSING, **API}, path={"batch_id": lambda w: 999_999}, api=True)],
    "imports_api.get_upload": [Case({**SCHOOL_A, **API}, path={"upload_id": import_row("upload", "A")}, api=True),
                               Case({**SCHOOL_C, **API}, path={"upload_id": import_row("upload", "C")}, api=True)],
    "admin.users": [Case(admin_only())],
    "admin.user": [Case(admin_only(), path={"user_id": user_id("officer")}),
                   Case(every(403, admin=404), path={"user_id": lambda w: 999_999})],
    "admin.toggle_active": [Case(admin_only(302), path={"user_id": user_id("other_officer")}, method="POST")],
    "admin.unlock": [Case(admin_only(302), path={"user_id": user_id("other_officer")}, method="POST")],
    "admin.create_token": [Case(admin_only(200), path={"user_id": user_id("other_officer")}, method="POST",
                                data={"name": "walker"})],
    "admin.revoke_token": [Case(admin_only(302), path={"token_id": lambda w: w.extra["token_id"]}, method="POST")],
    "audit.index": [Case(admin_only())],
    "api_openapi": [Case(every(200, anonymous=200), api=True)],
    "schools_api.list_schools": [Case({**every(200), **API}, api=True)],
    "schools_api.get_school": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                               Case({**SCHOOL_B, **API}, path={"urn": urn("B")}, api=True),
                               Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True),
                               Case({**MISSING, **API}, path={"urn": urn("missing")}, api=True)],
    "schools_api.school_pupils": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                                  Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True)],
    "schools_api.get_pupil": [Case({**SCHOOL_A, **API}, path={"pupil_id": pupil("A")}, api=True),
                              Case({**SCHOOL_B, **API}, path={"pupil_id": pupil("B")}, api=True),
                              Case({**SCHOOL_C, **API}, path={"pupil_id": pupil("C")}, api=True),
                              Case({**MISSING, **API}, path={"pupil_id": pupil("missing")}, api=True)],
}


def test_every_route_has_expectations(app: Flask) -> None:
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - set(EXPECTATIONS))
    assert not missing, f"routes without an entry in EXPECTATIONS (add one: who may see them?): {missing}"
    stale = sorted(set(EXPECTATIONS) - {rule.endpoint for rule in app.url_map.iter_rules()})
    assert not stale, f"EXPECTATIONS names endpoints that no longer exist: {stale}"
    for rule in app.url_map.iter_rules():
        for case in EXPECTATIONS[rule.endpoint]:
            assert case.method in (rule.methods or set()), f"{rule.endpoint}: {case.method} not allowed"
            assert set(case.expect) == set(ROLES), f"{rule.endpoint}: expectations must name every role"


def _outcome(response: Any) -> Any:
    if response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def test_walk_every_route_as_every_role(app: Flask, world: World) -> None:
    world.extra = {}
    clients = {"anonymous": app.test_client()}
    tokens: dict[str, str | None] = {"anonymous": None}
    for role in ROLES[1:]:
        clients[role] = signed_in_client(app, world.email(role))
        tokens[role] = services.create_token(world.users[role], "walker")[1]
    world.extra["token_id"] = services.create_token(world.users["other_officer"], "to revoke")[0].id

    failures = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        for case in EXPECTATIONS[rule.endpoint]:
            for role in ROLES:
                with app.test_request_context():
                    url = url_for(rule.endpoint, **{k: f(world) for k, f in case.path.items()},
                                  **{k: f(world) for k, f in case.query.items()})
                client = app.test_client() if case.api else clients[role]
                headers = {"Authorization": f"Bearer {tokens[role]}"} if case.api and tokens[role] else {}
                if case.method == "POST":
                    token = csrf_token(client, "/login" if role == "anonymous" else "/account")
                    response = client.post(url, data={"csrf_token": token, **case.data}, headers=headers)
                else:
                    response = client.get(url, headers=headers)
                got = _outcome(response)
                if got != case.expect[role]:
                    failures.append(f"{case.method} {url} as {role}: expected {case.expect[role]}, got {got}")
                if rule.endpoint == "auth.logout" and role != "anonymous":  # sign back in for the rest
                    clients[role] = signed_in_client(app, world.email(role))
    assert not failures, "\n".join(failures)


def test_hidden_and_missing_schools_look_the_same(app: Flask, world: World) -> None:
    """A 404 for someone else's school must not differ from one for a school that does not exist."""
    client = signed_in_client(app, world.email("officer"))
    hidden, missing = client.get("/schools/100003"), client.get("/schools/99999999")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data(as_text=True) == missing.get_data(as_text=True)
