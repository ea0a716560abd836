"""Where marks live: a pupil-week per row, the week's fourteen sessions in one string beside the
week's counts (``pupil_weeks``).

Why not a row per mark: a large school's year is ~760,000 marks, and on PostgreSQL each row costs
its heap tuple, three B-tree entries, WAL and a foreign-key check, which made a first import 20x a
bare ``COPY`` of the file. A pupil's week is one row (~75,000 for that year): the marks and the
rollup counts are written together, so a figure and the marks it comes from cannot disagree, and
the import writes a tenth of the rows. ``marks`` is still there to read, as a view that unfolds
each row into its sessions (migration 0019), so anything that asks for marks by pupil, date and
session still can; readers that look at a few days bound ``week_start`` too, which the view
exposes, so the database finds the rows by index.

Layout of a row (``SLOTS`` = 14: Monday AM, Monday PM ... Sunday PM):

- ``codes``: two characters a session, the code left-aligned (``"/ "``, ``"J1"``), two spaces
  where there is no mark;
- ``batch_id`` and ``batches``: the import batch that last wrote each mark. When one batch wrote
  all the week's marks (a first import, a week no correction touched: nearly every row) that is
  ``batch_id`` and ``batches`` is empty; otherwise ``batches`` holds eight digits a session
  (eight spaces where there is no mark) and ``batch_id`` is null. Keeping the common case to one
  integer halves the bytes a year's import writes.

Everything here is column arithmetic with numpy, so a year of marks is diffed, encoded and
counted in a fraction of a second; the Python per-mark work is limited to each distinct
(date, code) pair's category (a few thousand lookups in ``codes``).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Sequence

import numpy as np
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from outreach.attendance.codes import LATE_CODES, Category, UnknownCode, lookup
from outreach.attendance.rollups import bump_version
from outreach.core.timeutil import week_start

SLOTS = 14
CODE_WIDTH = 2
BATCH_WIDTH = 8
EMPTY_CODE = b" " * CODE_WIDTH
EMPTY_BATCH = b" " * BATCH_WIDTH
SESSIONS = ("AM", "PM")
COUNT_COLUMNS = ("present", "aea", "authorised", "unauthorised", "not_counted", "admin")
_CATEGORY_INDEX = {Category.PRESENT: 0, Category.AEA: 1, Category.AUTHORISED: 2, Category.UNAUTHORISED: 3,
                   Category.NOT_COUNTED: 4, Category.ADMIN: 5}
LATE = 6  # the seventh count: L and U
ROW_COLUMNS = ("pupil_id", "week_start", "school_id", *COUNT_COLUMNS, "late", "possible", "codes", "batch_id",
               "batches")


def weekday_of(ordinal: np.ndarray) -> np.ndarray:
    """Monday 0 ... Sunday 6 for proleptic ordinals (day 1, 1 January 1 AD, was a Monday)."""
    return (ordinal - 1) % 7


def dense_index(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(index of each value among the distinct values, the distinct values in ascending order),
    like ``np.unique(..., return_inverse=True)``. A school's pupil ids and weeks are close
    together, so when the values span a few million at most they are counted into a table (two
    linear passes), several times faster than sorting 750,000 of them; otherwise they are sorted."""
    if not len(values):
        return np.zeros(0, dtype=np.int64), values
    low = int(values.min())
    span = int(values.max()) - low + 1
    if span > max(1 << 22, 4 * len(values)):
        uniques, codes = np.unique(values, return_inverse=True)
        return codes.astype(np.int64), uniques
    present = np.bincount(values - low, minlength=span) > 0
    uniques = np.flatnonzero(present) + low
    position = np.cumsum(present) - 1
    return position[values - low], uniques


@dataclass
class Marks:
    """Marks as columns: pupil id, date (ordinal), PM (0/1) and code (an index into ``vocab``)."""

    pupil: np.ndarray
    day: np.ndarray
    pm: np.ndarray
    code: np.ndarray
    vocab: list[str]

    def __len__(self) -> int:
        return len(self.pupil)

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> "Marks":
        """From (pupil_id, date or ISO text, "AM"/"PM", code) rows."""
        pupils: list[int] = []
        days: list[int] = []
        pms: list[int] = []
        codes: list[int] = []
        vocab: dict[str, int] = {}
        ordinal: dict[Any, int] = {}
        for pupil_id, day, session, code in rows:
            o = ordinal.get(day)
            if o is None:
                o = ordinal[day] = (date.fromisoformat(day) if isinstance(day, str) else day).toordinal()
            pupils.append(pupil_id)
            days.append(o)
            pms.append(1 if session == "PM" else 0)
            index = vocab.get(code)
            if index is None:
                index = vocab[code] = len(vocab)
            codes.append(index)
        return cls(np.array(pupils, dtype=np.int64), np.array(days, dtype=np.int64), np.array(pms, dtype=np.int64),
                   np.array(codes, dtype=np.int64), list(vocab))


