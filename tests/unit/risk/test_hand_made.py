"""Hand-made consignments, written the way real senders write them (not by our generator).

Each risky one must be flagged (fiscal band or security action) and each clean one
released. They came from trying the default ruleset from outside: misspelt and
abbreviated brands, other languages and scripts, pharmacopoeia names, indirectly named
dangerous goods, precious metal under the imitation heading, and the usual traps
(colour words, negations, compatibility phrases, books about a thing, containers
named after their contents).
"""

from __future__ import annotations

from typing import Any

import pytest

from risk import Engine, default_ruleset
from risk.goldens import assess_golden

ENGINE = Engine(default_ruleset())


def line(
    desc: str, hs: str = "610910", value: float = 18, qty: int = 1, kg: float = 0.4
) -> dict[str, Any]:
    return {
        "description": desc,
        "hs_code": hs,
        "value_eur": value,
        "value": value,
        "quantity": qty,
        "net_weight_kg": kg,
        "origin": "CN",
    }


RISKY: list[tuple[str, dict[str, Any]]] = [
    # counterfeits: misspelt, spaced, leet, other languages, monograms, luxury prices
    ("counterfeit", {"lines": [line("R O L E X Submariner homage watch", "910211", 35)]}),
    ("counterfeit", {"lines": [line("Rolx daytona wrist watch", "910211", 40)]}),
    ("counterfeit", {"lines": [line("G*U*C*C*I belt leather", "420330", 15)]}),
    ("counterfeit", {"lines": [line("Louis Vuiton neverfull bag", "420222", 30)]}),
    ("counterfeit", {"lines": [line("Nik3 Air Max 90 sneakers", "640411", 25)]}),
    ("counterfeit", {"lines": [line("orologio rolex uomo", "910211", 30)]}),
    ("counterfeit", {"lines": [line("劳力士手表", "910211", 30)]}),
    ("counterfeit", {"lines": [line("Reloj Rolex replica AAA", "910211", 30)]}),
    ("counterfeit", {"lines": [line("Air Podz pro 2 earbuds", "851830", 12)]}),
    ("counterfeit", {"lines": [line("Ch@nel No5 handbag", "420221", 25)]}),
    ("counterfeit", {"lines": [line("часы ролекс", "910211", 30)]}),
    ("counterfeit", {"lines": [line("luxury bag LV monogram 1:1", "420222", 30)]}),
    ("counterfeit", {"lines": [line("Ray Ban Wayfarer sunglasses", "900410", 6)]}),
    ("counterfeit", {"lines": [line("Canada Goose parka down jacket", "620193", 45)]}),
    # Packaging bearing the brand is an infringement of its own (Regulation (EU) No 608/2013,
    # art. 2(5)): fakes travel apart from their boxes and labels.
    ("counterfeit", {"lines": [line("Rolex watch box empty", "420292", 8)]}),
    # wildlife
    ("wildlife", {"lines": [line("carved elephant tusk ornament", "970500", 20)]}),
    ("wildlife", {"lines": [line("pangolin scales traditional medicine", "051000", 20)]}),
    ("wildlife", {"lines": [line("Manis javanica scales", "051000", 20)]}),
    ("wildlife", {"lines": [line("dried seahorse", "030559", 15)]}),
    ("wildlife", {"lines": [line("hippocampus kuda dried", "030559", 15)]}),
    ("wildlife", {"lines": [line("live tortoise Testudo graeca", "010620", 15)]}),
    ("wildlife", {"lines": [line("Elfenbein Schnitzerei", "960110", 20)]}),
    ("wildlife", {"lines": [line("marfil tallado figura", "960110", 20)]}),
    ("wildlife", {"lines": [line("象牙雕刻", "960110", 20)]}),
    ("wildlife", {"lines": [line("shark fin dried", "030571", 30)]}),
    ("wildlife", {"lines": [line("rhino horn powder", "050790", 30)]}),
    ("wildlife", {"lines": [line("python skin leather wallet genuine", "420231", 30)]}),
    ("wildlife", {"lines": [line("totoaba swim bladder", "030572", 30)]}),
    ("wildlife", {"lines": [line("ivory bangle antique", "711719", 30)]}),
    # opioids / drugs
    ("opioids", {"lines": [line("fentanyl citrate powder", "293339", 20)]}),
    ("opioids", {"lines": [line("f3ntanyl", "293339", 20)]}),
    ("opioids", {"lines": [line("4-ANPP research chemical", "293339", 20)]}),
    ("opioids", {"lines": [line("NPP 1-phenethyl-4-piperidone", "293339", 20)]}),
    ("opioids", {"lines": [line("tramadol 225mg tablets", "300490", 20)]}),
    ("opioids", {"lines": [line("oxycodone pills", "300490", 20)]}),
    ("opioids", {"lines": [line("pill press machine TDP-5", "847930", 40)]}),
    ("opioids", {"lines": [line("tablet press die set", "847990", 40)]}),
    ("opioids", {"lines": [line("carfentanil", "293339", 20)]}),
    ("opioids", {"lines": [line("芬太尼", "293339", 20)]}),
    ("opioids", {"lines": [line("fentanilo", "293339", 20)]}),
    ("opioids", {"lines": [line("nitazene isotonitazene powder", "293399", 20)]}),
    ("opioids", {"lines": [line("BMK glycidate CAS 5413-05-8", "291800", 20)]}),
    # dangerous goods
    ("dangerous_goods", {"lines": [line("lithium ion battery pack 20000mAh", "850760", 15)]}),
    ("dangerous_goods", {"lines": [line("power bank 10000 mAh", "850760", 15)]}),
    ("dangerous_goods", {"lines": [line("Powerbank 20.000mAh", "850760", 15)]}),
    ("dangerous_goods", {"lines": [line("butane gas refill can", "271113", 5)]}),
    ("dangerous_goods", {"lines": [line("eau de parfum 100ml", "330300", 25)]}),
    ("dangerous_goods", {"lines": [line("Parfüm 50 ml", "330300", 25)]}),
    ("dangerous_goods", {"lines": [line("aerosol spray paint", "320890", 8)]}),
    ("dangerous_goods", {"lines": [line("nail polish", "330430", 5)]}),
    ("dangerous_goods", {"lines": [line("disposable vape 5000 puffs", "854340", 8)]}),
    ("dangerous_goods", {"lines": [line("e-liquid 10ml nicotine", "240412", 8)]}),
    ("prohibited", {"lines": [line("pepper spray self defence", "930400", 8)]}),
    ("dangerous_goods", {"lines": [line("magnesium fire starter", "360500", 4)]}),
    ("dangerous_goods", {"lines": [line("matches strike anywhere", "360500", 3)]}),
    ("dangerous_goods", {"lines": [line("Akku 18650 3500mAh", "850760", 10)]}),
    ("dangerous_goods", {"lines": [line("smartphone with battery", "851713", 120)]}),
    ("dangerous_goods", {"lines": [line("car airbag module", "870895", 40)]}),
    ("dangerous_goods", {"lines": [line("bleach concentrate", "282890", 6)]}),
    ("dangerous_goods", {"lines": [line("dry ice", "281121", 6)]}),
    # hs mismatch
    ("hs_mismatch", {"lines": [line("18K gold necklace", "711719", 40)]}),
    ("hs_mismatch", {"lines": [line("925 sterling silver ring", "711719", 20)]}),
    ("hs_mismatch", {"lines": [line("smartphone", "392690", 20)]}),
    ("hs_mismatch", {"lines": [line("leather shoes", "610910", 20)]}),
    ("hs_mismatch", {"lines": [line("laptop computer", "490199", 20)]}),
    ("hs_mismatch", {"lines": [line("Goldkette 585", "711719", 40)]}),
    # category abuse
    (
        "category_abuse",
        {
            "category": "DOCUMENTS",
            "total_gross_weight_kg": "2.5",
            "lines": [line("documents", "490199", 0, 1, 2.4)],
        },
    ),
    ("category_abuse", {"category": "GIFT", "lines": [line("medicine", "300490", 20)]}),
    ("category_abuse", {"lines": [line("medicines", "300490", 20)]}),
    ("category_abuse", {"lines": [line("medicine for pain", "300490", 20)]}),
    ("category_abuse", {"lines": [line("strong herbal pills for men", "300490", 25)]}),
]

