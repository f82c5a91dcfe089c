"""The local platform (``python -m infra.local``) as a subprocess, for end-to-end tests.

``start_platform()`` starts one on the usual ports when they are free (else on free ones), waits
for its ``ready`` line (60 s at most) and returns a ``RunningPlatform``; ``stop()`` sends SIGINT,
as Ctrl-C would, and reports the exit code and any process of the platform's process group
still alive. ``local_platform`` is one platform shared by a module's tests.

The platform's output goes to ``test-artifacts/local-platform-<pid>.log`` for reading after a
failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 60.0


def _port(preferred: int | None) -> int:
    with socket.socket() as probe:
        if preferred is not None:
            try:
                probe.bind(("127.0.0.1", preferred))
                return preferred
            except OSError:
                pass
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _ports(fixed_first: bool) -> dict[str, str]:
    """The usual ports when free; only one pytest worker tries them, so two never race for them."""
    usual = {"API_PORT": 3000, "CARRIER_PORT": 3900, "TENCENT_PORT": 3901, "MOTO_PORT": 4566}
    return {name: str(_port(port if fixed_first else None)) for name, port in usual.items()}


def process_group_members(group: int) -> list[int]:
    """Live processes whose process group is ``group``, read from /proc (zombies excluded)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after its closing one.
        fields = stat[stat.rindex(")") + 2 :].split()
        state, pgrp = fields[0], int(fields[2])
        if pgrp == group and state != "Z":
            members.append(int(entry.name))
    return members


@dataclass
class RunningPlatform:
    process: subprocess.Popen[str]
    ready: dict[str, Any]
    started_at: float
    lines: list[str] = field(default_factory=list)
    supplied: dict[str, str] = field(default_factory=dict)  # values given through the environment
    exit_code: int | None = None
    leftovers: list[int] = field(default_factory=list)
    ready_at: float = 0.0  # time.monotonic() when the ready line was read

    @property
    def api(self) -> str:
        return self.ready["api"]

    @property
    def carrier(self) -> str:
        return self.ready["carrier"].rstrip("/")

    @property
    def moto(self) -> str:
        return self.ready["moto"]

    def log_events(self, name: str) -> list[dict[str, Any]]:
        found = []
        for line in list(self.lines):
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == name:
                    found.append(record)
        return found

    @contextlib.contextmanager
    def functions_environment(self) -> Iterator[None]:
        """This process as a function of the platform sees it: its tables, queues, secrets and
        moto endpoint, for calling ``sms_platform`` against the running platform."""
        from sms_platform import aws
        from sms_platform.carrier.client import carrier_client_from_environment
        from sms_platform.foundation import crypto, secrets, settings

        def forget_clients() -> None:
            # Everything cached per process was made for whichever platform (or moto) came before.
            settings.reset()
            aws.reset()
            secrets.clear_cache()
            crypto.reset()
            carrier_client_from_environment.cache_clear()

        wanted = {**self.ready["environment"], "AWS_ENDPOINT_URL": self.moto}
        saved = {name: os.environ.get(name) for name in wanted}
        os.environ.update(wanted)
        forget_clients()
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            forget_clients()

    def stop(self, timeout: float = 60.0) -> tuple[int, list[int]]:
        """Ctrl-C: SIGINT to the platform, then its exit code and what of it is still running."""
        if self.exit_code is None:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGINT)
            try:
                self.exit_code = self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.exit_code = -1
            # Give the kernel a moment to reap what exited together with the platform.
            deadline = time.monotonic() + 5
            while process_group_members(self.process.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            self.leftovers = process_group_members(self.process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # never leave anything behind a failed test
        return self.exit_code, self.leftovers


def start(extra_env: dict[str, str] | None = None) -> RunningPlatform:
    """Start a platform; a port taken between choosing it and binding it gets one more try."""
    fixed_first = os.environ.get("PYTEST_XDIST_WORKER", "gw0") == "gw0"
    try:
        return _start(extra_env, _ports(fixed_first))
    except PortTaken:
        return _start(extra_env, _ports(False))


class PortTaken(Exception):
    pass


def _start(extra_env: dict[str, str] | None, ports: dict[str, str]) -> RunningPlatform:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PLATFORM_CLOCK", "CARRIER_ENDPOINT", "TENCENT_SMS_ENDPOINT", "AWS_ENDPOINT_URL")
    }
    env.update(ports, PYTHONUNBUFFERED="1", **(extra_env or {}))
    started_at = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: what is left of it can be found
    )
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    lines: list[str] = []
    ready: dict[str, Any] = {}
    seen_ready = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        with (artifacts / f"local-platform-{process.pid}.log").open("w", encoding="utf-8") as log:
            for line in process.stdout:
                lines.append(line)
                log.write(line)
                log.flush()
                if not seen_ready.is_set() and '"ready"' in line:
                    with contextlib.suppress(ValueError):
                        record = json.loads(line)
                        if record.get("event") == "ready":
                            ready.update(record)
                            seen_ready.set()

    threading.Thread(target=read, daemon=True).start()
    platform = RunningPlatform(process, ready, started_at, lines, dict(extra_env or {}))
    deadline = started_at + READY_TIMEOUT
    while not seen_ready.wait(0.2):
        if process.poll() is not None or time.monotonic() > deadline:
            platform.stop(10)
            tail = "".join(lines[-30:])
            if "in use" in tail:
                raise PortTaken(tail)
            pytest.fail(f"the local platform did not get ready within {READY_TIMEOUT:.0f} s:\n{tail}")
    platform.ready_at = time.monotonic()
    return platform


@pytest.fixture
def start_platform() -> Iterator[Callable[..., RunningPlatform]]:
    """Start a platform of the test's own; whatever the test leaves running is stopped after it."""
    started: list[RunningPlatform] = []

    def starter(extra_env: dict[str, str] | None = None) -> RunningPlatform:
        platform = start(extra_env)
        started.append(platform)
        return platform

    yield starter
    for platform in started:
        platform.stop()


@pytest.fixture(scope="module")
def local_platform() -> Iterator[RunningPlatform]:
    """One platform shared by a module's tests; stopping it must leave nothing running. Its
    carrier callback token comes from the environment, as a real secret would."""
    platform = start({"CARRIER_CALLBACK_TOKEN": f"supplied-callback-token-{os.getpid()}"})
    yield platform
    code, leftovers = platform.stop()
    assert (code, leftovers) == (0, []), "the local platform did not stop cleanly on SIGINT"
