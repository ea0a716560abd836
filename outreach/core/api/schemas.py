"""Schemas every API endpoint shares: errors, page metadata and the page query parameters."""
from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from outreach.core.pagination import DEFAULT_PER_PAGE

MAX_PER_PAGE = 100
NO_NUL = r"^[^\x00]*$"  # every text input: PostgreSQL cannot store NUL, so it is refused (400) up front


def Text(*validators: Any, **kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    """A string field for input that documents (and enforces) that NUL characters are refused:
    ``Text(validate.Length(max=100), metadata={...})``."""
    return fields.String(validate=[validate.Regexp(NO_NUL, error="Text may not contain NUL characters."), *validators],
                         **kwargs)  # the documented ceiling; API_MAX_PER_PAGE may lower it, never raise it


class ErrorSchema(Schema):
    error = fields.String(required=True, metadata={"description": "What went wrong, in words."})
    details = fields.Raw(allow_none=True, metadata={"description": "Field messages or other structured reasons."})


class PageQuerySchema(Schema):
    """Base for list endpoints' query strings; subclasses add their filters."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000),
                          metadata={"description": "Page number, from 1."})
    per_page = fields.Integer(load_default=DEFAULT_PER_PAGE, validate=validate.Range(min=1, max=MAX_PER_PAGE),
                              metadata={"description": f"Items per page (1 to {MAX_PER_PAGE})."})


class PageMetaSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "Items across all pages."})
    pages = fields.Integer(required=True)


class PageLinksSchema(Schema):
    self = fields.String(required=True)
    first = fields.String(required=True)
    last = fields.String(required=True)
    prev = fields.String(allow_none=True)
    next = fields.String(allow_none=True)


_page_schemas: dict[type[Schema], type[Schema]] = {}


def page_schema(item: type[Schema]) -> type[Schema]:
    """The envelope ``{"data": [item...], "meta": ..., "links": ...}`` for ``item``, one class
    per item schema (so the OpenAPI document names it once, e.g. ``PupilPage``)."""
    if item not in _page_schemas:
        name = item.__name__.removesuffix("Schema") + "Page"
        _page_schemas[item] = Schema.from_dict(
            {
                "data": fields.List(fields.Nested(item), required=True),
                "meta": fields.Nested(PageMetaSchema, required=True),
                "links": fields.Nested(PageLinksSchema, required=True),
            },
            name=name,
        )
    return _page_schemas[item]
