"""The garbage collector setting of the dispatch lanes' consumer (sms_platform.foundation.runtime)."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sms_platform.foundation import runtime, settings


@pytest.fixture
def collector():
    """The test process's collector settings, put back afterwards."""
    threshold = gc.get_threshold()
    yield
    gc.set_threshold(*threshold)


@pytest.mark.parametrize(
    ("threshold", "young"),
    [
        ((700, 10, 10), 2_000),  # Python 3.11 and 3.12: raised to 3.13's default
        ((2_000, 10, 10), 2_000),
        ((50_000, 5, 5), 50_000),  # a higher setting is kept
        ((0, 10, 10), 0),  # collection turned off stays off
    ],
)
def test_the_young_generation_threshold(collector, threshold, young):
    gc.set_threshold(*threshold)
    runtime.raise_young_threshold()
    assert gc.get_threshold() == (young, *threshold[1:])


def test_the_sender_raises_it_as_its_environment_starts():
    # A fresh interpreter, as a Lambda environment starts: the handler module's import sets it.
    root = Path(__file__).resolve().parents[3]
    code = "import gc; gc.set_threshold(700, 10, 10); import sender; print(gc.get_threshold()[0])"
    paths = os.pathsep.join(str(root / p) for p in ("layers/shared", "functions/dispatch"))
    # The sender checks its settings at import; names stand in for the template's resources.
    env = {**os.environ, **{name: f"unit-{name.lower()}" for name in settings.PLATFORM}, "PYTHONPATH": paths}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert int(result.stdout.strip().splitlines()[-1]) == runtime.YOUNG_THRESHOLD
