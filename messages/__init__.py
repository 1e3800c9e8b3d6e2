"""aedex messages: ITMATT, CUSITM and CUSRSP as data, with their checks.

Pure library (no I/O, no framework). The names below are the public API;
DESIGN.md §3-§4 is the contract they implement.
"""

from messages.canonical import Item, Line, PartyRecord, normalise, supersedes, to_canonical
from messages.check import ItemCheck, MessageCheck, check_message
from messages.codec import (
    decode_any,
    decode_cusitm,
    decode_cusrsp,
    decode_itmatt,
    encode_any,
    encode_cusitm,
    encode_cusrsp,
    encode_itmatt,
)
from messages.errors import MessageRejected
from messages.findings import Code, Finding
from messages.jsoncodec import (
    decode_item_json,
    decode_message_json,
    encode_item_json,
    encode_message_json,
)
from messages.models import (
    CusitmMessage,
    CusrspMessage,
    DeclaredItem,
    ItmattMessage,
    MessageFunction,
    Response,
)
from messages.rulebook import ItemContext, validate_header
from messages.rulebook import validate_item as validate
from messages.xml import XmlLimits, parse_untrusted

__all__ = [
    "Code",
    "CusitmMessage",
    "CusrspMessage",
    "DeclaredItem",
    "Finding",
    "Item",
    "ItemCheck",
    "ItemContext",
    "ItmattMessage",
    "Line",
    "MessageCheck",
    "MessageFunction",
    "MessageRejected",
    "PartyRecord",
    "Response",
    "XmlLimits",
    "check_message",
    "decode_any",
    "decode_cusitm",
    "decode_cusrsp",
    "decode_item_json",
    "decode_itmatt",
    "decode_message_json",
    "encode_any",
    "encode_cusitm",
    "encode_cusrsp",
    "encode_item_json",
    "encode_itmatt",
    "encode_message_json",
    "normalise",
    "parse_untrusted",
    "supersedes",
    "to_canonical",
    "validate",
    "validate_header",
]
