"""After-import hooks: what else should happen once a school's registers have changed.

Registers know nothing of the features that react to new marks (interventions' rules, later the
digests): those features register a function here at app start-up (``outreach/__init__.py``),
and the importer calls each one after a completed, committed, non-dry-run register import. A hook
that fails is logged and rolled back; it never undoes the import, which is already committed.
"""
from __future__ import annotations

import logging
from typing import Callable

log = logging.getLogger(__name__)

AfterImport = Callable[[int, int], object]  # fn(school_id, batch_id)

_hooks: list[AfterImport] = []


def register_after_import(fn: AfterImport) -> AfterImport:
    """Add ``fn`` (once: registering the same function again is a no-op, so app factories that
    run several times, as in tests, do not call it twice). Usable as a decorator."""
    if fn not in _hooks:
        _hooks.append(fn)
    return fn


def unregister_after_import(fn: AfterImport) -> None:
    if fn in _hooks:
        _hooks.remove(fn)


def registered() -> tuple[AfterImport, ...]:
    return tuple(_hooks)


def run_after_import(school_id: int, batch_id: int) -> list[str]:
    """Call every hook; return the names of those that failed (already logged)."""
    from outreach.extensions import db

    failed: list[str] = []
    for fn in list(_hooks):
        name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
        try:
            fn(school_id, batch_id)
        except Exception:  # noqa: BLE001 - a hook's bug must not break (or undo) an import
            db.session.rollback()
            log.exception("after-import hook %s failed for school %s batch %s", name, school_id, batch_id)
            failed.append(name)
    return failed
