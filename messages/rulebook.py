"""The validation rulebook: every data-element check of DESIGN.md §4.

`validate_item` returns findings for one declared item; `validate_header`
for the message envelope. Each finding names the element path and the bad
value, so the sender's clerk can fix the data without calling anyone.
Checks are plain code, not rules-as-data: they are the contract, and they run
on every item at line rate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache

from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from messages import hs, s10
from messages.awb import awb_problem
from messages.codes import is_country, is_currency
from messages.findings import Code, Finding
from messages.models import (
    COMMERCIAL_CATEGORIES,
    CusitmHeader,
    DeclaredItem,
    ItmattHeader,
    MessageFunction,
    Money,
    Party,
)
from messages.rates import RateTable
from messages.text import CACHE_CHARS, CACHE_SIZE, fold
from messages.thresholds import CN22_LIMIT, threshold

DEFAULT_LATE_AFTER = timedelta(hours=72)

#: DESIGN.md §3 "Text rules": a description that is only one of these says nothing.
VAGUE_DESCRIPTIONS = frozenset(
    {
        "accessories", "article", "articles", "clothes", "clothing", "commodity",
        "consolidated", "electronics", "equipment", "gift", "gifts", "goods", "items",
        "merchandise", "misc", "miscellaneous", "mixed", "none", "other", "others", "parcel",
        "parts", "personal effects", "present", "products", "sample", "samples",
        "spare parts", "stuff", "things", "toys", "various",
    }
)  # fmt: skip
PLACEHOLDERS = frozenset({"test", "n/a", "na", "xxx", "asdf", "tbd", "unknown", "-", "."})
#: Placeholders with separators removed, so "N/A", "n. a." and "T.B.D." match too.
_COMPACT_PLACEHOLDERS = frozenset({"test", "na", "xxx", "asdf", "tbd", "unknown"})
_SEPARATORS = re.compile(r"[\W_]+")
_LONGEST_PLACEHOLDER = 16  # "unknown" or "n / a" with some padding inside
_LONGEST_VAGUE = 64  # a stop word padded with punctuation still counts
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1{3,}", re.IGNORECASE)
_HAS_ALNUM = re.compile(r"[^\W_]")
_NOT_DIGIT = re.compile(r"\D")
_E123 = re.compile(r"^\+([1-9]\d{0,2})(?: ?\d)+$")


@dataclass(frozen=True, slots=True)
class ItemContext:
    """What an item check needs beyond the item: position, event times, rates."""

    index: int = 1
    received_at: datetime | None = None
    expected_arrival: datetime | None = None
    late_after: timedelta = DEFAULT_LATE_AFTER
    rates: RateTable | None = None
    #: A cancellation (1) names an item to withdraw: only its identity is checked.
    message_function: MessageFunction | None = None

    @property
    def prefix(self) -> str:
        return f"Item[{self.index}]"

    @property
    def cancels(self) -> bool:
        return self.message_function == MessageFunction.CANCEL


class _Collector:
    __slots__ = ("findings",)

    def __init__(self) -> None:
        self.findings: list[Finding] = []

    def add(self, code: Code, path: str, message: str) -> None:
        self.findings.append(Finding.of(code, path, message))


# ---------------------------------------------------------------- text checks


def garbage_reason(text: str, *, digits_allowed: bool = False) -> str | None:
    """Why `text` looks like filler rather than data, or None when it looks real."""
    if len(text) <= CACHE_CHARS:  # names, cities, descriptions repeat: judge each once
        return _cached_garbage_reason(text, digits_allowed)
    return _garbage_reason(text, digits_allowed)


def _garbage_reason(text: str, digits_allowed: bool) -> str | None:
    stripped = text.strip()
    # Placeholders are short; folding every text would be wasted work.
    if len(stripped) <= _LONGEST_PLACEHOLDER and (
        stripped.casefold() in PLACEHOLDERS
        or _SEPARATORS.sub("", stripped.casefold()) in _COMPACT_PLACEHOLDERS
    ):
        return "is a placeholder"
    if not _HAS_ALNUM.search(stripped):
        return "has only punctuation or symbols"
    if not digits_allowed and stripped.replace(" ", "").isdigit():
        return "has only digits"
    repeated = _REPEATED_LETTER.search(stripped)
    if repeated is not None:
        return f"repeats {repeated.group(1)!r} {len(repeated.group(0))} times"
    return None


_cached_garbage_reason = lru_cache(maxsize=CACHE_SIZE)(_garbage_reason)


def is_vague(description: str, category: str | None) -> bool:
    if len(description) > _LONGEST_VAGUE:
        return False
    folded = fold(description)
    if folded in VAGUE_DESCRIPTIONS:
        return True
    return folded == "documents" and category != "DOCUMENTS"


def phone_problem(phone: str) -> str | None:
    match = _E123.match(phone.strip())
    if match is None:
        return "is not in E.123 international form (+CC NNN NNNN)"
    digits = len(_NOT_DIGIT.sub("", phone))
    if not 8 <= digits <= 15:
        return f"has {digits} digits; international numbers have 8 to 15"
    cc = match.group(1)
    if not _is_calling_code_prefix(cc):
        return f"starts with +{cc}, which is not an ITU country calling code"
    return None


@cache
def _is_calling_code_prefix(cc: str) -> bool:
    """Some prefix of `cc` (1 to 3 digits, so at most 999 entries) is an ITU calling code."""
    return any(int(cc[:n]) in COUNTRY_CODE_TO_REGION_CODE for n in range(1, len(cc) + 1))


# ---------------------------------------------------------------- header


def validate_header(header: ItmattHeader | CusitmHeader) -> list[Finding]:
    """Message-level findings on the envelope; any error refuses the whole message."""
    out = _Collector()
    for field, element in (
        ("message_id", "MessageId"),
        ("message_function", "MessageFunction"),
        ("sender_operator", "SenderOperator"),
        ("prepared_at", "PreparedAt"),
    ):
        if getattr(header, field) is None:
            out.add(Code.MANDATORY_MISSING, f"Header/{element}", f"Header has no {element}")
    if isinstance(header, ItmattHeader):
        if header.recipient_operator is None:
            out.add(
                Code.MANDATORY_MISSING,
                "Header/RecipientOperator",
                "Header has no RecipientOperator",
            )
    else:
        if header.customs_office is None:
            out.add(Code.MANDATORY_MISSING, "Header/CustomsOffice", "Header has no CustomsOffice")
        document = header.transport_document
        if document is not None and document.type == "AWB":
            problem = awb_problem(document.value)
            if problem is not None:
                out.add(Code.AWB_CHECK_DIGIT, "Header/TransportDocument", problem)
    return out.findings


# ---------------------------------------------------------------- item


def validate_item(item: DeclaredItem, ctx: ItemContext | None = None) -> list[Finding]:
    """All findings for one declared item, errors and warnings.

    A cancellation needs only the item's identity (issue 12): whatever else it
    carries is not used, so it cannot make the cancellation fail.
    """
    ctx = ctx or ItemContext()
    out = _Collector()
    p = ctx.prefix
    _check_item_id(item, p, out)
    if ctx.cancels:
        return out.findings
    if item.category == "OTHER" and not item.category_explanation:
        out.add(
            Code.CATEGORY_EXPLANATION,
            f"{p}/CategoryExplanation",
            "Category is OTHER but CategoryExplanation is empty; say what the goods are",
        )
    _check_money(item.total_value, f"{p}/TotalValue", "TotalValue", out, required=True)
    _check_money(item.postal_charges, f"{p}/PostalCharges", "PostalCharges", out)
    _check_money(item.insured_value, f"{p}/InsuredValue", "InsuredValue", out)
    if item.total_gross_weight is None:
        out.add(Code.MANDATORY_MISSING, f"{p}/TotalGrossWeight", "TotalGrossWeight is missing")
    _check_party(item.sender, f"{p}/Sender", "Sender", out)
    _check_party(item.addressee, f"{p}/Addressee", "Addressee", out)
    if not item.contents:
        out.add(
            Code.MANDATORY_MISSING,
            f"{p}/ContentPiece",
            "Item has no ContentPiece: declare at least one line of contents",
        )
    commercial = item.category in COMMERCIAL_CATEGORIES
    for position, piece in enumerate(item.contents, start=1):
        lp = f"{p}/ContentPiece[{position}]"
        if piece.description is None:
            out.add(Code.MANDATORY_MISSING, f"{lp}/Description", "Description is missing")
        else:
            if is_vague(piece.description, item.category):
                out.add(
                    Code.DESCRIPTION_VAGUE,
                    f"{lp}/Description",
                    f"Description {piece.description!r} does not say what the goods are",
                )
            reason = garbage_reason(piece.description)
            if reason is not None:
                out.add(
                    Code.TEXT_GARBAGE,
                    f"{lp}/Description",
                    f"Description {piece.description!r} {reason}",
                )
        if piece.net_weight is None:
            out.add(Code.MANDATORY_MISSING, f"{lp}/NetWeight", "NetWeight is missing")
        _check_money(piece.value, f"{lp}/Value", "Value", out, required=True)
        _check_hs(piece.hs_code, commercial, f"{lp}/HSCode", out)
        if piece.origin_country is None:
            if commercial:
                out.add(
                    Code.ORIGIN_MISSING,
                    f"{lp}/OriginCountry",
                    f"OriginCountry is required for a {item.category} item",
                )
        elif not is_country(piece.origin_country):
            out.add(
                Code.COUNTRY_CODE,
                f"{lp}/OriginCountry",
                f"OriginCountry {piece.origin_country!r} is not an ISO 3166-1 alpha-2 code",
            )
    _check_totals(item, ctx, out)
    _check_timing(item, ctx, out)
    return out.findings


def _check_item_id(item: DeclaredItem, p: str, out: _Collector) -> None:
    if item.item_id is None:
        out.add(Code.MANDATORY_MISSING, f"{p}/ItemId", "ItemId is missing")
        return
    if item.id_type != "S10":
        return
    result = s10.check(item.item_id)
    if result.problem is s10.S10Problem.FORMAT:
        out.add(Code.ITEM_ID_FORMAT, f"{p}/ItemId", result.detail)
    elif result.problem is s10.S10Problem.CHECK_DIGIT:
        out.add(Code.ITEM_ID_CHECK_DIGIT, f"{p}/ItemId", result.detail)
    elif result.problem is s10.S10Problem.COUNTRY:
        out.add(Code.ITEM_ID_COUNTRY, f"{p}/ItemId", result.detail)


def _check_money(
    money: Money | None, path: str, name: str, out: _Collector, *, required: bool = False
) -> None:
    if money is None or money.amount is None:
        if required:
            out.add(Code.MANDATORY_MISSING, path, f"{name} is missing")
        return
    if money.currency is None:
        out.add(Code.MANDATORY_MISSING, f"{path}/@currency", f"{name} has no currency")
    elif not is_currency(money.currency):
        out.add(
            Code.CURRENCY_CODE,
            f"{path}/@currency",
            f"{name} currency {money.currency!r} is not an ISO 4217 code",
        )


def _check_party(party: Party | None, path: str, role: str, out: _Collector) -> None:
    if party is None:
        out.add(Code.MANDATORY_MISSING, path, f"{role} is missing")
        return
    if party.name is None and party.business_name is None:
        out.add(Code.MANDATORY_MISSING, f"{path}/Name", f"{role} has no name")
    for element, value in (("Name", party.name), ("BusinessName", party.business_name)):
        if value is not None and (reason := garbage_reason(value)) is not None:
            out.add(Code.TEXT_GARBAGE, f"{path}/{element}", f"{role} {element} {value!r} {reason}")
    address = party.address
    ap = f"{path}/Address"
    if address is None or not (address.street or address.lines or address.city):
        out.add(Code.MANDATORY_MISSING, ap, f"{role} has no address")
    if address is None or address.country is None:
        out.add(Code.MANDATORY_MISSING, f"{ap}/Country", f"{role} has no country")
    elif not is_country(address.country):
        out.add(
            Code.COUNTRY_CODE,
            f"{ap}/Country",
            f"{role} country {address.country!r} is not an ISO 3166-1 alpha-2 code",
        )
    if address is not None:
        texts: list[tuple[str, str | None, bool]] = [
            ("Street", address.street, True),
            ("City", address.city, False),
        ]
        texts += [(f"Line[{n}]", line, True) for n, line in enumerate(address.lines, start=1)]
        for element, value, digits_ok in texts:
            if value is not None and (reason := garbage_reason(value, digits_allowed=digits_ok)):
                out.add(
                    Code.TEXT_GARBAGE, f"{ap}/{element}", f"{role} {element} {value!r} {reason}"
                )
    if party.phone is not None and (problem := phone_problem(party.phone)) is not None:
        out.add(Code.PHONE_FORMAT, f"{path}/Phone", f"{role} phone {party.phone!r} {problem}")


def _check_hs(code: str | None, commercial: bool, path: str, out: _Collector) -> None:
    if code is None:
        if commercial:
            out.add(Code.HS_MISSING, path, "HSCode is required for commercial goods")
        return
    if not hs.HS_FORMAT_PATTERN.match(code):
        out.add(Code.HS_FORMAT, path, f"HSCode {code!r} is not 6 to 10 digits")
    elif not hs.is_subheading(code[:6]):
        out.add(Code.HS_UNKNOWN, path, f"HSCode {code!r}: {code[:6]} is not an HS 2022 subheading")


def _rate_day(item: DeclaredItem, ctx: ItemContext) -> date | None:
    """Event time picks the rate; with none, rate-based checks are skipped (never the wall clock)."""
    when = item.posting_datetime or ctx.received_at
    return when.date() if when is not None else None


def _check_totals(item: DeclaredItem, ctx: ItemContext, out: _Collector) -> None:
    p = ctx.prefix
    weights = [piece.net_weight for piece in item.contents]
    if item.total_gross_weight is not None and all(w is not None for w in weights):
        net = sum((w for w in weights if w is not None), Decimal(0))
        if item.total_gross_weight < net:
            out.add(
                Code.WEIGHT_INCONSISTENT,
                f"{p}/TotalGrossWeight",
                f"TotalGrossWeight {item.total_gross_weight} kg is less than the "
                f"sum of NetWeight {net} kg",
            )
    total = item.total_value
    values = [piece.value for piece in item.contents]
    known = (
        total is not None
        and total.amount is not None
        and total.currency is not None
        and is_currency(total.currency)
        and all(
            v is not None and v.amount is not None and v.currency and is_currency(v.currency)
            for v in values
        )
    )
    if known and values:
        _check_value_sum(item, ctx, out)
    day = _rate_day(item, ctx)
    if item.declaration_form == "CN22" and total is not None and known and day is not None:
        rates = ctx.rates or RateTable.default()
        limit = threshold(CN22_LIMIT, day)
        assert total.amount is not None and total.currency is not None
        in_limit_ccy = (
            rates.convert(total.amount, total.currency, limit.currency, day) if limit else None
        )
        if limit is not None and in_limit_ccy is not None and in_limit_ccy > limit.amount:
            out.add(
                Code.CN22_OVER_LIMIT,
                f"{p}/DeclarationForm",
                f"CN22 item declares {total.amount} {total.currency} "
                f"(about {in_limit_ccy:.2f} {limit.currency}); CN22 is for up to "
                f"{limit.amount} {limit.currency}, use CN23",
            )


def _check_value_sum(item: DeclaredItem, ctx: ItemContext, out: _Collector) -> None:
    total = item.total_value
    assert total is not None and total.amount is not None and total.currency is not None
    pieces = [v for piece in item.contents if (v := piece.value) is not None]
    currencies = {v.currency for v in pieces}
    path = f"{ctx.prefix}/TotalValue"
    if currencies == {total.currency}:
        line_sum = sum((v.amount for v in pieces if v.amount is not None), Decimal(0))
        tolerance = Decimal("0.01") * len(pieces)
        if abs(total.amount - line_sum) > tolerance:
            out.add(
                Code.TOTAL_VALUE_MISMATCH,
                path,
                f"TotalValue {total.amount} {total.currency} differs from the sum of "
                f"line values {line_sum} {total.currency}",
            )
        return
    rates = ctx.rates or RateTable.default()
    day = _rate_day(item, ctx)
    if day is None:
        return
    total_eur = rates.to_eur(total.amount, total.currency, day)
    line_eur = [
        rates.to_eur(v.amount, v.currency, day)
        for v in pieces
        if v.amount is not None and v.currency
    ]
    if total_eur is None or any(x is None for x in line_eur):
        return  # no rate for a currency: cannot compare, not the sender's fault
    line_sum_eur = sum((x for x in line_eur if x is not None), Decimal(0))
    if abs(total_eur - line_sum_eur) > max(total_eur * Decimal("0.01"), Decimal("0.01")):
        out.add(
            Code.TOTAL_VALUE_MISMATCH,
            path,
            f"TotalValue {total.amount} {total.currency} (≈{total_eur} EUR) differs by more "
            f"than 1 % from the sum of line values (≈{line_sum_eur} EUR, mixed currencies)",
        )


def _check_timing(item: DeclaredItem, ctx: ItemContext, out: _Collector) -> None:
    received = ctx.received_at
    if received is None:
        return
    if ctx.expected_arrival is not None and received > ctx.expected_arrival:
        out.add(
            Code.LATE_DATA,
            f"{ctx.prefix}",
            f"data received {received.isoformat()} after expected arrival "
            f"{ctx.expected_arrival.isoformat()}",
        )
        return
    posted = item.posting_datetime
    if posted is not None and received - posted > ctx.late_after:
        hours = (received - posted).total_seconds() / 3600
        out.add(
            Code.LATE_DATA,
            f"{ctx.prefix}/PostingDateTime",
            f"data received {hours:.0f} h after posting; the limit is "
            f"{ctx.late_after.total_seconds() / 3600:.0f} h",
        )
