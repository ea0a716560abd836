"""Pagination for pages and the API: one ``Page`` shape over Flask-SQLAlchemy's ``db.paginate``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from sqlalchemy import Select

from outreach.extensions import db

T = TypeVar("T")
U = TypeVar("U")

DEFAULT_PER_PAGE = 25


@dataclass
class Page(Generic[T]):
    items: list[T]
    page: int
    per_page: int
    total: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page)) if self.per_page else 1

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    def map(self, fn: Callable[[T], U]) -> "Page[U]":
        """The same page with each item transformed (e.g. rows to API dicts with counts)."""
        return Page([fn(i) for i in self.items], self.page, self.per_page, self.total, self.extra)


def paginate(stmt: Select[Any], page: int = 1, per_page: int = DEFAULT_PER_PAGE, max_per_page: int = 100) -> Page[Any]:
    """One page of ``stmt`` (a select of one entity). Out-of-range pages are empty, not errors;
    callers validate ``page`` >= 1 and ``per_page`` in range (schemas do, for the API)."""
    page = max(1, int(page))
    per_page = max(1, min(int(per_page), max_per_page))
    result = db.paginate(stmt, page=page, per_page=per_page, max_per_page=max_per_page, error_out=False, count=True)
    return Page(list(result.items), page, per_page, int(result.total or 0))
