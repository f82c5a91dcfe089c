"""One Lambda execution environment: a process that imports a function's handler once and then
runs one invocation at a time, as Lambda does.

Why a process and not a thread: handlers keep per-invocation state in module globals (the
powertools resolver's current event is even a class attribute shared by every resolver), so
two invocations in one interpreter would see each other's requests. Separate processes give
each concurrent invocation its own globals, exactly as separate Lambda environments do.

Protocol with the platform, over two inherited pipe descriptors (``multiprocessing``
connections carrying JSON, never pickles): the worker sends ``{"ready": true}`` or an init
error, then answers each ``{"event", "request_id", "deadline_ms"}`` with ``{"ok": true,
"result"}`` or ``{"ok": false, "errorType", "errorMessage"}``. Standard output is the
platform's, so the function's JSON log lines show up in the platform's log.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from typing import Any


@dataclass
class LambdaContext:
    """The context object Lambda passes to a handler (the attributes powertools reads)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "ok": False,
        "errorType": type(exc).__name__,
        "errorMessage": str(exc),
        "stackTrace": traceback.format_exception(exc),
    }


def main() -> None:
    from multiprocessing.connection import Connection

    # Ctrl-C reaches the whole process group; the platform decides when environments end.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests = Connection(int(os.environ.pop("LOCAL_WORKER_IN_FD")), writable=False)
    answers = Connection(int(os.environ.pop("LOCAL_WORKER_OUT_FD")), readable=False)
    code_path, handler = os.environ["LOCAL_CODE_PATH"], os.environ["_HANDLER"]
    from infra.local import priority

    priority.apply(os.environ.pop(priority.ENVIRONMENT_VARIABLE, None))  # before any AWS client exists
    # Lambda puts the function's code directory first on the path; the layer is installed.
    sys.path.insert(0, code_path)
    module_name, attribute = handler.rsplit(".", 1)
    try:
        import importlib

        function = getattr(importlib.import_module(module_name), attribute)
    except Exception as exc:  # an init error: reported, and the environment is discarded
        answers.send_bytes(json.dumps(_error(exc)).encode())
        return
    answers.send_bytes(b'{"ready": true}')

    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    region = os.environ["AWS_REGION"]
    while True:
        try:
            request = json.loads(requests.recv_bytes())
        except (EOFError, OSError):
            return  # the platform closed the pipe: it is stopping or discarding this environment
        context = LambdaContext(
            function_name=name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:{region}:123456789012:function:{name}",
            memory_limit_in_mb=int(os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
            aws_request_id=request["request_id"],
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name="local",
            deadline_ms=request["deadline_ms"],
        )
        os.environ["_X_AMZN_TRACE_ID"] = f"Root=1-{int(time.time()):08x}-{request['request_id'].replace('-', '')[:24]}"
        try:
            answer = {"ok": True, "result": function(request["event"], context)}
            payload = json.dumps(answer, ensure_ascii=False).encode()
        except Exception as exc:  # the function's error, as Lambda reports it
            payload = json.dumps(_error(exc), ensure_ascii=False).encode()
        answers.send_bytes(payload)


if __name__ == "__main__":
    main()
