import csv

import pytest

from outreach.attendance import national
from outreach.core.errors import UserError


def test_national_figures_by_phase_as_published():
    figures = national.reference_figures("primary")
    assert figures["phase"] == "Primary" and figures["region"] is None and figures["la"] is None
    england = figures["national"]
    assert england["name"] == "England"
    assert england["attendance_pct"] == pytest.approx(94.7233194599495)
    assert england["absence_pct"] == pytest.approx(5.27668054005052)
    assert england["authorised_absence_pct"] == pytest.approx(3.72923759260023)
    assert england["unauthorised_absence_pct"] == pytest.approx(1.54744294745028)
    assert england["persistent_absence_pct"] == pytest.approx(13.7725665268702)
    assert national.reference_figures("Total")["national"]["persistent_absence_pct"] == pytest.approx(18.7817604593414)
    assert national.reference_figures("special")["national"]["absence_pct"] == pytest.approx(13.1691449257727)


def test_local_authority_and_its_region_by_the_three_digit_code():
    figures = national.reference_figures("secondary", "823")
    assert figures["la"]["name"] == "Central Bedfordshire" and figures["la"]["code"] == "823"
    assert figures["la"]["persistent_absence_pct"] == pytest.approx(21.1932650073206)
    assert figures["region"]["name"] == "East of England"
    assert figures["region"]["persistent_absence_pct"] == pytest.approx(23.0791700918731)
    assert figures["national"]["persistent_absence_pct"] == pytest.approx(23.7680342651037)


def test_school_phases_map_onto_published_phases():
    assert national.reference_figures("nursery")["phase"] == "Primary"
    assert national.reference_figures("all-through")["phase"] == "Total"
    with pytest.raises(UserError, match="phase"):
        national.reference_figures("college")


def test_suppressed_cells_are_none_not_zero():
    figures = national.reference_figures("primary", "201")  # City of London: one school, suppressed
    la = figures["la"]
    assert la["name"] == "City of London" and la["schools"] == 1.0
    assert la["attendance_pct"] is None and la["persistent_absence_pct"] is None and la["enrolments"] is None
    assert figures["region"]["name"] == "London" and figures["region"]["attendance_pct"] is not None


def test_unknown_la_or_unpublished_phase():
    unknown = national.reference_figures("primary", "999")
    assert unknown["la"] is None and unknown["region"] is None and unknown["national"] is not None
    no_secondary = national.reference_figures("secondary", "201")  # the City of London has no secondary row
    assert no_secondary["la"] is None and no_secondary["region"]["name"] == "London"
    with pytest.raises(UserError, match="3 digits"):
        national.reference_figures("primary", "82")


def test_shipped_file_keeps_every_published_row():
    with national.DATA_FILE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 647
    assert {r["geographic_level"] for r in rows} == {"National", "Regional", "Local authority"}
    assert (national.DATA_FILE.parent / "NOTICE.md").read_text().count("Open Government Licence") == 1
