"""The JSON API framework (``/api/v1``): token auth, schema-checked input, paginated output,
JSON errors, and a route registry from which the OpenAPI document is generated.

A feature adds endpoints like this (``outreach/<feature>/api.py``)::

    bp = ApiBlueprint("schools_api", __name__, tag="Schools")

    @bp.endpoint("/schools/<urn>/pupils", summary="Pupils of a school", query=PupilQuery,
                 response=PupilSchema, paginated=True)
    def school_pupils(urn: str, query: dict):
        school = require_school(current_user, urn)
        return select(Pupil).where(Pupil.school_id == school.id)   # the framework paginates

and registers ``bp`` in ``outreach/web.py``. Views return a model (dumped with ``response``),
a ``Select`` or ``Page`` when ``paginated``, or a ``Response``. Clients authenticate with
``Authorization: Bearer <token>`` only: the session cookie is not accepted, so the API needs
no CSRF token and a page cannot be tricked into calling it with a signed-in user's cookie.
"""
from outreach.core.api.framework import ApiBlueprint, EndpointDoc, api_user

__all__ = ["ApiBlueprint", "EndpointDoc", "api_user"]