CLEAN: list[dict[str, Any]] = [
    line("ivory coloured cotton dress", "620442", 25),
    line("battery-free wall clock", "910521", 12),
    line("phone case for iPhone 15", "392690", 6),
    line("book about elephants and ivory trade", "490199", 15),
    line("plush panda toy", "950300", 10),
    line("gold plated earrings", "711719", 8),
    line("strap compatible with Apple Watch", "911390", 7),
    line("poster of Ferrari car", "491191", 6),
    line("python programming book", "490199", 30),
    line("coral pink lipstick", "330410", 6),
    line("faux crocodile handbag", "420222", 20),
    line("children's book about pangolins", "490199", 12),
    line("shark print beach towel", "630260", 10),
    line("lithium free grease", "340319", 8),
    line("ivory white bed sheet", "630231", 20),
    line("gasoline can plastic empty", "392330", 7),
    line("perfume bottle empty glass", "701090", 5),
    line("bullet journal notebook", "482010", 5),
    line("gun metal grey hoodie", "611020", 20),
    line("Nike-style running shoes unbranded", "640411", 25),
    line("oxford shoes brown", "640399", 40),
    line("t-shirt with tiger print", "610910", 10),
    line("sunglasses case", "420232", 4),
    line("tortoise shell pattern hair clip", "961511", 3),
    line("Rose gold tone bracelet", "711719", 8),
    line("battery charger for AA", "850440", 10),
    line("horn shaped vase ceramic", "691310", 15),
    line("seahorse keyring metal", "731940", 3),
    line("charging cable", "854442", 4),
    line("wooden elephant figurine", "442090", 12),
    line("snake plant seeds", "120999", 3),
    line("Bücher über Waffen", "490199", 20),
    line("dried mango slices", "080450", 6),
    line("knife sharpener", "820510", 8),
    line("Kindle case leather", "420232", 10),
    line("mens leather belt", "420330", 15),
    line("toy gun plastic", "950300", 5),
    line("coffee beans 1kg", "090121", 15, 1, 1.0),
    line("silver coloured necklace", "711719", 6),
    line("crystal glasses set", "701329", 25),
    line("Apple cider vinegar gummies", "210690", 12),
    line("paint brushes set", "960340", 8),
    line("hair dryer", "851631", 25),
    line("USB fan no battery", "841451", 8),
]

