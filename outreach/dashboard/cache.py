"""Per-process memo of a school's computed figures, checked against its figure version.

A 2,000-pupil school's year of figures takes tens of milliseconds of database and numpy work
to compute, and officers open the same overview and pupil list many times between imports. The
figures change only when rollups are written, and every rollup write bumps the school's row in
``figure_versions`` in the same transaction (``rollups.bump_version``). So a page asks for the
version (one primary-key lookup) and reuses what this process computed at that version.

Two more things end an entry: the London date (ranges such as "this year so far" end today),
and an age of ``MAX_AGE_SECONDS``, because pupil details the figures are grouped by (year group,
FSM, SEN, names) can change through a roster import without any rollup write: such a change
shows within a minute. Entries are bounded (least recently used go first); nothing is shared
between processes, so there is nothing to invalidate across hosts.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Hashable, Iterable, TypeVar

from flask import current_app
from markupsafe import Markup
from sqlalchemy import select

from outreach.attendance.models import FigureVersion
from outreach.core.timeutil import london_today
from outreach.extensions import db

T = TypeVar("T")

MAX_ENTRIES = 256
MAX_AGE_SECONDS = 60.0

_entries: "OrderedDict[Hashable, tuple[Any, float, Any]]" = OrderedDict()
_lock = threading.Lock()


def versions(school_ids: Iterable[int]) -> tuple[tuple[int, int, str], ...]:
    """(school id, version, when it changed) for each school; (id, 0, "") for a school never
    rolled up. The time makes the stamp unique even if a school's row is deleted and its id and
    counter start again (as when tests empty the tables)."""
    ids = sorted(set(school_ids))
    found = {sid: (int(v), changed.isoformat() if changed else "") for sid, v, changed in db.session.execute(
        select(FigureVersion.school_id, FigureVersion.version, FigureVersion.changed_at)
        .where(FigureVersion.school_id.in_(ids)))} if ids else {}
    return tuple((i, *found.get(i, (0, ""))) for i in ids)


def cached(school_ids: Iterable[int], key: Hashable, compute: Callable[[], T], figures_only: bool = False) -> T:
    """``compute()``'s value for ``key``, reused while the schools' figure versions, the London
    date and the entry's age allow. The value must not hold database objects (they would be
    detached in the next request): use plain dataclasses.

    A school never rolled up has version 0 and no way to tell one state of it from another, so
    values that carry pupil details are not kept for it; ``figures_only`` values (sums over
    rollups, which are empty for such a school whatever its pupils) are."""
    stamp = (versions(school_ids), london_today())
    if not figures_only and any(version == 0 for _sid, version, _at in stamp[0]):
        return compute()
    full_key = (key, tuple(sorted(set(school_ids))))
    now = time.monotonic()
    with _lock:
        hit = _entries.get(full_key)
        if hit is not None and hit[0] == stamp and now - hit[1] < MAX_AGE_SECONDS:
            _entries.move_to_end(full_key)
            return hit[2]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        _entries[full_key] = (stamp, now, value)
        _entries.move_to_end(full_key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def page_body(school_ids: Iterable[int], key: Hashable, template: str, context: Callable[[], dict[str, Any]]) -> Markup:
    """The rendered body of a page, kept like any figure (same versions, date and age).

    Rendering a 2,000-pupil school's overview or a page of its pupil list costs more than
    computing its (already kept) figures; the body depends only on the school's figures and the
    query, so it is rendered once per version and reused. It is rendered from the Jinja
    environment directly, without Flask's context processors, so it cannot pick up anything
    about the user looking at it (name, role, CSRF token): those belong to the page around it.
    ``context`` is called only when the body is rendered."""
    def render() -> Markup:
        return Markup(current_app.jinja_env.get_template(template).render(**context()))

    return cached(school_ids, ("page_body", template, key), render)


def clear() -> None:
    with _lock:
        _entries.clear()
