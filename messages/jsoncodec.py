"""JSON for messages and canonical items (Kafka values, API bodies, fixtures).

TypeAdapters are built once at import: rebuilding one per call costs ~100x
(research note, pydantic performance). Messages are told apart by `kind`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, TypeAdapter

from messages.canonical import Item
from messages.models import CusitmMessage, CusrspMessage, ItmattMessage

AnyMessage = Annotated[ItmattMessage | CusitmMessage | CusrspMessage, Field(discriminator="kind")]

_MESSAGE = TypeAdapter(AnyMessage)
_ITEM = TypeAdapter(Item)


def encode_message_json(message: ItmattMessage | CusitmMessage | CusrspMessage) -> bytes:
    return message.model_dump_json(exclude_none=False).encode()


def decode_message_json(data: bytes | str) -> ItmattMessage | CusitmMessage | CusrspMessage:
    return _MESSAGE.validate_json(data)


def encode_item_json(item: Item) -> bytes:
    return _ITEM.dump_json(item)


def decode_item_json(data: bytes | str) -> Item:
    return _ITEM.validate_json(data)
