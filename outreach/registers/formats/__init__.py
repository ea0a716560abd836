"""Register file formats: long CSV, wide CSV and CTF XML.

Each parser streams its file and yields :class:`~outreach.registers.formats.base.RawMark` rows
(one pupil, one date, one session, one code as written, with where it came from) and
:class:`~outreach.registers.formats.base.Problem` rows for what it could not read, so the
importer reports every error in one pass instead of stopping at the first. A file it cannot read
at all (missing columns, not XML, another school's CTF) raises ``FormatError``.
"""
from __future__ import annotations

from outreach.registers.formats.base import FormatError, Problem, RawMark, detect_format

__all__ = ["FormatError", "Problem", "RawMark", "detect_format"]
