"""Schemathesis against the local platform: every operation of ``GET /v1/openapi.json``, as the
permission administrator, as an operator and without a token, checked for server errors,
undeclared statuses and answers that do not match their schema. A signed-in caller fuzzes the
staff operations its roles may call (the others refuse it before reading anything: the
anonymous pass calls every one of them).

The contract routes (hang-ups, events, subscriptions, payments, carrier pushes, contact batches)
are in the document too. Schemathesis cannot sign their requests or hold their keys (an HMAC
over each generated body, the API keys, the carrier's token), so it calls them as a stranger
would: every answer must then be a refusal the document declares (403 without an API key, 401
without a signature or token, 4xx for a body that cannot be read), in the error shape. What
they do for a signed caller is tested with the contract's own examples
(``tests/functional/contracts``, ``tests/e2e/test_intake_channels.py``).

``make test`` runs a bounded pass (``tests/e2e/test_api_fuzz.py``); ``make fuzz`` a longer one:

    python -m tests.e2e.api_fuzz --max-examples 100
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.browser.conftest import StaffApi
from tests.e2e.conftest import RunningPlatform, start

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance"
# Signing out revokes the token the rest of the run uses, and starting a new TOTP enrolment
# leaves the account restricted until it is confirmed; the sign-in tests exercise both.
SIGNED_IN_EXCLUDED = ("sign_out_v1_staff_session_delete", "begin_totp_v1_staff_me_totp_post")
OPERATOR_ROLES = ["city_operator"]


# Every phase for a signed-in caller. Without a token, every staff operation is refused by the
# authorizer before its handler reads anything, and the contract routes get the same strangers'
# calls from the other identities (they never send an API key or a signature): the coverage
# phase's boundary values (about 40 cases an operation) would only repeat them.
ALL_PHASES = "examples,coverage,fuzzing"
ANONYMOUS_PHASES = "examples,fuzzing"


@dataclass
class Identity:
    name: str
    token: str | None
    phases: str = ALL_PHASES
    refused: tuple[str, ...] = ()  # staff operations its roles may not call (``refused_operations``)

    def headers(self) -> list[str]:
        return ["-H", f"Authorization: Bearer {self.token}"] if self.token else []

    def exclusions(self) -> list[str]:
        if not self.token:
            return []
        excluded = (*SIGNED_IN_EXCLUDED, *self.refused)
        return [argument for operation in excluded for argument in ("--exclude-operation-id", operation)]


def refused_operations(platform: RunningPlatform, roles: set[str]) -> tuple[str, ...]:
    """The staff operations an account with ``roles`` may not call. Its calls of them are all
    refused before any handler reads them; those refusals are the anonymous pass's, and who may
    call what is the rights matrix test's (tests/functional/staff/test_rights_matrix.py)."""
    # The staff API's routes with their rights (functions/approve), put on the path as Lambda does.
    sys.path.insert(0, str(ROOT / "functions" / "approve"))
    from app import route_rights

    def allowed(rights: Any) -> bool:
        return rights.public or rights.roles is None or bool(roles & {role.value for role in rights.roles})

    allowed_routes = {(r.method.lower(), r.path) for r in route_rights() if r.rights is not None and allowed(r.rights)}
    document = requests.get(f"{platform.api}/v1/openapi.json", timeout=30).json()
    return tuple(
        operation["operationId"]
        for path, operations in document["paths"].items()
        if path.startswith("/v1/staff/")
        for method, operation in operations.items()
        if isinstance(operation, dict) and "operationId" in operation and (method, path) not in allowed_routes
    )


def identities(platform: RunningPlatform) -> list[Identity]:
    """The three callers: an operator, nobody, and the administrator (TOTP enrolled), last
    because what it may do (suspend offices, withdraw roles) can lock the others out."""
    staff = StaffApi(platform)
    operator = staff.account("fuzz-op", "city", OPERATOR_ROLES, "模糊测试员")
    return [
        Identity("operator", operator["token"], refused=refused_operations(platform, set(OPERATOR_ROLES))),
        Identity("anonymous", None, ANONYMOUS_PHASES),
        Identity("permission_admin", staff.admin(), refused=refused_operations(platform, {"permission_admin"})),
    ]


def fuzz(
    platform: RunningPlatform, identity: Identity, *, max_examples: int, seed: int | None = None
) -> subprocess.CompletedProcess:
    """One schemathesis run as ``identity``; its output and exit code (0: nothing found)."""
    command = [
        str(SCHEMATHESIS),
        "run",
        f"{platform.api}/v1/openapi.json",
        "--checks",
        CHECKS,
        "--phases",
        identity.phases,
        "--max-examples",
        str(max_examples),
        # One thread per run: hypothesis describes its strategies with ``ast.parse``, which on
        # CPython 3.11 can fail with "AST constructor recursion depth mismatch" when two threads
        # parse at once. Runs go side by side in processes instead (``fuzz_all``).
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--no-color",
        "--suppress-health-check",
        "all",
        *identity.headers(),
        *identity.exclusions(),
    ]
    if seed is not None:
        command += ["--seed", str(seed)]
    environment = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    return subprocess.run(  # noqa: S603 - the virtual environment's own schemathesis
        command, capture_output=True, text=True, cwd=ROOT, env=environment, timeout=1800, check=False
    )


def fuzz_all(
    platform: RunningPlatform, callers: list[Identity], *, max_examples: int, seed: int | None = None
) -> list[tuple[Identity, subprocess.CompletedProcess]]:
    """Every caller's run: all but the last side by side, then the last alone (the administrator,
    whose changes could lock the others out)."""
    *together, last = callers
    with ThreadPoolExecutor(max(1, len(together))) as pool:  # each thread waits on its own process
        runs = list(pool.map(lambda who: fuzz(platform, who, max_examples=max_examples, seed=seed), together))
    runs.append(fuzz(platform, last, max_examples=max_examples, seed=seed))
    return list(zip(callers, runs, strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int)
    arguments = parser.parse_args(argv)
    platform = start()
    failed = 0
    try:
        for identity, result in fuzz_all(
            platform, identities(platform), max_examples=arguments.max_examples, seed=arguments.seed
        ):
            print(f"== {identity.name}", result.stdout[-20000:], result.stderr[-5000:], sep="\n", flush=True)
            failed += result.returncode != 0
    finally:
        platform.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
