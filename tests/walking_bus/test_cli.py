"""``outreach walking-bus ...`` through the real CLI runner."""
from __future__ import annotations

from outreach.extensions import db
from tests.factories import make_contact, make_pupil, make_school


def test_cli_route_stops_place_ambassadors_and_rota(runner, db) -> None:  # type: ignore[no-untyped-def]
    school = make_school()
    pupil = make_pupil(school)
    make_contact(school, [], name="Amb One", phone="+447700900151")
    make_contact(school, [], name="Amb Two", phone="+447700900152")
    db.session.commit()
    out = runner.invoke(args=["walking-bus", "create-route", "--school", "100001", "--name", "Green Lane", "--days", "mon,wed",
                              "--start", "2026-01-05", "--arrival", "08:40"])
    assert out.exit_code == 0 and "route 1 created" in out.output
    out = runner.invoke(args=["walking-bus", "add-stop", "--school", "100001", "--route", "1", "--name", "Library",
                              "--minutes", "10"])
    assert "pickup 08:30" in out.output
    out = runner.invoke(args=["walking-bus", "enrol", "--school", "100001", "--route", "1", "--pupil", pupil.upn,
                              "--stop", "1", "--start", "2026-03-02", "--consent-by", "Ms Khan", "--consent-method", "written"])
    assert out.exit_code == 0, out.output
    for phone in ("+447700900151", "+447700900152"):
        out = runner.invoke(args=["walking-bus", "add-ambassador", "--school", "100001", "--phone", phone, "--days", "mon"])
        assert out.exit_code == 0, out.output
    out = runner.invoke(args=["walking-bus", "rota", "generate", "--school", "100001", "--week", "2026-03-04"])
    assert "week of 02 Mar 2026" in out.output and "GAP route 1 Wed 04 Mar: short by 2 (0 of 2)" in out.output
    out = runner.invoke(args=["walking-bus", "rota", "show", "--school", "100001", "--week", "2026-03-02"])
    assert "Mon 02 Mar: Amb One, Amb Two (2 of 2; 1 children)" in out.output and "SHORT BY 2" in out.output
    out = runner.invoke(args=["walking-bus", "routes", "--school", "100001"])
    assert "Green Lane" in out.output and "1. Library 08:30" in out.output


def test_cli_errors_are_messages_not_tracebacks(runner, db) -> None:  # type: ignore[no-untyped-def]
    make_school()
    db.session.commit()
    out = runner.invoke(args=["walking-bus", "create-route", "--school", "100001", "--name", "X", "--days", "sat",
                              "--start", "2026-01-05", "--arrival", "8.40"])
    assert out.exit_code == 1 and "--arrival must be a time like 08:40" in out.output
    out = runner.invoke(args=["walking-bus", "rota", "generate", "--school", "999"])
    assert out.exit_code == 1 and "no school with URN 999" in out.output
