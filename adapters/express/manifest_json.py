"""Express manifest JSON to and from `Manifest`.

Numbers are read as Decimal, never float, so 49.90 stays 49.90, and only in range
(`adapters._values.bounded_decimal`): a number such as `1e1000000` is refused with
its path before any arithmetic touches it. A key given twice in one object is
refused (which of the two would count is a guess). Types are strict: a number where text belongs (an HS code or postcode sent
as a number loses its leading zeros) or text where a number belongs is refused
with its JSON path, and so is an unknown key (a misspelt key would lose its data).
A shipment's `message_function` is "original" (the default), "replace" or "cancel" (or
9, 5, 1); a cancellation may leave out everything but its `hawb`, `lines` included.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeAlias

from adapters._parts import PARTY_FIELDS
from adapters._values import (
    bounded_decimal,
    clean,
    format_datetime,
    format_decimal,
    parse_datetime,
    text_problem,
)
from adapters.errors import AdapterCode, AdapterError
from adapters.express.model import (
    FUNCTION_WORDS,
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    message_function_of,
)
from adapters.express.refusal import ManifestRefused, identity_findings
from messages.models import MessageFunction
from messages.numbers import MAX_NUMBER_CHARS

JsonValue: TypeAlias = (
    None | bool | int | str | Decimal | list["JsonValue"] | dict[str, "JsonValue"]
)


class _Unreadable:
    """A JSON number out of range. The parse hooks do not know where they are, so they
    leave this in the document and the field's reader refuses it with its path."""

    __slots__ = ("text", "reason")

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason


def _number(text: str) -> Decimal | int | _Unreadable:
    """json's parse_float and parse_int: a bounded Decimal (or int), never a float."""
    if len(text) > MAX_NUMBER_CHARS:
        return _Unreadable(text, f"number {text[:20]}... ({len(text)} characters) is out of range")
    try:
        value = bounded_decimal(Decimal(text))
    except ValueError as exc:
        return _Unreadable(text, f"number {exc}")
    except ArithmeticError:  # an exponent beyond what Decimal can hold (InvalidOperation)
        return _Unreadable(text, f"number {text[:20]}... is out of range")
    if value == value.to_integral_value() and "." not in text and "e" not in text.lower():
        return int(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object_pairs_hook: an object with a key given twice is refused."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} is given twice in one object")
        found[key] = value
    return found


def _fail(message: str, location: str) -> AdapterError:
    return AdapterError(AdapterCode.MANIFEST_INVALID, message, location)


def _kind(value: object) -> str:
    """How JSON would name the type of `value`, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {json.dumps(value)}"
    if isinstance(value, int | Decimal):
        return f"number {value}"
    if isinstance(value, str):
        return f"string {value!r}"
    if isinstance(value, _Unreadable):
        return value.reason
    return "an array" if isinstance(value, list) else "an object"


# ---------------------------------------------------------------- scalar readers


def _text(value: object, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if (problem := text_problem(value)) is not None:
            raise _fail(problem, where)
        return clean(value)
    raise _fail(f"expected a string, got {_kind(value)}", where)


def _decimal(value: object, where: str) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, _Unreadable):
        raise _fail(value.reason, where)
    raise _fail(f"expected a number, got {_kind(value)}", where)


def _int(value: object, where: str) -> int | None:
    number = _decimal(value, where)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise _fail(f"expected a whole number, got {number}", where)
    return int(number)


def _datetime(value: object, where: str) -> datetime | None:
    text = _text(value, where)
    if text is None:
        return None
    try:
        return parse_datetime(text)
    except ValueError as exc:
        raise _fail(str(exc), where) from None


def _function(value: object, where: str) -> MessageFunction:
    """A word or an EDIFACT code, as a string or (the codes) a number; null is ORIGINAL."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    try:
        return message_function_of(_text(value, where))
    except ValueError as exc:
        raise _fail(str(exc), where) from None


Reader = Callable[[object, str], Any]


def _object(value: object, where: str, readers: Mapping[str, Reader]) -> dict[str, Any]:
    """Read every key of a JSON object with its reader; absent keys read as null."""
    if not isinstance(value, dict):
        raise _fail(f"expected an object, got {_kind(value)}", where)
    unknown = [key for key in value if key not in readers]
    if unknown:
        raise _fail(
            f"unknown keys {', '.join(map(repr, unknown))} (known: {', '.join(readers)})", where
        )
    return {key: read(value.get(key), _member(where, key)) for key, read in readers.items()}


def _member(where: str, key: str) -> str:
    return key if where == "$" else f"{where}.{key}"


def _array(value: object, where: str) -> list[object]:
    if value is None:
        raise _fail("is missing; expected an array", where)
    if not isinstance(value, list):
        raise _fail(f"expected an array, got {_kind(value)}", where)
    return value


# ---------------------------------------------------------------- structure


def _party(value: object, where: str) -> ManifestParty | None:
    if value is None:
        return None
    party = ManifestParty(**_object(value, where, dict.fromkeys(PARTY_FIELDS, _text)))
    # An object with nothing in it is the same as no party (as an empty XML element).
    return None if party == ManifestParty() else party


_LINE: dict[str, Reader] = {
    "description": _text,
    "hs_code": _text,
    "quantity": _int,
    "net_weight_kg": _decimal,
    "value": _decimal,
    "origin": _text,
}


