"""schemathesis against the live API, over real HTTP on loopback, with a valid token: generated
requests (valid and invalid) must never get a 5xx, and every response must match the OpenAPI
document generated from our marshmallow schemas (status codes, content types, bodies, headers).

The operations are read from the served document at run time, so endpoints added later are
tested without touching this file. (schemathesis' own pytest loader is not used: its lazy
fixture support does not run on pytest 9.)
"""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from outreach.core.accounts import services
from tests.dashboard.world import World
from tests.e2e.conftest import LiveServer

EXAMPLES = 15  # per operation and mode: enough to find 500s and drift, small enough to stay fast


def real_path_values(world: World) -> dict[str, Any]:
    """Values of path parameters that exist and are visible, so 200 bodies are checked too."""
    return {"urn": world.schools["A"].urn, "pupil_id": world.pupils["A"][0].id}


@pytest.mark.parametrize("mode, real_paths", [
    (GenerationMode.POSITIVE, False), (GenerationMode.POSITIVE, True), (GenerationMode.NEGATIVE, False),
], ids=["positive", "positive-existing", "negative"])
def test_api_matches_its_openapi_document(live_server: LiveServer, world: World, mode: GenerationMode, real_paths: bool) -> None:
    token = services.create_token(world.users["officer"], "schemathesis")[1]
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    # A request the schema accepts can still be impossible (a pupil of another school, a referral
    # step out of order): the API answers 422 with the reasons, as docs/api.md documents.
    acceptance = schema.config.checks.positive_data_acceptance
    acceptance.expected_statuses = [*acceptance.expected_statuses, "422"]
    headers = {"Authorization": f"Bearer {token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 4
    for operation in operations:
        params = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in real_path_values(world).items() if k in params} if real_paths else None
        if real_paths and not fixed:
            continue
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def run(case: Any) -> None:
            case.call_and_validate(base_url=live_server.url, headers=headers)

        run()
