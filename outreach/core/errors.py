"""Errors users can cause, and how they are shown.

``UserError`` is raised by services for input a person can fix; views turn it into a 400 page or
a JSON error, the CLI into a message and a non-zero exit. Anything else is a bug and a 500.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template_string, request
from werkzeug.exceptions import HTTPException


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


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ code }} {{ title }}</title></head>
<body><main><h1>{{ title }}</h1><p>{{ message }}</p><p><a href="/">Back to the start</a></p></main></body></html>"""


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(UserError)
    def handle_user_error(exc: UserError):  # type: ignore[no-untyped-def]
        if _wants_json():
            return jsonify({"error": exc.message, "details": exc.details}), exc.status_code
        return render_template_string(_PAGE, code=exc.status_code, title="Something needs fixing", message=exc.message), exc.status_code

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):  # type: ignore[no-untyped-def]
        if _wants_json():
            return jsonify({"error": exc.name, "details": exc.description}), exc.code
        return render_template_string(_PAGE, code=exc.code, title=exc.name, message=exc.description), exc.code
