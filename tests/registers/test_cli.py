"""``outreach import ...``: exit codes, the summary line, errors printed."""
from __future__ import annotations

from sqlalchemy import func, select

from outreach.extensions import db
from outreach.registers.models import Mark
from tests.registers.conftest import UPNS, long_csv, write

A, B, _ = UPNS


def _rows(upn, codes):
    days = ["2024-09-02", "2024-09-02", "2024-09-03", "2024-09-03"]
    return [(upn, d, s, c) for d, s, c in zip(days, ["AM", "PM", "AM", "PM"], codes)]


def test_registers_success_reimport_correction_and_dry_run(runner, school, tmp_path):
    path = write(tmp_path, "r.csv", long_csv(_rows(A, ["/", "\\", "N", "-"])))
    out = runner.invoke(args=["import", "registers", str(path), "--school", school.urn])
    assert out.exit_code == 0, out.output
    assert "added 3, changed 0, unchanged 0, not taken 1" in out.output
    assert "1 session with no mark taken yet" in out.output

    again = runner.invoke(args=["import", "registers", str(path), "--school", school.urn])
    assert again.exit_code == 0 and "no changes" in again.output and "same file as import 1" in again.output

    corrected = write(tmp_path, "c.csv", long_csv(_rows(A, ["/", "\\", "I", "-"])))
    dry = runner.invoke(args=["import", "registers", str(corrected), "--school", school.urn, "--dry-run"])
    assert dry.exit_code == 0
    assert "dry run (nothing written): added 0, changed 1, unchanged 2" in dry.output
    assert f"{A} 2024-09-03 AM: N -> I" in dry.output
    real = runner.invoke(args=["import", "registers", str(corrected), "--school", school.urn, "--format", "long"])
    assert real.exit_code == 0 and "added 0, changed 1, unchanged 2, not taken 1" in real.output


def test_registers_failure_prints_errors_and_exits_non_zero(runner, school, tmp_path):
    rows = _rows(A, ["/", "\\", "ZZ", "/"]) + _rows("NOBODY", ["/", "/", "/", "/"])
    path = write(tmp_path, "bad.csv", long_csv(rows))
    out = runner.invoke(args=["import", "registers", str(path), "--school", school.urn])
    assert out.exit_code == 1
    assert "bad.csv, line 4, field Mark: value 'ZZ'" in out.output
    assert "unknown UPNs (1): NOBODY" in out.output
    assert "import failed: 2 errors; nothing was changed" in out.output
    assert db.session.scalar(select(func.count()).select_from(Mark)) == 0


def test_more_than_fifty_errors_are_counted(runner, school, tmp_path):
    rows = [(A, f"2024-09-{d:02d}", s, "ZZ") for d in range(1, 31) for s in ("AM", "PM")]
    out = runner.invoke(args=["import", "registers", str(write(tmp_path, "r.csv", long_csv(rows))), "--school", school.urn])
    assert out.exit_code == 1 and "... and 10 more errors" in out.output


def test_registers_mapping_option_and_bad_school(runner, school, tmp_path):
    mapping = write(tmp_path, "m.json", '{"columns": {"upn": "Ref", "date": "Day", "session": "S", "code": "M"}}')
    path = write(tmp_path, "r.csv", f"Ref,Day,S,M\n{A},02/09/2024,AM,/\n")
    out = runner.invoke(args=["import", "registers", str(path), "--school", school.urn, "--mapping", str(mapping)])
    assert out.exit_code == 0 and "added 1," in out.output
    out = runner.invoke(args=["import", "registers", str(path), "--school", "999999"])
    assert out.exit_code == 1 and "no school with URN 999999" in out.output
    out = runner.invoke(args=["import", "registers", str(path), "--school", school.urn, "--mapping", "nonesuch"])
    assert out.exit_code == 1 and "neither a built-in mapping" in out.output
    out = runner.invoke(args=["import", "registers", str(tmp_path / "none.csv"), "--school", school.urn])
    assert out.exit_code == 2


def test_pupils_and_contacts_commands(runner, school, tmp_path):
    from outreach.schools.upn import make_upn

    new = make_upn(823, 2001, 24, 50)
    pupils = write(tmp_path, "p.csv", f"UPN,Forename,Surname,Year Group,FSM\n{new},Jan,Nowak,Year 4,Y\n")
    out = runner.invoke(args=["import", "pupils", str(pupils), "--school", school.urn, "--dry-run"])
    assert out.exit_code == 0 and "dry run (nothing written): added 1, changed 0, unchanged 0" in out.output
    out = runner.invoke(args=["import", "pupils", str(pupils), "--school", school.urn])
    assert out.exit_code == 0 and out.output.strip().startswith("added 1, changed 0, unchanged 0")
    assert "not taken" not in out.output
    contacts = write(tmp_path, "c.csv", f"UPN,Name,Phone\n{new},Ewa Nowak,07700 900123\n{A},Ewa Nowak,07700900123\n")
    out = runner.invoke(args=["import", "contacts", str(contacts), "--school", school.urn])
    assert out.exit_code == 0 and "added 2, changed 0, unchanged 0" in out.output
    bad = write(tmp_path, "bad.csv", f"UPN,Name,Phone\n{new},Ewa Nowak,12\n")
    out = runner.invoke(args=["import", "contacts", str(bad), "--school", school.urn])
    assert out.exit_code == 1 and "line 2, field Phone: value '12'" in out.output
