"""Reference data: HS 2022, dated rates, dated thresholds and code lists."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from messages import codelists, hs, models
from messages.rates import RateTable
from messages.thresholds import (
    CN22_LIMIT,
    EU_FLAT_DUTY_PER_SUBHEADING,
    EU_GIFT_RELIEF,
    EU_LOW_VALUE,
    US_DE_MINIMIS,
    parse_csv,
    threshold,
    threshold_eur,
    threshold_names,
)

# --- HS 2022 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "610910",  # T-shirts of cotton
        "850760",  # lithium-ion accumulators
        "850650",  # primary lithium cells
        "851713",  # smartphones (new in HS 2022)
        "020500",  # undivided heading 0205: a real subheading ending in 00
        "010121",  # first subheading
        "970610",  # antiques over 250 years: last chapter
    ],
)
def test_known_subheadings_exist(code: str) -> None:
    assert hs.is_subheading(code)


@pytest.mark.parametrize(
    "code",
    [
        "999999",  # Comtrade's "not specified" code, not HS
        "610999",  # no such subheading under 6109
        "851712",  # HS 2017 smartphones, split into 851713/851714 in HS 2022
        "970600",  # HS 2017 antiques, split into 970610/970690 in HS 2022
        "000000",
        "6109",  # a heading, not a subheading
        "6109100000",  # is_subheading wants exactly 6 digits
        "",
    ],
)
def test_unknown_subheadings_do_not_exist(code: str) -> None:
    assert not hs.is_subheading(code)


def test_nomenclature_has_the_published_hs2022_counts() -> None:
    assert len(hs.subheadings()) == 5612
    assert all(len(code) == 6 and code.isdigit() for code in hs.subheadings())


def test_subheadings_returns_a_copy() -> None:
    hs.subheadings().clear()
    assert hs.is_subheading("610910")


def test_descriptions() -> None:
    assert hs.subheading_description("6109100010") == (
        "T-shirts, singlets and other vests; of cotton, knitted or crocheted"
    )
    assert hs.subheading_description("850760") is not None
    assert "lithium-ion" in (hs.subheading_description("850760") or "")
    assert hs.subheading_description("61091") is None
    assert hs.subheading_description("999999") is None
    assert hs.heading_description("8507") is not None
    assert "accumulators" in (hs.heading_description("850760") or "")
    assert hs.chapter_description("61") == (
        "Apparel and clothing accessories; knitted or crocheted"
    )
    assert hs.chapter_description("77") is None  # reserved chapter
    assert hs.chapter_description("99") is None  # Comtrade aggregate, not HS


@pytest.mark.parametrize(
    ("code", "ok"),
    [("610910", True), ("6109100010", True), ("61091", False), ("61091000101", False),
     ("61091A", False), (" 610910", False)],
)  # fmt: skip
def test_hs_format_pattern(code: str, ok: bool) -> None:
    assert bool(hs.HS_FORMAT_PATTERN.match(code)) is ok


# --- rates ---------------------------------------------------------------------

SMALL_TABLE = """effective_from,currency,per_eur
2024-01-02,USD,1.1000
2024-02-01,USD,1.0800
2024-03-01,USD,1.0500
2024-02-01,JPY,160.00
"""


@pytest.fixture
def small() -> RateTable:
    return RateTable.from_csv(SMALL_TABLE)


def test_eur_is_always_one(small: RateTable) -> None:
    assert small.rate("EUR", date(1999, 1, 1)) == Decimal(1)
    assert small.to_eur(Decimal("12.345"), "EUR", date(2024, 5, 5)) == Decimal("12.34")


def test_rate_uses_latest_snapshot_on_or_before(small: RateTable) -> None:
    assert small.rate("USD", date(2024, 2, 1)) == Decimal("1.0800")  # on the day
    assert small.rate("USD", date(2024, 2, 29)) == Decimal("1.0800")  # day before next
    assert small.rate("USD", date(2024, 3, 1)) == Decimal("1.0500")


def test_rate_before_first_snapshot_uses_first(small: RateTable) -> None:
    assert small.rate("USD", date(2020, 6, 1)) == Decimal("1.1000")
    assert small.rate("JPY", date(2024, 1, 15)) == Decimal("160.00")  # per currency


def test_rate_carries_last_value_forward(small: RateTable) -> None:
    assert small.rate("USD", date(2030, 1, 1)) == Decimal("1.0500")


def test_unknown_currency_is_none(small: RateTable) -> None:
    assert small.rate("XXX", date(2024, 2, 1)) is None
    assert small.to_eur(Decimal(10), "XXX", date(2024, 2, 1)) is None
    assert small.convert(Decimal(10), "USD", "XXX", date(2024, 2, 1)) is None
    assert small.rate("usd", date(2024, 2, 1)) is None  # codes are upper case


def test_to_eur_rounds_half_even_to_the_cent() -> None:
    table = RateTable.from_csv("effective_from,currency,per_eur\n2024-01-01,XTS,2\n")
    on = date(2024, 1, 1)
    assert table.to_eur(Decimal("0.05"), "XTS", on) == Decimal("0.02")  # 0.025 -> 0.02
    assert table.to_eur(Decimal("0.07"), "XTS", on) == Decimal("0.04")  # 0.035 -> 0.04
    assert table.to_eur(Decimal("100"), "XTS", on) == Decimal("50.00")
    assert str(table.to_eur(Decimal("3"), "XTS", on)) == "1.50"


def test_absurdly_large_amounts_convert_without_raising(small: RateTable) -> None:
    huge = Decimal("1E+40")
    eur = small.to_eur(huge, "USD", date(2024, 3, 1))
    assert eur is not None and eur > Decimal("9E+39")


def test_convert_crosses_through_eur(small: RateTable) -> None:
    on = date(2024, 2, 15)
    # 108 USD = 100 EUR = 16,000 JPY
    assert small.convert(Decimal(108), "USD", "JPY", on) == Decimal("16000.00")
    assert small.convert(Decimal(16000), "JPY", "USD", on) == Decimal("108.00")
    assert small.convert(Decimal(100), "EUR", "USD", on) == Decimal("108.00")


def test_default_table_is_cached_and_covers_the_expected_currencies() -> None:
    table = RateTable.default()
    assert table is RateTable.default()
    expected = set(
        "USD JPY BGN CZK DKK GBP HUF PLN RON SEK CHF ISK NOK TRY AUD BRL CAD CNY HKD IDR "
        "ILS INR KRW MXN MYR NZD PHP SGD THB ZAR XDR AED SAR VND TWD UAH EUR".split()
    )
    assert expected <= table.currencies()


def test_default_table_has_monthly_snapshots_through_2026_11() -> None:
    table = RateTable.default()
    usd = table.rate("USD", date(2024, 1, 2))
    assert usd is not None and Decimal("1.05") < usd < Decimal("1.15")
    # BGN stops at 2025-12 (euro adoption) and carries the fixed conversion rate forward.
    assert table.rate("BGN", date(2026, 11, 2)) == Decimal("1.9558")
    # The Saudi riyal is pegged at 3.75 per USD in every snapshot.
    for on in (date(2024, 6, 3), date(2025, 7, 1), date(2026, 11, 2)):
        sar, usd = table.rate("SAR", on), table.rate("USD", on)
        assert sar is not None and usd is not None
        assert abs(sar / usd - Decimal("3.75")) < Decimal("0.001")


@pytest.mark.parametrize("on", [date(2024, 1, 2), date(2025, 1, 15), date(2025, 7, 1),
                                date(2026, 11, 22)])  # fmt: skip
def test_cn22_limit_in_eur_is_plausible(on: date) -> None:
    eur = threshold_eur(CN22_LIMIT, on, RateTable.default())
    assert eur is not None
    assert Decimal(340) <= eur <= Decimal(400)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("currency,effective_from,per_eur\n", "line 1: header"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,1.1\n2024-13-01,USD,1.2\n",
         "line 3: effective_from '2024-13-01'"),
        ("effective_from,currency,per_eur\n2024-01-02,USD\n", "line 2: expected 3 fields"),
        ("effective_from,currency,per_eur\n2024-01-02,usd,1.1\n", "line 2: currency 'usd'"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,abc\n", "line 2: per_eur 'abc'"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,0\n", "line 2: per_eur '0'"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,-1.1\n", "line 2: per_eur '-1.1'"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,NaN\n", "line 2: per_eur 'NaN'"),
        ("effective_from,currency,per_eur\n2024-01-02,EUR,1.1\n", "line 2: EUR is the base"),
        ("effective_from,currency,per_eur\n2024-01-02,USD,1.1\n\n2024-01-02,USD,1.2\n",
         "line 4: duplicate USD"),
    ],
)  # fmt: skip
def test_rates_csv_rejects_malformed_rows(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="rates ") as excinfo:
        RateTable.from_csv(text)
    assert fragment in str(excinfo.value)


def test_rates_csv_accepts_bom_blank_lines_and_whitespace() -> None:
    table = RateTable.from_csv(
        "\ufeffeffective_from,currency,per_eur\n\n 2024-01-02 , USD , 1.1 \n"
    )
    assert table.rate("USD", date(2024, 1, 2)) == Decimal("1.1")


# --- thresholds ------------------------------------------------------------------


def test_us_de_minimis_ends_with_the_suspension() -> None:
    before = threshold(US_DE_MINIMIS, date(2025, 1, 1))
    assert before is not None
    assert (before.amount, before.currency) == (Decimal(800), "USD")
    assert threshold(US_DE_MINIMIS, date(2025, 8, 28)) is not None  # last day in force
    assert threshold(US_DE_MINIMIS, date(2025, 8, 29)) is None
    assert threshold(US_DE_MINIMIS, date(2025, 9, 1)) is None
    assert threshold(US_DE_MINIMIS, date(2016, 3, 9)) is None


def test_eu_flat_duty_starts_2026_07_01() -> None:
    assert threshold(EU_FLAT_DUTY_PER_SUBHEADING, date(2026, 6, 30)) is None
    flat = threshold(EU_FLAT_DUTY_PER_SUBHEADING, date(2026, 7, 1))
    assert flat is not None
    assert (flat.amount, flat.currency) == (Decimal(3), "EUR")


def test_eu_low_value_stays_150_eur_but_changes_its_legal_basis() -> None:
    relief = threshold(EU_LOW_VALUE, date(2026, 6, 30))
    ceiling = threshold(EU_LOW_VALUE, date(2026, 7, 1))
    assert relief is not None and ceiling is not None
    assert relief.amount == ceiling.amount == Decimal(150)
    assert "1186/2009" in relief.source
    assert relief != ceiling


def test_other_thresholds() -> None:
    on = date(2025, 3, 1)
    gift = threshold(EU_GIFT_RELIEF, on)
    cn22 = threshold(CN22_LIMIT, on)
    assert gift is not None and (gift.amount, gift.currency) == (Decimal(45), "EUR")
    assert cn22 is not None and (cn22.amount, cn22.currency) == (Decimal(300), "XDR")
    assert threshold_eur(EU_GIFT_RELIEF, on, RateTable.default()) == Decimal("45.00")
    assert threshold_eur(US_DE_MINIMIS, date(2025, 9, 1), RateTable.default()) is None
    us = threshold_eur(US_DE_MINIMIS, on, RateTable.default())
    assert us is not None and Decimal(700) < us < Decimal(800)


def test_every_threshold_has_a_source_and_a_known_currency() -> None:
    names = threshold_names()
    assert names == {
        EU_LOW_VALUE,
        EU_FLAT_DUTY_PER_SUBHEADING,
        EU_GIFT_RELIEF,
        CN22_LIMIT,
        US_DE_MINIMIS,
    }
    currencies = RateTable.default().currencies()
    for name in names:
        row = threshold(name, date(2025, 1, 1)) or threshold(name, date(2026, 7, 1))
        assert row is not None and row.source and row.currency in currencies


def test_unknown_threshold_name_is_a_bug() -> None:
    with pytest.raises(KeyError):
        threshold("EU_LOW_VALU", date(2025, 1, 1))


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("X,abc,EUR,2024-01-01,,s\n", "line 2: bad amount or date"),
        ("X,1,EUR,2024-01-01,2023-01-01,s\n", "line 2: effective_to before"),
        ("X,1,EUR,2024-01-01\n", "line 2: expected 6 fields"),
        ("X,1,EUR,2024-01-01,,\n", "line 2: name, currency"),
        ("X,1,EUR,2024-01-01,,s\nX,2,EUR,2024-06-01,,s\n", "X rows overlap at 2024-06-01"),
    ],
)
def test_thresholds_csv_rejects_malformed_rows(body: str, fragment: str) -> None:
    text = ",".join(("name", "amount", "currency", "effective_from", "effective_to", "source"))
    with pytest.raises(ValueError, match="thresholds") as excinfo:
        parse_csv(text + "\n" + body)
    assert fragment in str(excinfo.value)


# --- code lists --------------------------------------------------------------------


def test_code_lists_match_the_models() -> None:
    assert tuple(codelists.MAIL_CLASS_NAMES) == models.MAIL_CLASSES
    assert "T" not in codelists.MAIL_CLASS_NAMES  # empty receptacles: never on an item
    assert tuple(codelists.MAIL_CATEGORY_NAMES) == models.MAIL_CATEGORIES
    assert tuple(codelists.CATEGORY_NAMES) == models.CATEGORIES
    assert tuple(codelists.DECLARATION_FORM_NAMES) == models.DECLARATION_FORMS
    assert set(codelists.MESSAGE_FUNCTIONS) == {9, 5, 1} == set(models.MessageFunction)
    assert codelists.COMMERCIAL_CATEGORIES <= set(codelists.CATEGORIES)


@pytest.mark.parametrize(
    ("code", "axis", "indicator"),
    [
        ("ACCEPTED", None, 1),
        ("CANCELLED", None, None),
        ("REJECTED", None, 2),
        ("RELEASE", "FISCAL", 4),
        ("DOCUMENTS_REQUIRED", "FISCAL", 6),
        ("INSPECT", "FISCAL", 5),
        ("HOLD", "FISCAL", 7),
        ("SEIZE", "FISCAL", 7),
        ("RETURN", "FISCAL", 7),
        ("SCREEN", "SECURITY", None),
        ("DO_NOT_LOAD", "SECURITY", None),
    ],
)
def test_decision_table(code: str, axis: str | None, indicator: int | None) -> None:
    decision = codelists.DECISIONS[code]
    assert (decision.code, decision.axis, decision.processing_indicator) == (code, axis, indicator)
    if indicator is not None:
        assert indicator in codelists.PROCESSING_INDICATORS


def test_decision_table_is_complete() -> None:
    assert len(codelists.DECISIONS) == 11
    security = {c for c, d in codelists.DECISIONS.items() if d.axis == "SECURITY"}
    assert security == {"SCREEN", "DO_NOT_LOAD"}
