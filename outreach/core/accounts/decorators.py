"""View guards: sign-in, then role. Anonymous visitors go to the sign-in page; signed-in users
whose role lacks access get a 403 page."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask_login import current_user, login_required

from outreach.core.errors import Forbidden


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                raise Forbidden("Your account does not have access to this page.")
            return view(*args, **kwargs)

        return wrapper

    return decorator
