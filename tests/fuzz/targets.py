"""Fuzz targets: one function per entry point that reads untrusted bytes.

Each target feeds the bytes to the real entry point and swallows only the errors
that entry point documents for bad input (`MessageRejected`, `AdapterError`);
anything else that escapes (KeyError, ValueError, RecursionError, a failed
invariant) is a crash. On success a target asserts cheap invariants the code
promises: limits honoured, `decode(encode(m)) == m`, `check_message` never raises.

Nothing here imports atheris, so `test_corpus` and `replay` run targets as plain
functions.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from lxml import etree
from pydantic import BaseModel

from adapters.errors import AdapterError
from adapters.express.manifest import manifest_problems, manifest_to_cusitm
from adapters.express.manifest_csv import manifest_from_csv, manifest_to_csv
from adapters.express.manifest_json import manifest_from_json, manifest_to_json
from adapters.express.model import Manifest
from adapters.post.cn23_csv import cn23_csv_to_itmatt, itmatt_to_cn23_csv
from adapters.post.itmatt import inspect_envelope
from messages import check, codec
from messages.errors import MessageRejected
from messages.findings import Code, has_error
from messages.models import Address, CusitmMessage, ItmattMessage
from messages.rates import RateTable
from messages.xml import XINCLUDE_NS, XmlLimits, parse_untrusted

Target = Callable[[bytes], None]

#: Limits small enough that a fuzz input of a few KB can reach every one of them.
SMALL_LIMITS = XmlLimits(max_bytes=64 * 1024, max_depth=8, max_items=4, max_text_chars=256)

# Fixed header facts for what the sender does not put in the file, so a run is reproducible.
_PREPARED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_RECEIVED_AT = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)
_CUSTOMS_OFFICE = "DE000001"
_RATES = RateTable.default()


# ---------------------------------------------------------------- XML


def xml_entry(data: bytes) -> None:
    """`parse_untrusted` refuses with MessageRejected, or returns a tree within every limit
    and free of DTD, entity, processing instruction and XInclude."""
    try:
        root = parse_untrusted(data, SMALL_LIMITS)
    except MessageRejected:
        return
    doc = root.getroottree()
    assert doc.docinfo.internalDTD is None and not doc.docinfo.doctype, "a DTD got through"
    assert not doc.xpath("boolean(//processing-instruction())"), "a PI got through"
    assert not root.xpath("boolean(//x:*)", namespaces={"x": XINCLUDE_NS}), "XInclude got through"
    assert next(root.iter(etree.Entity), None) is None, "an entity reference got through"
    depth = _depth(root)
    assert depth <= SMALL_LIMITS.max_depth, f"elements nest {depth} deep"
    longest = max((len(text) for text in doc.xpath("//text()")), default=0)
    assert longest <= SMALL_LIMITS.max_text_chars, f"a text node has {longest} characters"
    items = sum(1 for child in root if etree.QName(child).localname in ("Item", "Response"))
    assert items <= SMALL_LIMITS.max_items, f"{items} items got through"


def _depth(root: etree._Element) -> int:
    """Nesting depth with the root at 1, as `XmlLimits.max_depth` counts it."""
    return max(sum(1 for _ in el.iterancestors()) for el in root.iter()) + 1


def envelope(data: bytes) -> None:
    """`inspect_envelope` (every POST /v1/messages) refuses or reads a consistent envelope."""
    try:
        found = inspect_envelope(data)
    except (MessageRejected, AdapterError):
        return
    assert found.item_count >= 0
    if found.key is not None:
        assert found.key == f"{found.sender_operator}:{found.message_id}"


def decode_itmatt(data: bytes) -> None:
    """`decode_itmatt` refuses, or decodes a message the codec writes back unchanged."""
    try:
        message = codec.decode_itmatt(data)
    except MessageRejected:
        return
    if _encodable(message):
        _same(codec.decode_itmatt, codec.encode_itmatt(message), message)


def decode_cusitm(data: bytes) -> None:
    """`decode_cusitm` refuses, or decodes a message the codec writes back unchanged."""
    try:
        message = codec.decode_cusitm(data)
    except MessageRejected:
        return
    if _encodable(message):
        _same(codec.decode_cusitm, codec.encode_cusitm(message), message)


def decode_cusrsp(data: bytes) -> None:
    """`decode_cusrsp` refuses, or decodes a message the codec writes back unchanged."""
    try:
        message = codec.decode_cusrsp(data)
    except MessageRejected:
        return
    _same(codec.decode_cusrsp, codec.encode_cusrsp(message), message)


def check_message(data: bytes) -> None:
    """`check_message` never raises (the validate stage would lose the message) and its
    result is self-consistent."""
    _consistent(check.check_message(data, received_at=_RECEIVED_AT, rates=_RATES))


def _encodable(message: ItmattMessage | CusitmMessage) -> bool:
    """Whether the encoder takes `message`. Decoding is lenient and may mix the 1.1 address
    layout (Line) with the 1.2 one (Street, HouseNumber, Region); the encoder refuses that
    with ValueError by design, so such a message has no round trip to check."""
    legacy = isinstance(message, ItmattMessage) and message.version == "1.1"
    for address in _addresses(message):
        if legacy and (address.street or address.house_number or address.region):
            return False
        if not legacy and address.lines:
            return False
    return True


def _addresses(message: ItmattMessage | CusitmMessage) -> Iterator[Address]:
    """Every party address of every item."""
    for item in message.items:
        for party in (item.sender, item.addressee):
            if party is not None and party.address is not None:
                yield party.address


def _same(decode: Callable[[bytes], BaseModel], encoded: bytes, message: BaseModel) -> None:
    """`decode(encoded)` gives `message` back: the codec's symmetry promise."""
    try:
        again = decode(encoded)
    except MessageRejected as rejected:
        raise AssertionError(
            f"decode refuses what encode wrote for a decoded message: "
            f"{rejected.code}: {rejected.message}"
        ) from None
    assert again == message, f"decode(encode(m)) != m at {_difference(again, message)}"


