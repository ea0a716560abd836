"""Attendance charts: one module for the dashboard (SVG, inline in pages) and the weekly digest
(PNG bytes for email).

Drawn with matplotlib's object API and the Agg renderer: no pyplot global state, no display,
nothing fetched (fonts are matplotlib's bundled DejaVu). matplotlib wants a writable config and
cache directory; when ``MPLCONFIGDIR`` is not set it goes to a per-user temporary directory, so a
web worker whose $HOME is read-only does not fail or warn.

SVG output is made for pages: ``role="img"``, a ``<title>`` and a ``<desc>`` that says in words
what the chart shows (lowest, highest and latest week; the largest gaps), text kept as text,
scalable (``width="100%"`` with the viewBox), colours with at least 4.5:1 contrast on white and
values written on the bars so colour is never the only cue. Pages still show the table behind
each chart.
"""
from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from datetime import date
from html import escape
from typing import TYPE_CHECKING, Sequence

from outreach.attendance.queries import CohortGap, WeekPoint

if TYPE_CHECKING:  # matplotlib is imported on first use: the CLI and most requests never draw
    from matplotlib.figure import Figure

INK = "#0b0c0c"  # text: 19:1 on white
SCHOOL = "#1d70b8"  # the school's line: 5.2:1
COMPARISON = "#505a5f"  # national / comparison line, dashed: 7:1
GRID = "#b1b4b6"
WORSE = "#b52a16"  # the group misses more than the rest: 5.9:1
BETTER = "#00703c"  # the group misses less: 6.0:1
FONT_STACK = "'DejaVu Sans', Arial, Helvetica, sans-serif"

_configured = False


def _matplotlib() -> None:
    """Point matplotlib at a writable config/cache directory and the Agg renderer, once."""
    global _configured
    if _configured:
        return
    if not os.environ.get("MPLCONFIGDIR"):
        path = os.path.join(tempfile.gettempdir(), f"outreach-matplotlib-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
        os.makedirs(path, mode=0o700, exist_ok=True)
        os.environ["MPLCONFIGDIR"] = path
    import matplotlib

    matplotlib.use("Agg", force=False)
    _configured = True


_STYLE = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, small
    "svg.hashsalt": "outreach",  # stable element ids: the same data draws the same SVG
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 10,
    "text.color": INK,
    "axes.labelcolor": INK,
    "axes.edgecolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _figure(width: float, height: float) -> "Figure":
    _matplotlib()
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg(fig: "Figure", title: str, desc: str, chart_id: str | None) -> str:
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]  # no XML prolog or DOCTYPE: the SVG goes inline in HTML
    ident = chart_id or "chart-" + hashlib.sha1(f"{title}\n{desc}".encode()).hexdigest()[:10]
    opening_end = svg.index(">") + 1
    opening = svg[:opening_end]
    width = re.search(r'width="([\d.]+)pt"', opening)
    opening = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    max_width = f"max-width:{float(width.group(1)) * 4 / 3:.0f}px;" if width else ""
    opening = opening[:-1] + (f' width="100%" style="{max_width}height:auto" role="img"'
                              f' aria-labelledby="{ident}-title {ident}-desc">')
    labels = f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>'
    svg = opening + labels + svg[opening_end:]
    # matplotlib names the bundled font; browsers without it fall back through the stack
    return re.sub(r"font-family: ?[^;\"]*", f"font-family: {FONT_STACK}", svg)


def _png(fig: "Figure", dpi: int = 120) -> bytes:
    import matplotlib

    out = io.BytesIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(out, format="png", dpi=dpi, metadata={"Software": None}, facecolor="white")
    return out.getvalue()


def _pct(value: float | None) -> str:
    return "no figure" if value is None else f"{value:.1f}%"


def _day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


# --- weekly trend ----------------------------------------------------------------------------


def _comparison_values(comparison: float | Sequence[float | None] | None, n: int) -> list[float | None] | None:
    if comparison is None:
        return None
    if isinstance(comparison, (int, float)):
        return [float(comparison)] * n
    values = list(comparison)
    if len(values) != n:
        raise ValueError(f"comparison has {len(values)} values for {n} weeks")
    return values


def trend_description(points: Sequence[WeekPoint], comparison: float | Sequence[float | None] | None = None,
                      comparison_label: str = "National") -> str:
    """The chart in words, for ``<desc>`` and email alt text."""
    weekly = [(p.week_start, p.attendance_pct) for p in points if p.attendance_pct is not None]
    if not weekly:
        return "No sessions were recorded in this range."
    low = min(weekly, key=lambda item: item[1])
    high = max(weekly, key=lambda item: item[1])
    text = (f"Attendance by week, {len(weekly)} weeks from the week of {_day(weekly[0][0])} to the week of "
            f"{_day(weekly[-1][0])}. Lowest {_pct(low[1])} (week of {_day(low[0])}), highest {_pct(high[1])} "
            f"(week of {_day(high[0])}), latest {_pct(weekly[-1][1])}.")
    values = _comparison_values(comparison, len(points))
    if values is not None:
        known = [v for v in values if v is not None]
        if known and len(set(known)) == 1:
            text += f" {comparison_label}: {_pct(known[0])}."
        elif known:
            text += f" {comparison_label} latest: {_pct(known[-1])}."
    return text


