"""Today, school overview, pupils (with CSV export), pupil and trust pages on a constructed
register (tests/dashboard/registers.py): content, filters, sorting, scoping and audit."""
from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from outreach.attendance import queries as aq
from outreach.core.audit.models import AuditEvent
from outreach.extensions import db
from tests.dashboard.registers import build_registers
from tests.dashboard.world import CSRF_RE, World, signed_in_client


@pytest.fixture()
def reg(world: World) -> dict[str, Any]:
    return build_registers(world)


def text(response: Any) -> str:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[-1500:])
    return response.get_data(as_text=True)


def without_tokens(html: str) -> str:
    """The page less its CSRF tokens: they carry a timestamp, so two renders a second apart differ."""
    return CSRF_RE.sub("", html)


def section(html: str, heading_id: str) -> str:
    return html.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]


def row_names(html: str) -> list[str]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a>', body)


def audits(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# --- Today ---------------------------------------------------------------------------------------


def test_today_lists_unexplained_absences_newly_persistent_and_overdue_n_codes(app: Flask, world: World, reg: dict[str, Any]) -> None:
    html = text(signed_in_client(app, world.email("officer")).get("/today?school=100001"))
    newly, chased, severe = reg["newly"], reg["chased"], reg["severe"]
    unexplained = section(html, "unexplained")
    assert newly.display_name in unexplained
    assert chased.display_name not in unexplained  # N today, but a first-day call is logged
    assert f"/schools/100001/pupils/{newly.id}" in unexplained
    crossed = section(html, "newly")
    assert newly.display_name in crossed and "Persistent absence" in crossed
    assert severe.display_name not in crossed  # severely absent since September: not new
    overdue = section(html, "overdue")
    assert chased.display_name in overdue and newly.display_name not in overdue
    day = reg["days"][-11]
    assert f"{day.strftime('%a')} {day.day} {day.strftime('%b %Y')}" in overdue
    assert '<span class="stat-value">1</span> <span class="stat-label">unexplained absences today' in html


def test_today_offers_write_roles_a_way_to_act_and_read_roles_none(app: Flask, world: World, reg: dict[str, Any]) -> None:
    officer = section(text(signed_in_client(app, world.email("officer")).get("/today?school=100001")), "unexplained")
    assert f'/schools/100001/interventions/new?pupil_ids={reg["newly"].id}&amp;type=first_day_call' in officer
    head = section(text(signed_in_client(app, world.email("head")).get("/today")), "unexplained")
    assert "/interventions/new" not in head and reg["newly"].display_name in head


def test_today_remembers_the_school_and_says_when_there_is_nothing(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("officer"))
    text(client.get("/today?school=100002"))
    html = text(client.get("/today"))
    assert "Birch Academy" in html.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert "No register import has been completed" in html
    assert "Nothing yet: today&#39;s registers have not been imported." in html or "Nothing yet" in html
    assert client.get("/pupils").headers["Location"].endswith("/schools/100002/pupils")


def test_first_nav_entry_is_today(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("head"))
    assert client.get("/").headers["Location"].endswith("/today")


def test_switcher_keeps_the_page(app: Flask, world: World) -> None:
    client = signed_in_client(app, world.email("officer"))
    assert client.get("/schools/go?urn=100002&to=dashboard.overview").headers["Location"] == "/schools/100002/overview"
    assert client.get("/schools/go?urn=100002&to=dashboard.today").headers["Location"] == "/today?school=100002"
    assert client.get("/schools/go?urn=100002&to=dashboard.pupil").headers["Location"] == "/schools/100002"
    assert client.get("/schools/go?urn=100002&to=nonsense").headers["Location"] == "/schools/100002"
    assert 'name="to" value="dashboard.overview"' in text(client.get("/schools/100001/overview"))


# --- overview ----------------------------------------------------------------------------------


def test_overview_shows_year_term_last_year_reference_trend_and_gaps(app: Flask, world: World, reg: dict[str, Any]) -> None:
    html = text(signed_in_client(app, world.email("head")).get("/schools/100001/overview"))
    school = reg["school"]
    year = aq.school_measures(school.id, reg["days"][0].replace(day=1), reg["today"])
    assert f"{year.attendance_pct:.1f}%" in html
    assert f"{year.persistent_absence_enrolments} of {year.enrolments} pupils" in html
    measures = section(html, "measures-heading")
    for label in ("This year so far", "This term (", "Same span last year", "Same term last year", "England"):
        assert label in measures, label
    assert "Department for Education" in html
    trend = section(html, "trend-heading")
    assert 'role="img"' in trend and "<desc" in trend
    weeks = aq.weekly_trend(school.id, reg["days"][0].replace(day=1), reg["today"])
    assert trend.count('<tr><th scope="row">') == len(weeks) > 10
    gaps = section(html, "gaps-heading")
    assert gaps.count("<svg") == 2
    for label in ("Year group", "Free school meals", "FSM", "SEN support", "Year 6"):
        assert label in gaps, label


def test_overview_of_a_school_without_marks_explains_itself(app: Flask, world: World) -> None:
    html = text(signed_in_client(app, world.email("officer")).get("/schools/100002/overview"))
    assert "No sessions yet this year." in html
    assert "No sessions were recorded in this range." in html  # the chart's description


# --- pupils ------------------------------------------------------------------------------------


def pupils(client: Any, query: str = "") -> list[str]:
    return row_names(text(client.get("/schools/100001/pupils" + query)))


def name(p: Any) -> str:
    return f"{p.surname}, {p.preferred_forename or p.forename}"


def test_pupil_list_sorts_by_attendance_lowest_first_then_any_column(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("officer"))
    rows = pupils(client)
    assert rows[0] == name(reg["severe"]) and rows[1] == name(reg["newly"])
    assert rows[-1] in (name(reg["good"]), name(reg["left"]))
    assert len(rows) == 5  # the pupil who left had sessions this year, so is listed (tagged Left)
    html = text(client.get("/schools/100001/pupils?sort=year"))
    assert 'aria-sort="ascending"' in html
    assert "sort=year&amp;order=desc" in html  # a second click reverses
    assert pupils(client, "?sort=year&order=desc")[0] == name(reg["severe"])  # year 6 first
    assert pupils(client, "?sort=absent&order=asc")[-1] == name(reg["severe"])


def test_pupil_list_filters(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("officer"))
    assert set(pupils(client, "?flag=pa")) == {name(reg["severe"]), name(reg["newly"])}
    assert pupils(client, "?flag=sa") == [name(reg["severe"])]
    assert pupils(client, "?year=6") == [name(reg["severe"])]
    assert set(pupils(client, "?reg=1b")) == {name(reg["newly"]), name(reg["chased"])}
    assert pupils(client, "?cohort=fsm") == [name(reg["newly"])]
    assert pupils(client, "?cohort=sen_support") == [name(reg["severe"])]
    assert pupils(client, f"?q={reg['chased'].upn.lower()}") == [name(reg["chased"])]
    assert pupils(client, f"?q={reg['good'].forename}") == [name(reg["good"])]
    html = text(client.get("/schools/100001/pupils?q=nobody-here"))
    assert "No pupil matches these filters" in html


def test_pupil_list_refuses_options_it_does_not_know(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("officer"))
    for bad in ("?sort=shoe_size", "?flag=maybe", "?year=99", "?order=up", "?period=decade", "?q=" + "x" * 101):
        response = client.get("/schools/100001/pupils" + bad)
        assert response.status_code == 400, bad
        assert "were not understood" in response.get_data(as_text=True)
    assert client.get("/schools/100001/pupils?page=abc").status_code == 200


def test_pupil_list_pages(app: Flask, world: World, reg: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from outreach.dashboard import routes

    monkeypatch.setattr(routes, "PER_PAGE", 2)
    client = signed_in_client(app, world.email("officer"))
    first, second, third = pupils(client), pupils(client, "?page=2"), pupils(client, "?page=3")
    assert len(first) == len(second) == 2 and len(third) == 1
    assert len(set(first + second + third)) == 5
    html = text(client.get("/schools/100001/pupils?flag=pa&page=1"))
    assert "Page 1 of 1" not in html  # one page: no pager


def test_csv_export_is_the_filtered_list_and_is_audited(app: Flask, world: World, reg: dict[str, Any]) -> None:
    reg["good"].surname = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    client = signed_in_client(app, world.email("officer"))
    response = client.get("/schools/100001/pupils.csv?flag=pa&sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'attachment; filename="pupils-100001-' in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    by_name = sorted([reg["newly"], reg["severe"]], key=lambda p: (p.surname.casefold(), p.forename.casefold()))
    assert [r["upn"] for r in rows] == [p.upn for p in by_name]
    assert {r["persistent_absence"] for r in rows} == {"True"}
    assert list(rows[0])[:4] == ["upn", "surname", "forename", "preferred_forename"]
    assert "attendance_pct" in rows[0] and "unauthorised_sessions" in rows[0]
    event = audits("pupils.export")[-1]
    assert {p.pupil_id for p in event.pupils} == {reg["newly"].id, reg["severe"].id}
    assert event.detail["flag"] == "pa" and event.detail["rows"] == 2
    everyone = client.get("/schools/100001/pupils.csv").get_data(as_text=True)
    assert "'=HYPERLINK" in everyone and "\n=HYPERLINK" not in everyone


# --- pupil -------------------------------------------------------------------------------------


def test_pupil_page_calendar_measures_projection_contacts_timeline(app: Flask, world: World, reg: dict[str, Any]) -> None:
    newly = reg["newly"]
    client = signed_in_client(app, world.email("officer"))
    html = text(client.get(f"/schools/100001/pupils/{newly.id}"))
    assert f"<h1>{newly.display_name}" in html
    calendar = section(html, "calendar-heading")
    assert calendar.count('<span class="mark mark-unauthorised">O</span>') == 14
    assert calendar.count('<span class="mark mark-unauthorised">N</span>') == 2
    assert "Unauthorised absence" in calendar and "Present" in calendar  # the legend, in words
    today = reg["today"]
    assert f"{today.strftime('%a')} {today.day} {today.strftime('%B')}: AM N: " in calendar
    assert "more sessions (about" in html or "the year&#39;s figure will be persistent absence" in html
    projection = aq.year_end_projection(newly.school_id, today, pupil_ids=[newly.id]).pupils[0]
    assert f'<span class="stat-value">{projection.sessions_until_pa}</span>' in html
    contacts = section(html, "contacts")
    assert "Alex Parent" in contacts and 'href="tel:+447700900123"' in contacts
    timeline = section(html, "timeline-heading")
    assert "Nothing yet" in timeline  # marks were written directly, not through an import
    event = audits("pupil.view")[-1]
    assert [p.pupil_id for p in event.pupils] == [newly.id] and event.user_email == world.email("officer")


def test_pupil_timeline_shows_interventions(app: Flask, world: World, reg: dict[str, Any]) -> None:
    html = text(signed_in_client(app, world.email("head")).get(f"/schools/100001/pupils/{reg['chased'].id}"))
    timeline = section(html, "timeline-heading")
    assert "First-day call" in timeline and "Mum says ill" in timeline


# --- trust -------------------------------------------------------------------------------------


def test_trust_page_compares_schools_with_sparklines(app: Flask, world: World, reg: dict[str, Any]) -> None:
    client = signed_in_client(app, world.email("trust_lead"))
    location = client.get("/trust").headers["Location"]
    html = text(client.get(location))
    assert row_names(html) == ["Ash Primary", "Birch Academy"]
    assert html.count('class="sparkline"') == 1 and "no weeks yet" in html  # B has no marks
    assert "Cedar" not in html
    ash = aq.trust_comparison(world.schools["A"].trust_id)[0].measures
    assert f"{ash.attendance_pct:.1f}%" in html
    flipped = text(client.get(location + "?sort=name&order=desc"))
    assert row_names(flipped) == ["Birch Academy", "Ash Primary"]
    assert client.get(location + "?sort=colour").status_code == 400


def test_admin_chooses_a_trust(app: Flask, world: World) -> None:
    html = text(signed_in_client(app, world.email("admin")).get("/trust"))
    assert "North Trust" in html and "South Trust" in html


# --- figures kept per process ----------------------------------------------------------------


def test_kept_figures_follow_new_marks_at_once(app: Flask, world: World, reg: dict[str, Any]) -> None:
    """The overview and pupil list are kept per process; a store write (what every import does)
    bumps the school's figure version in its transaction, so the next page shows the change."""
    from outreach.attendance.models import FigureVersion
    from outreach.registers import store

    school, good, today = reg["school"], reg["good"], reg["today"]
    client = signed_in_client(app, world.email("officer"))
    before = without_tokens(text(client.get("/schools/100001/overview")))
    assert without_tokens(text(client.get("/schools/100001/overview"))) == before  # kept
    assert name(good) not in pupils(client, "?flag=pa")
    version = db.session.get(FigureVersion, school.id).version
    days = [d for d in reg["days"] if d != today][-14:]
    store.write(db.session, school.id, [(good.id, d, s, "O") for d in days for s in ("AM", "PM")])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(FigureVersion, school.id).version == version + 1
    after = without_tokens(text(client.get("/schools/100001/overview")))
    year = aq.school_measures(school.id)
    assert after != before and f"{year.attendance_pct:.1f}%" in after
    assert name(good) in pupils(client, "?flag=pa")  # 28 of about 130 sessions missed now


def test_kept_page_bodies_carry_nothing_of_the_user_who_first_saw_them(app: Flask, world: World,
                                                                          reg: dict[str, Any]) -> None:
    """The overview and pupil-list bodies are rendered once per figure version and reused for
    everyone who may see the school: the header (name, role, sign-out token) must still be the
    viewer's own, and the body the same for both."""
    officer = signed_in_client(app, world.email("officer"))
    head = signed_in_client(app, world.email("head"))
    for path in ("/schools/100001/overview", "/schools/100001/pupils?sort=name"):
        first = text(officer.get(path))
        second = text(head.get(path))
        assert world.email("officer") in first and world.email("officer") not in second
        assert world.email("head") in second and world.email("head") not in first
        body = lambda html: html.split('<main id="main"', 1)[1]  # noqa: E731
        assert without_tokens(body(first)) == without_tokens(body(second))
        assert CSRF_RE.search(first).group(1) != CSRF_RE.search(second).group(1)  # each their own session's
