"""``outreach import ...``"""
from __future__ import annotations

from flask.cli import AppGroup

import_cli = AppGroup("import", help="Import pupils, contacts and registers from MIS exports.")
