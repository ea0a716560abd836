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
from tests.walking_bus.world import wb

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


SCHOOL_A = every(200)
SCHOOL_B = every(200, head=404)
SCHOOL_C = every(404, admin=200)
MISSING = every(404)
API = {"anonymous": 401}
WRITE_A = every(303, trust_lead=403, head=403)  # a change: writers are redirected back, readers refused
WRITE_C = every(404, admin=303)
API_BODY = every(400, anonymous=401)  # the walker posts a form, not JSON: refused before anything else


def _school_cases(extra_path: dict[str, Any] | None = None, **kw: Any) -> list["Case"]:
    return [Case(SCHOOL_A, path={"urn": urn("A"), **(extra_path or {})}, **kw),
            Case(SCHOOL_C, path={"urn": urn("C"), **(extra_path or {})}, **kw)]


def _row_cases(name: str, what: str, **kw: Any) -> list["Case"]:
    """A row of school A (seen by all), of school C (admin only) and a missing one (404)."""
    return [Case(SCHOOL_A, path={"urn": urn("A"), name: wb("A", what)}, **kw),
            Case(SCHOOL_C, path={"urn": urn("C"), name: wb("C", what)}, **kw),
            Case(MISSING, path={"urn": urn("A"), name: wb("missing", what)}, **kw)]


def _api(cases: list["Case"]) -> list["Case"]:
    return [Case({**c.expect, **API}, path=c.path, query=c.query, api=True) for c in cases]


def _post(path: dict[str, Any]) -> list["Case"]:
    return [Case(WRITE_A, path={"urn": urn("A"), **{k: v("A") for k, v in path.items()}}, method="POST"),
            Case(WRITE_C, path={"urn": urn("C"), **{k: v("C") for k, v in path.items()}}, method="POST")]


def _row(what: str) -> Callable[[str], Callable[[World], Any]]:
    return lambda key: wb(key, what)

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
    # Walking buses (pages)
    "walking_bus.index": [Case(every(200))],
    "walking_bus.school": _school_cases(),
    "walking_bus.rota": _school_cases(query={"week": lambda w: "2026-03-02"}) + _school_cases(query={"week": lambda w: "nonsense"}),
    "walking_bus.route": _row_cases("route_id", "route"),
    "walking_bus.check_in": _row_cases("route_id", "route") + _row_cases("route_id", "route", query={"date": lambda w: "bad"}),
    "walking_bus.create_route": _post({}),
    "walking_bus.add_stop": _post({"route_id": _row("route")}),
    "walking_bus.enrol": _post({"route_id": _row("route")}),
    "walking_bus.end_place": _post({"enrolment_id": _row("place")}),
    "walking_bus.add_ambassador": _post({}),
    "walking_bus.update_ambassador": _post({"ambassador_id": _row("ambassador")}),
    "walking_bus.generate": _post({}),
    "walking_bus.assign": _post({}),
    "walking_bus.unassign": [Case(every(404, trust_lead=403, head=403), path={"urn": urn("A"), "assignment_id": wb("missing", "assignment")}, method="POST"),
                             Case(every(404, admin=303), path={"urn": urn("C"), "assignment_id": wb("C", "assignment")}, method="POST")],
    "walking_bus.resolve_alert": _post({"alert_id": _row("alert")}),
    "walking_bus.save_check_in": _post({"route_id": _row("route")}),
    # Walking buses (API)
    "walking_bus_api.list_routes": _api(_school_cases()),
    "walking_bus_api.get_route": _api(_row_cases("route_id", "route")),
    "walking_bus_api.get_rota": _api(_school_cases()),
    "walking_bus_api.get_check_in": _api(_row_cases("route_id", "route")),
    "walking_bus_api.route_impact": _api(_row_cases("route_id", "route")),
    "walking_bus_api.create_route": [Case(API_BODY, path={"urn": urn("A")}, method="POST", api=True)],
    "walking_bus_api.add_stop": [Case(API_BODY, path={"urn": urn("A"), "route_id": wb("A", "route")}, method="POST", api=True)],
    "walking_bus_api.enrol": [Case(API_BODY, path={"urn": urn("A"), "route_id": wb("A", "route")}, method="POST", api=True)],
    "walking_bus_api.generate_rota": [Case(API_BODY, path={"urn": urn("A")}, method="POST", api=True)],
    "walking_bus_api.save_check_in": [Case(API_BODY, path={"urn": urn("A"), "route_id": wb("A", "route")}, method="POST", api=True)],
    # Parent groups
    "parent_groups.index": [Case(every(200))],
    "parent_groups.school": _school_cases(),
    "parent_groups.group": _row_cases("group_id", "group"),
    "parent_groups.meeting": _row_cases("meeting_id", "meeting"),
    "parent_groups.create_group": _post({}),
    "parent_groups.add_member": _post({"group_id": _row("group")}),
    "parent_groups.add_meeting": _post({"group_id": _row("group")}),
    "parent_groups.attendance": _post({"meeting_id": _row("meeting")}),
    "parent_groups.invite": _post({"meeting_id": _row("meeting")}),
    "parent_groups_api.list_groups": _api(_school_cases()),
    "parent_groups_api.get_group": _api(_row_cases("group_id", "group")),
    "parent_groups_api.group_impact": _api(_row_cases("group_id", "group")),
    "parent_groups_api.attendance": [Case(API_BODY, path={"urn": urn("A"), "meeting_id": wb("A", "meeting")}, method="POST", api=True)],
    "parent_groups_api.invite": [Case(API_BODY, path={"urn": urn("A"), "meeting_id": wb("A", "meeting")}, method="POST", api=True)],
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
                    token = csrf_token(client, "/login" if role == "anonymous" or case.api else "/account")
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
