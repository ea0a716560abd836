"""Register import, column-wise path for long CSV files: pandas reads the rows, Python checks each
distinct value once, numpy does the rest.

Why: the streaming path (``services._validate_and_stage``) runs Python for every mark, ~760,000
for a large school's year. Here pandas' C reader parses the file a chunk at a time (bounded
memory), each column is factorised (every row becomes an index into that column's distinct
values), and Python checks only the distinct values with the same functions the streaming path
uses (``DateParser``, ``parse_session``, ``codes.lookup``, the school's UPNs): ~2,000 UPNs, ~190
dates, two sessions, ~20 codes and the few thousand (date, code) pairs. The marks then go to
``store.apply`` as columns, which diffs them with what the school holds and writes the weeks.

It only accepts a file it can vouch for entirely: every value valid, each row on one line (so a
row's line number is its position after the header), no session twice, every counted mark inside
its pupil's enrolment. Anything else (a bad value, an unknown UPN, a blank line, a quoted cell
across lines, a short row, bad encoding) and it returns None having written nothing: the
streaming path then reads the file and reports every problem by file, line, field and value. A
file with errors is the rare case; the weekly re-send of a clean year is the common one.
"""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from outreach.attendance.codes import NOT_TAKEN, UnknownCode, lookup
from outreach.registers import store
from outreach.registers.formats.base import DateParser, Problem, open_text, parse_session
from outreach.registers.formats.long_csv import REQUIRED
from outreach.registers.mappings import ColumnMapping, find_columns
from outreach.registers.report import ProblemLog
from outreach.schools.models import Pupil

if TYPE_CHECKING:  # pandas is imported by the functions that read a file: not at start-up
    import pandas as pd

log = logging.getLogger(__name__)

NOT_TAKEN_MESSAGE = "no mark taken yet: skipped, not counted"
CHUNK_ROWS = 100_000  # rows per pandas chunk: bounded memory for any file size

Progress = Callable[[int, "int | None"], None]


@dataclass
class Loaded:
    """What the column-wise path did: the rows read, the marks not taken yet (warned, not
    stored), and what writing the marks changed."""

    rows: int
    not_taken: int
    warnings: ProblemLog
    diff: store.Diff


