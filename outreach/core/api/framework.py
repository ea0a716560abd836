"""``ApiBlueprint``: the blueprint class every JSON endpoint is declared on (see package doc)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import wraps
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, jsonify, request
from marshmallow import Schema, ValidationError
from sqlalchemy import Select

from outreach.core.accounts.services import user_for_token
from outreach.core.api.schemas import page_schema
from outreach.core.errors import Unauthorized, Unprocessable, UserError
from outreach.core.pagination import Page, paginate
from outreach.core.timeutil import implausible
from outreach.extensions import csrf

API_PREFIX = "/api/v1"


@dataclass
class EndpointDoc:
    """What the OpenAPI generator needs to know about one endpoint."""

    view_name: str
    rule: str
    methods: tuple[str, ...]
    summary: str
    description: str | None = None
    query: type[Schema] | None = None
    body: type[Schema] | None = None
    response: type[Schema] | None = None
    paginated: bool = False
    status: int = 200
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    audited: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def api_user() -> Any:
    """The user the request's token belongs to (set by the token check)."""
    return g.api_user


def _authenticate() -> None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("authentication required: send Authorization: Bearer <token>")
    user = user_for_token(token.strip())
    if user is None:
        raise Unauthorized("the token is not valid (unknown, revoked, or its user is deactivated)")
    g.api_user = user
    # Flask-Login's slot for the current user: ``current_user`` (and the scoping and audit helpers
    # that default to it) then means the token's user, never a session cookie sent alongside.
    g._login_user = user


def _load(schema_cls: type[Schema], data: Any, what: str) -> dict[str, Any]:
    try:
        loaded = schema_cls().load(data)
    except ValidationError as exc:
        raise UserError(f"invalid {what}", exc.messages) from None
    if problems := _implausible_dates(loaded):  # well formed, so 422 (schemas that document the
        raise Unprocessable(f"invalid {what}", problems)  # range, as the dashboard's do, refuse first: 400)
    return loaded


def _implausible_dates(value: Any, path: str = "") -> dict[str, list[str]]:
    """Dates and times outside 2000-2100 anywhere in the loaded input, by field: a typo, and near
    date.max "the next week" of it overflows (a 500) in whatever reads it. One rule for every
    endpoint rather than a validator on each of its date fields."""
    found: dict[str, list[str]] = {}
    if isinstance(value, (date, datetime)):
        if problem := implausible(value.date() if isinstance(value, datetime) else value):
            found[path or "value"] = [problem]
    elif isinstance(value, Mapping):
        for key, item in value.items():
            found.update(_implausible_dates(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found.update(_implausible_dates(item, f"{path}[{i}]"))
    return found


def _query_args() -> dict[str, Any]:
    # One value per name: a repeated parameter takes its first value (documented).
    return {k: request.args.get(k) for k in request.args.keys()}


def _json_body() -> Any:
    if not request.is_json:
        raise UserError("send a JSON body with Content-Type: application/json")
    data = request.get_json(silent=True)
    if data is None:
        raise UserError("the body is not valid JSON")
    return data


def _page_links(page: Page[Any]) -> dict[str, str | None]:
    base = request.base_url
    args = {k: v for k, v in _query_args().items() if k not in ("page", "per_page")}

    def url(n: int) -> str:
        return base + "?" + urlencode({**args, "page": n, "per_page": page.per_page})

    return {
        "self": url(page.page),
        "first": url(1),
        "last": url(page.pages),
        "prev": url(page.page - 1) if page.has_prev else None,
        "next": url(page.page + 1) if page.has_next else None,
    }


def _page_response(result: Page[Any] | Select[Any], item_schema: type[Schema], query: Mapping[str, Any]) -> Response:
    if isinstance(result, Select):
        max_pp = int(current_app.config.get("API_MAX_PER_PAGE", 100))
        result = paginate(result, query.get("page", 1), query.get("per_page", 25), max_per_page=max_pp)
    links = _page_links(result)
    body = {
        "data": item_schema(many=True).dump(result.items),
        "meta": {"page": result.page, "per_page": result.per_page, "total": result.total, "pages": result.pages},
        "links": links,
    }
    response = jsonify(body)
    response.headers["Link"] = ", ".join(
        f'<{links[rel]}>; rel="{rel}"' for rel in ("first", "prev", "next", "last") if links[rel]
    )
    response.headers["X-Total-Count"] = str(result.total)
    return response


class ApiBlueprint(Blueprint):
    """A blueprint under ``/api/v1`` whose endpoints need a bearer token, are exempt from CSRF
    (no cookie is accepted) and are described in the generated OpenAPI document."""

    def __init__(self, name: str, import_name: str, tag: str | None = None, description: str | None = None,
                 public: bool = False):
        super().__init__(name, import_name, url_prefix=API_PREFIX)
        self.docs: list[EndpointDoc] = []
        self.tag = tag
        self.tag_description = description
        if not public:
            self.before_request(_authenticate)
        csrf.exempt(self)

    def endpoint(self, rule: str, *, summary: str, methods: Iterable[str] = ("GET",), description: str | None = None,
                 query: type[Schema] | None = None, body: type[Schema] | None = None,
                 response: type[Schema] | None = None, paginated: bool = False, status: int = 200,
                 errors: Iterable[int] = (), audited: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Declare an endpoint: route it, check its input, shape its output, and document it."""
        methods = tuple(m.upper() for m in methods)
        if paginated and response is None:
            raise TypeError("a paginated endpoint needs its item schema as response=")

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            @wraps(view)
            def wrapper(**path_args: Any) -> Any:
                kwargs = dict(path_args)
                if query is not None:
                    kwargs["query"] = _load(query, _query_args(), "query parameters")
                elif request.args:
                    raise UserError("this endpoint takes no query parameters", sorted(request.args.keys()))
                if body is not None:
                    kwargs["body"] = _load(body, _json_body(), "request body")
                result = view(**kwargs)
                if isinstance(result, Response):
                    return result
                if paginated:
                    return _page_response(result, response, kwargs.get("query") or {})  # type: ignore[arg-type]
                payload = response().dump(result) if response is not None else result
                out = jsonify(payload)
                out.status_code = status
                return out

            self.add_url_rule(rule, view_func=wrapper, methods=list(methods))
            self.docs.append(EndpointDoc(
                view_name=view.__name__, rule=rule, methods=methods, summary=summary,
                description=description or (view.__doc__ or "").strip() or None, query=query, body=body,
                response=page_schema(response) if paginated and response else response, paginated=paginated,
                status=status, errors=tuple(errors) + ((422,) if (query or body) and 422 not in errors else ()),
                tags=(self.tag,) if self.tag else (), audited=audited,
            ))
            return wrapper

        return decorator
