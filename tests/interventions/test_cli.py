"""The terminal commands an officer uses until the pages exist."""
from __future__ import annotations

import io
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from outreach.extensions import db
from outreach.interventions.models import Intervention, Referral, Task
from tests.factories import make_contact, make_pupil
from tests.interventions.builders import absent_on, school_days, write_register


def _setup(school):
    pupil = make_pupil(school, forename="Amira", surname="Khan")
    make_contact(school, [pupil], name="Ms Khan")
    days = school_days(date(2024, 11, 11), date(2024, 11, 13))
    write_register(school, {pupil: absent_on(days, "N")}, end=days[-1])
    return pupil


def test_log_list_tasks_and_close(runner, school):
    pupil = _setup(school)
    out = runner.invoke(args=["interventions", "log", "--school", school.urn, "--type", "home_visit", "--pupil", pupil.upn,
                              "--by", "Mr Jones", "--when", "2024-11-12 16:00", "--outcome", "nobody home"])
    assert out.exit_code == 0, out.output
    row = db.session.scalar(select(Intervention))
    assert row.occurred_at.hour == 16  # GMT in November
    out = runner.invoke(args=["interventions", "list", "--school", school.urn, "--pupil", pupil.upn])
    assert "Home visit" in out.output and "nobody home" in out.output

    out = runner.invoke(args=["interventions", "rules", "evaluate", "--school", school.urn, "--as-of", "2024-11-13"])
    assert out.exit_code == 0 and "new task(s)" in out.output
    out = runner.invoke(args=["interventions", "tasks", "--school", school.urn])
    assert "Several school days absent in a row" in out.output and pupil.upn in out.output
    task = db.session.scalar(select(Task).where(Task.rule == "consecutive_absence"))
    out = runner.invoke(args=["interventions", "close-task", str(task.id), "--school", school.urn, "--status", "dismissed",
                              "--by", "Ms Patel"])
    assert out.exit_code == 1 and "give a reason" in out.output
    out = runner.invoke(args=["interventions", "close-task", str(task.id), "--school", school.urn, "--status", "done",
                              "--by", "Ms Patel"])
    assert out.exit_code == 0


def test_bad_input_gives_a_message_not_a_traceback(runner, school):
    pupil = _setup(school)
    out = runner.invoke(args=["interventions", "log", "--school", school.urn, "--type", "notice_to_improve",
                              "--pupil", pupil.upn, "--by", "Ms Patel", "--detail", "improvement_weeks=9"])
    assert out.exit_code == 1 and "3 to 6 weeks" in out.output and "Traceback" not in out.output
    out = runner.invoke(args=["interventions", "log", "--school", school.urn, "--type", "text", "--pupil", "X000000000000",
                              "--by", "Ms Patel"])
    assert out.exit_code == 1 and "no pupil with UPN" in out.output
    out = runner.invoke(args=["interventions", "rules", "settings", "--school", school.urn, "penalty_sessions=0"])
    assert out.exit_code == 1 and "between 1 and 100" in out.output


def test_letter_timeline_export_and_settings(runner, school, tmp_path):
    pupil = _setup(school)
    pdf = tmp_path / "letter.pdf"
    out = runner.invoke(args=["interventions", "letter", "--school", school.urn, "--kind", "notice_to_improve",
                              "--pupil", pupil.upn, "--sender", "Ms Patel", "--value", "improvement_weeks=3", "--out", str(pdf)])
    assert out.exit_code == 0, out.output
    assert "Amira Khan" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages)
    assert db.session.scalar(select(Intervention.type)) == "notice_to_improve"
    out = runner.invoke(args=["interventions", "timeline", "--school", school.urn, "--pupil", pupil.upn])
    assert "Notice to improve" in out.output
    pack = tmp_path / "case.zip"
    out = runner.invoke(args=["interventions", "timeline", "--school", school.urn, "--pupil", pupil.upn, "--export", str(pack),
                              "--by", "Ms Patel", "--purpose", "targeting meeting"])
    assert out.exit_code == 0 and pack.read_bytes()[:2] == b"PK"
    out = runner.invoke(args=["interventions", "rules", "settings", "--school", school.urn, "consecutive_days=4"])
    assert out.exit_code == 0 and "consecutive_days             4" in out.output


def test_referral_commands(runner, school, tmp_path):
    pupil = _setup(school)
    out = runner.invoke(args=["referrals", "draft", "--school", school.urn, "--pupil", pupil.upn, "--by", "Ms Patel",
                              "--reason", "Family asked for help"])
    assert out.exit_code == 0 and "days missed this year, 0 intervention(s), 1 contact(s)" in out.output
    rid = str(db.session.scalar(select(Referral.id)))
    out = runner.invoke(args=["referrals", "decide", rid, "--school", school.urn, "--accepted", "--by", "Ms Patel", "--lead", "Sam"])
    assert out.exit_code == 1 and "it must be submitted first" in out.output
    for args in (["consent", rid, "--given", "--by-whom", "Ms Khan", "--method", "phone", "--recorded-by", "Ms Patel"],
                 ["submit", rid, "--by", "Ms Patel", "--to", "Early help hub"],
                 ["decide", rid, "--accepted", "--by", "Ms Patel", "--lead", "Sam Reid", "--first-review", "2099-01-05"]):
        out = runner.invoke(args=["referrals", *args, "--school", school.urn])
        assert out.exit_code == 0, out.output
    out = runner.invoke(args=["referrals", "show", rid, "--school", school.urn])
    assert "accepted" in out.output and "2099-01-05 scheduled" in out.output
    html = tmp_path / "ref.html"
    out = runner.invoke(args=["referrals", "export", rid, "--school", school.urn, "--out", str(html), "--by", "Ms Patel"])
    assert out.exit_code == 0 and "Amira Khan" in html.read_text()
