"""CTF XML (the DfE Common Transfer File), read with ``iterparse`` so memory stays flat.

``CTfile/Header/SourceSchool/{LEA,Estab,URN,SchoolName,AcademicYear}`` says whose file it is:
it must match the school we import into. Each ``CTFpupilData/Pupil`` carries ``UPN``, names,
``DOB``, ``Gender`` and ``Attendance/YearData/AttendSessions/{AttendanceStartDate,
AttendanceMarks}``: one character per session, two per calendar day (AM then PM) from the start
date, ``#`` on days without a session (weekends, holidays), ``-`` or a space where no mark was
taken. (``AttendStartDate``/``AttendMarks`` are read too: older files use them.)
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Iterator

from outreach.registers.formats.base import DateParser, FormatError, Problem, RawMark

NO_SESSION = "#"


@dataclass(frozen=True)
class SchoolIdentity:
    urn: str
    la_code: str | None
    estab: str | None


@dataclass(frozen=True)
class CtfPupil:
    """A pupil as the CTF describes them: the importer creates or updates the enrolment."""

    upn: str
    forename: str
    surname: str
    preferred_forename: str | None
    date_of_birth: date | None
    sex: str | None
    year_group: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]  # tolerate a default namespace


def _child_text(elem: ET.Element, *names: str) -> str | None:
    for child in elem:
        if _local(child.tag) in names:
            return (child.text or "").strip()
    return None


def _check_school(header: ET.Element, school: SchoolIdentity) -> None:
    source = next((c for c in header if _local(c.tag) == "SourceSchool"), None)
    if source is None:
        raise FormatError(Problem("the CTF header has no SourceSchool", element="Header/SourceSchool"))
    urn = _child_text(source, "URN")
    lea = _child_text(source, "LEA")
    estab = _child_text(source, "Estab")
    if urn and urn != school.urn:
        raise FormatError(Problem(f"this CTF is from another school (URN {urn}, importing into URN {school.urn})",
                                  element="Header/SourceSchool/URN", field="URN", value=urn))
    if lea and school.la_code and lea != school.la_code:
        raise FormatError(Problem(f"this CTF is from another local authority (LEA {lea}, the school's is {school.la_code})",
                                  element="Header/SourceSchool/LEA", field="LEA", value=lea))
    if estab and school.estab and estab != school.estab:
        raise FormatError(Problem(f"this CTF is from another establishment (Estab {estab}, the school's is {school.estab})",
                                  element="Header/SourceSchool/Estab", field="Estab", value=estab))
    if not (urn or (lea and estab)):
        raise FormatError(Problem("the CTF header names no school (URN, or LEA and Estab)",
                                  element="Header/SourceSchool"))


def parse(path: str | Path, school: SchoolIdentity) -> Iterator[CtfPupil | RawMark | Problem]:
    """Yield each pupil (CtfPupil) followed by its marks, streaming; Problems for what is wrong."""
    dates = DateParser()
    header_checked = False
    pupils_parent: ET.Element | None = None
    count = 0
    stack: list[str] = []
    try:
        for event, elem in ET.iterparse(str(path), events=("start", "end")):
            name = _local(elem.tag)
            if event == "start":
                stack.append(name)
                if len(stack) == 1 and name != "CTfile":
                    raise FormatError(Problem(f"not a CTF: the root element is {name}, not CTfile",
                                              element=name, line=1))
                if name == "CTFpupilData":
                    pupils_parent = elem
                continue
            stack.pop()
            if name == "Header" and len(stack) == 1:
                _check_school(elem, school)
                header_checked = True
            elif name == "Pupil" and stack and stack[-1] == "CTFpupilData":
                if not header_checked:
                    raise FormatError(Problem("the CTF has no Header before its pupils", element="Header"))
                count += 1
                yield from _pupil(elem, count, dates)
                if pupils_parent is not None:
                    pupils_parent.remove(elem)  # keep memory flat: a processed pupil is gone
    except ET.ParseError as exc:
        line, column = exc.position
        raise FormatError(Problem(f"the XML is malformed or truncated ({exc.msg if hasattr(exc, 'msg') else exc}) "
                                  f"at line {line}, column {column}", line=line, field="xml")) from exc
    if not header_checked:
        raise FormatError(Problem("the CTF has no Header", element="Header"))


def _pupil(elem: ET.Element, index: int, dates: DateParser) -> Iterator[CtfPupil | RawMark | Problem]:
    upn = (_child_text(elem, "UPN") or "").upper()
    who = upn or f"pupil {index} (no UPN)"
    if not upn:
        yield Problem("the pupil has no UPN", pupil=who, element="Pupil/UPN", field="UPN", value="")
        return
    surname = _child_text(elem, "Surname") or ""
    forename = _child_text(elem, "Forename") or ""
    for field_name, value in (("Surname", surname), ("Forename", forename)):
        if not value:
            yield Problem(f"the pupil has no {field_name}", pupil=who, element=f"Pupil/{field_name}",
                          field=field_name, value="")
    dob: date | None = None
    raw_dob = _child_text(elem, "DOB")
    if raw_dob:
        parsed = dates.parse(raw_dob)
        if isinstance(parsed, str):
            yield Problem(parsed, pupil=who, element="Pupil/DOB", field="DOB", value=raw_dob)
        else:
            dob = parsed
    sex = (_child_text(elem, "Gender", "Sex") or "").upper()[:1] or None
    year = _child_text(elem, "NCyearActual", "NCYearActual")
    yield CtfPupil(upn, forename, surname, _child_text(elem, "PreferredForename") or None, dob,
                   sex if sex in ("M", "F") else None, year or None)
    for attendance in elem.iter():
        if _local(attendance.tag) not in ("AttendSessions",):
            continue
        raw_start = _child_text(attendance, "AttendanceStartDate", "AttendStartDate")
        marks = _child_text(attendance, "AttendanceMarks", "AttendMarks")
        if raw_start is None or marks is None:
            missing = "AttendanceStartDate" if raw_start is None else "AttendanceMarks"
            yield Problem(f"AttendSessions has no {missing}", pupil=who, element=f"AttendSessions/{missing}",
                          field=missing)
            continue
        start = dates.parse(raw_start)
        if isinstance(start, str):
            yield Problem(start, pupil=who, element="AttendSessions/AttendanceStartDate",
                          field="AttendanceStartDate", value=raw_start)
            continue
        if len(marks) % 2:
            yield Problem(f"AttendanceMarks has {len(marks)} characters; it needs two per day (AM then PM)",
                          pupil=who, element="AttendSessions/AttendanceMarks", field="AttendanceMarks",
                          value=marks[-10:])
            continue
        ordinal = start.toordinal()
        for i, char in enumerate(marks):
            if char == NO_SESSION:
                continue
            code = "" if char == " " else char.upper()
            yield RawMark(upn, date.fromordinal(ordinal + i // 2), "AM" if i % 2 == 0 else "PM", code, None,
                          f"AttendanceMarks[{i + 1}]")


def count_pupils(path: str | Path) -> int:
    """Pupils in the file (for a progress total), counted in binary without parsing."""
    patterns = (b"<Pupil>", b"<Pupil ")
    total = 0
    tail = b""
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            total += sum(chunk.count(p) for p in patterns)
            seam = tail + chunk[:6]  # 6 + 6 bytes: a 7-byte match here must cross the seam
            total += sum(seam.count(p) for p in patterns)
            tail = chunk[-6:]
    return total


__all__ = ["CtfPupil", "SchoolIdentity", "parse", "count_pupils"]
