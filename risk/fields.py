"""The fields a rule may read, derived from the canonical `messages.Item` model.

Rules name fields as `item.total_value_eur`, `item.sender.country`,
`l.hs_code` (for a line `l`). The allowed names and their coarse types come
from the pydantic models themselves, so a field added to `Item` is usable in
rules at once and a misspelt one is refused at load time.
"""

from __future__ import annotations

import types
import typing
from datetime import datetime
from decimal import Decimal
from enum import IntEnum
from typing import Literal

from pydantic import BaseModel

from messages.canonical import Item, Line, PartyRecord

#: Coarse static types of the rule language.
Kind = Literal[
    "item", "party", "line", "lines", "str", "num", "bool", "time", "strs", "watch", "any"
]  # fmt: skip


def _kind_of(annotation: object) -> Kind:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _kind_of(args[0])
    if origin is list:
        inner = args[0] if args else None
        if inner is Line:
            return "lines"
        return "strs"
    if origin is Literal:
        return "str"
    if annotation is PartyRecord:
        return "party"
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if isinstance(annotation, type) and issubclass(annotation, IntEnum | int | float | Decimal):
        return "num"
    if annotation is datetime:
        return "time"
    return "any"


def _fields(model: type[BaseModel]) -> dict[str, Kind]:
    return {name: _kind_of(info.annotation) for name, info in model.model_fields.items()}


#: What `item.<name>`, `<party>.<name>` and `<line>.<name>` may be, with their kinds.
FIELDS: dict[Kind, dict[str, Kind]] = {
    "item": _fields(Item),
    "party": _fields(PartyRecord),
    "line": _fields(Line),
    "watch": {
        "name": "str",
        "country": "str",
        "ref": "str",
        "score": "num",
        "matched": "str",
    },
}
