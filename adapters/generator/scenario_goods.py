"""Goods of the risk scenarios: what posts refuse, fakes, protected species, pill-making kit.

Descriptions are what a seller types into a marketplace or a CN 23, every HS
code is an HS 2022 subheading (a made-up code would add HS_UNKNOWN), and unit
values and weights are ranges like the clean catalogue's, so a scenario item
differs from clean traffic only in the risk it carries. Sources per table:

* dangerous goods: UPU Convention art. 19 (prohibitions) and the UPU/ICAO
  rule of 2013 admitting lithium cells only when installed in equipment:
  loose cells and power banks are refused, so are flammable lighter gas and
  aerosols, and many posts refuse e-cigarettes and nicotine liquids.
* counterfeits: OECD/EUIPO (2018), "Misuse of Small Parcels for Trade in
  Counterfeit Goods": watches, shoes, bags, cosmetics, headphones, at a
  fraction of the genuine price. (Fake perfume is seized too, but alcohol-based
  perfume is also dangerous goods, UN 1266: it belongs to dangerous_goods here,
  so a counterfeit item carries one risk.)
* wildlife: CITES-listed items seized in parcels at Frankfurt airport
  (Oxpeckers Investigative Environmental Journalism, 2019): ivory, reptile
  leather, seahorses, coral, shark fin, pangolin scales, live animals.
* opioids: US CBP Strategy to Combat Opioids (2019) and DEA reporting on pill
  presses, dies and precursor "research chemicals" bought online.
"""

from __future__ import annotations

from decimal import Decimal

from adapters.generator.catalogue import Product

#: Declared origins of re-routed goods: RU and BY (EU sanctions Regulations 833/2014
#: and 765/2006), IR, KP and SY (EU restrictive measures).
HIGH_RISK_ORIGINS = ("RU", "BY", "IR", "KP", "SY")
#: Transit countries named in public reporting on the circumvention of EU sanctions
#: against Russia (2023-24): trade re-routed via Türkiye, the UAE, Kazakhstan,
#: Armenia and Georgia.
TRANSIT_COUNTRIES = ("TR", "AE", "KZ", "AM", "GE")

Row = tuple[str, str, str, str, str, str, str]

# description, HS 2022 subheading, EUR low, EUR high (per unit), kg low, kg high, origins
_DANGEROUS: tuple[Row, ...] = (
    ("Power bank 20000mAh", "850760", "12", "35", "0.35", "0.45", "CN"),
    ("Power bank 10000 mAh", "850760", "10", "40", "0.20", "0.30", "CN"),
    ("18650 lithium-ion battery, 4 pcs", "850760", "8", "20", "0.18", "0.20", "CN"),
    ("LiPo battery 3S 5000mAh for RC models", "850760", "25", "60", "0.35", "0.45", "CN"),
    ("E-bike battery 36V 10Ah", "850760", "120", "240", "2.50", "3.20", "CN"),
    ("Lithium coin cells CR2032, pack of 10", "850650", "3", "10", "0.03", "0.04", "CN JP"),
    ("Disposable vape pen 600 puffs", "854340", "4", "12", "0.02", "0.04", "CN"),
    ("Nicotine e-liquid 10ml, 20mg", "240412", "3", "8", "0.02", "0.03", "CN GB"),
    ("Butane gas lighter refill 300ml", "360610", "4", "10", "0.20", "0.25", "CN KR"),
    ("Aerosol spray paint 400ml, matt black", "320890", "4", "12", "0.35", "0.45", "CN DE"),
)  # fmt: skip

_COUNTERFEIT: tuple[Row, ...] = (
    ("Rolex Submariner men's watch", "910211", "12", "25", "0.10", "0.16", "CN HK"),
    ("Nike Air Jordan 1 sneakers", "640411", "15", "25", "0.80", "1.10", "CN VN"),
    ("Louis Vuitton monogram handbag", "420221", "15", "25", "0.50", "0.90", "CN"),
    ("Chanel Rouge Allure lipstick", "330410", "4", "12", "0.02", "0.04", "CN AE"),
    ("Apple AirPods Pro earbuds", "851830", "8", "20", "0.05", "0.07", "CN"),
    ("Ray-Ban Wayfarer sunglasses", "900410", "4", "12", "0.03", "0.05", "CN"),
    ("Gucci leather belt", "420330", "6", "18", "0.15", "0.25", "CN TR"),
    ("Adidas Yeezy Boost shoes", "640411", "15", "25", "0.70", "1.00", "CN"),
    ("Pandora charm bracelet", "711319", "4", "12", "0.02", "0.04", "CN"),
    ("Beats Studio headphones", "851830", "12", "25", "0.25", "0.35", "CN"),
    ("Hermès silk scarf", "621410", "5", "15", "0.05", "0.08", "CN"),
    ("Canada Goose parka", "620140", "18", "25", "1.20", "1.60", "CN"),
    ("Dior Saddle handbag", "420221", "15", "25", "0.50", "0.90", "CN"),
    ("Cartier Love bracelet, gold", "711319", "5", "15", "0.02", "0.04", "CN"),
)  # fmt: skip

