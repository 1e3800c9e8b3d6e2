"""Party screening: better evidence scores higher (yente/nomenklatura-style ranking table)."""

from __future__ import annotations

import pytest

from risk import Engine, InMemoryState, Watchlist, WatchlistEntry, build_item, default_ruleset
from risk.helpers import DEFAULT_WATCHLIST_SCORE
from risk.watchlist import name_score, name_tokens

ENTRY = "Viktor Aleksandrovich Dragunov"
WATCHLIST = Watchlist(
    [
        WatchlistEntry(ENTRY, "RU", "FICT-001"),
        WatchlistEntry("Orion Trade Holdings LLC", "AE", "FICT-002"),
        WatchlistEntry("Nordwind GmbH", "DE", "FICT-003"),
        WatchlistEntry("José Luis Ramírez", "MX", "FICT-004"),
    ]
)


def score(name: str, entry: str = ENTRY) -> float:
    return name_score(name_tokens(name), name_tokens(entry))


# (better, worse): the first name must score strictly higher against the entry.
RANKING = [
    ("Viktor Aleksandrovich Dragunov", "Victor Aleksandrovich Dragunov"),
    ("Dragunov Viktor Aleksandrovich", "Victor Aleksandrovich Dragunov"),
    ("Victor Aleksandrovich Dragunov", "V. Aleksandrovich Dragunov"),
    ("Víktor Aleksándrovich Dragunov", "V. Aleksandrovich Dragunov"),
    ("Victor Dragunov", "V. Dragunov"),
    ("Víktor Dragunov", "V. Dragunov"),
    ("Viktor Dragunov", "V. Dragunov"),
    ("V. Dragunov", "Dragunov"),
    ("V. Dragunov", "Ivan Dragunov"),
    ("V. Aleksandrovich Dragunov", "Ivan Aleksandrovich Dragunov"),
    ("Dragunov", "Anna Schmidt"),
    ("Ivan Dragunov", "Anna Schmidt"),
]
RANKING_IDS = [
    "exact > transliteration", "word order > transliteration",
    "transliteration > initial", "accents > initial", "transliteration > initial (short)",
    "accents > initial (short)", "first and last name > initial", "initial > surname only",
    "initial > other first name", "initial > other first name (with patronymic)",
    "surname only > unrelated", "other first name > unrelated",
]  # fmt: skip


@pytest.mark.parametrize(("better", "worse"), RANKING, ids=RANKING_IDS)
def test_better_evidence_scores_higher(better: str, worse: str) -> None:
    assert score(better) > score(worse), (score(better), score(worse))


@pytest.mark.parametrize(
    "name",
    [
        "Viktor Aleksandrovich Dragunov",
        "viktor aleksandrovich dragunov",
        "Dragunov Viktor Aleksandrovich",
        "DRAGUNOV, Viktor Aleksandrovich",
        "Víktor Aleksándrovich Dragunov",
        "Виктор Александрович Драгунов",
    ],
)
def test_same_name_in_any_order_case_or_script_scores_full(name: str) -> None:
    """Word order is ignored by design, so a swapped name is no worse than the exact one."""
    assert score(name) == score(ENTRY) == 100


def test_accent_stripped_query_meets_accented_entry() -> None:
    assert score("Jose Luis Ramirez", "José Luis Ramírez") == 100
    hit = WATCHLIST.screen(["Jose Luis Ramirez"], "MX", DEFAULT_WATCHLIST_SCORE)
    assert hit is not None and hit.ref == "FICT-004"


@pytest.mark.parametrize("name", ["Виктор Драгунов", "Victor Dragunov", "Dragunov, Viktor A."])
def test_variants_are_screened_at_the_default_threshold(name: str) -> None:
    hit = WATCHLIST.screen([name], "RU", DEFAULT_WATCHLIST_SCORE)
    assert hit is not None and hit.ref == "FICT-001"


def test_country_mismatch_lowers_the_score() -> None:
    same = WATCHLIST.best("Viktor Dragunov", "RU")
    other = WATCHLIST.best("Viktor Dragunov", "DE")
    unknown = WATCHLIST.best("Viktor Dragunov", None)
    assert same is not None and other is not None and unknown is not None
    assert other[0] < same[0]
    assert unknown[0] == same[0]