class _Column:
    """One field's values as indexes into its distinct raw strings, gathered chunk by chunk."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parts: list[np.ndarray] = []

    def add(self, values: pd.Series) -> bool:
        """Take a chunk's values (strings, or a categorical of strings); False if pandas read
        them as something else (a categorical of numbers: "007" would have become 7)."""
        import pandas as pd

        if isinstance(values.dtype, pd.CategoricalDtype):
            uniques = values.cat.categories
            if not pd.api.types.is_string_dtype(uniques.dtype):
                return False
            codes = values.cat.codes.to_numpy()
        else:
            codes, uniques = pd.factorize(values, sort=False)
        lut = np.fromiter((self.index.setdefault(u, len(self.index)) for u in uniques.tolist()),
                          dtype=np.int64, count=len(uniques))
        self.parts.append(lut[codes] if len(lut) else np.zeros(0, dtype=np.int64))
        return True

    @property
    def raw(self) -> list[str]:
        return list(self.index)

    def ids(self) -> np.ndarray:
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int64)


def _fallback(reason: str) -> None:
    """Say why the streaming path takes the file (no values from it: they may be pupil data)."""
    log.debug("register import: column-wise path not used: %s", reason)
    return None


def load(session: Session, path: Path, mapping: ColumnMapping, *, school_id: int, batch_id: int,
         file_name: str, lines: int, progress: Progress | None, total: int | None) -> Loaded | None:
    """Import a clean long CSV column-wise, or return None having changed nothing, for the
    streaming path to import or refuse the file."""
    head = _header(path, mapping)
    if head is None:
        return None
    header, found = head
    columns = _read(path, [found[f] for f in REQUIRED], progress, total)
    if columns is None:
        return None
    upn, day, sess, code = columns
    rows = sum(len(p) for p in upn.parts)
    if rows == 0 or rows + 1 != lines:
        return _fallback("no rows, or not one row a line (line numbers need the streaming path)")

    # Each distinct value, checked once with the streaming path's own functions.
    pupils = session.execute(select(Pupil.upn, Pupil.id, Pupil.admission_date, Pupil.leaving_date)
                             .where(Pupil.school_id == school_id)).all()
    ids = {p.upn: p.id for p in pupils}
    pupil_of = np.array([ids.get(raw.strip().upper(), -1) for raw in upn.raw], dtype=np.int64)
    if (pupil_of < 0).any():
        return _fallback("a UPN is blank or not on the roll")
    parser = DateParser(mapping.date_format)
    days = [parser.parse(raw) for raw in day.raw]
    if any(d.__class__ is str for d in days):
        return _fallback("a date is not valid")
    ordinal_of = np.array([d.toordinal() for d in days], dtype=np.int64)  # type: ignore[union-attr]
    sessions = [parse_session(raw) for raw in sess.raw]
    if any(s is None for s in sessions):
        return _fallback("a session is not valid")
    pm_of = np.array([1 if s == "PM" else 0 for s in sessions], dtype=np.int64)
    normal = [raw.strip().upper() for raw in code.raw]
    vocab = sorted({c for c in normal if c not in NOT_TAKEN})
    vocab_index = {c: i for i, c in enumerate(vocab)}
    code_of = np.array([vocab_index.get(c, -1) for c in normal], dtype=np.int64)

    raw_code, day_ids = code.ids(), day.ids()
    code_ids = code_of[raw_code]
    taken = code_ids >= 0
    warnings = ProblemLog(file_name)
    not_taken = int((~taken).sum())
    if not_taken:
        field_name = header[found["code"]].strip()
        for i in np.flatnonzero(~taken)[:warnings.limit].tolist():
            warnings.add(Problem(NOT_TAKEN_MESSAGE, line=i + 2, field=field_name,
                                 value=normal[raw_code[i]] or "(blank)"))
        warnings.count = not_taken
    marks = store.Marks(pupil_of[upn.ids()[taken]], ordinal_of[day_ids[taken]], pm_of[sess.ids()[taken]],
                        code_ids[taken], vocab)
    if not len(marks):
        return Loaded(rows, not_taken, warnings, store.Diff())
    possible = _possible(marks, day_ids[taken], days, vocab)  # type: ignore[arg-type]
    if possible is None:
        return _fallback("a code is not in force on its date")
    once = _once(marks)
    if once is None:
        return _fallback("a session is in the file twice with different codes")
    marks, possible = _take(marks, once), possible[once]
    if _outside_enrolment(marks, possible, pupils):
        return _fallback("a counted mark is outside its pupil's enrolment")
    return Loaded(rows, not_taken, warnings, store.apply(session, school_id, batch_id, marks))


def _possible(marks: store.Marks, day_ids: np.ndarray, days: list, vocab: list[str]) -> np.ndarray | None:
    """Per mark, whether its code counts in possible sessions on its date; None if a code is
    not in force on a date it is used. One ``codes.lookup`` per (date, code) the file uses,
    read back per mark by indexing a small table."""
    used = np.zeros((len(days), len(vocab)), dtype=bool)
    used[day_ids, marks.code] = True
    table = np.zeros((len(days), len(vocab)), dtype=bool)
    for d, c in zip(*np.nonzero(used)):
        try:
            table[d, c] = lookup(vocab[c], days[d]).category.in_possible
        except UnknownCode:
            return None
    return table[day_ids, marks.code]


def _once(marks: store.Marks) -> np.ndarray | None:
    """Indexes of the marks to keep: all of them, or, when a session is in the file twice with
    the same code (harmless: the streaming path keeps one too), the first of each. None when a
    session has two different codes: the streaming path names both lines."""
    pupil, _ = store.dense_index(marks.pupil)
    first = int(marks.day.min())
    span = int(marks.day.max()) - first + 1
    key = (pupil * span + (marks.day - first)) * 2 + marks.pm
    if (pupil.max() + 1) * span * 2 <= 1 << 24:  # a year of a large school: ~1.3 million slots
        if np.bincount(key).max() <= 1:
            return np.arange(len(key))
    order = np.argsort(key, kind="stable")
    ordered = key[order]
    repeat = ordered[1:] == ordered[:-1]
    if not repeat.any():
        return np.arange(len(key))
    if (marks.code[order][1:][repeat] != marks.code[order][:-1][repeat]).any():
        return None
    return np.sort(order[np.concatenate(([True], ~repeat))])


def _take(marks: store.Marks, keep: np.ndarray) -> store.Marks:
    return store.Marks(marks.pupil[keep], marks.day[keep], marks.pm[keep], marks.code[keep], marks.vocab)


def _outside_enrolment(marks: store.Marks, possible: np.ndarray, pupils: list) -> bool:
    """Whether a counted mark lies outside its pupil's admission/leaving dates. Only codes outside
    possible sessions (Z, D, X, #...) are accepted there; the streaming path names the line."""
    bounded = [p for p in pupils if p.admission_date is not None or p.leaving_date is not None]
    if not bounded:
        return False
    ids = np.array([p.id for p in bounded], dtype=np.int64)
    order = np.argsort(ids)
    ids = ids[order]
    first = np.array([p.admission_date.toordinal() if p.admission_date else 0 for p in bounded], dtype=np.int64)[order]
    last = np.array([p.leaving_date.toordinal() if p.leaving_date else 1 << 40 for p in bounded],
                    dtype=np.int64)[order]
    at = np.minimum(np.searchsorted(ids, marks.pupil), len(ids) - 1)
    has = ids[at] == marks.pupil
    outside = has & ((marks.day < first[at]) | (marks.day > last[at]))
    return bool((outside & possible).any())


# --- reading the file --------------------------------------------------------------------------


def _header(path: Path, mapping: ColumnMapping) -> tuple[list[str], dict[str, int]] | None:
    """The header row and the required columns, if the header is line 1 and has them all."""
    try:
        with open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if not header or reader.line_num != 1:
                return _fallback("the header is not the first line")
    except (UnicodeDecodeError, csv.Error):
        return _fallback("the header cannot be read")
    found, missing = find_columns(header, mapping, REQUIRED)
    return _fallback("a column is missing") if missing else (header, found)


def _one_row_a_line(path: Path) -> bool:
    """Whether every line, the header's included, holds the header's number of fields: no blank
    line, no short or long row, no quoted cell across lines. pandas cannot say (it pads a short
    row with empty cells and, reading some columns only, ignores a long row's extras), so the
    commas are counted in the bytes, a block at a time, leaving out commas inside quotes."""
    expected: int | None = None
    with open(path, "rb") as handle:
        carry = handle.read(3)
        carry = b"" if carry == b"\xef\xbb\xbf" else carry
        while True:
            block = handle.read(1 << 22)
            data = carry + block
            if block:  # whole lines only; the rest waits for the next block
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    carry = data
                    continue
            elif not data:
                return expected is not None
            else:  # the last line, without its newline
                data += b"\n"
                cut = len(data)
            segment, carry = data[:cut], data[cut:]
            counts = _commas_per_line(segment)
            if counts is None:
                return False
            if expected is None:
                expected = int(counts[0])
            if (counts != expected).any():
                return False
            if not block:
                return True


def _commas_per_line(segment: bytes) -> np.ndarray | None:
    """Separating commas in each line of ``segment`` (whole lines, starting outside quotes), or
    None if a newline falls inside quotes."""
    arr = np.frombuffer(segment, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    commas = np.flatnonzero(arr == 44)
    quotes = np.flatnonzero(arr == 34)
    if len(quotes):  # inside quotes: an odd number of quote characters before it
        if (np.searchsorted(quotes, newlines) & 1).any():
            return None
        commas = commas[(np.searchsorted(quotes, commas) & 1) == 0]
    return np.diff(np.searchsorted(commas, newlines), prepend=0)


def _read(path: Path, positions: list[int], progress: Progress | None,
          total: int | None) -> list[_Column] | None:
    """The four fields of every row, factorised chunk by chunk (pandas' C parser). Read as
    categoricals first (pandas factorises while it parses: twice as fast), or as strings when a
    column's values all look like numbers (pandas would have turned them into numbers)."""
    order = sorted(set(positions))
    if len(order) != len(positions):
        return _fallback("one column holds two fields")
    if not _one_row_a_line(path):
        return _fallback("not one row a line of the header's width (blank line, short or long row, "
                         "quoted cell across lines)")
    for dtype in ("category", str):
        out = _read_as(path, positions, order, dtype, progress, total)
        if out is not False:
            return out
    return None


def _read_as(path: Path, positions: list[int], order: list[int], dtype: Any, progress: Progress | None,
             total: int | None) -> list[_Column] | None | bool:
    import pandas as pd

    out = [_Column() for _ in positions]
    done = 0
    # A hundred progress reports for a file of known size, else chunks of CHUNK_ROWS.
    step = CHUNK_ROWS if progress is None or not total else max(1, min(CHUNK_ROWS, total // 100))
    try:
        chunks = pd.read_csv(path, encoding="utf-8-sig", header=0, usecols=order, dtype=dtype,
                             keep_default_na=False, na_filter=False, skip_blank_lines=False, chunksize=step,
                             engine="c")
        for chunk in chunks:
            for column, position in zip(out, positions):
                if not column.add(chunk.iloc[:, order.index(position)]):
                    return False
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError):
        return _fallback("a row pandas cannot read, or not UTF-8 text")
    return out
