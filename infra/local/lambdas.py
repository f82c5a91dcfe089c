"""Invoking the template's functions locally, each invocation in an execution environment of
its own (see ``worker.py`` for why environments are processes).

A ``Pool`` keeps up to ``size`` warm environments of one function and starts them on demand;
an invocation takes an idle one or waits for one. A timed-out invocation kills its environment,
as Lambda does, and the next invocation starts a fresh one.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from infra.local import logs, priority
from infra.template_model import ROOT, Function


class InvocationError(Exception):
    """The function failed: it raised, timed out or could not start."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


@dataclass
class Invocation:
    result: Any
    duration_ms: int


class Environment:
    """One worker process running one function's handler."""

    def __init__(self, function: Function, environment: dict[str, str]) -> None:
        from multiprocessing.connection import Connection

        self.function = function
        to_worker_read, to_worker_write = os.pipe()
        from_worker_read, from_worker_write = os.pipe()
        env = {
            **environment,
            "LOCAL_WORKER_IN_FD": str(to_worker_read),
            "LOCAL_WORKER_OUT_FD": str(from_worker_write),
            "LOCAL_CODE_PATH": str(function.code_path),
            "_HANDLER": function.handler,
            "AWS_LAMBDA_FUNCTION_NAME": function.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory),
            "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
            "LAMBDA_TASK_ROOT": str(function.code_path),
        }
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "infra.local.worker"],
                env=env,
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                # At a terminal the platform shows each of the function's log lines readably.
                stdout=subprocess.PIPE if logs.human() else None,
                pass_fds=(to_worker_read, from_worker_write),
            )
        finally:
            os.close(to_worker_read)
            os.close(from_worker_write)
        if self.process.stdout is not None:
            relay = threading.Thread(
                target=logs.relay, args=(function.logical_id, self.process.stdout), name="function-log", daemon=True
            )
            relay.start()
        self._requests = Connection(to_worker_write, readable=False)
        self._answers = Connection(from_worker_read, writable=False)
        self.ready = False

    def _receive(self, timeout: float) -> dict[str, Any]:
        if not self._answers.poll(timeout):
            raise TimeoutError
        return json.loads(self._answers.recv_bytes())

    def invoke(self, event: Any, timeout: float) -> Invocation:
        started = time.monotonic()
        try:
            if not self.ready:  # Lambda allows ten seconds of init outside the function's timeout
                answer = self._receive(max(10.0, timeout))
                if not answer.get("ready"):
                    raise InvocationError(answer.get("errorType", "InitError"), answer.get("errorMessage", ""))
                self.ready = True
                started = time.monotonic()
            request_id = str(uuid.uuid4())
            deadline_ms = int((time.time() + timeout) * 1000)
            payload = {"event": event, "request_id": request_id, "deadline_ms": deadline_ms}
            self._requests.send_bytes(json.dumps(payload, ensure_ascii=False).encode())
            answer = self._receive(timeout)
        except TimeoutError:
            self.close(kill=True)
            raise InvocationError("TimeoutError", f"Task timed out after {timeout:.2f} seconds") from None
        except (EOFError, OSError) as exc:
            self.close(kill=True)
            raise InvocationError("RuntimeExitError", f"the environment exited ({type(exc).__name__})") from None
        duration_ms = int((time.monotonic() - started) * 1000)
        if not answer.get("ok"):
            raise InvocationError(answer.get("errorType", "Error"), answer.get("errorMessage", ""))
        return Invocation(answer.get("result"), duration_ms)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self, *, kill: bool = False) -> None:
        for connection in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                connection.close()
        if kill and self.alive:
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Pool:
    """Up to ``size`` environments of one function, started on demand and kept warm."""

    def __init__(
        self,
        function: Function,
        size: int,
        environment: Callable[[], dict[str, str]],
        priority_class: str | None = None,
    ) -> None:
        self.function = function
        self.size = size
        self.priority_class = priority_class  # see priority.py
        self._environment = environment
        self._idle: list[Environment] = []
        self._busy: set[Environment] = set()
        self._count = 0
        self._closed = False
        self._condition = threading.Condition()

    def _acquire(self) -> Environment | None:
        with self._condition:
            while True:
                if self._closed:
                    raise InvocationError("ShutdownError", "the platform is stopping")
                while self._idle:
                    candidate = self._idle.pop()
                    if candidate.alive:
                        self._busy.add(candidate)
                        return candidate
                    self._count -= 1
                if self._count < self.size:
                    self._count += 1
                    return None  # the caller starts a new one outside the lock
                self._condition.wait(0.5)

    def _release(self, environment: Environment | None) -> None:
        with self._condition:
            self._busy.discard(environment)
            if environment is not None and environment.alive and not self._closed:
                self._idle.append(environment)
            else:
                self._count -= 1
                if environment is not None:
                    environment.close(kill=True)
            self._condition.notify()

    def invoke(self, event: Any, timeout: float | None = None) -> Invocation:
        environment = self._acquire()
        try:
            if environment is None:
                variables = self._environment()
                if self.priority_class:
                    variables[priority.ENVIRONMENT_VARIABLE] = self.priority_class
                environment = Environment(self.function, variables)
                with self._condition:
                    self._busy.add(environment)
            return environment.invoke(event, timeout or self.function.timeout)
        finally:
            self._release(environment)

    def close(self) -> None:
        """Idle environments end when their pipe closes; busy ones are killed, as when Lambda
        reclaims an environment, and their invocation fails (its messages stay queued)."""
        with self._condition:
            self._closed = True
            idle, self._idle = self._idle, []
            busy = list(self._busy)
            self._condition.notify_all()
        for environment in idle:
            environment.close()
        for environment in busy:
            environment.close(kill=True)


class Functions:
    """Every pool of every function, so they can all be closed at once."""

    def __init__(self, functions: dict[str, Function], environment: Callable[[Function], dict[str, str]]) -> None:
        self.functions = functions
        self._environment = environment
        self._pools: list[Pool] = []
        self._lock = threading.Lock()

    def pool(self, logical_id: str, size: int, priority_class: str | None = None) -> Pool:
        """A pool of ``logical_id``'s environments in ``priority_class`` (see ``priority.py``),
        by default the function's own class (its API routes and schedules)."""
        function = self.functions[logical_id]
        chosen = priority_class or priority.of_function(logical_id)
        pool = Pool(function, size, lambda: self._environment(function), chosen)
        with self._lock:
            self._pools.append(pool)
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = self._pools, []
        for pool in pools:
            pool.close()
        if pools:  # closed once (at stop, before the pollers are joined); the later close finds none
            logs.emit("environments_stopped", pools=len(pools))
