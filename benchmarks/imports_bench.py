"""Cold import time of each function's handler module, as a ratio to a bare ``import boto3``.

Each figure is the median of several fresh interpreters, the runs of all modules interleaved
so that the machine's noise falls on all of them alike. Targets: at most 2.0 for the handlers
a waiting citizen feels (dispatch lanes and the 12333 webhook), 2.5 for the others.

Handlers import boto3 late, on first use; but every handler reaches AWS on its first
invocation, so the figure judged is the honest cold cost: the handler module *and* boto3 in one
fresh interpreter. The module alone is shown beside it.

Each handler is imported as in Lambda: ``LAMBDA_TASK_ROOT`` is its code root (so the X-Ray SDK
takes its Lambda path) and tracing is on, as the template deploys it (``Tracing: Active``): the
tracer each handler makes at import patches botocore and requests then.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

from infra import template_model

RUNS = int(os.environ.get("BENCH_IMPORT_RUNS", "9"))
FAST_PATHS = {"DispatchFunction", "HotlineFunction"}

# Handlers check at import that their settings are set (foundation.settings); these values and
# the template's Globals below only make sure they are.
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "weihai-sms",
    "POWERTOOLS_METRICS_NAMESPACE": "WeihaiSms",
    "PORTAL_BUCKET": "bench-portal",  # the portal function's own variable, checked at its import
}


def _time_import(statement: str, env: dict[str, str]) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{statement!r} failed:\n{result.stderr[-2000:]}")
    return float(result.stdout.strip().splitlines()[-1])


def run() -> None:
    model = template_model.load()
    paths = [str(template_model.ROOT / "layers/shared")] + sorted({str(f.code_path) for f in model.functions.values()})
    env = {**os.environ, **_FAKE_ENV, "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    for key, value in model.globals_env.items():
        env.setdefault(key, value if isinstance(value, str) else f"bench-{key.lower()}")

    subjects = {"boto3 (baseline)": ("import boto3", env)}
    modules: dict[str, str] = {}
    for function in sorted(model.functions.values(), key=lambda f: f.logical_id):
        modules[function.logical_id] = function.module
        in_lambda = {**env, "LAMBDA_TASK_ROOT": str(function.code_path)}
        subjects[function.logical_id] = (f"import {function.module}; import boto3", in_lambda)
        subjects[f"{function.logical_id} (module alone)"] = (f"import {function.module}", in_lambda)

    samples: dict[str, list[float]] = {name: [] for name in subjects}
    for _ in range(RUNS):
        for name, (statement, subject_env) in subjects.items():
            samples[name].append(_time_import(statement, subject_env))

    baseline = statistics.median(samples["boto3 (baseline)"])
    print(f"cold import, median of {RUNS} fresh interpreters; ratio to `import boto3` in the same run")
    print(f"boto3 alone: {baseline * 1000:.0f} ms")
    print(f"{'function':<32}{'module':<20}{'alone ms':>9}{'+boto3 ms':>10}{'ratio':>7}{'target':>7}  verdict")
    failures = 0
    for name, module in modules.items():
        alone = statistics.median(samples[f"{name} (module alone)"])
        with_boto3 = statistics.median(samples[name])
        ratio = with_boto3 / baseline
        target = 2.0 if name in FAST_PATHS else 2.5
        verdict = "ok" if ratio <= target else "OVER"
        failures += verdict != "ok"
        figures = f"{alone * 1000:>9.0f}{with_boto3 * 1000:>10.0f}{ratio:>7.2f}{target:>7.1f}"
        print(f"{name:<32}{module:<20}{figures}  {verdict}")
    print(f"{failures} handler module(s) over target")
