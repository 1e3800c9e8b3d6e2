"""The collector after start-up: start-up objects frozen, young collections spaced out."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from service.heap import YOUNG_THRESHOLD, freeze_startup_objects


@pytest.fixture
def collector() -> Iterator[None]:
    """Leave the test process's collector as it was."""
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.usefixtures("collector")
def test_start_up_objects_are_frozen_and_young_collections_wait_for_many_allocations() -> None:
    middle, old = gc.get_threshold()[1:]
    freeze_startup_objects()
    assert gc.get_freeze_count() > 0  # in the permanent generation, never scanned again
    assert gc.get_threshold() == (YOUNG_THRESHOLD, middle, old)
