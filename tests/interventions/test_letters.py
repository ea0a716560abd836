"""Letters render as HTML and PDF, in supportive wording, and sending one logs it."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone

import pytest
from pypdf import PdfReader

from outreach.core.errors import UserError
from outreach.interventions import letters
from tests.factories import make_contact, make_pupil
from tests.interventions.builders import absent_on, school_days, write_register

NOW = datetime(2024, 11, 15, 10, 0, tzinfo=timezone.utc)


@pytest.fixture()
def family(school):
    older = make_pupil(school, forename="Łukasz", surname="Kowalski", date_of_birth=date(2016, 3, 1))
    younger = make_pupil(school, forename="Zoë", surname="Kowalski", date_of_birth=date(2018, 5, 1))
    make_contact(school, [older, younger], name="Mrs Anna Kowalska")
    days = school_days(date(2024, 11, 4), date(2024, 11, 8))
    write_register(school, {older: absent_on(days[:3], "I") | {days[3]: ("O", "\\")}, younger: absent_on(days[:2], "I")},
                   end=date(2024, 11, 15))
    return older, younger


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_concern_letter_gives_days_missed_not_percentages_and_offers_help(school, family):
    older, younger = family
    letter = letters.render_letter(school, "attendance_concern", [younger.id, older.id], sender="Ms Patel",
                                   today=NOW.date())
    assert "Mrs Anna Kowalska" in letter.html and "Łukasz and Zoë" in letter.html
    assert "3.5 days" in letter.html and "2 days" in letter.html and "1 September 2024" in letter.html
    assert "%" not in letter.html.split("<body>")[1].replace("{%", "")
    assert "we would like to help" in letter.html and "walking bus" in letter.html


def test_letter_pdf_contains_the_pupils_names(school, family):
    older, _ = family
    letter = letters.render_letter(school, "attendance_concern", [older.id], sender="Ms Patel", today=NOW.date())
    data = letter.pdf()
    assert data.startswith(b"%PDF")
    text = _pdf_text(data)
    assert "Łukasz Kowalski" in text and "Oak Tree Primary" in text and "3.5 days" in text


def test_notice_to_improve_states_the_improvement_period_and_history(school, family):
    older, _ = family
    letters.send_letter(school, "attendance_concern", [older.id], sender="Ms Patel",
                        now=datetime(2024, 11, 11, 9, tzinfo=timezone.utc))
    row, letter = letters.send_letter(school, "notice_to_improve", [older.id], sender="Ms Patel", sender_role="Attendance lead",
                                      values={"improvement_weeks": 4}, now=NOW)
    assert row.type == "notice_to_improve" and row.details["improvement_weeks"] == 4
    assert row.details["improvement_ends"] == "2024-12-13" and row.letter_html == letter.html
    assert "<strong>4 weeks</strong>" in letter.html and "13 December 2024" in letter.html
    assert "11 November 2024: letter (letter sent)" in letter.html
    assert "never automatic" in letter.html
    assert "Notice to improve" in _pdf_text(letter.pdf())


@pytest.mark.parametrize("weeks", [2, 7, "x"])
def test_notice_to_improve_refuses_a_period_outside_three_to_six_weeks(school, family, weeks):
    with pytest.raises(UserError) as err:
        letters.render_letter(school, "notice_to_improve", [family[0].id], sender="Ms Patel",
                              values={"improvement_weeks": weeks}, today=NOW.date())
    assert "3 to 6 weeks" in str(err.value.details)


def test_meeting_invitation_needs_a_time_and_place(school, family):
    with pytest.raises(UserError) as err:
        letters.render_letter(school, "meeting_invitation", [family[0].id], sender="Ms Patel", today=NOW.date())
    assert err.value.details == ["the letter needs meeting at", "the letter needs place"]
    letter = letters.render_letter(school, "meeting_invitation", [family[0].id], sender="Ms Patel", today=NOW.date(),
                                   values={"meeting_at": "Tuesday 19 November, 3:30pm", "place": "the school office"})
    assert "Tuesday 19 November, 3:30pm" in letter.html and "nobody is in trouble" in letter.html


def test_attendance_contract_letter_logs_a_contract(school, family):
    row, letter = letters.send_letter(school, "attendance_contract", [family[0].id], sender="Ms Patel",
                                      values={"review_date": "2024-12-06", "family_actions": "Bedtime by 8pm"}, now=NOW)
    assert row.type == "attendance_contract" and row.details == {"letter": "attendance_contract", "review_date": "2024-12-06"}
    assert "6 December 2024" in letter.html and "not legally binding" in letter.html and "Bedtime by 8pm" in letter.html


def test_unknown_letter_and_pupils_of_another_school_are_refused(school, family):
    from tests.factories import make_school
    other = make_pupil(make_school(urn="100002"))
    with pytest.raises(UserError):
        letters.render_letter(school, "final_warning", [family[0].id], sender="Ms Patel")
    with pytest.raises(UserError):
        letters.render_letter(school, "attendance_concern", [other.id], sender="Ms Patel")
