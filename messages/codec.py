"""XML codecs for ITMATT, CUSITM and CUSRSP, symmetric by construction.

Decoding is lenient on leaf values: a value that does not parse becomes None,
because the XSD has already reported it as SCHEMA (see `messages.check`) and
the rulebook reports missing data with its own code. Decoding never raises for
item-level problems; message-level ones raise `MessageRejected`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree
from pydantic import BaseModel

from messages.errors import MessageRejected
from messages.findings import Code
from messages.models import (
    Address,
    ContentPiece,
    CusitmHeader,
    CusitmMessage,
    CusrspHeader,
    CusrspMessage,
    DeclaredItem,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    Money,
    Party,
    Response,
    ResponseError,
    TransportDocument,
)
from messages.numbers import is_plain_decimal, is_plain_integer
from messages.prebuilt import Blueprint
from messages.xml import DEFAULT_LIMITS, XmlLimits, parse_untrusted

ITMATT_NS = "urn:aedex:msg:itmatt:1"
CUSITM_NS = "urn:aedex:msg:cusitm:1"
CUSRSP_NS = "urn:aedex:msg:cusrsp:1"

AnyMessage = ItmattMessage | CusitmMessage | CusrspMessage


# ---------------------------------------------------------------- leaf values


def _text(el: etree._Element) -> str | None:
    text = el.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def _decimal(el: etree._Element) -> Decimal | None:
    text = _text(el)
    # Exponents (`1E+1000000`) are SCHEMA to the XSD and would overflow the rulebook's sums.
    if text is None or not is_plain_decimal(text):
        return None
    return Decimal(text)


def _int(el: etree._Element) -> int | None:
    text = _text(el)
    if text is None or not is_plain_integer(text):
        return None
    return int(text)


def _datetime(el: etree._Element) -> datetime | None:
    text = _text(el)
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else None


def _function(el: etree._Element) -> MessageFunction | None:
    value = _int(el)
    try:
        return MessageFunction(value) if value is not None else None
    except ValueError:
        return None


def _fmt_decimal(value: Decimal) -> str:
    return format(value, "f")


def _fmt_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError(f"datetime {value!r} has no UTC offset; messages need one")
    return value.isoformat()


# ---------------------------------------------------------------- decoding items
#
# Items are built straight from the tree: every value already has its final
# type here (a value that does not parse is None), so validating it again in
# pydantic would only repeat the work (issue 15). `Blueprint` builds the
# models without that second pass; the fields set are the elements present,
# as `model_validate` of the same values would record them.

_LOCAL_NAMES: dict[str, str] = {}
#: Our schemas have under 100 element names; the cap keeps hostile input, which
#: can carry millions of distinct tags, from growing the cache without bound.
_LOCAL_NAMES_CAP = 512


def _local_name(tag: object) -> str:
    if not isinstance(tag, str):
        return ""
    name = _LOCAL_NAMES.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_NAMES) < _LOCAL_NAMES_CAP:
            _LOCAL_NAMES[tag] = name
    return name


#: Party and address elements and the model fields they fill (also the manifest's keys,
#: which adapters.express.locations maps findings back to).
ADDRESS_FIELDS = {
    "Street": "street",
    "HouseNumber": "house_number",
    "Postcode": "postcode",
    "City": "city",
    "Region": "region",
    "Country": "country",
}
PARTY_FIELDS = {
    "Name": "name",
    "BusinessName": "business_name",
    "Phone": "phone",
    "Email": "email",
    "TaxId": "tax_id",
}
_PIECE_TEXT = {"Description": "description", "HSCode": "hs_code", "OriginCountry": "origin_country"}
_ITEM_TEXT = {
    "MailClass": "mail_class",
    "MailCategory": "mail_category",
    "DeclarationForm": "declaration_form",
    "Category": "category",
    "CategoryExplanation": "category_explanation",
    "InvoiceNumber": "invoice_number",
    "Comments": "comments",
}
_ITEM_MONEY = {
    "TotalValue": "total_value",
    "PostalCharges": "postal_charges",
    "InsuredValue": "insured_value",
}

_MONEY = Blueprint(Money)
_ADDRESS = Blueprint(Address)
_PARTY = Blueprint(Party)
_PIECE = Blueprint(ContentPiece)
_ITEM = Blueprint(DeclaredItem)

#: Reads one element's value; the field it fills is beside it in a `_Fields` table.
Reader = Callable[[etree._Element], Any]
Field = tuple[str, Reader]


class _Fields:
    """The one-valued children of an element: local name -> (field, reader).

    `by_tag` holds the same entries under the full tags of our namespaces, so a
    child is found with one lookup; `by_name` stays the rule (a child in another
    namespace is read by its local name, as the XSD reports it as SCHEMA anyway).
    """

    __slots__ = ("by_name", "by_tag")

    def __init__(self, by_name: dict[str, Field]) -> None:
        self.by_name = by_name
        self.by_tag = {
            f"{{{ns}}}{name}": field
            for ns in (ITMATT_NS, CUSITM_NS)
            for name, field in by_name.items()
        }


def _money(el: etree._Element) -> Money:
    currency = el.get("currency")
    # Both fields always given, in declaration order: nothing to merge with defaults.
    return _MONEY.wrap(
        {"amount": _decimal(el), "currency": (currency.strip() or None) if currency else None},
        {"amount", "currency"},
    )


_ADDRESS_FIELDS = _Fields({name: (field, _text) for name, field in ADDRESS_FIELDS.items()})


def _address(el: etree._Element) -> Address:
    fields, rest = _read(el, _ADDRESS_FIELDS)
    lines: list[str] = []
    for name, child in rest:
        if name == "Line":
            _append_text(lines, child)
    if lines:
        fields["lines"] = lines
    return _ADDRESS.make(fields)


_PARTY_FIELDS = _Fields(
    {name: (field, _text) for name, field in PARTY_FIELDS.items()}
    | {"Address": ("address", _address)}
)


def _party(el: etree._Element) -> Party:
    return _PARTY.make(_read(el, _PARTY_FIELDS)[0])


_PIECE_FIELDS = _Fields(
    {name: (field, _text) for name, field in _PIECE_TEXT.items()}
    | {
        "Quantity": ("quantity", _int),
        "NetWeight": ("net_weight", _decimal),
        "Value": ("value", _money),
        "Index": ("index", _int),
    }
)


def _piece(el: etree._Element) -> ContentPiece:
    return _PIECE.make(_read(el, _PIECE_FIELDS)[0])


def _read(
    el: etree._Element, table: _Fields
) -> tuple[dict[str, Any], list[tuple[str, etree._Element]]]:
    """The fields of `el`'s children found in `table` (the last of a repeated child wins),
    and the other children with their local names, for the caller to read."""
    fields: dict[str, Any] = {}
    rest: list[tuple[str, etree._Element]] = []
    by_tag, by_name = table.by_tag, table.by_name
    for child in el:
        tag = child.tag
        field = by_tag.get(tag) or by_name.get(name := _local_name(tag))
        if field is None:
            rest.append((name, child))
        elif field[1] is _text:  # the most common reader, inlined
            text = child.text
            fields[field[0]] = (text.strip() or None) if text is not None else None
        else:
            fields[field[0]] = field[1](child)
    return fields, rest


_ITEM_FIELDS = _Fields(
    {name: (field, _text) for name, field in _ITEM_TEXT.items()}
    | {name: (field, _money) for name, field in _ITEM_MONEY.items()}
    | {
        "Sender": ("sender", _party),
        "Addressee": ("addressee", _party),
        "PostingDateTime": ("posting_datetime", _datetime),
        "TotalGrossWeight": ("total_gross_weight", _decimal),
    }
)


def decode_item(el: etree._Element) -> DeclaredItem:
    """One `<Item>` element as a `DeclaredItem` (never raises: bad values become None)."""
    fields, rest = _read(el, _ITEM_FIELDS)
    licences: list[str] = []
    certificates: list[str] = []
    pieces: list[ContentPiece] = []
    for name, child in rest:
        if name == "ContentPiece":
            pieces.append(_piece(child))
        elif name == "ItemId":
            fields["item_id"] = _text(child)
            id_type = child.get("idType")
            if id_type in ("HAWB", "OTHER"):
                fields["id_type"] = id_type
        elif name == "LicenceNumber":
            _append_text(licences, child)
        elif name == "CertificateNumber":
            _append_text(certificates, child)
    fields["contents"] = pieces
    if licences:
        fields["licence_numbers"] = licences
    if certificates:
        fields["certificate_numbers"] = certificates
    return _ITEM.make(fields)


# A schema-valid item is read in one flat walk: in our XSDs every element name
# says which level its value belongs to (party, address and content-piece names
# are unique to their level; Sender and Addressee come before the content pieces;
# no `xs:any`), so the nested per-level reads above are not needed. About a third
# cheaper (issue 15); `decode_item` stays the rule for everything else.

_ITEM_LEVEL, _PARTY_LEVEL, _ADDRESS_LEVEL, _PIECE_LEVEL = range(4)
_FLAT_BY_NAME: dict[str, tuple[int, str, Reader]] = (
    {name: (_ITEM_LEVEL, *field) for name, field in _ITEM_FIELDS.by_name.items()}
    | {name: (_PARTY_LEVEL, *field) for name, field in _PARTY_FIELDS.by_name.items()}
    | {name: (_ADDRESS_LEVEL, *field) for name, field in _ADDRESS_FIELDS.by_name.items()}
    | {name: (_PIECE_LEVEL, *field) for name, field in _PIECE_FIELDS.by_name.items()}
)
#: Containers and repeated elements, handled in the walk itself.
for _name in ("Sender", "Addressee", "Address"):
    del _FLAT_BY_NAME[_name]
_FLAT_BY_TAG = {
    f"{{{ns}}}{name}": spec for ns in (ITMATT_NS, CUSITM_NS) for name, spec in _FLAT_BY_NAME.items()
}


def decode_valid_item(el: etree._Element) -> DeclaredItem:
    """`decode_item` for an `<Item>` the XSD has accepted with no error: the same model."""
    levels: list[dict[str, Any]] = [{}, {}, {}, {}]  # item, current party, address, piece
    item = levels[_ITEM_LEVEL]
    parties: list[dict[str, Any]] = []
    pieces: list[dict[str, Any]] = []
    licences: list[str] = []
    certificates: list[str] = []
    walk = el.iter()
    next(walk)  # the Item itself
    for child in walk:
        tag = child.tag
        spec = _FLAT_BY_TAG.get(tag) or _FLAT_BY_NAME.get(name := _local_name(tag))
        if spec is not None:
            level, field, reader = spec
            if reader is _text:  # the most common reader, inlined
                text = child.text
                levels[level][field] = (text.strip() or None) if text is not None else None
            else:
                levels[level][field] = reader(child)
        elif name == "ContentPiece":
            piece: dict[str, Any] = {}
            levels[_PIECE_LEVEL] = piece
            pieces.append(piece)
        elif name in ("Sender", "Addressee"):
            party: dict[str, Any] = {}
            levels[_PARTY_LEVEL] = item["sender" if name == "Sender" else "addressee"] = party
            parties.append(party)
        elif name == "Address":
            levels[_ADDRESS_LEVEL] = levels[_PARTY_LEVEL]["address"] = {}
        elif name == "Line":
            _append_text(levels[_ADDRESS_LEVEL].setdefault("lines", []), child)
        elif name == "ItemId":
            item["item_id"] = _text(child)
            id_type = child.get("idType")
            if id_type in ("HAWB", "OTHER"):
                item["id_type"] = id_type
        elif name == "LicenceNumber":
            _append_text(licences, child)
        elif name == "CertificateNumber":
            _append_text(certificates, child)
    for party in parties:
        address = party.get("address")
        if address is not None:
            if address.get("lines") == []:
                del address["lines"]  # only blank lines: as if none were given
            party["address"] = _ADDRESS.make(address)
    for role in ("sender", "addressee"):
        if role in item:
            item[role] = _PARTY.make(item[role])
    item["contents"] = [_PIECE.make(piece) for piece in pieces]
    if licences:
        item["licence_numbers"] = licences
    if certificates:
        item["certificate_numbers"] = certificates
    return _ITEM.make(item)


def _append_text(target: list[str], el: etree._Element) -> None:
    text = _text(el)
    if text is not None:
        target.append(text)


# ---------------------------------------------------------------- decoding messages


def expect_root(root: etree._Element, namespace: str, name: str) -> None:
    expected = f"{{{namespace}}}{name}"
    if root.tag != expected:
        raise MessageRejected(
            Code.XML_MALFORMED, f"root element is {root.tag!r}; expected {expected!r}"
        )


def _header_fields(el: etree._Element | None, header: type[BaseModel]) -> dict[str, Any]:
    """The fields of `header` found in `el`. An element of the other message type's header
    (a CustomsOffice in an ITMATT) is the XSD's to report; decoding it into a model that
    has no such field raised instead of answering with that finding."""
    fields: dict[str, Any] = {}
    if el is None:
        return fields
    for child in el:
        name = _local_name(child.tag)
        if name == "MessageId":
            fields["message_id"] = _text(child)
        elif name == "MessageFunction":
            fields["message_function"] = _function(child)
        elif name == "SenderOperator":
            fields["sender_operator"] = _text(child)
        elif name == "RecipientOperator":
            fields["recipient_operator"] = _text(child)
        elif name == "CustomsOffice":
            fields["customs_office"] = _text(child)
        elif name in ("PreparedAt", "ExpectedArrival"):
            fields["prepared_at" if name == "PreparedAt" else "expected_arrival"] = _datetime(child)
        elif name == "TransportDocument":
            doc_type, value = child.get("type"), _text(child)
            if doc_type in ("AWB", "RECEPTACLE", "DISPATCH") and value is not None:
                fields["transport_document"] = TransportDocument(type=doc_type, value=value)
    known = header.model_fields
    return {name: value for name, value in fields.items() if name in known}


_ITMATT = Blueprint(ItmattMessage)
_CUSITM = Blueprint(CusitmMessage)
_NO_ITEMS: dict[str, Any] = {"items": []}


def _children(root: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in root if _local_name(child.tag) == name]


def itmatt_from_tree(root: etree._Element, *, schema_valid: bool = False) -> ItmattMessage:
    """The message in `root`; pass `schema_valid` only when its XSD found no error at all."""
    expect_root(root, ITMATT_NS, "ITMATT")
    version = root.get("version")
    if version not in ("1.1", "1.2"):
        raise MessageRejected(
            Code.XML_MALFORMED, f"ITMATT version {version!r} is not supported (1.1 or 1.2)"
        )
    decode = decode_valid_item if schema_valid else decode_item
    items = [decode(el) for el in _children(root, "Item")]
    # The envelope is validated as before (a misplaced header element still fails
    # the same way); the items are built, not validated again.
    shell = ItmattMessage.model_validate(
        {
            "version": version,
            "header": _header_fields(root.find(f"{{{ITMATT_NS}}}Header"), ItmattHeader),
        }
        | _NO_ITEMS
    )
    return _ITMATT.make({"version": shell.version, "header": shell.header, "items": items})


def cusitm_from_tree(root: etree._Element, *, schema_valid: bool = False) -> CusitmMessage:
    """The message in `root`; pass `schema_valid` only when its XSD found no error at all."""
    expect_root(root, CUSITM_NS, "CUSITM")
    if root.get("version") != "1":
        raise MessageRejected(
            Code.XML_MALFORMED, f"CUSITM version {root.get('version')!r} is not supported (1)"
        )
    decode = decode_valid_item if schema_valid else decode_item
    items = [decode(el) for el in _children(root, "Item")]
    shell = CusitmMessage.model_validate(
        {"header": _header_fields(root.find(f"{{{CUSITM_NS}}}Header"), CusitmHeader)} | _NO_ITEMS
    )
    return _CUSITM.make({"header": shell.header, "items": items})


def cusrsp_from_tree(root: etree._Element) -> CusrspMessage:
    expect_root(root, CUSRSP_NS, "CUSRSP")
    ns = f"{{{CUSRSP_NS}}}"
    header_el = root.find(f"{ns}Header")
    if header_el is None:
        raise MessageRejected(Code.SCHEMA, "CUSRSP has no Header", "Header")

    def required(el: etree._Element, name: str) -> etree._Element:
        found = el.find(f"{ns}{name}")
        if found is None:
            raise MessageRejected(Code.SCHEMA, f"CUSRSP lacks {name}", name)
        return found

    def required_text(el: etree._Element, name: str) -> str:
        return _text(required(el, name)) or ""

    def required_time(el: etree._Element, name: str) -> datetime:
        value = _datetime(required(el, name))
        if value is None:
            raise MessageRejected(Code.SCHEMA, f"CUSRSP {name} is not a date-time with offset")
        return value

    header = CusrspHeader(
        message_id=required_text(header_el, "MessageId"),
        sender_authority=required_text(header_el, "SenderAuthority"),
        recipient_operator=required_text(header_el, "RecipientOperator"),
        prepared_at=required_time(header_el, "PreparedAt"),
    )
    responses = []
    for el in _children(root, "Response"):
        decision = required(el, "Decision")
        indicator = el.find(f"{ns}ProcessingIndicator")
        axis = decision.get("axis")
        responses.append(
            Response(
                item_id=required_text(el, "ItemId"),
                in_reply_to=required_text(el, "InReplyTo"),
                decision=_text(decision) or "",
                axis=axis if axis in ("FISCAL", "SECURITY") else None,
                processing_indicator=_int(indicator) if indicator is not None else None,
                decided_at=required_time(el, "DecidedAt"),
                reasons=[child.text or "" for child in el.iterfind(f"{ns}Reason")],
                errors=[
                    ResponseError(
                        code=child.get("code", ""),
                        path=child.get("path", ""),
                        text=child.text or "",
                        severity="warning" if child.get("severity") == "warning" else "error",
                    )
                    for child in el.iterfind(f"{ns}Error")
                ],
            )
        )
    return CusrspMessage(header=header, responses=responses)


def decode_itmatt(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> ItmattMessage:
    return itmatt_from_tree(parse_untrusted(data, limits))


def decode_cusitm(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> CusitmMessage:
    return cusitm_from_tree(parse_untrusted(data, limits))


def decode_cusrsp(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> CusrspMessage:
    return cusrsp_from_tree(parse_untrusted(data, limits))


_FROM_TREE: dict[str, Callable[[etree._Element], AnyMessage]] = {
    f"{{{ITMATT_NS}}}ITMATT": itmatt_from_tree,
    f"{{{CUSITM_NS}}}CUSITM": cusitm_from_tree,
    f"{{{CUSRSP_NS}}}CUSRSP": cusrsp_from_tree,
}


def decode_any(data: bytes, limits: XmlLimits = DEFAULT_LIMITS) -> AnyMessage:
    """Decode whichever of the three messages `data` holds, told apart by its root."""
    root = parse_untrusted(data, limits)
    decoder = _FROM_TREE.get(root.tag) if isinstance(root.tag, str) else None
    if decoder is None:
        raise MessageRejected(
            Code.XML_MALFORMED,
            f"root element {root.tag!r} is not ITMATT, CUSITM or CUSRSP in the aedex namespaces",
        )
    return decoder(root)


# ---------------------------------------------------------------- encoding


class _Writer:
    """Appends namespaced children; `None` values are omitted (absent, not empty)."""

    def __init__(self, namespace: str) -> None:
        self.ns = f"{{{namespace}}}"

    def el(self, parent: etree._Element, name: str) -> etree._Element:
        return etree.SubElement(parent, self.ns + name)

    def text(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            etree.SubElement(parent, self.ns + name).text = value

    def decimal(self, parent: etree._Element, name: str, value: Decimal | None) -> None:
        if value is not None:
            self.text(parent, name, _fmt_decimal(value))

    def integer(self, parent: etree._Element, name: str, value: int | None) -> None:
        if value is not None:
            self.text(parent, name, str(value))

    def when(self, parent: etree._Element, name: str, value: datetime | None) -> None:
        if value is not None:
            self.text(parent, name, _fmt_datetime(value))

    def money(self, parent: etree._Element, name: str, value: Money | None) -> None:
        if value is None:
            return
        el = etree.SubElement(parent, self.ns + name)
        if value.currency is not None:
            el.set("currency", value.currency)
        if value.amount is not None:
            el.text = _fmt_decimal(value.amount)


def _encode_address(w: _Writer, parent: etree._Element, address: Address, legacy: bool) -> None:
    el = w.el(parent, "Address")
    if legacy:
        if address.street or address.house_number or address.region:
            raise ValueError("a 1.1 (legacy) address has only Line, Postcode, City, Country")
        for line in address.lines:
            w.text(el, "Line", line)
    else:
        if address.lines:
            raise ValueError("a structured address has no Line elements; use version 1.1")
        w.text(el, "Street", address.street)
        w.text(el, "HouseNumber", address.house_number)
    w.text(el, "Postcode", address.postcode)
    w.text(el, "City", address.city)
    if not legacy:
        w.text(el, "Region", address.region)
    w.text(el, "Country", address.country)


def _encode_party(
    w: _Writer, parent: etree._Element, name: str, party: Party | None, legacy: bool
) -> None:
    if party is None:
        return
    el = w.el(parent, name)
    w.text(el, "Name", party.name)
    w.text(el, "BusinessName", party.business_name)
    if party.address is not None:
        _encode_address(w, el, party.address, legacy)
    w.text(el, "Phone", party.phone)
    w.text(el, "Email", party.email)
    w.text(el, "TaxId", party.tax_id)


def encode_item(w: _Writer, parent: etree._Element, item: DeclaredItem, legacy: bool) -> None:
    el = w.el(parent, "Item")
    if item.item_id is not None or item.id_type != "S10":
        id_el = w.el(el, "ItemId")
        id_el.text = item.item_id
        if item.id_type != "S10":
            id_el.set("idType", item.id_type)
    w.when(el, "PostingDateTime", item.posting_datetime)
    w.text(el, "MailClass", item.mail_class)
    w.text(el, "MailCategory", item.mail_category)
    w.text(el, "DeclarationForm", item.declaration_form)
    w.text(el, "Category", item.category)
    w.text(el, "CategoryExplanation", item.category_explanation)
    w.money(el, "TotalValue", item.total_value)
    w.decimal(el, "TotalGrossWeight", item.total_gross_weight)
    w.money(el, "PostalCharges", item.postal_charges)
    w.money(el, "InsuredValue", item.insured_value)
    w.text(el, "InvoiceNumber", item.invoice_number)
    for licence in item.licence_numbers:
        w.text(el, "LicenceNumber", licence)
    for certificate in item.certificate_numbers:
        w.text(el, "CertificateNumber", certificate)
    w.text(el, "Comments", item.comments)
    _encode_party(w, el, "Sender", item.sender, legacy)
    _encode_party(w, el, "Addressee", item.addressee, legacy)
    for piece in item.contents:
        p = w.el(el, "ContentPiece")
        w.integer(p, "Index", piece.index)
        w.text(p, "Description", piece.description)
        w.integer(p, "Quantity", piece.quantity)
        w.decimal(p, "NetWeight", piece.net_weight)
        w.money(p, "Value", piece.value)
        w.text(p, "HSCode", piece.hs_code)
        w.text(p, "OriginCountry", piece.origin_country)


def _start(
    namespace: str, name: str, version: str
) -> tuple[_Writer, etree._Element, etree._Element]:
    """Writer, root element with its version, and the empty Header every message starts with."""
    w = _Writer(namespace)
    root = etree.Element(w.ns + name, nsmap={None: namespace})  # type: ignore[dict-item]
    root.set("version", version)
    return w, root, w.el(root, "Header")


def _serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def encode_itmatt(msg: ItmattMessage) -> bytes:
    w, root, h = _start(ITMATT_NS, "ITMATT", msg.version)
    w.text(h, "MessageId", msg.header.message_id)
    w.integer(h, "MessageFunction", msg.header.message_function)
    w.text(h, "SenderOperator", msg.header.sender_operator)
    w.text(h, "RecipientOperator", msg.header.recipient_operator)
    w.when(h, "PreparedAt", msg.header.prepared_at)
    legacy = msg.version == "1.1"
    for item in msg.items:
        encode_item(w, root, item, legacy)
    return _serialise(root)


def encode_cusitm(msg: CusitmMessage) -> bytes:
    w, root, h = _start(CUSITM_NS, "CUSITM", msg.version)
    w.text(h, "MessageId", msg.header.message_id)
    w.integer(h, "MessageFunction", msg.header.message_function)
    w.text(h, "SenderOperator", msg.header.sender_operator)
    w.text(h, "CustomsOffice", msg.header.customs_office)
    w.when(h, "PreparedAt", msg.header.prepared_at)
    w.when(h, "ExpectedArrival", msg.header.expected_arrival)
    if msg.header.transport_document is not None:
        doc = w.el(h, "TransportDocument")
        doc.set("type", msg.header.transport_document.type)
        doc.text = msg.header.transport_document.value
    for item in msg.items:
        encode_item(w, root, item, legacy=False)
    return _serialise(root)


def encode_cusrsp(msg: CusrspMessage) -> bytes:
    w, root, h = _start(CUSRSP_NS, "CUSRSP", msg.version)
    w.text(h, "MessageId", msg.header.message_id)
    w.text(h, "SenderAuthority", msg.header.sender_authority)
    w.text(h, "RecipientOperator", msg.header.recipient_operator)
    w.when(h, "PreparedAt", msg.header.prepared_at)
    for response in msg.responses:
        r = w.el(root, "Response")
        w.text(r, "ItemId", response.item_id)
        w.text(r, "InReplyTo", response.in_reply_to)
        decision = w.el(r, "Decision")
        decision.text = response.decision
        if response.axis is not None:
            decision.set("axis", response.axis)
        w.integer(r, "ProcessingIndicator", response.processing_indicator)
        w.when(r, "DecidedAt", response.decided_at)
        for reason in response.reasons:
            w.el(r, "Reason").text = reason
        for error in response.errors:
            e = w.el(r, "Error")
            e.set("code", error.code)
            e.set("path", error.path)
            e.set("severity", error.severity)
            e.text = error.text
    return _serialise(root)


def encode_any(msg: AnyMessage) -> bytes:
    if isinstance(msg, ItmattMessage):
        return encode_itmatt(msg)
    if isinstance(msg, CusitmMessage):
        return encode_cusitm(msg)
    return encode_cusrsp(msg)