@dataclass
class Diff:
    """What writing a set of marks did: counts for the report, and each correction."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    pupils_in_file: int = 0
    pupils_touched: int = 0
    first: date | None = None
    last: date | None = None
    # (pupil_id, date, session, old code, new code) for every session whose code changed
    changes: list[tuple[int, date, str, str, str]] = field(default_factory=list)
    rows_written: int = 0


# --- encoding ----------------------------------------------------------------------------------


def _tokens(vocab: Sequence[str]) -> np.ndarray:
    """Each code as its two-character slot, and one more entry (the last) for "no mark"."""
    return np.array([c.ljust(CODE_WIDTH).encode("ascii") for c in vocab] + [EMPTY_CODE], dtype=f"S{CODE_WIDTH}")


def _decode_codes(strings: Sequence[str], vocab: list[str]) -> np.ndarray:
    """(rows, SLOTS) of indexes into ``vocab``, -1 for an empty slot; ``vocab`` is extended in
    place with any stored code it did not hold."""
    cells = np.array([s.encode("ascii") for s in strings], dtype=f"S{SLOTS * CODE_WIDTH}")
    tokens = cells.view(f"S{CODE_WIDTH}").reshape(len(strings), SLOTS) if len(strings) else \
        np.empty((0, SLOTS), dtype=f"S{CODE_WIDTH}")
    uniq, inverse = np.unique(tokens, return_inverse=True)
    index = {c: i for i, c in enumerate(vocab)}
    lut = []
    for raw in uniq.tolist():
        code = raw.decode("ascii").strip()
        if code == "":
            lut.append(-1)
            continue
        if code not in index:
            index[code] = len(vocab)
            vocab.append(code)
        lut.append(index[code])
    grid = np.array(lut, dtype=np.int64)[inverse.reshape(tokens.shape)] if len(uniq) else \
        np.empty(tokens.shape, dtype=np.int64)
    return grid


def _batch_tokens(rows: Sequence[tuple[Any, ...]]) -> np.ndarray:
    """(rows, SLOTS) of eight-digit batch tokens from rows ending (..., batch_id, batches)."""
    out = np.full((len(rows), SLOTS), EMPTY_BATCH, dtype=f"S{BATCH_WIDTH}")
    for i, row in enumerate(rows):
        one, each = row[-2], row[-1]
        if each:
            out[i] = np.frombuffer(each.ljust(SLOTS * BATCH_WIDTH).encode("ascii"), dtype=f"S{BATCH_WIDTH}")
        elif one is not None:
            out[i] = f"{one:0{BATCH_WIDTH}d}".encode("ascii")
    return out


def _batch_columns(batches: np.ndarray, filled: np.ndarray) -> tuple[list[int | None], list[str]]:
    """The ``batch_id`` and ``batches`` columns for rows of batch tokens (see the module's
    docstring): one integer when every filled slot has the same batch, else each slot's."""
    rows = len(batches)
    if not rows:
        return [], []
    first = batches[np.arange(rows), np.argmax(filled, axis=1)]
    uniform = ((batches == first[:, None]) | ~filled).all(axis=1)
    ids: list[int | None] = [None] * rows
    strings = [""] * rows
    blank = np.where(filled, batches, EMPTY_BATCH)
    mixed = np.flatnonzero(~uniform)
    for i, token in zip(np.flatnonzero(uniform).tolist(), first[uniform].tolist()):
        ids[i] = int(token) if token.strip() else None
    for i, each in zip(mixed.tolist(), _join(blank[mixed], BATCH_WIDTH)):
        strings[i] = each
    return ids, strings


def _join(tokens: np.ndarray, width: int) -> list[str]:
    """Rows of fixed-width tokens as one string each (numpy drops trailing NULs, never spaces;
    the padding is a guard for an all-empty row read back short)."""
    if not len(tokens):
        return []
    whole = np.ascontiguousarray(tokens).view(f"S{width * SLOTS}").ravel()
    size = width * SLOTS
    return [b.decode("ascii").ljust(size) for b in whole.tolist()]


# --- counting ----------------------------------------------------------------------------------