_WILDLIFE: tuple[Row, ...] = (
    ("Carved ivory figurine", "960110", "25", "150", "0.10", "0.40", "HK CN NG CM"),
    ("Python skin leather wallet", "420231", "15", "60", "0.08", "0.15", "ID TH VN"),
    ("Dried seahorses 50g", "050800", "20", "80", "0.05", "0.06", "CN HK TH"),
    ("Tortoise shell hair comb", "960190", "10", "60", "0.02", "0.05", "ID VN CN"),
    ("Live tarantula in container", "010690", "15", "70", "0.05", "0.15", "MX TH VN"),
    ("Crocodile leather belt", "420330", "30", "120", "0.15", "0.25", "TH ID VN"),
    ("Red coral bead necklace", "711620", "20", "120", "0.02", "0.08", "IT CN TW"),
    ("Dried shark fin 500g", "030571", "40", "150", "0.50", "0.55", "HK CN ID"),
    ("Pangolin scales", "050790", "30", "150", "0.20", "1.00", "NG CM CN"),
    ("Rhino horn powder 10g", "050790", "50", "150", "0.01", "0.02", "VN CN"),
)  # fmt: skip

_OPIOIDS: tuple[Row, ...] = (
    ("Research chemical powder 10g", "293399", "8", "40", "0.010", "0.012", "CN"),
    ("Tramadol 225mg tablets", "300490", "10", "60", "0.05", "0.08", "IN CN"),
    ("Tablet press machine TDP-5", "847930", "40", "80", "18.00", "24.00", "CN"),
    ("Pill press die mould set", "848071", "15", "60", "0.80", "1.50", "CN"),
    ("Manual capsule filling machine", "847930", "20", "70", "1.50", "3.00", "CN"),
    ("Laboratory reagent white powder", "293339", "10", "50", "0.02", "0.10", "CN"),
    ("Kratom extract powder", "130219", "10", "40", "0.05", "0.25", "ID"),
    ("Fentanyl test strips", "382219", "5", "20", "0.01", "0.02", "US CN"),
    ("Microcrystalline cellulose binder 1kg", "391290", "5", "20", "1.00", "1.10", "CN IN"),
)  # fmt: skip


def products(group: str, rows: tuple[Row, ...]) -> tuple[Product, ...]:
    """Products of one group from (description, HS, EUR low, EUR high, kg low, kg high,
    origins) rows: the row shape every scenario and variant goods table uses."""
    return tuple(
        Product(
            group=group,
            description=description,
            hs_code=hs_code,
            value_eur=(Decimal(v_lo), Decimal(v_hi)),
            weight_kg=(Decimal(w_lo), Decimal(w_hi)),
            origins=tuple(origins.split()),
        )
        for description, hs_code, v_lo, v_hi, w_lo, w_hi, origins in rows
    )


DANGEROUS_GOODS = products("dangerous_goods", _DANGEROUS)
COUNTERFEIT_GOODS = products("counterfeit", _COUNTERFEIT)
WILDLIFE_GOODS = products("wildlife", _WILDLIFE)
OPIOID_GOODS = products("opioids", _OPIOIDS)

#: Vague words (rulebook VAGUE_DESCRIPTIONS, PACT / ICS2 "unacceptable terms") a seller
#: uses instead of a description, by catalogue group; the rest use the generic ones.
VAGUE_BY_GROUP: dict[str, tuple[str, ...]] = {
    "apparel": ("Clothing", "Clothes"),
    "shoes": ("Clothing", "Accessories"),
    "electronics": ("Electronics", "Parts", "Equipment"),
    "phone accessories": ("Accessories", "Electronics"),
    "toys": ("Toys",),
    "auto parts": ("Spare parts", "Parts"),
    "tools": ("Equipment", "Spare parts"),
    "jewellery": ("Accessories",),
    "bags": ("Accessories",),
}
VAGUE_GENERIC = ("Goods", "Merchandise", "Items", "Products", "Various", "Articles", "Stuff")
