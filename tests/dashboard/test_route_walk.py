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
from tests.dashboard.world import CSRF_RE, World, csrf_token, signed_in_client
from tests.interventions.web_world import add_interventions
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
    data: dict[str, Any] = field(default_factory=dict)
    api: bool = False  # bearer token per role instead of a session
    json: dict[str, Any] | Callable[[World], dict[str, Any]] | None = None  # an API call's JSON body (POST, PATCH)


def urn(key: str) -> Callable[[World], str]:
    return lambda w: "99999999" if key == "missing" else w.schools[key].urn


def pupil(key: str) -> Callable[[World], int]:
    return lambda w: 2_000_000 if key == "missing" else w.pupils[key][0].id


def trust_of(key: str) -> Callable[[World], int]:
    return lambda w: 999_999 if key == "missing" else int(w.schools[key].trust_id)


def pupil_at(pupil_key: str, school_key: str) -> dict[str, Callable[[World], Any]]:
    return {"urn": urn(school_key), "pupil_id": pupil(pupil_key)}


def school_cases(api: bool = False) -> list[Case]:
    """A (everyone), B (not the head), C (admin only), a URN no school has."""
    extra = API if api else {}
    return [Case({**SCHOOL_A, **extra}, path={"urn": urn("A")}, api=api),
            Case({**SCHOOL_B, **extra}, path={"urn": urn("B")}, api=api),
            Case({**SCHOOL_C, **extra}, path={"urn": urn("C")}, api=api),
            Case({**MISSING, **extra}, path={"urn": urn("missing")}, api=api)]


def user_id(who: str) -> Callable[[World], int]:
    return lambda w: w.users[who].id


def digest_week(key: str, week: str = "2026-W01") -> Callable[[World], str]:
    """A sent digest archived for the school (made on first use), as its ISO week."""
    def make(w: World) -> str:
        from datetime import date

        from outreach.digests.models import Digest
        from outreach.extensions import db

        school = w.schools[key]
        if db.session.query(Digest).filter_by(school_id=school.id, week=week).first() is None:
            db.session.add(Digest(school_id=school.id, week=week, week_start=date.fromisocalendar(2026, 1, 1),
                                  status="sent", subject="walk", png=b"\x89PNG\r\n\x1a\n", sections=[],
                                  recipients=["head@ash.example.org"]))
            db.session.commit()
        return week
    return make
def iv(key: str, what: str) -> Callable[[World], int]:
    """The id of a row of the interventions data (tests/interventions/web_world.py)."""
    return lambda w: w.extra["iv"][key][what].id


def iv_row(what: str) -> Callable[[World], int]:
    return lambda w: w.extra["iv"][what].id


def const(value: Any) -> Callable[[World], Any]:
    return lambda w: value
def messaging(key: str, what: str) -> Callable[[World], Any]:
    """Ids of messaging rows at school ``key``, made on first use: default templates, one
    scheduled outbox message and one inbox reply (the messaging pages' detail routes need them)."""
    def get(w: World) -> Any:
        from datetime import datetime, timedelta, timezone

        from outreach.extensions import db
        from outreach.messaging.compose import OutgoingMessage
        from outreach.messaging.models import InboundMessage, InboxMessage
        from outreach.messaging.outbox import enqueue
        from outreach.messaging.templates import ensure_default_templates

        made = w.extra.setdefault("messaging", {})
        if key not in made:
            school = w.schools[key]
            school.contact_phone = school.contact_phone or "+441632960001"  # templates name the school's phone
            ensure_default_templates(school)
            row = enqueue(OutgoingMessage(school_id=school.id, contact_id=None, phone="+447700900123",  # type: ignore[arg-type]
                                          body="Walker. Reply STOP to opt out", language="en", purpose="general",
                                          pupil_ids=(), not_before_utc=datetime.now(timezone.utc) + timedelta(days=1),
                                          idempotency_key=f"walker:{key}"))
            inbound = InboundMessage(message_sid=f"SMwalker{key}", phone="+447700900123", body="Hello", kind="inbox")
            db.session.add(inbound)
            db.session.flush()
            item = InboxMessage(inbound_id=inbound.id, school_id=school.id, phone="+447700900123", body="Hello",
                                pupil_ids=[], received_at=datetime.now(timezone.utc))
            db.session.add(item)
            db.session.commit()
            made[key] = {"message": row.id, "inbox": item.id, "template": "general"}
        return made[key][what]
    return get