class _Classifier:
    """Counts per pupil-week, each code classified by the table in force on its own date.

    The classification is a table of every (day, code) in the weeks' span, built once with
    ``codes.lookup`` (a few thousand calls for a year) and read back per slot by numpy indexing,
    rather than a lookup per mark or a sort of the marks by (day, code)."""

    NO_MARK = len(COUNT_COLUMNS)  # the category of an empty slot: counted nowhere

    def __init__(self, weeks: np.ndarray, vocab: list[str]):
        self.first = int(weeks.min()) if len(weeks) else 0
        span = int(weeks.max()) - self.first + 7 if len(weeks) else 0
        self.empty = len(vocab)
        self.table = np.full((span, len(vocab) + 1), self.NO_MARK, dtype=np.int64)
        for offset in range(span):
            day = date.fromordinal(self.first + offset)
            for index, code in enumerate(vocab):
                try:
                    self.table[offset, index] = _CATEGORY_INDEX[lookup(code, day).category]
                except UnknownCode:
                    self.table[offset, index] = -1  # never written: the importers refuse it
        self.late = np.array([c in LATE_CODES for c in vocab] + [False], dtype=bool)

    def counts(self, weeks: np.ndarray, grid: np.ndarray) -> np.ndarray:
        """(rows, 8): the six category counts, late and possible, per row of ``grid`` (rows,
        SLOTS; -1 for an empty slot)."""
        rows = grid.shape[0]
        out = np.zeros((rows, 8), dtype=np.int64)
        if not rows:
            return out
        day = (weeks - self.first)[:, None] + (np.arange(SLOTS) // 2)[None, :]
        code = np.where(grid >= 0, grid, self.empty)
        category = self.table[day, code]
        if (category < 0).any():
            raise ValueError("a stored code is not in force on its date")
        out[:, :6] = np.bincount((np.arange(rows)[:, None] * 7 + category).ravel(), minlength=rows * 7
                                 ).reshape(rows, 7)[:, :6]
        out[:, LATE] = self.late[code].sum(axis=1)
        out[:, 7] = out[:, :4].sum(axis=1)
        return out


# --- reading and writing rows ------------------------------------------------------------------


def _existing(session: Session, school_id: int, first_week: date, last_week: date,
              pupils: np.ndarray) -> list[tuple[Any, ...]]:
    sql = ("SELECT pupil_id, week_start, codes, batch_id, batches FROM pupil_weeks WHERE school_id = :school "
           "AND week_start >= :first AND week_start <= :last")
    params: dict[str, Any] = {"school": school_id, "first": first_week, "last": last_week}
    ids = np.unique(pupils)
    if len(ids) <= 500:
        sql += " AND pupil_id IN :ids"
        stmt = text(sql).bindparams(bindparam("ids", expanding=True))
        params["ids"] = [int(i) for i in ids.tolist()]
    else:
        stmt = text(sql)
    return [tuple(r) for r in session.execute(stmt, params)]  # type: ignore[misc]


def _as_ordinal(day: Any) -> int:
    return (date.fromisoformat(day) if isinstance(day, str) else day).toordinal()


@dataclass
class _Rows:
    """Pupil-weeks to insert, column-wise (``ROW_COLUMNS``); counts computed when taken, so the
    rows can be counted and sent a block at a time."""

    pupils: np.ndarray
    weeks: np.ndarray  # ordinals of the Mondays
    school_id: int
    grid: np.ndarray  # (rows, SLOTS) indexes into the classifier's vocabulary, -1 empty
    codes: np.ndarray  # S28
    batch_ids: list[int | None]
    batches: list[str]
    classifier: _Classifier

    def __len__(self) -> int:
        return len(self.pupils)

    def take(self, at: np.ndarray) -> "_Rows":
        index = at.tolist()
        return _Rows(self.pupils[at], self.weeks[at], self.school_id, self.grid[at], self.codes[at],
                     [self.batch_ids[i] for i in index], [self.batches[i] for i in index], self.classifier)

    def counts(self) -> np.ndarray:
        return self.classifier.counts(self.weeks, self.grid)

    def columns(self) -> list[list[Any]]:
        iso = {w: date.fromordinal(w).isoformat() for w in set(self.weeks.tolist())}
        return [self.pupils.tolist(), [iso[w] for w in self.weeks.tolist()], [self.school_id] * len(self),
                *self.counts().T.tolist(),
                [c.decode("ascii").ljust(SLOTS * CODE_WIDTH) for c in self.codes.tolist()],
                self.batch_ids, self.batches]


_PG_EPOCH = date(2000, 1, 1).toordinal()
# COPY's binary format for the usual row, one import batch for the whole week (batch_id set,
# batches empty): each field a big-endian length and value, in ROW_COLUMNS order.
_BINARY_ROW = np.dtype(
    [("fields", ">i2"), ("l_pupil", ">i4"), ("pupil", ">i4"), ("l_week", ">i4"), ("week", ">i4"),
     ("l_school", ">i4"), ("school", ">i4")]
    + [item for i in range(8) for item in ((f"l_n{i}", ">i4"), (f"n{i}", ">i2"))]
    + [("l_codes", ">i4"), ("codes", f"S{SLOTS * CODE_WIDTH}"), ("l_batch", ">i4"), ("batch", ">i4"),
       ("l_batches", ">i4")])


_BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no header extension
_BINARY_TRAILER = b"\xff\xff"
BINARY_BLOCK = 8192  # rows counted and sent at a time: the server inserts one block while we count the next


def _binary_records(rows: _Rows) -> bytes:
    """The rows as ``COPY ... (FORMAT binary)`` records, built by numpy: no Python per row,
    and the server parses no text."""
    out = np.zeros(len(rows), dtype=_BINARY_ROW)
    out["fields"] = len(ROW_COLUMNS)
    for name, width in (("pupil", 4), ("week", 4), ("school", 4), ("batch", 4)):
        out[f"l_{name}"] = width
    out["pupil"] = rows.pupils
    out["week"] = rows.weeks - _PG_EPOCH
    out["school"] = rows.school_id
    count = rows.counts()
    for i in range(8):
        out[f"l_n{i}"] = 2
        out[f"n{i}"] = count[:, i]
    out["l_codes"] = SLOTS * CODE_WIDTH
    out["codes"] = rows.codes
    out["batch"] = np.array(rows.batch_ids, dtype=np.int64)
    out["l_batches"] = 0
    return out.tobytes()


def _write_rows(session: Session, keys_to_delete: list[tuple[int, str]], rows: _Rows) -> None:
    """Replace rows: delete the old versions by key, then bulk-insert ``rows``: ``COPY`` on
    PostgreSQL (binary for the usual row, text for the rest), ``executemany`` on SQLite."""
    dbapi = session.connection().connection.driver_connection
    postgres = session.get_bind().dialect.name == "postgresql"
    session.flush()
    if keys_to_delete and postgres:  # one statement, the keys as two arrays
        pupils, weeks = zip(*keys_to_delete)
        with dbapi.cursor() as cur:
            cur.execute("DELETE FROM pupil_weeks w USING unnest(%s::integer[], %s::date[]) AS k(pupil_id, week_start) "
                        "WHERE w.pupil_id = k.pupil_id AND w.week_start = k.week_start",
                        (list(pupils), [date.fromisoformat(w) for w in weeks]))
    elif keys_to_delete:
        dbapi.executemany("DELETE FROM pupil_weeks WHERE pupil_id = ? AND week_start = ?", keys_to_delete)
    if not len(rows):
        return
    names = ", ".join(ROW_COLUMNS)
    if not postgres:
        dbapi.executemany(f"INSERT INTO pupil_weeks ({names}) VALUES ({', '.join('?' * len(ROW_COLUMNS))})",
                          zip(*rows.columns()))
        return
    usual = np.array([b is not None and not e for b, e in zip(rows.batch_ids, rows.batches)], dtype=bool)
    with dbapi.cursor() as cur:
        if usual.any():
            at = np.flatnonzero(usual)
            with cur.copy(f"COPY pupil_weeks ({names}) FROM STDIN (FORMAT binary)") as copy:
                copy.write(_BINARY_HEADER)
                for start in range(0, len(at), BINARY_BLOCK):
                    copy.write(_binary_records(rows.take(at[start:start + BINARY_BLOCK])))
                copy.write(_BINARY_TRAILER)
        if not usual.all():
            # COPY's text format: only the codes can hold a backslash (the code "\\"), its
            # escape; a null batch_id is \N.
            columns = rows.take(np.flatnonzero(~usual)).columns()
            codes_at = ROW_COLUMNS.index("codes")
            text_columns = [list(map(str, c)) for c in columns[:codes_at]] + [
                [c.replace("\\", "\\\\") for c in columns[codes_at]],
                ["\\N" if b is None else str(b) for b in columns[codes_at + 1]], columns[codes_at + 2]]
            with cur.copy(f"COPY pupil_weeks ({names}) FROM STDIN") as copy:
                copy.write("\n".join(map("\t".join, zip(*text_columns))) + "\n")


def apply(session: Session, school_id: int, batch_id: int | None, marks: Marks) -> Diff:
    """Set these marks for ``school_id`` (each replaces what its session held; sessions not
    given keep theirs), recount the weeks they fall in, and say what changed. One session may
    appear once only (the importers check that first). Runs in the caller's transaction."""
    diff = Diff()
    if not len(marks):
        return diff
    week = marks.day - weekday_of(marks.day)
    slot = weekday_of(marks.day) * 2 + marks.pm
    first_week, last_week = int(week.min()), int(week.max())
    nweeks = (last_week - first_week) // 7 + 1
    cell = marks.pupil * nweeks + (week - first_week) // 7
    cell_of, cells = dense_index(cell)
    cell_pupil, cell_week = cells // nweeks, (cells % nweeks) * 7 + first_week
    diff.first, diff.last = date.fromordinal(int(marks.day.min())), date.fromordinal(int(marks.day.max()))
    diff.pupils_in_file = len(np.unique(cell_pupil))

    vocab = list(marks.vocab)
    grid = np.full((len(cells), SLOTS), -1, dtype=np.int64)
    batches = np.full((len(cells), SLOTS), EMPTY_BATCH, dtype=f"S{BATCH_WIDTH}")
    had_row = np.zeros(len(cells), dtype=bool)
    existing = _existing(session, school_id, date.fromordinal(first_week), date.fromordinal(last_week), marks.pupil)
    if existing:
        keys = np.array([r[0] * nweeks + (_as_ordinal(r[1]) - first_week) // 7 for r in existing], dtype=np.int64)
        at = np.minimum(np.searchsorted(cells, keys), len(cells) - 1)  # cells are in ascending order
        hit = cells[at] == keys
        rows = [existing[i] for i in np.flatnonzero(hit).tolist()]
        where = at[hit]
        if rows:
            grid[where] = _decode_codes([r[2] for r in rows], vocab)
            batches[where] = _batch_tokens(rows)
            had_row[where] = True
    old = grid[cell_of, slot]
    new = marks.code
    added = old < 0
    changed = ~added & (old != new)
    diff.added, diff.changed = int(added.sum()), int(changed.sum())
    diff.unchanged = len(marks) - diff.added - diff.changed
    touched = added | changed
    if not touched.any():
        return diff
    diff.pupils_touched = (diff.pupils_in_file if touched.all() else len(dense_index(marks.pupil[touched])[1]))
    for i in np.flatnonzero(changed).tolist():
        diff.changes.append((int(marks.pupil[i]), date.fromordinal(int(marks.day[i])), SESSIONS[int(marks.pm[i])],
                             vocab[int(old[i])], vocab[int(new[i])]))
    grid[cell_of[touched], slot[touched]] = new[touched]
    if batch_id is not None:
        batches[cell_of[touched], slot[touched]] = f"{batch_id:0{BATCH_WIDTH}d}".encode("ascii")
    dirty = np.zeros(len(cells), dtype=bool)
    dirty[cell_of[touched]] = True
    rows_at = np.flatnonzero(dirty)
    diff.rows_written = len(rows_at)
    _store(session, school_id, cell_pupil[rows_at], cell_week[rows_at], grid[rows_at], batches[rows_at], vocab,
           replace=had_row[rows_at])
    bump_version(session, school_id)
    return diff


def write(session: Session, school_id: int, rows: Iterable[Sequence[Any]], batch_id: int | None = None) -> Diff:
    """``apply`` for (pupil_id, date, "AM"/"PM", code) rows: the demo's and the tests' way in."""
    return apply(session, school_id, batch_id, Marks.from_rows(rows))


def _store(session: Session, school_id: int, pupils: np.ndarray, weeks: np.ndarray, grid: np.ndarray,
           batches: np.ndarray, vocab: list[str], replace: np.ndarray) -> None:
    """Write these pupil-weeks (deleting the old versions of those marked ``replace``)."""
    tokens = _tokens(vocab)[np.where(grid >= 0, grid, len(vocab))]
    codes = np.ascontiguousarray(tokens).view(f"S{SLOTS * CODE_WIDTH}").ravel()
    rows = _Rows(pupils, weeks, school_id, grid, codes, *_batch_columns(batches, grid >= 0),
                 _Classifier(weeks, vocab))
    stale = [(int(pupils[i]), date.fromordinal(int(weeks[i])).isoformat()) for i in np.flatnonzero(replace).tolist()]
    _write_rows(session, stale, rows)


def recount(session: Session, school_id: int, first: date | None = None, last: date | None = None,
            pupil_ids: Iterable[int] | None = None) -> int:
    """Recompute the counts of the school's weeks touching [first, last] (all when None) from
    the marks they hold, and drop weeks that hold none: ``outreach attendance rebuild``."""
    where = "school_id = :school"
    params: dict[str, Any] = {"school": school_id}
    if first is not None:
        where += " AND week_start >= :first"
        params["first"] = week_start(first)
    if last is not None:
        where += " AND week_start <= :last"
        params["last"] = week_start(last)
    ids = sorted(set(pupil_ids)) if pupil_ids is not None else None
    if ids is not None:
        if not ids:
            return 0
        where += " AND pupil_id IN :ids"
        params["ids"] = ids

    def statement(head: str) -> Any:
        stmt = text(f"{head} pupil_weeks WHERE {where}")
        return stmt.bindparams(bindparam("ids", expanding=True)) if ids is not None else stmt

    rows = session.execute(statement("SELECT pupil_id, week_start, codes, batch_id, batches FROM"), params).all()
    bump_version(session, school_id)
    if not rows:
        return 0
    vocab: list[str] = []
    grid = _decode_codes([r[2] for r in rows], vocab)
    weeks = np.array([_as_ordinal(r[1]) for r in rows], dtype=np.int64)
    pupils = np.array([r[0] for r in rows], dtype=np.int64)
    batches = _batch_tokens(rows)
    keep = (grid >= 0).any(axis=1)  # a week whose marks are all gone goes too
    session.execute(statement("DELETE FROM"), params)  # the rows just read, written back recounted
    _store(session, school_id, pupils[keep], weeks[keep], grid[keep], batches[keep], vocab,
           replace=np.zeros(int(keep.sum()), dtype=bool))
    return int(keep.sum())


# --- reading a school's days without unfolding its marks -----------------------------------------


def days_with_possible(session: Session, school_id: int, first: date, last: date) -> list[date]:
    """Days in [first, last] on which any pupil of the school has a mark counted in possible
    sessions (the school's days open: closures and holidays drop out). Reads each distinct week
    of codes once (most pupils' weeks repeat a few patterns) instead of unfolding every mark."""
    rows = session.execute(text(
        "SELECT DISTINCT week_start, codes FROM pupil_weeks WHERE school_id = :school "
        "AND week_start >= :first AND week_start <= :last"),
        {"school": school_id, "first": week_start(first), "last": last}).all()
    if not rows:
        return []
    vocab: list[str] = []
    grid = _decode_codes([r[1] for r in rows], vocab)
    weeks = np.array([_as_ordinal(r[0]) for r in rows], dtype=np.int64)
    classifier = _Classifier(weeks, vocab)
    day = (weeks - classifier.first)[:, None] + (np.arange(SLOTS) // 2)[None, :]
    category = classifier.table[day, np.where(grid >= 0, grid, classifier.empty)]
    possible = (category >= 0) & (category < _CATEGORY_INDEX[Category.NOT_COUNTED])
    days = np.unique((weeks[:, None] + (np.arange(SLOTS) // 2)[None, :])[possible])
    return [d for d in map(date.fromordinal, days.tolist()) if first <= d <= last]


def has_marks(session: Session, school_id: int, first: date, last: date) -> bool:
    """Whether the school holds any mark in [first, last]: for each week, one index probe that
    looks at the characters of those days in the week's codes."""
    monday = week_start(first)
    while monday <= last:
        start = max(first, monday)
        end = min(last, monday + timedelta(days=6))
        if start <= end:
            position = (start - monday).days * 2 * CODE_WIDTH + 1
            width = ((end - start).days + 1) * 2 * CODE_WIDTH
            found = session.execute(text(
                "SELECT 1 FROM pupil_weeks WHERE school_id = :school AND week_start = :monday "
                "AND substr(codes, :position, :width) <> :blank LIMIT 1"),
                {"school": school_id, "monday": monday, "position": position, "width": width,
                 "blank": " " * width}).first()
            if found is not None:
                return True
        monday += timedelta(days=7)
    return False


def week_bounds(first: date, last: date) -> tuple[date, date]:
    """The ``week_start`` range holding the dates [first, last]: readers of the ``marks`` view
    add it so the database finds the weeks by index instead of unfolding every row."""
    return week_start(first), week_start(last)