def _consistent(result: check.MessageCheck) -> None:
    """What callers of `check_message` rely on: a refused message has one finding and no
    model; items are numbered 1..n; only an item without error findings is canonical."""
    if result.message is None:
        assert result.kind is None and not result.items
        assert len(result.findings) == 1 and result.refused, result.findings
        return
    assert result.kind == result.message.kind
    assert [item.index for item in result.items] == list(range(1, len(result.message.items) + 1))
    for item in result.items:
        if item.item is not None:
            assert not has_error(item.findings) and not result.refused, item.findings


# ---------------------------------------------------------------- express manifests


def manifest_json(data: bytes) -> None:
    """`manifest_from_json` refuses with AdapterError, or gives a manifest that intake turns
    into a CUSITM message and that `manifest_to_json` writes back unchanged."""
    try:
        manifest = manifest_from_json(data)
    except AdapterError:
        return
    _intake(manifest)
    written = manifest_to_json(manifest)
    try:
        again = manifest_from_json(written)
    except AdapterError as error:
        raise AssertionError(f"manifest_from_json refuses manifest_to_json: {error}") from None
    assert again == manifest, f"JSON round trip differs at {_difference(again, manifest)}"


def manifest_csv(data: bytes) -> None:
    """Like `manifest_json` for CSV, decoded as the API does (not UTF-8 is CSV_INVALID)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # POST /v1/express/manifests answers CSV_INVALID "the CSV is not UTF-8"
    try:
        manifest = manifest_from_csv(text)
    except AdapterError:
        return
    _intake(manifest)
    written = manifest_to_csv(manifest)
    try:
        again = manifest_from_csv(written)
    except AdapterError as error:
        raise AssertionError(f"manifest_from_csv refuses manifest_to_csv: {error}") from None
    assert again == manifest, f"CSV round trip differs at {_difference(again, manifest)}"


def _intake(manifest: Manifest) -> None:
    """What POST /v1/express/manifests and the validate stage do with a parsed manifest:
    only the adapter's own error may come out, and the CUSITM written passes our XML door."""
    manifest_problems(manifest)
    try:
        message = manifest_to_cusitm(
            manifest, customs_office=_CUSTOMS_OFFICE, prepared_at=_PREPARED_AT
        )
    except AdapterError:
        return
    xml = codec.encode_cusitm(message)
    try:
        found = inspect_envelope(xml)
    except MessageRejected as rejected:
        # A manifest with thousands of shipments may pass a limit; nothing else may refuse it.
        assert rejected.code is Code.XML_TOO_LARGE, f"{rejected.code}: {rejected.message}"
        return
    assert found.message_type == "CUSITM" and found.item_count == len(manifest.shipments)
    assert found.key == f"{manifest.carrier}:{manifest.manifest_id}", found
    _consistent(check.check_message(xml, received_at=_RECEIVED_AT, rates=_RATES))


# ---------------------------------------------------------------- CN 23 CSV


def cn23_csv(data: bytes) -> None:
    """`cn23_csv_to_itmatt` on an export read as `aedex assess` reads it (UTF-8, BOM allowed)
    refuses with AdapterError, or gives an ITMATT that passes the checks and that
    `itmatt_to_cn23_csv` writes back unchanged."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return
    try:
        message = _cn23(text)
    except AdapterError:
        return
    _consistent(check.check_message(codec.encode_itmatt(message), rates=_RATES))
    written = itmatt_to_cn23_csv(message)
    try:
        again = _cn23(written)
    except AdapterError as error:
        raise AssertionError(f"cn23_csv_to_itmatt refuses itmatt_to_cn23_csv: {error}") from None
    assert again == message, f"CN 23 round trip differs at {_difference(again, message)}"


def _cn23(text: str) -> ItmattMessage:
    """The conversion with fixed header facts: a CN 23 export carries none of its own."""
    return cn23_csv_to_itmatt(
        text,
        message_id="CNA-FUZZ-000001",
        sender_operator="CNA",
        recipient_operator="DEA",
        prepared_at=_PREPARED_AT,
    )


# ---------------------------------------------------------------- helpers


def _difference(left: object, right: object, path: str = "$") -> str:
    """The path of the first value that differs, so a failed round trip says where."""
    left, right = _plain(left), _plain(right)
    if isinstance(left, dict) and isinstance(right, dict):
        for key in [*left, *(k for k in right if k not in left)]:
            if left.get(key) != right.get(key):
                return _difference(left.get(key), right.get(key), f"{path}.{key}")
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        for index, (a, b) in enumerate(zip(left, right, strict=False)):
            if a != b:
                return _difference(a, b, f"{path}[{index}]")
        if len(left) != len(right):
            return f"{path} (length {len(left)} != {len(right)})"
    return f"{path}: {_short(left)} != {_short(right)}"


def _plain(value: object) -> object:
    """A model or dataclass as a dict of its fields, for `_difference` to walk."""
    if isinstance(value, BaseModel):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    return value


def _short(value: object) -> str:
    """`repr` cut short: a difference may be a million-digit number."""
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


#: Every target by name: the corpus folder, `run` and `replay` use these names.
TARGETS: dict[str, Target] = {
    "xml_entry": xml_entry,
    "envelope": envelope,
    "decode_itmatt": decode_itmatt,
    "decode_cusitm": decode_cusitm,
    "decode_cusrsp": decode_cusrsp,
    "check_message": check_message,
    "manifest_json": manifest_json,
    "manifest_csv": manifest_csv,
    "cn23_csv": cn23_csv,
}
