"""Blueprint registration: each feature adds its blueprints here."""
from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}
