import os
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from pathlib import Path

import pytest

from outreach.attendance import charts
from outreach.attendance.measures import SessionCounts
from outreach.attendance.queries import CohortGap, WeekPoint

SVG = "{http://www.w3.org/2000/svg}"


def _points():
    monday = date(2025, 9, 1)
    out = []
    for i, absent in enumerate([10, 30, 20, 5]):
        week = monday + timedelta(weeks=i)
        out.append(WeekPoint(week, week, week + timedelta(days=6), SessionCounts(present=400 - absent, authorised=absent), 40))
    return out


def _gaps():
    return [
        CohortGap("fsm", "Free school meals", "True", "FSM", 10, 1000, 120, 4, 30, 3000, 150, 3),
        CohortGap("fsm", "Free school meals", "False", "Not FSM", 30, 3000, 150, 3, 10, 1000, 120, 4),
        CohortGap("sex", "Sex", "F", "Female <girls & co>", 20, 2000, 100, 2, 20, 2000, 170, 5),
    ]


def _root(svg: str) -> ET.Element:
    assert svg.startswith("<svg") and "<?xml" not in svg and "DOCTYPE" not in svg
    return ET.fromstring(svg)


def test_trend_svg_is_accessible_and_describes_the_data():
    svg = charts.weekly_trend_svg(_points(), comparison=93.1, chart_id="trend")
    root = _root(svg)
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "trend-title trend-desc"
    assert root.get("width") == "100%" and root.get("viewBox")
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert list(root).index(title) == 0 and title.get("id") == "trend-title" and title.text == "Attendance by week"
    assert desc.get("id") == "trend-desc"
    # weeks: 97.5%, 92.5%, 95.0%, 98.75%
    assert "Lowest 92.5% (week of 8 Sep 2025)" in desc.text and "highest 98.8% (week of 22 Sep 2025)" in desc.text
    assert "latest 98.8%" in desc.text and "National: 93.1%." in desc.text
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert "This school" in " ".join(texts) and "National" in " ".join(texts)  # text kept as text
    assert "http://" not in svg.replace("http://www.w3.org", "").replace("http://purl.org", "").replace(
        "http://creativecommons.org", "").replace("http://matplotlib.org", "")  # nothing fetched
    assert svg == charts.weekly_trend_svg(_points(), comparison=93.1, chart_id="trend")  # deterministic


def test_gaps_svg_escapes_labels_and_writes_values():
    svg = charts.cohort_gaps_svg(_gaps())
    root = _root(svg)
    assert root.get("role") == "img"
    desc = root.find(f"{SVG}desc").text
    # FSM 12% vs rest 5%: +7.0 points
    assert "Free school meals FSM: +7.0 points" in desc
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "+7.0" in texts and "-7.0" in texts and "Female <girls & co> (n=20)" in texts
    pa = charts.cohort_gaps_svg(_gaps(), measure="persistent_absence")
    assert "persistent absence" in _root(pa).find(f"{SVG}desc").text
    with pytest.raises(ValueError):
        charts.cohort_gaps_svg(_gaps(), measure="lateness")


def test_png_bytes_for_email():
    png = charts.weekly_trend_png(_points(), comparison=[93.0, None, 94.0, 94.5])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (960, 432)
    assert charts.cohort_gaps_png(_gaps())[:8] == b"\x89PNG\r\n\x1a\n"


def test_empty_data_draws_a_message_not_an_error():
    svg = charts.weekly_trend_svg([])
    assert "No sessions in this range" in svg and "No sessions were recorded" in svg
    assert "No groups to compare" in charts.cohort_gaps_svg([])
    with pytest.raises(ValueError, match="values for 4 weeks"):
        charts.weekly_trend_svg(_points(), comparison=[1.0])


def test_charts_draw_with_a_read_only_home(tmp_path):
    """A web worker's $HOME may be read-only: matplotlib's config and font cache go to a
    per-user temporary directory instead, and nothing is written under $HOME."""
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o500)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME=str(home), SECRET_KEY="x")
    code = ("import os; from outreach.attendance import charts; from tests.attendance.test_charts import _points, _gaps; "
            "assert charts.weekly_trend_png(_points())[:4] == b'\\x89PNG'; "
            "assert charts.cohort_gaps_svg(_gaps()).startswith('<svg'); print(os.environ['MPLCONFIGDIR'])")
    result = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], env=env,
                            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "not a writable directory" not in result.stderr and "Matplotlib created a temporary" not in result.stderr
    config_dir = Path(result.stdout.strip())
    assert config_dir.parent == Path(tempfile.gettempdir()) and config_dir.name.startswith("outreach-matplotlib-")
    assert list(home.iterdir()) == []
