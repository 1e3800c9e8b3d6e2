"""CN 23 CSV export (one row per content piece) to ITMATT 1.2, and back.

Posts without an ITMATT interface export their customs declarations as CSV.
Item-level columns repeat on every row of an item; rows sharing an `item_id`
form one item, content pieces numbered 1..n in row order. The adapter only
converts: blank cells become absent data for the rulebook to report, never
defaults. One `currency` column applies to every amount of the item.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import get_args

from adapters._parts import PARTY_FIELDS, flatten_party, make_money, make_party
from adapters._table import Row, group_rows, read_rows, write_rows
from adapters._values import format_datetime, format_decimal
from adapters._values import format_optional as _opt
from adapters.errors import AdapterCode, AdapterError
from messages.models import (
    ContentPiece,
    DeclaredItem,
    IdType,
    ItmattHeader,
    ItmattMessage,
    MessageFunction,
    Money,
)

SENDER_COLUMNS = tuple(f"sender_{field}" for field in PARTY_FIELDS)
ADDRESSEE_COLUMNS = tuple(f"addressee_{field}" for field in PARTY_FIELDS)
#: Item-level columns, repeated on every row of the item.
ITEM_COLUMNS = (
    "item_id",
    "posting_datetime",
    "mail_class",
    "mail_category",
    "declaration_form",
    "category",
    "category_explanation",
    "total_value",
    "currency",
    "total_gross_weight",
    "postal_charges",
    *SENDER_COLUMNS,
    *ADDRESSEE_COLUMNS,
)
#: Content-piece columns, one piece per row.
PIECE_COLUMNS = ("description", "quantity", "net_weight", "value", "hs_code", "origin_country")
#: Every export must have these columns (cells may be blank).
REQUIRED_COLUMNS = (*ITEM_COLUMNS, *PIECE_COLUMNS)
#: Item-level columns an export may add; `id_type` blank means S10.
OPTIONAL_COLUMNS = ("id_type", "insured_value", "invoice_number", "comments")
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)

_ID_TYPES: tuple[str, ...] = get_args(IdType)


def cn23_csv_to_itmatt(
    text: str,
    *,
    message_id: str,
    sender_operator: str,
    recipient_operator: str,
    prepared_at: datetime,
    message_function: MessageFunction = MessageFunction.ORIGINAL,
) -> ItmattMessage:
    """One ITMATT 1.2 message holding every item of the CSV, in order of first appearance.

    Raises AdapterError (CSV_INVALID) for a missing/unknown column, a row without
    `item_id`, conflicting item-level cells, or a cell that is not a number/date-time.
    """
    if prepared_at.tzinfo is None:
        raise ValueError("prepared_at needs a UTC offset")
    rows = read_rows(text, required=REQUIRED_COLUMNS, optional=OPTIONAL_COLUMNS)
    groups = group_rows(rows, key="item_id", shared=(*ITEM_COLUMNS, *OPTIONAL_COLUMNS), noun="item")
    header = ItmattHeader(
        message_id=message_id,
        message_function=message_function,
        sender_operator=sender_operator,
        recipient_operator=recipient_operator,
        prepared_at=prepared_at,
    )
    return ItmattMessage(
        version="1.2", header=header, items=[_item(group) for group in groups.values()]
    )


def _item(rows: list[Row]) -> DeclaredItem:
    first = rows[0]
    currency = first.text("currency")
    id_type = first.text("id_type") or "S10"
    if id_type not in _ID_TYPES:
        raise AdapterError(
            AdapterCode.CSV_INVALID,
            f"{id_type!r} is not an id type ({', '.join(_ID_TYPES)}; blank means S10)",
            first.where("id_type"),
        )
    piece_rows = [row for row in rows if any(row.cells[c] is not None for c in PIECE_COLUMNS)]
    return DeclaredItem(
        item_id=first.text("item_id"),
        id_type=id_type,
        posting_datetime=first.datetime("posting_datetime"),
        mail_class=first.text("mail_class"),
        mail_category=first.text("mail_category"),
        declaration_form=first.text("declaration_form"),
        category=first.text("category"),
        category_explanation=first.text("category_explanation"),
        total_value=make_money(first.decimal("total_value"), currency),
        total_gross_weight=first.decimal("total_gross_weight"),
        postal_charges=_charge(first.decimal("postal_charges"), currency),
        insured_value=_charge(first.decimal("insured_value"), currency),
        invoice_number=first.text("invoice_number"),
        comments=first.text("comments"),
        sender=make_party({f: first.cells[f"sender_{f}"] for f in PARTY_FIELDS}),
        addressee=make_party({f: first.cells[f"addressee_{f}"] for f in PARTY_FIELDS}),
        contents=[_piece(row, index, currency) for index, row in enumerate(piece_rows, 1)],
    )


def _piece(row: Row, index: int, currency: str | None) -> ContentPiece:
    return ContentPiece(
        index=index,
        description=row.text("description"),
        quantity=row.integer("quantity"),
        net_weight=row.decimal("net_weight"),
        value=make_money(row.decimal("value"), currency),
        hs_code=row.text("hs_code"),
        origin_country=row.text("origin_country"),
    )


def _charge(amount: Decimal | None, currency: str | None) -> Money | None:
    """An optional charge: absent unless an amount is given (the currency is the item's)."""
    return None if amount is None else Money(amount=amount, currency=currency)


# ---------------------------------------------------------------- the inverse


def itmatt_to_cn23_csv(msg: ItmattMessage) -> str:
    """The CSV export of `msg`'s items (the header travels as arguments, not in the CSV).

    Raises ValueError for data CN 23 CSV cannot carry (rather than dropping it):
    licence/certificate numbers, legacy address lines, several currencies in one
    item, content pieces not numbered 1..n, a piece without any data.
    """
    rows: list[dict[str, str | None]] = []
    for position, item in enumerate(msg.items, 1):
        try:
            rows.extend(_item_rows(item))
        except ValueError as exc:
            raise ValueError(f"item {position} ({item.item_id}): {exc}") from None
    return write_rows(COLUMNS, rows)


def _item_rows(item: DeclaredItem) -> list[dict[str, str | None]]:
    if item.item_id is None:
        raise ValueError("an item without item_id cannot be grouped in CSV")
    if item.licence_numbers or item.certificate_numbers:
        raise ValueError("CN 23 CSV has no columns for licence or certificate numbers")
    moneys = [item.total_value, item.postal_charges, item.insured_value]
    moneys += [piece.value for piece in item.contents]
    currencies = {m.currency for m in moneys if m is not None and m != Money()}
    if len(currencies) > 1:
        found = ", ".join(sorted(map(str, currencies)))
        raise ValueError(f"CN 23 CSV has one currency per item; found {found}")
    common: dict[str, str | None] = {
        "item_id": item.item_id,
        "id_type": None if item.id_type == "S10" else item.id_type,
        "posting_datetime": _opt(item.posting_datetime, format_datetime),
        "mail_class": item.mail_class,
        "mail_category": item.mail_category,
        "declaration_form": item.declaration_form,
        "category": item.category,
        "category_explanation": item.category_explanation,
        "total_value": _amount(item.total_value),
        "currency": currencies.pop() if currencies else None,
        "total_gross_weight": _opt(item.total_gross_weight, format_decimal),
        "postal_charges": _amount(item.postal_charges),
        "insured_value": _amount(item.insured_value),
        "invoice_number": item.invoice_number,
        "comments": item.comments,
    }
    for prefix, party in (("sender", item.sender), ("addressee", item.addressee)):
        common.update({f"{prefix}_{k}": v for k, v in flatten_party(party).items()})
    if not item.contents:
        return [common]
    rows = []
    for position, piece in enumerate(item.contents, 1):
        if piece.index != position:
            raise ValueError(f"content piece {position} has index {piece.index}; CSV numbers 1..n")
        cells: dict[str, str | None] = {
            "description": piece.description,
            "quantity": _opt(piece.quantity, str),
            "net_weight": _opt(piece.net_weight, format_decimal),
            "value": _amount(piece.value),
            "hs_code": piece.hs_code,
            "origin_country": piece.origin_country,
        }
        if all(value is None for value in cells.values()):
            raise ValueError(f"content piece {position} has no data; a blank CSV row has none")
        rows.append(common | cells)
    return rows


def _amount(money: Money | None) -> str | None:
    return None if money is None or money.amount is None else format_decimal(money.amount)
