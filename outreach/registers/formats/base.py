"""What the parsers share: the rows they yield, problems with a location, and text decoding.

Pure Python (no Flask, no database): the parsers are tested directly on bytes.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Iterator, NamedTuple

FORMATS = ("long", "wide", "ctf")


class RawMark(NamedTuple):
    """One session as the file gives it. ``code`` is normalised (stripped, upper case) but not
    validated: the importer checks it against the code table in force on ``day``. ``line`` is the
    file line (CSV rows; None in XML); ``element`` is where in the row the code sits: None for a
    long CSV (the ``code`` column), the column header in a wide CSV, the position in a CTF marks
    string. A tuple, not a dataclass: a year's register is ~760,000 of them."""

    upn: str
    day: date
    session: str  # AM or PM
    code: str
    line: int | None = None
    element: str | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong at one place in a file: what a person needs to find and fix it."""

    message: str
    line: int | None = None
    field: str | None = None
    value: str | None = None
    pupil: str | None = None
    element: str | None = None

    def to_dict(self, file: str) -> dict[str, object]:
        out: dict[str, object] = {"file": file}
        for key in ("line", "pupil", "element", "field", "value"):
            val = getattr(self, key)
            if val is not None:
                out[key] = val
        out["message"] = self.message
        return out


class FormatError(Exception):
    """The file cannot be read at all (nothing after this point can be trusted)."""

    def __init__(self, problem: Problem):
        super().__init__(problem.message)
        self.problem = problem


# --- text ----------------------------------------------------------------------------------


def open_text(path: str | Path) -> IO[str]:
    """The file as text: UTF-8 with or without a byte-order mark, any line ends (csv handles
    CRLF with ``newline=''``). Decoding errors surface while reading, as UnicodeDecodeError."""
    raw = open(path, "rb")
    return io.TextIOWrapper(raw, encoding="utf-8-sig", errors="strict", newline="")


def encoding_problem(exc: UnicodeDecodeError, line: int | None) -> Problem:
    bad = exc.object[exc.start:exc.start + 4] if isinstance(exc.object, (bytes, bytearray)) else b""
    return Problem(
        "the file is not UTF-8 text (it may be saved as Windows-1252 or Excel's default); "
        "save it as 'CSV UTF-8' and import again",
        line=line, field="encoding", value=bad.hex(" ") if bad else None,
    )


def csv_rows(path: str | Path) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) for each non-blank row. Raises FormatError for an empty file or one
    that is not UTF-8. The line number is the physical line the row starts on (a quoted cell may
    span lines)."""
    with open_text(path) as handle:
        reader = csv.reader(handle)
        last = 0
        seen_any = False
        try:
            for cells in reader:
                start, last = last + 1, reader.line_num
                if not cells or (not cells[0].strip() and not any(c.strip() for c in cells)):
                    continue  # a blank line, or a row of empty cells (",,,") as spreadsheets leave
                seen_any = True
                yield start, cells
        except UnicodeDecodeError as exc:
            raise FormatError(encoding_problem(exc, last + 1)) from exc
        except csv.Error as exc:
            raise FormatError(Problem(f"the CSV cannot be read: {exc}", line=last + 1)) from exc
        if not seen_any:
            raise FormatError(Problem("the file is empty", line=1))


def count_lines(path: str | Path) -> int:
    """Lines in the file (for a progress total): fast, in binary, without decoding."""
    total = 0
    last = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            total += chunk.count(b"\n")
            last = chunk
    return total + (1 if last and not last.endswith(b"\n") else 0)


def normalise_header(name: str) -> str:
    """Headers compare case-insensitively and ignore spacing and punctuation:
    ``Pupil UPN``, ``pupil_upn`` and ``PupilUPN`` are the same column."""
    return re.sub(r"[^a-z0-9/]", "", name.strip().lower().lstrip("\ufeff"))


# --- dates and sessions --------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00)?)?$")
_UK = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?: 00:00(?::00)?)?$")


class DateParser:
    """Dates as exports write them: ISO ``2024-09-02`` or UK ``02/09/2024`` (never US), or a
    mapping's explicit ``strptime`` format. Cached: a register file repeats ~190 dates."""

    def __init__(self, fmt: str | None = None):
        self.fmt = fmt
        self._cache: dict[str, date | str] = {}

    def parse(self, raw: str) -> date | str:
        """The date, or a message saying why ``raw`` is not one."""
        hit = self._cache.get(raw)
        if hit is None:
            hit = self._cache[raw] = self._parse(raw.strip())
        return hit

    def _parse(self, text: str) -> date | str:
        if not text:
            return "the date is blank"
        if self.fmt:
            try:
                return datetime.strptime(text, self.fmt).date()
            except ValueError:
                return f"not a date in the format {self.fmt}"
        match = _ISO.match(text)
        if match:
            y, m, d = (int(g) for g in match.groups())
        else:
            match = _UK.match(text)
            if not match:
                return "not a date (use YYYY-MM-DD or DD/MM/YYYY)"
            d, m, y = (int(g) for g in match.groups())
        try:
            return date(y, m, d)
        except ValueError:
            return "no such date"


_SESSIONS = {"AM": "AM", "PM": "PM", "A": "AM", "P": "PM", "MORNING": "AM", "AFTERNOON": "PM",
             "A.M.": "AM", "P.M.": "PM", "AM SESSION": "AM", "PM SESSION": "PM", "1": "AM", "2": "PM"}


def parse_session(raw: str) -> str | None:
    """AM or PM from the ways exports write them, or None."""
    return _SESSIONS.get(raw.strip().upper())


# --- detection -----------------------------------------------------------------------------


def detect_format(path: str | Path) -> str:
    """``long``, ``wide`` or ``ctf`` from the extension and the first bytes/header."""
    from outreach.registers.formats import wide_csv

    with open(path, "rb") as handle:
        head = handle.read(4096)
    text = head.decode("utf-8-sig", errors="ignore").lstrip()
    suffix = Path(path).suffix.lower()
    if suffix == ".xml" or text.startswith("<"):
        return "ctf"
    if not text.strip():
        raise FormatError(Problem("the file is empty", line=1))
    header = next(csv.reader(io.StringIO(text.splitlines()[0])), [])
    if sum(1 for cell in header if wide_csv.parse_column(cell) is not None) >= 1:
        return "wide"
    return "long"
