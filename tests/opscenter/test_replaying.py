"""``clock.replaying``: a history built step by step as it happened, in one context only."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from opscenter.timekeeping import replaying, today, utcnow


def test_within_replaying_now_is_the_replayed_instant_moving_on_and_afterwards_the_real_one() -> None:
    then = datetime(2026, 2, 14, 1, 30, tzinfo=UTC)
    with replaying(then):
        first = utcnow()
        second = utcnow()
        assert then <= first <= second < then + timedelta(seconds=5), "time moves on from the replayed instant"
        assert str(today()) == "2026-02-14", "the business date follows (09:30 in Shanghai)"
    assert utcnow() - datetime.now(UTC) < timedelta(seconds=1)


def test_replaying_leaves_other_threads_on_the_real_clock() -> None:
    seen: list[datetime] = []
    with replaying(datetime(2025, 1, 1, tzinfo=UTC)):
        worker = threading.Thread(target=lambda: seen.append(utcnow()))
        worker.start()
        worker.join()
    assert seen[0].year >= 2026


def test_the_future_cannot_be_replayed() -> None:
    with pytest.raises(ValueError, match="has not happened yet"), replaying(utcnow() + timedelta(hours=1)):
        pass
