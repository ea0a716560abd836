"""Browser and live-HTTP fixtures.

``live_server`` serves the real app (the session's ``app``: same database URL, SQLite or
PostgreSQL) from a werkzeug server thread on 127.0.0.1 and a free port. Playwright drives
Debian's chromium (``OUTREACH_CHROMIUM`` or /usr/bin/chromium): browsers are never downloaded.
"""
from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.dashboard.conftest import _fast_hashing, world  # noqa: F401 (the same world and fast hashing)

HERE = Path(__file__).parent
AXE_JS = HERE / "vendor" / "axe.min.js"
SCREENSHOTS = HERE / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def chromium_path() -> str | None:
    path = os.environ.get("OUTREACH_CHROMIUM") or "/usr/bin/chromium"
    return path if Path(path).exists() else shutil.which("chromium")


class LiveServer:
    def __init__(self, app: Flask):
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    yield server
    server.stop()


# Playwright: Debian's chromium, headless, no network beyond loopback ------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    path = chromium_path()
    if path is None:
        pytest.skip("chromium is not installed (scripts/setup-browser installs it)")
    return {**browser_type_launch_args, "executable_path": path, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # bypass_csp: axe-core is injected as an inline script, which our CSP rightly forbids.
    return {**browser_context_args, "bypass_csp": True, "locale": "en-GB", "timezone_id": "Europe/London",
            "viewport": {"width": 1280, "height": 800}}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


def axe_violations(page: Any, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core (vendored from the npm package, MPL-2.0) in the page."""
    page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations'],
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.slice(0, 5).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in found if v["impact"] in impacts]
