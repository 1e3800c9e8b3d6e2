"""The validate stage keys an item's record by its addressee's door, computed from the
canonical item when it is validated and from the stored JSON when it is re-emitted: both
ways must give the same key, or a redelivered item lands on another assess partition."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson

from adapters.generator import generate, itmatt_only
from messages.check import check_message
from messages.jsoncodec import encode_item_json
from service.stages.validate import _door, _partition_key


def test_the_door_of_the_item_and_of_its_stored_json_are_one_key() -> None:
    received = datetime(2026, 11, 20, 12, tzinfo=UTC)
    compared = 0
    for file in generate(itmatt_only(600, 3, scenarios=True, items_per_message=50)):
        for checked in check_message(file.data, received_at=received).items:
            item = checked.item
            if item is None:
                continue
            stored = orjson.loads(encode_item_json(item))
            assert _door(item, item.item_id) == _partition_key(stored, item.item_id)
            compared += 1
    assert compared > 500
