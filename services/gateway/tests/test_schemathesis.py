"""Property-based requests generated from the served OpenAPI document: no server errors.

schemathesis reads /v1/openapi.json from a real gateway process and sends valid and invalid
requests to every operation, one by one and (stateful) in sequences that reuse the ids the
answers return; every answer must be a non-5xx that the document allows.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance

from vigil_common.db import Pool
from vigil_devstack.services import ServiceProcess, python_env, start_service, wait_ready

KEY = "vgl_schemathesis-key-not-a-secret-0000000000000"


@pytest.fixture(scope="module")
def gateway(
    test_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    env = python_env({
        **test_env, "VIGIL_BOOTSTRAP_API_KEY": KEY, "VIGIL_RATE_LIMIT_READS": "100000000",
        "VIGIL_RATE_LIMIT_WRITES": "100000000", "VIGIL_RATE_LIMIT_SCANS": "100000000",
        "VIGIL_LOG_LEVEL": "WARNING",
    })  # fmt: skip
    service = start_service("gateway", env, Path(tmp_path_factory.mktemp("st")))
    try:
        wait_ready(service)
        yield service
    finally:
        service.stop()


@pytest.fixture(scope="module")
def api_schema(gateway: ServiceProcess, pool: Pool) -> Any:
    return schemathesis.openapi.from_url(f"{gateway.base_url}/v1/openapi.json")


def exercise(operation: Any) -> None:
    """Send generated requests to one operation; raises on the first check that fails."""

    @given(case=operation.as_strategy())
    @settings(
        max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: Any) -> None:
        case.call_and_validate(
            headers={"Authorization": f"Bearer {KEY}"},
            checks=[not_a_server_error, status_code_conformance],
        )

    run()


def served_requests(gateway: ServiceProcess) -> float:
    """How many requests the gateway has answered (its own counter)."""
    with urllib.request.urlopen(gateway.base_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("vigil_http_requests_total{")
    )


def test_no_operation_answers_with_a_server_error(api_schema: Any, gateway: ServiceProcess) -> None:
    # schemathesis's own pytest plugin does not run under pytest 9: drive hypothesis directly.
    failures = {}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        try:
            exercise(operation)
        except Exception as exc:
            failures[operation.label] = str(exc)[:2000]
    assert failures == {}
    assert served_requests(gateway) > 5 * len(operations)  # the requests really were sent


def test_chained_operations_answer_without_server_errors(
    api_schema: Any, gateway: ServiceProcess
) -> None:
    """Stateful: schemathesis infers links from the document (a created scan's id feeds the
    operations that take one, a created key's id the key operations, ...) and runs sequences
    of calls on the resources really made. No 5xx; every answer as documented."""
    machine = api_schema.as_state_machine()
    assert machine.bundles, "no links between operations were inferred: nothing would chain"
    before = served_requests(gateway)

    class Chained(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {KEY}"}}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                checks=[not_a_server_error, status_code_conformance],
                transport_kwargs=kwargs,
            )

    Chained.run(
        settings=settings(
            max_examples=30,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert served_requests(gateway) > before + 30  # sequences really ran
