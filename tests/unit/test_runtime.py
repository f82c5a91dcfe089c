"""The garbage collector settings a function's environment makes as it starts (sms_platform.foundation.runtime)."""

from __future__ import annotations

import gc

import pytest
from sms_platform.foundation import runtime


@pytest.fixture
def collector(monkeypatch):
    """The test process's collector settings, put back afterwards."""
    threshold = gc.get_threshold()
    monkeypatch.setattr(runtime, "_warm", False)
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def _collected(obj: object) -> bool:
    return any(any(o is obj for o in gc.get_objects(generation)) for generation in range(3))


def test_what_exists_at_the_end_of_init_is_left_out_of_collections_and_what_comes_later_is_not(collector):
    before = [{"made": "at init"}]
    assert _collected(before)
    runtime.end_of_init()
    later = [{"made": "afterwards"}]
    assert not _collected(before)
    assert _collected(later)


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
    runtime.end_of_init()
    assert gc.get_threshold() == (young, *threshold[1:])


def test_the_first_invocation_freezes_once_more_and_later_ones_do_not(collector, monkeypatch):
    calls = []
    monkeypatch.setattr(runtime, "end_of_init", lambda: calls.append(1))
    for _ in range(3):
        runtime.end_of_first_invocation()
    assert calls == [1]