def _lines(value: object, where: str) -> tuple[ManifestLine, ...] | None:
    """None when absent: only a cancellation may leave its lines out (see `_shipment`)."""
    if value is None:
        return None
    return tuple(
        ManifestLine(**_object(line, f"{where}[{i}]", _LINE))
        for i, line in enumerate(_array(value, where))
    )


_SHIPMENT: dict[str, Reader] = {
    "hawb": _text,
    "shipper": _party,
    "consignee": _party,
    "pieces": _int,
    "gross_weight_kg": _decimal,
    "value": _decimal,
    "currency": _text,
    "ioss": _text,
    "category": _text,
    "message_function": _function,
    "lines": _lines,
}


def _shipment(value: object, where: str) -> Shipment:
    fields = _object(value, where, _SHIPMENT)
    if fields["lines"] is None:
        if fields["message_function"] is not MessageFunction.CANCEL:
            raise _fail(
                "is missing; expected an array (only a cancellation may leave it out)",
                f"{where}.lines",
            )
        fields["lines"] = ()
    return Shipment(**fields)


def _shipments(value: object, where: str) -> tuple[Shipment, ...]:
    items = _array(value, where)
    if not items:
        raise _fail("is empty; a manifest has at least one shipment", where)
    return tuple(_shipment(item, f"{where}[{i}]") for i, item in enumerate(items))


_MANIFEST: dict[str, Reader] = {
    "carrier": _text,
    "manifest_id": _text,
    "master_awb": _text,
    "flight": _text,
    "departure": _datetime,
    "arrival": _datetime,
    "shipments": _shipments,
}


def _reject_constant(name: str) -> Decimal:
    raise ValueError(f"{name} is not a number JSON allows")


def manifest_from_json(data: bytes | str) -> Manifest:
    """Parse a manifest. Raises AdapterError (MANIFEST_INVALID) with a JSON path such as
    `shipments[2].lines[0].value` for anything that is not the manifest structure, and
    ManifestRefused (its subclass, with findings) when carrier or manifest_id is unusable."""
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        document = json.loads(
            text,
            parse_float=_number,
            parse_int=_number,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except UnicodeDecodeError as exc:
        raise _fail(f"manifest is not UTF-8: {exc}", "$") from None
    except ValueError as exc:  # JSONDecodeError is a ValueError
        raise _fail(f"manifest is not valid JSON: {exc}", "$") from None
    except RecursionError:
        raise _fail("manifest is nested too deeply to be a manifest", "$") from None
    if not isinstance(document, dict):
        raise _fail(f"expected a manifest object, got {_kind(document)}", "$")
    fields = _object(document, "$", _MANIFEST)
    findings = identity_findings(
        fields["carrier"], fields["manifest_id"], at=lambda field: field, absent="missing"
    )
    if findings:
        raise ManifestRefused(AdapterCode.MANIFEST_INVALID, findings)
    return Manifest(**fields)


# ---------------------------------------------------------------- writing


def manifest_to_json(manifest: Manifest) -> bytes:
    """UTF-8 JSON that `manifest_from_json` reads back to an equal manifest; amounts and
    weights are written as exact JSON numbers."""
    document: dict[str, JsonValue] = {
        "carrier": manifest.carrier,
        "manifest_id": manifest.manifest_id,
        "master_awb": manifest.master_awb,
        "flight": manifest.flight,
        "departure": _when(manifest.departure),
        "arrival": _when(manifest.arrival),
        "shipments": [_shipment_json(s) for s in manifest.shipments],
    }
    return (_dump(document, 0) + "\n").encode()


def _shipment_json(shipment: Shipment) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {
        "hawb": shipment.hawb,
        "shipper": _party_json(shipment.shipper),
        "consignee": _party_json(shipment.consignee),
        "pieces": shipment.pieces,
        "gross_weight_kg": shipment.gross_weight_kg,
        "value": shipment.value,
        "currency": shipment.currency,
        "ioss": shipment.ioss,
    }
    if shipment.category is not None:
        out["category"] = shipment.category
    if shipment.message_function is not MessageFunction.ORIGINAL:
        out["message_function"] = FUNCTION_WORDS[shipment.message_function]
    out["lines"] = [
        {
            "description": line.description,
            "hs_code": line.hs_code,
            "quantity": line.quantity,
            "net_weight_kg": line.net_weight_kg,
            "value": line.value,
            "origin": line.origin,
        }
        for line in shipment.lines
    ]
    return out


def _party_json(party: ManifestParty | None) -> JsonValue:
    return None if party is None else dict(party.as_dict())


def _when(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value)


def _dump(value: JsonValue, level: int) -> str:
    """json.dumps, except that Decimal is written as a number (json would need float)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} cannot be written as a JSON number")
        return format_decimal(value)
    pad, end = "\n" + "  " * (level + 1), "\n" + "  " * level
    if isinstance(value, dict) and value:
        members = (f"{pad}{json.dumps(k)}: {_dump(v, level + 1)}" for k, v in value.items())
        return "{" + ",".join(members) + end + "}"
    if isinstance(value, list) and value:
        return "[" + ",".join(f"{pad}{_dump(v, level + 1)}" for v in value) + end + "]"
    return json.dumps(value, ensure_ascii=False)