@pytest.mark.parametrize(
    ("entry_ref", "name"),
    [
        ("FICT-002", "Orion Trade Holdings LLC"),
        ("FICT-002", "Orion Trade Holdings L.L.C."),
        ("FICT-002", "Orion Trade Holdings"),
        ("FICT-002", "ORION TRADE HOLDINGS LIMITED"),
        ("FICT-003", "Nordwind GmbH"),
        ("FICT-003", "Nordwind"),
        ("FICT-003", "Nordwind G.m.b.H."),
    ],
)
def test_legal_form_variants_match(entry_ref: str, name: str) -> None:
    country = {"FICT-002": "AE", "FICT-003": "DE"}[entry_ref]
    hit = WATCHLIST.screen([name], country, DEFAULT_WATCHLIST_SCORE)
    assert hit is not None and hit.ref == entry_ref, WATCHLIST.best(name, country)


@pytest.mark.parametrize(
    "name",
    [
        "Orion Trade Holdings Limited Liability Company",
        "Orion Trade Holdings Joint Stock Company",
        "Orion Trade Holdings Co., Ltd.",
        "Orion Trde Holdings",
    ],
)
def test_legal_forms_in_words_and_misspelt_trade_words_match(name: str) -> None:
    hit = WATCHLIST.screen([name], "AE", DEFAULT_WATCHLIST_SCORE)
    assert hit is not None and hit.ref == "FICT-002", WATCHLIST.best(name, "AE")


@pytest.mark.parametrize(
    "name",
    [
        "Sirius Trade Holdings LLC",  # only the trade words agree
        "Orion Beauty Store",  # one distinctive word of the entry, the rest another firm's
        "General Trading Holdings LLC",
        "International Trade Holdings Group",
    ],
)
def test_shared_trade_words_do_not_make_another_company_a_match(name: str) -> None:
    assert WATCHLIST.screen([name], "AE", DEFAULT_WATCHLIST_SCORE) is None, WATCHLIST.best(
        name, "AE"
    )


@pytest.mark.parametrize("name", ["V.", "V. A.", "D", "V A D"])
def test_initials_alone_never_match(name: str) -> None:
    assert score(name) == 0
    assert WATCHLIST.screen([name], "RU", 1) is None


def test_common_surname_alone_is_below_the_default_threshold() -> None:
    assert score("Dragunov") < DEFAULT_WATCHLIST_SCORE
    assert WATCHLIST.screen(["Dragunov"], "RU", DEFAULT_WATCHLIST_SCORE) is None


def test_common_surname_alone_does_not_fire_the_sanctions_rule() -> None:
    item = build_item({"sender": {"name": "Dragunov", "business_name": None, "country": "RU"}})
    assessment = Engine(default_ruleset()).assess(item, InMemoryState(learn=False))
    assert "SANCTIONS_SENDER" not in [h.rule for h in assessment.hits]


def test_screen_reports_the_entry_and_the_score() -> None:
    hit = WATCHLIST.screen([None, "", "Viktor Dragunov"], "RU", DEFAULT_WATCHLIST_SCORE)
    assert hit is not None
    assert (hit.ref, hit.name, hit.country, hit.matched) == (
        "FICT-001",
        ENTRY,
        "RU",
        "Viktor Dragunov",
    )
    assert hit.score == round(score("Viktor Dragunov"), 1)
    text = str(hit)
    assert "Viktor Dragunov" in text and ENTRY in text
    assert f"{hit.score:.0f}" in text
    assert f"{hit}" == text


def test_screen_takes_the_best_of_a_partys_names() -> None:
    hit = WATCHLIST.screen(["Viktor Dragunov", ENTRY], "RU", DEFAULT_WATCHLIST_SCORE)
    assert hit is not None and hit.matched == ENTRY and hit.score == 100


@pytest.mark.parametrize("names", [[], [None], [""], ["Anna Schmidt"], ["Ltd"]])
def test_screen_without_a_match_is_none(names: list[str | None]) -> None:
    assert WATCHLIST.screen(names, "RU", DEFAULT_WATCHLIST_SCORE) is None
