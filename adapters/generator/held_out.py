"""Held-out variant families: disguises kept away from whoever writes the risk rules.

The other families (variants.py) are known to the rules engineer; scoring on
them alone measures how well rules fit what they were shown. These are
realistic disguises that no listed family covers, labelled `held_out`, so an
evaluation can tell whether detection generalises. Do not tune rules on this
module. Per class:

* counterfeit: the genuine maker's model or reference number instead of the
  brand (OECD/EUIPO 2018: listings that name reference codes buyers search for).
* dangerous_goods: the cell or device specification only (type code, voltage,
  capacity, puff count), no product word (ICAO TI: UN 3480/3481, e-cigarettes).
* wildlife: the real CITES specimen declared as an imitation (resin, faux,
  synthetic), under the real specimen's HS code (CITES Appendices I-II).
* opioids: CAS registry numbers instead of names for nitazenes, fentanyl
  precursors and tramadol (UNODC Early Warning Advisory; CND Table I).
"""

from __future__ import annotations

import random
from decimal import Decimal

from adapters.generator.catalogue import CATALOGUE, Product
from adapters.generator.scenario_base import Scene, goods_line, listed_sale, regoods, unit_price
from adapters.generator.scenario_goods import Row, products
from messages.findings import Code
from messages.models import DeclaredItem

Built = tuple[list[DeclaredItem], frozenset[Code]]
NONE: frozenset[Code] = frozenset()

_MODEL_CODES: tuple[Row, ...] = (
    ("Wristwatch ref. 126610LN, 41 mm, black dial", "910211", "12", "25", "0.10", "0.16", "CN HK"),
    ("Wristwatch ref. 116500LN, white dial", "910211", "12", "25", "0.10", "0.16", "CN HK"),
    ("Sneakers style 555088-134, high top", "640411", "15", "25", "0.80", "1.10", "CN VN"),
    ("Running shoes style FU9006, 350 V2", "640411", "15", "25", "0.70", "1.00", "CN"),
    ("Handbag M41112, canvas, 30 cm", "420221", "15", "25", "0.50", "0.90", "CN"),
    ("Earbuds model A2084 with MagSafe case", "851830", "8", "20", "0.05", "0.07", "CN"),
    ("Sunglasses RB2140 901, 50 mm", "900410", "4", "12", "0.03", "0.05", "CN"),
    ("Bracelet B6035517, yellow, size 17", "711719", "5", "15", "0.02", "0.04", "CN"),
    ("Headphones model MQTP3, over-ear", "851830", "12", "25", "0.25", "0.35", "CN"),
    ("Belt 406831 DJ20T, double buckle", "420330", "6", "18", "0.15", "0.25", "CN TR"),
)  # fmt: skip
_SPECS: tuple[Row, ...] = (
    ("INR18650-35E 3.7V 3500mAh, 4 pcs", "850760", "8", "20", "0.18", "0.20", "CN"),
    ("21700 3.7V 5000mAh flat top x2", "850760", "8", "20", "0.13", "0.15", "CN"),
    ("USB-C PD 65W 20000mAh unit", "850760", "15", "40", "0.40", "0.50", "CN"),
    ("3S 11.1V 5200mAh 50C pack, XT60", "850760", "25", "60", "0.35", "0.45", "CN"),
    ("36V 13Ah downtube pack", "850760", "120", "240", "2.50", "3.20", "CN"),
    ("5000 puff device, mango ice, 2 %", "854340", "4", "12", "0.03", "0.05", "CN"),
    ("Nic salt 20 mg/ml, 10 ml, strawberry", "240412", "3", "8", "0.02", "0.03", "CN GB"),
    ("Refill 300 ml, 5x refined", "360610", "4", "10", "0.20", "0.25", "CN KR"),
)  # fmt: skip
_IMITATIONS: tuple[Row, ...] = (
    ("Faux ivory resin figurine, hand carved", "960110", "25", "150", "0.10", "0.40", "HK CN NG"),
    ("Imitation coral bead necklace, red", "711620", "20", "120", "0.02", "0.08", "IT CN TW"),
    ("Vegan snakeskin-look wallet", "420231", "15", "60", "0.08", "0.15", "ID TH VN"),
    ("Synthetic tortoiseshell hair comb", "960190", "10", "60", "0.02", "0.05", "ID VN"),
    ("Croc-look leather belt, embossed", "420330", "30", "120", "0.15", "0.25", "TH ID"),
    ("Dried marine curios, decorative, 50 g", "050800", "20", "80", "0.05", "0.06", "CN HK"),
    ("Horn-style keratin powder, herbal, 10 g", "050790", "50", "150", "0.01", "0.02", "VN CN"),
    ("Artificial scales for craft, 500 g", "050790", "30", "150", "0.20", "1.00", "NG CM"),
)  # fmt: skip
_CAS: tuple[Row, ...] = (
    ("CAS 14188-81-9, 99 % purity, 5 g", "293399", "10", "60", "0.005", "0.007", "CN"),
    ("CAS 95958-84-2, white crystalline, 5 g", "293399", "10", "60", "0.005", "0.007", "CN"),
    ("CAS 21409-26-7, 10 g", "293339", "10", "50", "0.010", "0.012", "CN"),
    ("CAS 39742-60-4, 25 g", "293339", "10", "60", "0.025", "0.030", "CN"),
    ("CAS 79099-07-3, 100 g", "293339", "15", "70", "0.10", "0.11", "CN IN"),
    ("CAS 36282-47-0 tablets, 225 mg x 30", "300490", "10", "60", "0.05", "0.08", "IN"),
)  # fmt: skip

_GOODS: dict[str, tuple[Product, ...]] = {
    "counterfeit": products("counterfeit", _MODEL_CODES),
    "dangerous_goods": products("dangerous_goods", _SPECS),
    "wildlife": products("wildlife", _IMITATIONS),
    "opioids": products("opioids", _CAS),
}


def _opioids(scene: Scene, rng: random.Random) -> Built:
    item = scene.draw("SALE_OF_GOODS")
    product = rng.choice(_GOODS["opioids"])
    unit = unit_price(rng, *product.value_eur)
    quantity = 2 if unit * 2 <= Decimal(80) and rng.random() < 0.3 else 1
    line = goods_line(rng, scene, product, quantity, unit * quantity)
    return [regoods(item, [line], scene)], NONE


def _counterfeit(scene: Scene, rng: random.Random) -> Built:
    goods = _GOODS["counterfeit"]
    return [
        listed_sale(scene, rng, lambda r: r.choice(goods), cover=0.3, catalogue=CATALOGUE)
    ], NONE


def _dangerous(scene: Scene, rng: random.Random) -> Built:
    goods = _GOODS["dangerous_goods"]
    return [
        listed_sale(scene, rng, lambda r: r.choice(goods), cover=0.3, catalogue=CATALOGUE)
    ], NONE


def _wildlife(scene: Scene, rng: random.Random) -> Built:
    goods = _GOODS["wildlife"]
    return [
        listed_sale(scene, rng, lambda r: r.choice(goods), cover=0.3, catalogue=CATALOGUE)
    ], NONE


#: The held-out family of each class that has one (label variant "held_out").
HELD_OUT = {
    "counterfeit": _counterfeit,
    "dangerous_goods": _dangerous,
    "wildlife": _wildlife,
    "opioids": _opioids,
}
#: Their goods, for tests.
HELD_OUT_GOODS = _GOODS
