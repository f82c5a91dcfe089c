"""A bounded schemathesis pass over every operation of ``GET /v1/openapi.json`` against the local
platform, as an operator, without a token and as the permission administrator: no server
error, no status the document does not declare, every answer of its declared schema.

``make fuzz`` runs the same with many more examples per operation.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e import api_fuzz
from tests.e2e.conftest import RunningPlatform, start

pytestmark = pytest.mark.e2e
EXAMPLES = 5  # per operation and phase: under a minute per caller on two cores; `make fuzz` runs 100


@pytest.fixture(scope="module")
def fuzzed_platform() -> Iterator[RunningPlatform]:
    platform = start()
    yield platform
    platform.stop()


def test_no_operation_answers_a_server_error_or_an_undeclared_status(fuzzed_platform: RunningPlatform) -> None:
    failures = []
    callers = api_fuzz.identities(fuzzed_platform)
    for identity, result in api_fuzz.fuzz_all(fuzzed_platform, callers, max_examples=EXAMPLES):
        print(f"== {identity.name}: exit {result.returncode}\n{result.stdout[-1500:]}")
        if result.returncode != 0:
            failures.append(f"== as {identity.name}\n{result.stdout[-12000:]}\n{result.stderr[-3000:]}")
    assert not failures, "\n".join(failures)