def closure_row(key: str) -> Callable[[World], int]:
    """A closure at school ``key`` (a week next summer), made on first use; "missing": an id no row has."""
    def make(w: World) -> int:
        from datetime import date

        from outreach.schools import closures

        if key == "missing":
            return 2**31 - 2
        if f"closure-{key}" not in w.extra:
            w.extra[f"closure-{key}"] = closures.add_closure(w.schools[key], date(2027, 7, 26), date(2027, 7, 30),
                                                              "Walker week", by="walker").id
        return w.extra[f"closure-{key}"]
    return make


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
DONE_A = every(403, admin=302, officer=302)  # a change at A: read roles 403, writers done
API = {"anonymous": 401}
WRITE_A = every(200, head=403, trust_lead=403)  # a form page of school A
REFUSED_A = every(400, head=403, trust_lead=403)  # bad input posted to school A: refused, nothing changed
OTHER_C = every(404, admin=400)  # the same post to another trust's school
PICKER = every(200, head=302)  # several schools: a list; the head's one school: straight there


def api_write(ok: int) -> dict[str, Any]:
    return {**every(ok, head=403, trust_lead=403), **API}


def api_c(admin: int) -> dict[str, Any]:
    return {**every(404, admin=admin), **API}


A_TASK = {"urn": urn("A"), "task_id": iv("A", "task")}
C_TASK = {"urn": urn("C"), "task_id": iv("C", "task")}
A_ITEM = {"urn": urn("A"), "intervention_id": iv("A", "intervention")}
A_REF = {"urn": urn("A"), "referral_id": iv("A", "referral")}
C_REF = {"urn": urn("C"), "referral_id": iv("C", "referral")}
A_PUPIL = {"urn": urn("A"), "pupil_id": iv("A", "pupil")}
LETTER_QUERY = {"kind": const("attendance_concern"), "pupil_ids": iv("A", "pupil"), "sender": const("Ms Patel")}
CHANGE_A = every(303, trust_lead=403, head=403)  # a change: writers are redirected back, readers refused
CHANGE_C = every(404, admin=303)
API_BODY = every(400, anonymous=401)  # the walker posts an empty JSON body: refused before anything else


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
    return [Case(CHANGE_A, path={"urn": urn("A"), **{k: v("A") for k, v in path.items()}}, method="POST"),
            Case(CHANGE_C, path={"urn": urn("C"), **{k: v("C") for k, v in path.items()}}, method="POST")]


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
    "digests.index": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_B, path={"urn": urn("B")}),
                      Case(SCHOOL_C, path={"urn": urn("C")}), Case(MISSING, path={"urn": urn("missing")})],
    "digests.show": [Case(SCHOOL_A, path={"urn": urn("A"), "week": digest_week("A")}),
                     Case(SCHOOL_C, path={"urn": urn("C"), "week": digest_week("C")}),
                     Case(MISSING, path={"urn": urn("A"), "week": lambda w: "2026-W02"}),
                     Case(MISSING, path={"urn": urn("A"), "week": lambda w: "not-a-week"})],
    "digests.chart": [Case(SCHOOL_A, path={"urn": urn("A"), "week": digest_week("A")}),
                      Case(SCHOOL_C, path={"urn": urn("C"), "week": digest_week("C")}),
                      Case(MISSING, path={"urn": urn("missing"), "week": lambda w: "2026-W01"})],
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
    "messages.index": [Case(every(200, head=302))],  # one school: straight to its outbox
    "messages.unmatched": [Case(admin_only())],
    "messages.unmatched_action": [Case(every(403, admin=404), path={"item_id": const(2**31 - 2)},
                                       method="POST")],
    "messages.outbox": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_B, path={"urn": urn("B")}),
                        Case(SCHOOL_C, path={"urn": urn("C")}), Case(MISSING, path={"urn": urn("missing")})],
    "messages.message": [Case(SCHOOL_A, path={"urn": urn("A"), "message_id": messaging("A", "message")}),
                         Case(SCHOOL_C, path={"urn": urn("C"), "message_id": messaging("C", "message")}),
                         Case(every(404), path={"urn": urn("A"), "message_id": messaging("C", "message")})],
    "messages.cancel": [Case(DONE_A, path={"urn": urn("A"), "message_id": messaging("A", "message")}, method="POST"),
                        Case(every(404, admin=302), path={"urn": urn("C"), "message_id": messaging("C", "message")},
                             method="POST")],
    "messages.compose": [Case(every(403, admin=200, officer=200), path={"urn": urn("A")}),
                         Case(every(403, admin=200, officer=200, head=404), path={"urn": urn("B")}),
                         Case(every(404, admin=200), path={"urn": urn("C")})],
    "messages.review": [Case(every(403, admin=200, officer=200), path={"urn": urn("A")},
                             query={"template": messaging("A", "template"), "v_date": lambda w: "Monday 3 March"}),
                        Case(every(404, admin=400), path={"urn": urn("C")})],
    # Without the review's fingerprint a confirm sends nothing: 409, the review shown again.
    "messages.send": [Case(every(403, admin=409, officer=409), method="POST",
                           path={"urn": lambda w: (messaging("A", "template")(w), urn("A")(w))[1]},
                           data={"template": "general", "v_date": "Monday 3 March"})],
    "messages.inbox": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "messages.inbox_mark": [Case(DONE_A, path={"urn": urn("A"), "item_id": messaging("A", "inbox")}, method="POST",
                                 data={"action": "done"}),
                            Case(every(403, admin=404, officer=404), path={"urn": urn("A"), "item_id": messaging("C", "inbox")},
                                 method="POST",
                                 data={"action": "done"})],
    "messages.templates": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "messages.template_defaults": [Case(DONE_A, path={"urn": urn("A")}, method="POST")],
    "messages.new_template": [Case(every(403, admin=200, officer=200), path={"urn": urn("A")}),
                              Case(every(403, admin=400, officer=400), path={"urn": urn("A")}, method="POST",
                                   data={"name": "x", "purpose": "general", "body": ""})],
    "messages.template": [Case(SCHOOL_A, path={"urn": urn("A"), "name": messaging("A", "template")}),
                          Case(every(404), path={"urn": urn("A"), "name": lambda w: "no_such_template"}),
                          Case(every(403, admin=302, officer=302), path={"urn": urn("A"), "name": messaging("A", "template")},
                               method="POST", data={"language": "en", "action": "save",
                                                    "body": "Hello {parent_name}. Reply STOP to opt out"})],
    "messages.opt_outs": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "api_openapi": [Case(every(200, anonymous=200), api=True)],
    "schools_api.list_schools": [Case({**every(200), **API}, api=True)],
    "schools_api.get_school": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                               Case({**SCHOOL_B, **API}, path={"urn": urn("B")}, api=True),
                               Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True),
                               Case({**MISSING, **API}, path={"urn": urn("missing")}, api=True)],
    "schools_api.school_pupils": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                                  Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True)],
    # Twilio's webhooks: no session or token counts, only Twilio's signature (none here): 403 for all.
    "twilio_webhooks.status": [Case(every(403, anonymous=403), path={"outbox_id": lambda w: 1}, method="POST")],
    "twilio_webhooks.inbound": [Case(every(403, anonymous=403), method="POST")],
    "schools_api.get_pupil": [Case({**SCHOOL_A, **API}, path={"pupil_id": pupil("A")}, api=True),
                              Case({**SCHOOL_B, **API}, path={"pupil_id": pupil("B")}, api=True),
                              Case({**SCHOOL_C, **API}, path={"pupil_id": pupil("C")}, api=True),
                              Case({**MISSING, **API}, path={"pupil_id": pupil("missing")}, api=True)],

    # interventions pages
    "interventions.tasks_home": [Case(PICKER)],
    "interventions.log_home": [Case(PICKER)],
    "interventions.referrals_home": [Case(PICKER)],
    "interventions.impact_home": [Case(every(200))],
    "interventions.tasks": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "interventions.task": [Case(SCHOOL_A, path=A_TASK), Case(SCHOOL_C, path=C_TASK),
                           Case(every(404), path={"urn": urn("A"), "task_id": iv("C", "task")})],
    "interventions.close_task": [Case(REFUSED_A, path=A_TASK, method="POST", data={"status": "dismissed"}),
                                 Case(OTHER_C, path=C_TASK, method="POST", data={"status": "dismissed"})],
    "interventions.reopen_task": [Case(REFUSED_A, path=A_TASK, method="POST")],  # open already
    "interventions.assign_task": [Case(every(302, head=403, trust_lead=403), path=A_TASK, method="POST",
                                       data={"assigned_to": "walker"})],
    "interventions.log": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "interventions.new": [Case(WRITE_A, path={"urn": urn("A")}),
                          Case(REFUSED_A, path={"urn": urn("A")}, method="POST", data={"type": "teleport"})],
    "interventions.detail": [Case(SCHOOL_A, path=A_ITEM),
                             Case(every(404), path={"urn": urn("A"), "intervention_id": iv("C", "intervention")})],
    "interventions.outcome": [Case(every(302, head=403, trust_lead=403), path=A_ITEM, method="POST",
                                   data={"outcome": "nobody home"})],
    "interventions.letter_copy": [Case(SCHOOL_A, path={"urn": urn("A"), "intervention_id": iv_row("letter")}),
                                  Case(every(404), path=A_ITEM)],  # an intervention without a letter
    "interventions.letter_pdf": [Case(SCHOOL_A, path={"urn": urn("A"), "intervention_id": iv_row("letter")})],
    "interventions.letter_form": [Case(WRITE_A, path={"urn": urn("A")}, query={**LETTER_QUERY, "preview": const("1")})],
    "interventions.letter_preview": [Case(WRITE_A, path={"urn": urn("A")}, query=LETTER_QUERY)],
    "interventions.send_letter": [Case(REFUSED_A, path={"urn": urn("A")}, method="POST", data={"kind": "nonsense"})],
    "interventions.timeline": [Case(SCHOOL_A, path=A_PUPIL),
                               Case(every(404), path={"urn": urn("A"), "pupil_id": iv("C", "pupil")})],
    "interventions.case_pack": [Case(SCHOOL_A, path=A_PUPIL, method="POST", data={"format": "csv"})],
    "interventions.referrals_list": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    "interventions.new_referral": [Case(WRITE_A, path={"urn": urn("A")}),
                                   Case(REFUSED_A, path={"urn": urn("A")}, method="POST", data={"reason": ""})],
    "interventions.referral": [Case(SCHOOL_A, path=A_REF), Case(SCHOOL_C, path=C_REF)],
    "interventions.referral_action": [Case(REFUSED_A, path={**A_REF, "action": const("withdraw")}, method="POST"),
                                      Case(OTHER_C, path={**C_REF, "action": const("withdraw")}, method="POST")],
    "interventions.review_done": [Case(REFUSED_A, path={"urn": urn("A"), "referral_id": iv_row("accepted"),
                                                        "review_id": iv_row("review")},
                                       method="POST", data={"next_review": "soon"})],
    "interventions.referral_pack": [Case(SCHOOL_A, path=A_REF, method="POST", data={"format": "html"})],
    "interventions.rules": [Case(SCHOOL_A, path={"urn": urn("A")}),
                            Case(REFUSED_A, path={"urn": urn("A")}, method="POST", data={"drop_points": "99"})],
    "interventions.impact": [Case(SCHOOL_A, path={"urn": urn("A")}), Case(SCHOOL_C, path={"urn": urn("C")})],
    # interventions API
    "interventions_api.list_tasks": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True),
                                     Case({**SCHOOL_C, **API}, path={"urn": urn("C")}, api=True)],
    "interventions_api.get_task": [Case({**SCHOOL_A, **API}, path=A_TASK, api=True),
                                   Case({**every(404), **API}, path={"urn": urn("A"), "task_id": iv("C", "task")}, api=True)],
    "interventions_api.close_task": [Case(api_write(422), path=A_TASK, method="POST", api=True, json={"status": "dismissed"}),
                                     Case(api_c(422), path=C_TASK, method="POST", api=True, json={"status": "dismissed"})],
    "interventions_api.reopen_task": [Case(api_write(422), path=A_TASK, method="POST", api=True)],
    "interventions_api.assign_task": [Case(api_write(200), path=A_TASK, method="POST", api=True,
                                           json={"assigned_to": "walker"})],
    "interventions_api.list_interventions": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True)],
    "interventions_api.log_intervention": [Case(api_write(422), path={"urn": urn("A")}, method="POST", api=True,
                                                json={"type": "home_visit", "pupil_ids": [2_000_000]})],
    "interventions_api.get_intervention": [Case({**SCHOOL_A, **API}, path=A_ITEM, api=True)],
    "interventions_api.record_outcome": [Case(api_write(200), path=A_ITEM, method="POST", api=True,
                                              json={"outcome": "nobody home"})],
    "interventions_api.next_steps": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True)],
    "interventions_api.preview_letter": [Case(api_write(200), path={"urn": urn("A")}, method="POST", api=True,
                                              json=lambda w: {"kind": "attendance_concern", "sender": "Ms Patel",
                                                             "pupil_ids": [w.extra["iv"]["A"]["pupil"].id]})],
    "interventions_api.send_letter": [Case(api_write(422), path={"urn": urn("A")}, method="POST", api=True,
                                           json={"kind": "meeting_invitation", "pupil_ids": [1], "sender": "Ms Patel"})],
    "interventions_api.timeline": [Case({**SCHOOL_A, **API}, path=A_PUPIL, api=True),
                                   Case({**SCHOOL_C, **API}, path={"urn": urn("C"), "pupil_id": iv("C", "pupil")}, api=True)],
    "interventions_api.get_rule_settings": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True)],
    "interventions_api.update_rule_settings": [Case(api_write(200), path={"urn": urn("A")}, method="PATCH", api=True,
                                                    json={"drop_points": 6.5})],
    "interventions_api.list_referrals": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True)],
    "interventions_api.draft_referral": [Case(api_write(422), path={"urn": urn("A")}, method="POST", api=True,
                                              json={"pupil_id": 2_000_000, "reason": "x"})],
    "interventions_api.get_referral": [Case({**SCHOOL_A, **API}, path=A_REF, api=True),
                                       Case({**SCHOOL_C, **API}, path=C_REF, api=True)],
    "interventions_api.referral_consent": [Case(api_write(422), path=A_REF, method="POST", api=True,
                                                json={"given": True, "by_whom": " ", "method": "phone"})],
    "interventions_api.referral_submit": [Case(api_write(422), path=A_REF, method="POST", api=True, json={"to": "Hub"})],
    "interventions_api.referral_decision": [Case(api_write(422), path=A_REF, method="POST", api=True,
                                                 json={"accepted": True})],
    "interventions_api.referral_review": [Case(api_write(422), path=A_REF, method="POST", api=True,
                                               json={"due_date": "2030-01-01"})],
    "interventions_api.referral_review_done": [Case(api_write(422), path={"urn": urn("A"), "review_id": iv_row("review")},
                                                    method="POST", api=True, json={"next_review": "2001-01-01"})],
    "interventions_api.referral_close": [Case(api_write(422), path=A_REF, method="POST", api=True,
                                              json={"outcome": "needs met"})],
    "interventions_api.referral_withdraw": [Case(api_write(422), path=A_REF, method="POST", api=True, json={"reason": " "}),
                                            Case(api_c(422), path=C_REF, method="POST", api=True, json={"reason": " "})],
    "interventions_api.school_impact": [Case({**SCHOOL_A, **API}, path={"urn": urn("A")}, api=True)],
    "interventions_api.trust_impact": [Case({**every(200), **API}, api=True)],
    # officer dashboard pages (outreach/dashboard/routes.py)
    "dashboard.today": [Case(every(200)), Case(every(200), query={"school": urn("A")}),
                        Case(every(200, head=404), query={"school": urn("B")}),
                        Case(every(404, admin=200), query={"school": urn("C")}),
                        Case(every(404), query={"school": urn("missing")})],
    "dashboard.overview": school_cases(),
    "dashboard.pupils_home": [Case(every(302))],
    "dashboard.pupils": school_cases(),
    "dashboard.pupils_export": school_cases(),
    "dashboard.pupil": [Case(SCHOOL_A, path=pupil_at("A", "A")), Case(SCHOOL_B, path=pupil_at("B", "B")),
                        Case(SCHOOL_C, path=pupil_at("C", "C")),
                        Case(every(404), path=pupil_at("B", "A")),  # a pupil of another school under A's URN
                        Case(every(404), path=pupil_at("missing", "A"))],
    "dashboard.trust_index": [Case(every(403, admin=200, trust_lead=302))],
    "dashboard.trust": [Case(every(404, admin=200, trust_lead=200), path={"trust_id": trust_of("A")}),
                        Case(every(404, admin=200), path={"trust_id": trust_of("C")}),
                        Case(every(404), path={"trust_id": trust_of("missing")})],
    # attendance API (outreach/dashboard/api.py)
    "attendance_api.school_measures": school_cases(api=True),
    "attendance_api.school_trend": school_cases(api=True),
    "attendance_api.school_cohorts": school_cases(api=True),
    "attendance_api.school_pupil_attendance": school_cases(api=True),
    "attendance_api.pupil_attendance": [
        Case({**SCHOOL_A, **API}, path={"pupil_id": pupil("A")}, api=True),
        Case({**SCHOOL_B, **API}, path={"pupil_id": pupil("B")}, api=True),
        Case({**SCHOOL_C, **API}, path={"pupil_id": pupil("C")}, api=True),
        Case({**MISSING, **API}, path={"pupil_id": pupil("missing")}, api=True)],
    "attendance_api.trust_comparison": [
        Case({**every(404, admin=200, trust_lead=200), **API}, path={"trust_id": trust_of("A")}, api=True),
        Case({**every(404, admin=200), **API}, path={"trust_id": trust_of("C")}, api=True),
        Case({**MISSING, **API}, path={"trust_id": trust_of("missing")}, api=True)],
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
    "walking_bus.add_closure": _post({}),
    "walking_bus.delete_closure": [
        Case(every(404, trust_lead=403, head=403), path={"urn": urn("A"), "closure_id": closure_row("missing")}, method="POST"),
        Case(every(404, admin=303), path={"urn": urn("C"), "closure_id": closure_row("C")}, method="POST")],
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
    world.extra = {"iv": add_interventions(world)}
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
                if case.api and case.method != "GET":
                    body = case.json(world) if callable(case.json) else case.json
                    response = client.open(url, method=case.method, json=body or {}, headers=headers)
                elif case.method == "POST":
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
    # less the CSRF tokens, which carry a timestamp and so differ between renders a second apart
    assert CSRF_RE.sub("", hidden.get_data(as_text=True)) == CSRF_RE.sub("", missing.get_data(as_text=True))
