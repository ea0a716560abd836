"""Errors users can cause, and how they are shown.

``UserError`` is raised by services for input a person can fix; views turn it into a 400 page or
a JSON error, the CLI into a message and a non-zero exit. Anything else is a bug and a 500.
"""
from __future__ import annotations

from typing import Any

import logging

from flask import Flask, Response, jsonify, render_template, render_template_string, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class UserError(Exception):
    """Input that cannot be accepted; ``details`` carries structured, user-facing reasons."""

    status_code = 400

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(UserError):
    status_code = 404


class Forbidden(UserError):
    status_code = 403


class Unprocessable(UserError):
    """Well formed (the schema accepted it) but it cannot be done: the API's 422, e.g. a pupil
    of another school, a referral step out of order. Pages show it as a 400 with the form."""

    status_code = 422
class Conflict(UserError):
    """Well-formed input the data as it stands does not allow (a name in use, a full route)."""

    status_code = 409


class Unauthorized(UserError):
    """No valid credentials (the API's bearer token); answered with ``WWW-Authenticate``."""

    status_code = 401


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ code }} {{ title }}</title></head>
<body><main><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">Back to the start</a></p></main></body></html>"""


# Kinder words than werkzeug's for the pages people actually meet.
_TITLES = {
    400: ("Something needs fixing", None),
    401: ("Please sign in", None),
    403: ("You do not have access to this", "Your account can't do this. If you think it should, ask your administrator."),
    404: ("Page not found", "We could not find that page. Check the address, or go back to the start."),
    405: ("That can't be done here", None),
    413: ("That file is too large", None),
    429: ("Too many requests", None),
    500: ("Sorry, something went wrong", "The problem has been logged. Please try again in a moment."),
}


def html_error(code: int, title: str, message: str) -> tuple[str, int]:
    try:
        return render_template("errors/error.html", code=code, title=title, message=message), code
    except Exception:  # the shell itself failed (a 500 in the middle of a DB outage)
        log.exception("error page could not be rendered with the page shell")
        return render_template_string(_PAGE, code=code, title=title, message=message), code


def json_error(message: str, details: Any, code: int) -> Response:
    response = jsonify({"error": message, "details": details})
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="outreach"'
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(UserError)
    def handle_user_error(exc: UserError):  # type: ignore[no-untyped-def]
        if wants_json():
            return json_error(exc.message, exc.details, exc.status_code)
        title = _TITLES.get(exc.status_code, ("Something needs fixing", None))[0]
        return html_error(exc.status_code, title, exc.message)

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):  # type: ignore[no-untyped-def]
        code = exc.code or 500
        if code >= 500:
            from outreach.extensions import db

            db.session.rollback()  # the page shell reads the user; never from a broken transaction
        if wants_json():
            response = json_error(exc.name, exc.description, code)
        else:
            title, message = _TITLES.get(code, (exc.name, None))
            body, _ = html_error(code, title, message or exc.description or "")
            response = Response(body, status=code, mimetype="text/html")
        if code == 405 and exc.get_response().headers.get("Allow"):
            response.headers["Allow"] = exc.get_response().headers["Allow"]
        return response
