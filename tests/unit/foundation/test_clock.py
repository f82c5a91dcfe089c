"""A clock started at a chosen moment runs on from there; given the wall-clock moment at which
that start held, clocks created later in other processes read the same time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sms_platform.foundation import clock as clock_module
from sms_platform.foundation.clock import Clock

START = datetime(2026, 12, 6, 2, 0, 0, tzinfo=UTC)
WALL = 1_800_000_000.0  # Unix seconds at which START held


class Ticking:
    """``time.time`` and ``time.monotonic`` moved together by the test."""

    def __init__(self) -> None:
        self.wall = WALL
        self.mono = 500.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@pytest.fixture
def ticking(monkeypatch):
    source = Ticking()
    monkeypatch.setattr(clock_module.time, "time", lambda: source.wall)
    monkeypatch.setattr(clock_module.time, "monotonic", lambda: source.mono)
    return source


@pytest.mark.parametrize("late_by", [0.0, 0.5, 4.0, 30.0])
def test_a_clock_created_late_reads_what_one_created_at_once_reads(ticking, late_by):
    first = Clock(START, set_at=WALL)
    ticking.advance(late_by)  # the second environment took this long to create its clock
    second = Clock(START, set_at=WALL)
    assert first.now() == second.now() == START + timedelta(seconds=late_by)
    ticking.advance(2)
    assert first.now() == second.now() == START + timedelta(seconds=late_by + 2)


def test_without_the_wall_clock_moment_a_clock_starts_at_its_creation(ticking):
    ticking.advance(4)
    late = Clock(START)
    assert late.now() == START
    ticking.advance(1.5)
    assert late.now() == START + timedelta(seconds=1.5)


def test_an_unstarted_clock_reads_real_time():
    before = datetime.now(UTC)
    assert before <= Clock().now() <= datetime.now(UTC)
