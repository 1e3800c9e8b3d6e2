"""Version-7 row ids: valid UUIDs of version 7, unique, in time order across milliseconds."""

from __future__ import annotations

import time
import uuid

from service.db.ids import new_id


def test_ids_are_version_7_uuids_of_the_rfc_variant() -> None:
    one = new_id()
    assert one.version == 7
    assert one.variant == uuid.RFC_4122


def test_ids_carry_the_time_in_milliseconds_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    first = new_id()
    time.sleep(0.002)
    second = new_id()
    after = time.time_ns() // 1_000_000
    assert before <= first.int >> 80 <= after
    assert first < second and first.hex < second.hex  # as UUIDs and as CHAR(32) text


def test_ids_made_in_one_millisecond_are_unique() -> None:
    ids = {new_id() for _ in range(50_000)}
    assert len(ids) == 50_000
