"""Which column holds which field: built-in aliases, named MIS mappings and mapping files.

Columns are found by name, case-insensitively and ignoring spaces and punctuation
(``normalise_header``). Every logical field has a list of common aliases; a named mapping (for a
particular MIS export) or a JSON mapping file puts its own names first. A mapping file::

    {"format": "long",
     "columns": {"upn": "Pupil Ref", "date": "Day", "session": "Sess", "code": "Mark"},
     "date_format": "%d-%b-%Y"}

``format`` and ``date_format`` are optional; ``columns`` maps a logical field to one column name
(or a list of names to try in order).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping as MappingT, Sequence

from outreach.core.errors import UserError
from outreach.registers.formats.base import normalise_header

# Logical field -> aliases, most common first. Shared by registers, pupils and contacts imports.
ALIASES: dict[str, tuple[str, ...]] = {
    # registers
    "upn": ("UPN", "Pupil UPN", "Student UPN", "Unique Pupil Number", "Learner UPN"),
    "date": ("Date", "Attendance Date", "Session Date", "Mark Date", "Register Date", "Day"),
    "session": ("Session", "AM/PM", "AMPM", "Period", "Session Name", "Register Session"),
    "code": ("Mark", "Code", "Attendance Code", "Attendance Mark", "Session Mark", "Mark Code"),
    # pupils
    "forename": ("Forename", "Legal Forename", "First Name", "Firstname", "Given Name"),
    "surname": ("Surname", "Legal Surname", "Last Name", "Lastname", "Family Name"),
    "preferred_forename": ("Preferred Forename", "Preferred Name", "Known As", "Chosen Name"),
    "date_of_birth": ("Date of Birth", "DOB", "Birth Date", "Birthdate"),
    "year_group": ("Year Group", "Year", "NC Year", "National Curriculum Year", "NCyearActual", "Year Taught In"),
    "reg_group": ("Reg Group", "Registration Group", "Reg", "Form", "Tutor Group", "Class", "Form Group"),
    "fsm": ("FSM", "Free School Meals", "FSM Eligible", "FSM Eligibility", "Eligible for FSM"),
    "sen_status": ("SEN", "SEN Status", "SEN Provision", "SEND", "SEND Status", "SEN Stage"),
    "eal": ("EAL", "English as an Additional Language", "EAL Status", "First Language Not English"),
    "sex": ("Sex", "Gender", "Legal Sex"),
    "admission_date": ("Admission Date", "Date of Admission", "Entry Date", "Start Date", "Enrolment Date"),
    "leaving_date": ("Leaving Date", "Date of Leaving", "Leave Date", "End Date"),
    # contacts
    "name": ("Name", "Contact Name", "Contact", "Parent Name", "Carer Name", "Full Name"),
    "relationship": ("Relationship", "Relation", "Relationship to Pupil", "Contact Relationship"),
    "phone": ("Phone", "Mobile", "Mobile Phone", "Telephone", "Phone Number", "Contact Number", "Mobile Number"),
    "email": ("Email", "E-mail", "Email Address"),
    "language": ("Language", "Preferred Language", "Home Language"),
    "sms_consent": ("SMS Consent", "SMS", "Consent", "Text Consent", "Receives SMS"),
    "priority": ("Priority", "Contact Priority", "Order", "Contact Order", "Priority Order"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """How one kind of export names its columns."""

    name: str
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    date_format: str | None = None
    format: str | None = None  # long, wide or ctf, when the mapping implies it
    description: str = ""

    def candidates(self, logical: str) -> tuple[str, ...]:
        return self.columns.get(logical, ()) + ALIASES.get(logical, ())


# Named mappings for the common MIS exports. The column names are the ones these systems' report
# writers and attendance exports commonly produce (SIMS: a custom report over Attendance >
# Pupil marks; Arbor: the "Statutory attendance" export; Bromcom: the "Attendance marks" report).
# They were not checked against each vendor's current release: where a school's export differs,
# a mapping file fixes it without a code change.
BUILTIN: dict[str, ColumnMapping] = {m.name: m for m in (
    ColumnMapping("sims", {"upn": ("UPN",), "date": ("Date",), "session": ("Session",), "code": ("Mark",)},
                  date_format=None, format="long", description="SIMS report: UPN, Date, Session, Mark"),
    ColumnMapping("arbor", {"upn": ("Student UPN", "UPN"), "date": ("Session Date", "Date"),
                            "session": ("Session", "AM/PM"), "code": ("Attendance Mark", "Mark Code")},
                  format="long", description="Arbor export: Student UPN, Session Date, Session, Attendance Mark"),
    ColumnMapping("bromcom", {"upn": ("UPN", "Student UPN"), "date": ("Attendance Date",),
                              "session": ("Session", "Period"), "code": ("Attendance Code", "Code")},
                  format="long", description="Bromcom report: UPN, Attendance Date, Session, Attendance Code"),
)}


def load_mapping(spec: str | None) -> ColumnMapping:
    """``None`` (aliases only), a built-in name, or a path to a JSON mapping file."""
    if spec is None or spec == "":
        return ColumnMapping("default")
    if spec.lower() in BUILTIN:
        return BUILTIN[spec.lower()]
    path = Path(spec)
    if not path.exists():
        raise UserError(f"--mapping {spec!r} is neither a built-in mapping ({', '.join(sorted(BUILTIN))}) nor a file")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"mapping file {path.name} is not valid JSON: {exc}") from exc
    return mapping_from_dict(data, name=path.name)


def mapping_from_dict(data: object, name: str = "mapping") -> ColumnMapping:
    if not isinstance(data, dict):
        raise UserError(f"mapping {name}: expected a JSON object")
    unknown = set(data) - {"format", "columns", "date_format", "name", "description"}
    if unknown:
        raise UserError(f"mapping {name}: unknown keys {', '.join(sorted(unknown))}")
    columns = data.get("columns", {})
    if not isinstance(columns, dict):
        raise UserError(f"mapping {name}: 'columns' must be an object of field -> column name")
    cols: dict[str, tuple[str, ...]] = {}
    for logical, value in columns.items():
        if logical not in ALIASES:
            raise UserError(f"mapping {name}: unknown field {logical!r}; fields are {', '.join(ALIASES)}")
        values = [value] if isinstance(value, str) else value
        if not isinstance(values, list) or not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise UserError(f"mapping {name}: field {logical!r} needs a column name or a list of them")
        cols[logical] = tuple(values)
    fmt = data.get("format")
    if fmt is not None and fmt not in ("long", "wide", "ctf"):
        raise UserError(f"mapping {name}: format must be long, wide or ctf, got {fmt!r}")
    date_format = data.get("date_format")
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise UserError(f"mapping {name}: date_format is a strptime format such as %d/%m/%Y")
    return ColumnMapping(str(data.get("name", name)), cols, date_format, fmt, str(data.get("description", "")))


def find_columns(header: Sequence[str], mapping: ColumnMapping, required: Iterable[str],
                 optional: Iterable[str] = ()) -> tuple[dict[str, int], list[str]]:
    """Logical field -> column index, and the required fields not found."""
    index: dict[str, int] = {}
    for i, cell in enumerate(header):
        index.setdefault(normalise_header(cell), i)
    found: dict[str, int] = {}
    missing: list[str] = []
    for logical in list(required) + list(optional):
        for candidate in mapping.candidates(logical):
            pos = index.get(normalise_header(candidate))
            if pos is not None:
                found[logical] = pos
                break
        else:
            if logical in required:
                missing.append(logical)
    return found, missing


def describe_missing(missing: Sequence[str], mapping: ColumnMapping) -> str:
    parts = [f"{f} (one of: {', '.join(mapping.candidates(f)[:6])})" for f in missing]
    return "missing column " + "; ".join(parts)


def as_mapping(value: "str | ColumnMapping | MappingT[str, object] | None") -> ColumnMapping:
    """What services accept: a name or path, a parsed mapping, or a dict (from the web form)."""
    if isinstance(value, ColumnMapping):
        return value
    if isinstance(value, MappingT):
        return mapping_from_dict(dict(value))
    return load_mapping(value)
