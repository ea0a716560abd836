"""The OpenAPI 3 document, generated from the endpoint registry and the marshmallow schemas
(apispec with its marshmallow plugin), so the document cannot drift from the code: a field
added to a schema appears in both the response and the document."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask, current_app, jsonify
from werkzeug.routing import Rule

from outreach.core.api.framework import API_PREFIX, ApiBlueprint, EndpointDoc
from outreach.core.api.schemas import NO_NUL, ErrorSchema, PageQuerySchema

API_VERSION = "1.0.0"
INT32_MAX = 2_147_483_647

_ERROR_TEXT = {
    400: "Invalid input: `details` holds a message per field.",
    401: "Missing, unknown or revoked token.",
    403: "The token's user may see this school but not do this.",
    404: "Not found, or not visible to the token's user.",
    405: "Method not allowed.",
    409: "Well formed, but the data as it stands does not allow it (e.g. a name in use): `details` says why.",
    422: "Well formed, but cannot be done (e.g. a date outside 2000-2100): `details` says why.",
}

_CONVERTER_SCHEMAS = {
    "int": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
    "string": {"type": "string", "minLength": 1, "pattern": NO_NUL},
    "default": {"type": "string", "minLength": 1, "pattern": NO_NUL},
}


def _path_and_params(rule: Rule) -> tuple[str, list[dict[str, Any]]]:
    params = []
    path = rule.rule
    for match in re.finditer(r"<(?:(?P<conv>[a-zA-Z_][a-zA-Z0-9_]*)(?:\([^)]*\))?:)?(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>", rule.rule):
        conv = match.group("conv") or "default"
        name = match.group("name")
        path = path.replace(match.group(0), "{" + name + "}")
        params.append({"in": "path", "name": name, "required": True, "schema": dict(_CONVERTER_SCHEMAS.get(conv, {"type": "string"}))})
    return path, params


def _operation(doc: EndpointDoc, path_params: list[dict[str, Any]]) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": doc.view_name,
        "summary": doc.summary,
        "tags": list(doc.tags),
        "parameters": list(path_params),
        "responses": {},
    }
    if doc.description:
        op["description"] = doc.description + ("\n\nEach call is recorded in the audit log." if doc.audited else "")
    if doc.query is not None:
        op["parameters"].append({"in": "query", "schema": doc.query})
    if doc.body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": doc.body}}}
    ok: dict[str, Any] = {"description": "Success"}
    if doc.response is not None:
        ok["content"] = {"application/json": {"schema": doc.response}}
    if doc.paginated:
        ok["headers"] = {
            "Link": {"description": "RFC 8288 links: first, prev, next, last.", "schema": {"type": "string"}},
            "X-Total-Count": {"description": "Items across all pages.", "schema": {"type": "integer"}},
        }
    op["responses"][str(doc.status)] = ok
    codes = {401, *doc.errors}
    if doc.query is not None or doc.body is not None or path_params:
        codes.add(400)
    if path_params:
        codes.add(404)
    for code in sorted(codes):
        op["responses"][str(code)] = {"$ref": f"#/components/responses/Error{code}"}
    return op


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title="outreach API",
        version=API_VERSION,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={"description": "The schools and pupils a token's user may see, and the attendance work on them. "
                             "Authenticate with `Authorization: Bearer <token>` (tokens are created by admins)."},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer",
                                                   "description": "An API token (otk_...) created by an administrator."})
    spec.components.schema("Error", schema=ErrorSchema)
    for code, text in _ERROR_TEXT.items():
        spec.components.response(f"Error{code}", {"description": text, "content": {"application/json": {"schema": "Error"}}})
    spec.options["security"] = [{"bearerAuth": []}]

    blueprints = [bp for bp in app.blueprints.values() if isinstance(bp, ApiBlueprint)]
    rules_by_endpoint: dict[str, list[Rule]] = {}
    for rule in app.url_map.iter_rules():
        rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
    tags = []
    paths: dict[str, dict[str, Any]] = {}
    for bp in sorted(blueprints, key=lambda b: b.name):
        if bp.tag and bp.docs:
            tags.append({"name": bp.tag, **({"description": bp.tag_description} if bp.tag_description else {})})
        for doc in bp.docs:
            for rule in rules_by_endpoint.get(f"{bp.name}.{doc.view_name}", []):
                path, params = _path_and_params(rule)
                for method in doc.methods:
                    paths.setdefault(path, {})[method.lower()] = _operation(doc, params)
    for tag in tags:
        spec.tag(tag)
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    out = spec.to_dict()
    out["security"] = [{"bearerAuth": []}]
    return out


def openapi_json():  # type: ignore[no-untyped-def]
    spec = current_app.extensions.get("outreach_openapi")
    if spec is None:  # built once per app: the routes cannot change after start-up
        spec = current_app.extensions["outreach_openapi"] = build_spec(current_app)
    return jsonify(spec)


def register_openapi(app: Flask) -> None:
    """Serve the document (public: it describes the API, it holds no data)."""
    app.add_url_rule(f"{API_PREFIX}/openapi.json", endpoint="api_openapi", view_func=openapi_json, methods=["GET"])


__all__ = ["PageQuerySchema", "build_spec", "register_openapi"]