def _trend_figure(points: Sequence[WeekPoint], comparison: float | Sequence[float | None] | None,
                  comparison_label: str, title: str) -> "Figure":
    fig = _figure(8.0, 3.6)
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        ax = fig.add_subplot()
        ax.set_title(title, loc="left", fontsize=12, color=INK)
        weeks = [p.week_start for p in points]
        values = [p.attendance_pct for p in points]
        shown = [v for v in values if v is not None]
        if not shown:
            ax.text(0.5, 0.5, "No sessions in this range", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            return fig
        ax.plot(weeks, [float("nan") if v is None else v for v in values], color=SCHOOL, linewidth=2.2,
                marker="o", markersize=3.5, label="This school")
        lows = shown[:]
        comp = _comparison_values(comparison, len(points))
        if comp is not None:
            ax.plot(weeks, [float("nan") if v is None else v for v in comp], color=COMPARISON, linewidth=1.6,
                    linestyle=(0, (5, 3)), label=comparison_label)
            lows += [v for v in comp if v is not None]
        bottom = max(0.0, min(lows) - 2.0)
        ax.set_ylim(bottom, 100.0)
        ax.set_ylabel("Attendance (%)")
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
        ax.set_xlabel("Week starting")
        if comp is not None:
            fig.legend(frameon=False, loc="outside upper right", ncols=2)
    return fig


def weekly_trend_svg(points: Sequence[WeekPoint], comparison: float | Sequence[float | None] | None = None,
                     comparison_label: str = "National", title: str = "Attendance by week",
                     chart_id: str | None = None) -> str:
    """Attendance % by week as an accessible inline SVG. ``comparison`` adds a dashed line: one
    value (e.g. the national figure from ``national.reference_figures``) or one per week."""
    fig = _trend_figure(points, comparison, comparison_label, title)
    return _svg(fig, title, trend_description(points, comparison, comparison_label), chart_id)


def weekly_trend_png(points: Sequence[WeekPoint], comparison: float | Sequence[float | None] | None = None,
                     comparison_label: str = "National", title: str = "Attendance by week") -> bytes:
    """The same chart as PNG bytes (for email; use ``trend_description`` as its alt text)."""
    return _png(_trend_figure(points, comparison, comparison_label, title))


# --- cohort gaps -----------------------------------------------------------------------------

MEASURES = {"absence": ("absence_gap_pp", "Absence gap to the rest of the school (percentage points)"),
            "persistent_absence": ("persistent_absence_gap_pp",
                                   "Persistent absence gap to the rest of the school (percentage points)")}


def _gap_bars(gaps: Sequence[CohortGap], measure: str) -> list[tuple[str, float, CohortGap]]:
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, got {measure!r}")
    attribute = MEASURES[measure][0]
    return [(f"{g.label} (n={g.enrolments})", getattr(g, attribute), g) for g in gaps
            if getattr(g, attribute) is not None]


def gaps_description(gaps: Sequence[CohortGap], measure: str = "absence") -> str:
    bars = _gap_bars(gaps, measure)
    if not bars:
        return "No groups to compare in this range."
    what = "absence" if measure == "absence" else "persistent absence"
    worst = sorted(bars, key=lambda b: -b[1])[:3]
    parts = [f"{g.dimension_label} {g.label}: {value:+.1f} points" for _label, value, g in worst if value > 0]
    text = f"Gap in {what} between each group and the rest of the school, {len(bars)} groups. "
    return text + ("Largest gaps: " + "; ".join(parts) + "." if parts else "No group misses more than the rest.")


def _gaps_figure(gaps: Sequence[CohortGap], measure: str, title: str) -> "Figure":
    bars = _gap_bars(gaps, measure)
    fig = _figure(8.0, max(2.2, 0.32 * len(bars) + 1.3))
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        ax = fig.add_subplot()
        ax.set_title(title, loc="left", fontsize=12, color=INK)
        if not bars:
            ax.text(0.5, 0.5, "No groups to compare", ha="center", va="center", transform=ax.transAxes)
            ax.set_xticks([])
            ax.set_yticks([])
            return fig
        labels = [b[0] for b in bars]
        values = [b[1] for b in bars]
        positions = list(range(len(bars)))[::-1]  # first group at the top
        ax.barh(positions, values, color=[WORSE if v > 0 else BETTER for v in values], height=0.65)
        ax.set_yticks(positions, labels)
        ax.axvline(0, color=INK, linewidth=0.8)
        span = max(1.0, max(abs(v) for v in values))
        ax.set_xlim(-span * 1.35, span * 1.35)
        for y, v in zip(positions, values):
            ax.text(v + (span * 0.03 if v >= 0 else -span * 0.03), y, f"{v:+.1f}", va="center",
                    ha="left" if v >= 0 else "right", fontsize=9, color=INK)
        previous = None
        for y, (_label, _value, g) in zip(positions, bars):  # a rule between dimensions
            if previous is not None and g.dimension != previous:
                ax.axhline(y + 0.5, color=GRID, linewidth=0.6)
            previous = g.dimension
        ax.set_xlabel(MEASURES[measure][1])
        ax.grid(axis="x", color=GRID, linewidth=0.4)
        ax.set_axisbelow(True)
    return fig


def cohort_gaps_svg(gaps: Sequence[CohortGap], measure: str = "absence",
                    title: str = "Absence gaps by group", chart_id: str | None = None) -> str:
    """Each group's gap to the rest of the school as horizontal bars (red: misses more, green:
    misses less, value written on every bar), as an accessible inline SVG."""
    return _svg(_gaps_figure(gaps, measure, title), title, gaps_description(gaps, measure), chart_id)


def cohort_gaps_png(gaps: Sequence[CohortGap], measure: str = "absence", title: str = "Absence gaps by group") -> bytes:
    return _png(_gaps_figure(gaps, measure, title))
