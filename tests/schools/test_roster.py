"""Pupils and contacts imports: create, update, validate, all or nothing."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from outreach.extensions import db
from outreach.registers.models import ImportBatch
from outreach.schools.models import Contact, Pupil, PupilContact
from outreach.schools.roster import import_contacts, import_pupils
from outreach.schools.upn import make_upn
from tests.factories import make_school
from tests.registers.conftest import table_counts, write

P1, P2, P3 = (make_upn(823, 2001, 24, n) for n in (11, 12, 13))


def _temp_upn() -> str:
    from outreach.schools.upn import check_letter

    body = "82320012401A"
    return check_letter(body) + body


@pytest.fixture()
def school():
    school = make_school(urn="100001")
    db.session.commit()
    return school


HEADER = "UPN,Legal Forename,Legal Surname,Preferred Forename,DOB,Year,Reg Group,FSM,SEN Status,EAL,Gender,Admission Date,Leaving Date\n"


def test_pupils_created_then_updated_then_unchanged(tmp_path, school):
    text = HEADER + (f"{P1},Amira,Khan,Mira,01/05/2016,Year 3,3K,Y,SEN Support,N,F,02/09/2021,\n"
                     f"{P2},Jan,Nowak,,2015-03-04,R,RB,no,E,yes,Male,2023-09-04,\n"
                     f"{_temp_upn()},Sam,Lee,,,X,,0,,1,,,\n")
    report = import_pupils(school, write(tmp_path, "p.csv", text, bom=True, crlf=True))
    assert report.ok and (report.added, report.changed, report.unchanged) == (3, 0, 0)
    amira = db.session.scalar(select(Pupil).where(Pupil.upn == P1))
    assert (amira.forename, amira.preferred_forename, amira.date_of_birth, amira.year_group, amira.reg_group,
            amira.fsm, amira.sen_status, amira.eal, amira.sex, amira.admission_date) == (
        "Amira", "Mira", date(2016, 5, 1), "3", "3K", True, "K", False, "F", date(2021, 9, 2))
    jan = db.session.scalar(select(Pupil).where(Pupil.upn == P2))
    assert (jan.year_group, jan.sen_status, jan.eal, jan.sex) == ("R", "E", True, "M")
    batch = db.session.get(ImportBatch, report.batch_id)
    assert (batch.kind, batch.status, batch.added) == ("pupils", "completed", 3)

    moved = text.replace("3K,Y,SEN Support", "3P,Y,SEN Support").replace("2023-09-04,\n", "2023-09-04,20/12/2024\n")
    update = import_pupils(school, write(tmp_path, "p2.csv", moved))
    assert (update.added, update.changed, update.unchanged) == (0, 2, 1)
    assert {"upn": P1, "field": "reg_group", "old": "3K", "new": "3P"} in update.changes
    assert {"upn": P2, "field": "leaving_date", "old": None, "new": "2024-12-20"} in update.changes
    again = import_pupils(school, write(tmp_path, "p3.csv", moved))
    assert again.no_changes and again.unchanged == 3


def test_absent_columns_leave_fields_alone(tmp_path, school):
    import_pupils(school, write(tmp_path, "p.csv", HEADER + f"{P1},Amira,Khan,,01/05/2016,3,3K,Y,K,N,F,,\n"))
    report = import_pupils(school, write(tmp_path, "names.csv", f"UPN,Forename,Surname\n{P1},Amira,Khan-Smith\n"))
    assert report.changed == 1
    amira = db.session.scalar(select(Pupil).where(Pupil.upn == P1))
    assert (amira.surname, amira.fsm, amira.reg_group, amira.sen_status) == ("Khan-Smith", True, "3K", "K")


@pytest.mark.parametrize("row, field, value, message", [
    (f"B{P1[1:]},A,B,,,,,,,,,,", "UPN", f"B{P1[1:]}", "check letter should be"),
    ("123,A,B,,,,,,,,,,", "UPN", "123", "13 characters"),
    (f"{P1},,B,,,,,,,,,,", "Legal Forename", "", "blank"),
    (f"{P1},A,B,,31/02/2016,,,,,,,,", "DOB", "31/02/2016", "no such date"),
    (f"{P1},A,B,,,Year 15,,,,,,,", "Year", "Year 15", "year group"),
    (f"{P1},A,B,,,,,maybe,,,,,", "FSM", "maybe", "expected Y or N"),
    (f"{P1},A,B,,,,,,Q,,,,", "SEN Status", "Q", "N (none), K"),
    (f"{P1},A,B,,,,,,,,X,,", "Gender", "X", "M or F"),
    (f"{P1},A,B,,,,,,,,,2024-09-02,2024-09-01", "Leaving Date", "2024-09-01", "before the admission date"),
])
def test_bad_pupil_rows_are_refused_and_nothing_changes(tmp_path, school, row, field, value, message):
    import_pupils(school, write(tmp_path, "ok.csv", HEADER + f"{P3},Ok,Pupil,,,,,,,,,,\n"))
    before = table_counts()
    report = import_pupils(school, write(tmp_path, "bad.csv", HEADER + f"{P2},Fine,Row,,,,,,,,,,\n" + row + "\n"))
    assert report.status == "failed"
    (error,) = report.errors
    assert (error["file"], error["line"], error["field"], error["value"]) == ("bad.csv", 3, field, value)
    assert message in error["message"]
    after = table_counts()
    assert after.pop("import_batches") == before.pop("import_batches") + 1
    assert after == before


def test_duplicate_upn_and_missing_columns(tmp_path, school):
    dup = import_pupils(school, write(tmp_path, "d.csv", f"UPN,Forename,Surname\n{P1},A,B\n{P1},C,D\n"))
    assert dup.errors[0]["line"] == 3 and "already on line 2" in dup.errors[0]["message"]
    missing = import_pupils(school, write(tmp_path, "m.csv", f"UPN,Forename\n{P1},A\n"))
    assert missing.errors[0]["field"] == "surname" and "missing column surname" in missing.errors[0]["message"]
    empty = import_pupils(school, write(tmp_path, "e.csv", "UPN,Forename,Surname\n"))
    assert "no rows" in empty.errors[0]["message"]
    assert db.session.scalars(select(Pupil)).all() == []


def _pupils(tmp_path, school):
    import_pupils(school, write(tmp_path, "p.csv", f"UPN,Forename,Surname\n{P1},Amira,Khan\n{P2},Omar,Khan\n{P3},Jan,Nowak\n"))


def test_contacts_link_siblings_to_one_contact_in_e164(tmp_path, school):
    _pupils(tmp_path, school)
    text = ("UPN,Contact Name,Relationship,Mobile,Language,SMS Consent,Priority\n"
            f"{P1},Mrs Sara Khan,Mother,07700 900123,ur,Y,1\n"
            f"{P2},Mrs  Sara Khan,Mother,+44 7700 900123,,,\n"
            f"{P1},Mr Ali Khan,Father,07700900124,,N,2\n"
            f"{P3},Ewa Nowak,,07700900125,PL,,\n")
    report = import_contacts(school, write(tmp_path, "c.csv", text, bom=True, crlf=True))
    assert report.ok and (report.added, report.changed, report.unchanged) == (4, 0, 0)
    contacts = {c.name: c for c in db.session.scalars(select(Contact))}
    assert set(contacts) == {"Mrs Sara Khan", "Mr Ali Khan", "Ewa Nowak"}
    sara = contacts["Mrs Sara Khan"]
    assert (sara.phone, sara.preferred_language, sara.sms_consent) == ("+447700900123", "ur", True)
    assert len(sara.pupil_links) == 2
    assert contacts["Mr Ali Khan"].sms_consent is False and contacts["Ewa Nowak"].preferred_language == "pl"
    links = {(link.pupil.upn, link.contact.name): (link.relationship_label, link.priority)
             for link in db.session.scalars(select(PupilContact))}
    assert links[(P1, "Mr Ali Khan")] == ("father", 2)
    assert links[(P2, "Mrs Sara Khan")] == ("mother", 1)
    assert links[(P3, "Ewa Nowak")] == ("parent", 1)

    again = import_contacts(school, write(tmp_path, "c2.csv", text))
    assert again.no_changes and again.unchanged == 4
    changed = import_contacts(school, write(tmp_path, "c3.csv", text.replace(",N,2", ",Y,2")))
    assert (changed.changed, changed.unchanged) == (1, 3)
    assert db.session.scalar(select(Contact.sms_consent).where(Contact.name == "Mr Ali Khan")) is True


@pytest.mark.parametrize("row, field, value, message", [
    (f"{P1},Mrs Khan,mother,12345,en,Y,1", "Phone", "12345", "phone number"),
    (f"{P1},,mother,07700900123,en,Y,1", "Name", "", "blank"),
    (f"{P1},Mrs Khan,mother,07700900123,english language,Y,1", "Language", "english language", "language code"),
    (f"{P1},Mrs Khan,mother,07700900123,en,perhaps,1", "SMS Consent", "perhaps", "Y or N"),
    (f"{P1},Mrs Khan,mother,07700900123,en,Y,first", "Priority", "first", "whole number"),
    ("A999999999999,Mrs Khan,mother,07700900123,en,Y,1", "UPN", "A999999999999", "no pupil with this UPN"),
    (f"{P2},Mr Khan,father,07700900124,en,N,1", "SMS Consent", "False", "different sms_consent"),
])
def test_bad_contact_rows_are_refused(tmp_path, school, row, field, value, message):
    _pupils(tmp_path, school)
    before = table_counts()
    text = "UPN,Name,Relationship,Phone,Language,SMS Consent,Priority\n" + f"{P1},Mr Khan,father,07700900124,en,Y,1\n" + row + "\n"
    report = import_contacts(school, write(tmp_path, "bad.csv", text))
    assert report.status == "failed"
    error = report.errors[-1]
    assert (error["line"], error["field"], error["value"]) == (3, field, value)
    assert message in error["message"]
    after = table_counts()
    assert after.pop("import_batches") == before.pop("import_batches") + 1
    assert after == before


def test_contacts_dry_run_writes_nothing(tmp_path, school):
    _pupils(tmp_path, school)
    before = table_counts()
    report = import_contacts(school, write(tmp_path, "c.csv", f"UPN,Name,Phone\n{P1},Mrs Khan,07700900123\n"), dry_run=True)
    assert report.status == "dry_run" and report.added == 1
    assert table_counts() == before
