"""The upload form (Flask-WTF: CSRF token included)."""
from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, SubmitField
from wtforms.fields import SelectChoice

from outreach.registers.mappings import BUILTIN

KIND_CHOICES = [SelectChoice("registers", "Attendance registers"), SelectChoice("pupils", "Pupils"),
                SelectChoice("contacts", "Contacts (parents and carers)")]
FORMAT_CHOICES = [SelectChoice("auto", "Work it out from the file"), SelectChoice("long", "Long CSV: a row per mark"),
                  SelectChoice("wide", "Wide CSV: a row per pupil, a column per session"), SelectChoice("ctf", "CTF XML")]
MAPPING_CHOICES = [SelectChoice("", "Recognise the usual names")] + [
    SelectChoice(name, f"{name.upper() if len(name) <= 4 else name.capitalize()} export") for name in sorted(BUILTIN)]


class UploadForm(FlaskForm):
    kind = SelectField("What is in the file", choices=KIND_CHOICES, default="registers")
    format = SelectField("Register format", choices=FORMAT_CHOICES, default="auto",
                         description="Registers only: pupils and contacts are always CSV.")
    mapping = SelectField("Column names", choices=MAPPING_CHOICES, default="",
                          description="Choose your MIS if the columns are not recognised.")
    file = FileField("File", validators=[FileRequired("Choose a file to upload.")],
                     description="CSV (UTF-8) or CTF XML. It is checked first; nothing changes until you confirm.",
                     render_kw={"accept": ".csv,.txt,.xml,text/csv,application/xml,text/xml"})
    submit = SubmitField("Upload and check")