#: Whole consignments (category, parties) that must be released.
CLEAN_CONSIGNMENTS: list[dict[str, Any]] = [
    {
        "category": "DOCUMENTS",
        "sender": {"business_name": None},
        "total_gross_weight_kg": "0.1",
        "total_value_eur": 0,
        "total_value": 0,
        "lines": [line("Letters", "490199", 0, 1, 0.08)],
    },
    {"category": "GIFT", "sender": {"name": "Maria Lopez", "business_name": None}},
    {"lines": [line("Ibuprofen 200 mg tablets, 24", "300490", 6)]},
]


def _flagged(given: dict[str, Any]) -> bool:
    assessment = assess_golden(ENGINE, given, [])
    return assessment.action != "RELEASE" or assessment.security_action is not None


@pytest.mark.parametrize(
    ("indicator", "given"), RISKY, ids=[g["lines"][0]["description"] for _, g in RISKY]
)
def test_risky_consignment_is_flagged(indicator: str, given: dict[str, Any]) -> None:
    assessment = assess_golden(ENGINE, given, [])
    assert _flagged(given), f"{indicator}: {[(h.rule, h.reason) for h in assessment.hits]}"
    assert indicator in {t for h in assessment.hits for t in h.tags}, assessment.hits


@pytest.mark.parametrize("clean", CLEAN, ids=[c["description"] for c in CLEAN])
def test_clean_consignment_is_released(clean: dict[str, Any]) -> None:
    given = {"lines": [clean]}
    assessment = assess_golden(ENGINE, given, [])
    assert not _flagged(given), [(h.rule, h.reason) for h in assessment.hits]


@pytest.mark.parametrize(
    "given", CLEAN_CONSIGNMENTS, ids=["documents", "private gift", "named OTC"]
)
def test_clean_whole_consignment_is_released(given: dict[str, Any]) -> None:
    assessment = assess_golden(ENGINE, given, [])
    assert not _flagged(given), [(h.rule, h.reason) for h in assessment.hits]
