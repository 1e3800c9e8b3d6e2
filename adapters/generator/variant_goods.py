"""Goods of the adversarial scenario variants and of the clean false-positive traps.

The plain scenarios (scenario_goods.py) spell every risk the same way, so a
keyword rule looks perfect on them and fails on real traffic. These tables
hold the other spellings sellers use: misspelt brands and products, the goods
in the buyer's or seller's language and script, trade, chemical and Latin
names, dangerous goods named without the obvious word; and clean goods that a
naive keyword rule would flag. Every HS code is an HS 2022 subheading, values
and weights are catalogue-like ranges. Sources:

* counterfeits: OECD/EUIPO (2018), "Misuse of Small Parcels for Trade in
  Counterfeit Goods" (replica listings, misspelt and abbreviated brands).
* dangerous goods: ICAO Technical Instructions / IATA DGR and UPU Convention
  art. 19: perfume and cologne (alcohol, UN 1266), aerosols (UN 1950),
  lighter gas and butane (UN 1057, UN 2037), lithium cells (UN 3480/3481).
* wildlife: CITES Appendices I-II (Manis spp., Hippocampus spp., Loxodonta
  africana, Python reticulatus, Crocodylus niloticus, Eretmochelys imbricata,
  Aquilaria spp.; Corallium rubrum is listed in Appendix III by China).
* opioids: UNODC Early Warning Advisory on nitazenes, and the 2017 and 2022
  CND decisions placing 4-ANPP, NPP and 1-boc-4-piperidone under international
  control (Table I, 1988 Convention).
"""

from __future__ import annotations

from dataclasses import replace

from adapters.generator.catalogue import CATALOGUE, Product
from adapters.generator.scenario_goods import (
    COUNTERFEIT_GOODS,
    DANGEROUS_GOODS,
    OPIOID_GOODS,
    WILDLIFE_GOODS,
    Row,
    products,
)

#: Languages of the `language` variants (ISO 639-1), written in their own script.
LANGUAGES = ("zh", "es", "pt", "fr", "de", "it", "nl", "ru", "tr", "ar", "ja", "ko")
#: Words a replica seller adds to a listing (OECD/EUIPO 2018 on replica marketplaces).
REPLICA_MARKERS = (
    "replica", "AAA quality", "1:1", "mirror quality", "high copy", "inspired", "dupe",
)  # fmt: skip


def _respelt(
    base: tuple[Product, ...], spellings: dict[str, tuple[str, ...]]
) -> tuple[Product, ...]:
    """Each base product under each of its other spellings (same code, value, weight)."""
    by_description = {p.description: p for p in base}
    return tuple(
        replace(by_description[description], description=text)
        for description, texts in spellings.items()
        for text in texts
    )


def _translated(
    base: tuple[Product, ...], rows: tuple[tuple[str, str, str], ...]
) -> dict[str, tuple[Product, ...]]:
    """Rows (language, base description, text) as products per language."""
    by_description = {p.description: p for p in base}
    out: dict[str, list[Product]] = {}
    for language, description, text in rows:
        out.setdefault(language, []).append(replace(by_description[description], description=text))
    return {language: tuple(goods) for language, goods in out.items()}


# ---------------------------------------------------------------- counterfeit

_COUNTERFEIT_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Rolex Submariner men's watch": (
        "R0lex Submariner men's watch", "R O L E X Submariner men's watch",
        "Ro-lex Submariner watch", "Rollex Submariner men's watch", "R.O.L.E.X diver watch",
    ),
    "Nike Air Jordan 1 sneakers": (
        "N1ke Air Jordan 1 sneakers", "N I K E AJ1 sneakers", "Nikee Air Jordan 1 shoes",
        "Ni-ke Air Jordon 1 sneakers",
    ),
    "Louis Vuitton monogram handbag": (
        "LV monogram handbag", "L.V. monogram handbag", "Louis Vuiton monogram bag",
        "L0uis Vuitton handbag", "L V monogram tote bag",
    ),
    "Chanel Rouge Allure lipstick": (
        "Chanell Rouge Allure lipstick", "C H A N E L Rouge lipstick",
        "Chan3l Rouge Allure lipstick",
    ),
    "Apple AirPods Pro earbuds": (
        "Apple Air-Pods Pro earbuds", "Aple AirPods Pro earbuds", "A1r Pods Pro earbuds",
        "AirPod Pro 2 earphones",
    ),
    "Ray-Ban Wayfarer sunglasses": (
        "RayBan Wayfarer sunglasses", "Ray Bann Wayfarer sunglasses", "R.B. Wayfarer sunglasses",
    ),
    "Gucci leather belt": (
        "G U C C I leather belt", "Guccci leather belt", "Gu-cci leather belt", "GG leather belt",
        "Gucc1 belt, leather",
    ),
    "Adidas Yeezy Boost shoes": (
        "Addidas Yeezy Boost shoes", "Adidas Yezzy Boost 350", "Ad1das Yeezy shoes",
    ),
    "Pandora charm bracelet": ("Pandorra charm bracelet", "P4ndora charm bracelet"),
    "Beats Studio headphones": ("Beatz Studio headphones", "B.e.a.t.s Studio headphones"),
    "Hermès silk scarf": ("Hermes silk scarf", "H3rmes silk scarf", "Hermés silk scarf"),
    "Canada Goose parka": ("Canda Goose parka", "C.G. parka, down", "Canada Gooze parka"),
    "Dior Saddle handbag": ("D1or Saddle handbag", "Diorr Saddle bag"),
    "Cartier Love bracelet, gold": ("Cartiér Love bracelet", "C4rtier Love bracelet, gold"),
}  # fmt: skip
#: The brand abbreviations replica sellers use (the brand name itself stays out of the listing).
_COUNTERFEIT_ABBREVIATIONS: tuple[Row, ...] = (
    ("YSL leather clutch bag", "420221", "12", "25", "0.30", "0.50", "CN"),
    ("MK monogram shoulder bag", "420221", "12", "25", "0.40", "0.70", "CN"),
    ("LV canvas wallet", "420231", "6", "18", "0.08", "0.15", "CN"),
    ("CK boxer shorts, 3 pack", "610711", "4", "12", "0.15", "0.25", "CN TR"),
)  # fmt: skip
COUNTERFEIT_MISSPELT = _respelt(COUNTERFEIT_GOODS, _COUNTERFEIT_SPELLINGS) + products(
    "counterfeit", _COUNTERFEIT_ABBREVIATIONS
)

_COUNTERFEIT_LANGUAGE = (
    ("zh", "Rolex Submariner men's watch", "劳力士潜航者男士手表"),
    ("zh", "Nike Air Jordan 1 sneakers", "耐克 Air Jordan 1 运动鞋"),
    ("zh", "Louis Vuitton monogram handbag", "路易威登老花手提包"),
    ("zh", "Gucci leather belt", "古驰真皮腰带"),
    ("es", "Rolex Submariner men's watch", "Reloj Rolex Submariner para hombre"),
    ("es", "Nike Air Jordan 1 sneakers", "Zapatillas Nike Air Jordan 1"),
    ("es", "Gucci leather belt", "Cinturón de piel Gucci"),
    ("pt", "Louis Vuitton monogram handbag", "Bolsa Louis Vuitton monograma"),
    ("pt", "Ray-Ban Wayfarer sunglasses", "Óculos de sol Ray-Ban Wayfarer"),
    ("pt", "Nike Air Jordan 1 sneakers", "Tênis Nike Air Jordan 1"),
    ("fr", "Rolex Submariner men's watch", "Montre homme Rolex Submariner"),
    ("fr", "Hermès silk scarf", "Foulard en soie Hermès"),
    ("fr", "Louis Vuitton monogram handbag", "Sac à main Louis Vuitton monogramme"),
    ("de", "Rolex Submariner men's watch", "Rolex Submariner Herrenuhr"),
    ("de", "Gucci leather belt", "Gucci Ledergürtel"),
    ("de", "Canada Goose parka", "Canada Goose Daunenparka"),
    ("it", "Louis Vuitton monogram handbag", "Borsa Louis Vuitton monogram"),
    ("it", "Gucci leather belt", "Cintura in pelle Gucci"),
    ("it", "Rolex Submariner men's watch", "Orologio da uomo Rolex Submariner"),
    ("nl", "Rolex Submariner men's watch", "Rolex Submariner herenhorloge"),
    ("nl", "Louis Vuitton monogram handbag", "Louis Vuitton monogram handtas"),
    ("ru", "Rolex Submariner men's watch", "Мужские часы Ролекс Субмаринер"),
    ("ru", "Nike Air Jordan 1 sneakers", "Кроссовки Найк Эйр Джордан 1"),
    ("ru", "Louis Vuitton monogram handbag", "Сумка Луи Виттон монограм"),
    ("tr", "Rolex Submariner men's watch", "Rolex Submariner erkek kol saati"),
    ("tr", "Gucci leather belt", "Gucci deri kemer"),
    ("tr", "Nike Air Jordan 1 sneakers", "Nike Air Jordan 1 spor ayakkabı"),
    ("ar", "Rolex Submariner men's watch", "ساعة رولكس صب مارينر رجالية"),
    ("ar", "Chanel Rouge Allure lipstick", "أحمر شفاه شانيل روج أليور"),
    ("ar", "Louis Vuitton monogram handbag", "حقيبة يد لويس فيتون"),
    ("ja", "Rolex Submariner men's watch", "ロレックス サブマリーナー メンズ腕時計"),
    ("ja", "Hermès silk scarf", "エルメス シルクスカーフ"),
    ("ja", "Louis Vuitton monogram handbag", "ルイヴィトン モノグラム ハンドバッグ"),
    ("ko", "Rolex Submariner men's watch", "롤렉스 서브마리너 남성 시계"),
    ("ko", "Nike Air Jordan 1 sneakers", "나이키 에어조던1 운동화"),
    ("ko", "Chanel Rouge Allure lipstick", "샤넬 루쥬 알뤼르 립스틱"),
)  # fmt: skip
COUNTERFEIT_LANGUAGE = _translated(COUNTERFEIT_GOODS, _COUNTERFEIT_LANGUAGE)

# ---------------------------------------------------------------- dangerous goods

_DANGEROUS_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Power bank 20000mAh": ("Powerbnk 20000mAh", "P0wer bank 20000 mah", "Pwr bank 20000mAh"),
    "Power bank 10000 mAh": ("Powr bank 10000mAh", "Power-bnk 10000 mAh"),
    "18650 lithium-ion battery, 4 pcs": (
        "18650 Lithum batery, 4 pcs", "18650 Li-ion cell x4", "18650 Li ion bat 4pcs",
        "18650 Litium battary 4 pcs", "18650 LiIon cells, 4 pcs",
    ),
    "LiPo battery 3S 5000mAh for RC models": ("Li-Po batt 3S 5000mAh RC", "Lipo batery 3S 5000mah"),
    "E-bike battery 36V 10Ah": ("Ebike batery 36V 10Ah", "E-bike Li-ion pack 36V 10Ah"),
    "Lithium coin cells CR2032, pack of 10": ("Lithum coin cell CR2032 x10", "Li coin cels CR2032 10pcs"),
    "Disposable vape pen 600 puffs": (
        "Disposible vap pen 600 puffs", "V@pe pen 600 puffs", "Vaype pen 600 puff",
        "Vape-pen disposable 600puffs", "Vapor pen 600 puffs",
    ),
    "Nicotine e-liquid 10ml, 20mg": ("Nicotin e-liquid 10ml 20mg", "E-juice 10ml 20mg nic"),
    "Butane gas lighter refill 300ml": ("Butan gas refil 300ml", "Lighter gaz refill 300ml"),
    "Aerosol spray paint 400ml, matt black": ("Aerosole spray paint 400ml", "Spray pait can 400ml"),
}  # fmt: skip
DANGEROUS_MISSPELT = _respelt(DANGEROUS_GOODS, _DANGEROUS_SPELLINGS)

_DANGEROUS_LANGUAGE = (
    ("zh", "Power bank 20000mAh", "充电宝 20000毫安"),
    ("zh", "18650 lithium-ion battery, 4 pcs", "18650锂电池 4节"),
    ("zh", "Disposable vape pen 600 puffs", "一次性电子烟 600口"),
    ("es", "Power bank 10000 mAh", "Batería externa 10000 mAh"),
    ("es", "Disposable vape pen 600 puffs", "Vapeador desechable 600 caladas"),
    ("pt", "18650 lithium-ion battery, 4 pcs", "Bateria de lítio 18650, 4 unid."),
    ("pt", "Butane gas lighter refill 300ml", "Gás para isqueiro 300 ml"),
    ("fr", "Power bank 20000mAh", "Batterie externe 20000 mAh"),
    ("fr", "Disposable vape pen 600 puffs", "Cigarette électronique jetable 600 bouffées"),
    ("de", "18650 lithium-ion battery, 4 pcs", "Lithium-Ionen-Akku 18650, 4 Stück"),
    ("de", "Butane gas lighter refill 300ml", "Feuerzeuggas Nachfüllung 300 ml"),
    ("de", "Disposable vape pen 600 puffs", "Einweg-E-Zigarette 600 Züge"),
    ("it", "Power bank 10000 mAh", "Batteria esterna 10000 mAh"),
    ("it", "Aerosol spray paint 400ml, matt black", "Bomboletta di vernice spray 400 ml, nero opaco"),
    ("nl", "Disposable vape pen 600 puffs", "Wegwerp vape 600 trekjes"),
    ("nl", "Butane gas lighter refill 300ml", "Aanstekergas navulling 300 ml"),
    ("ru", "Power bank 20000mAh", "Повербанк 20000 мАч"),
    ("ru", "18650 lithium-ion battery, 4 pcs", "Литий-ионный аккумулятор 18650, 4 шт"),
    ("ru", "Butane gas lighter refill 300ml", "Газ для зажигалок 300 мл"),
    ("tr", "Power bank 20000mAh", "Taşınabilir şarj cihazı 20000 mAh"),
    ("tr", "Disposable vape pen 600 puffs", "Tek kullanımlık elektronik sigara 600 nefes"),
    ("ar", "Power bank 20000mAh", "باور بانك 20000 ملي أمبير"),
    ("ar", "Disposable vape pen 600 puffs", "سيجارة إلكترونية للاستعمال مرة واحدة"),
    ("ja", "Power bank 10000 mAh", "モバイルバッテリー 10000mAh"),
    ("ja", "Disposable vape pen 600 puffs", "使い捨て電子タバコ 600回"),
    ("ko", "Power bank 20000mAh", "보조배터리 20000mAh"),
    ("ko", "18650 lithium-ion battery, 4 pcs", "18650 리튬이온 배터리 4개"),
)  # fmt: skip
DANGEROUS_LANGUAGE = _translated(DANGEROUS_GOODS, _DANGEROUS_LANGUAGE)

#: Dangerous goods named without the obvious word (ICAO TI / IATA DGR classes in comments).
_DANGEROUS_INDIRECT: tuple[Row, ...] = (
    ("Eau de toilette 100 ml", "330300", "15", "60", "0.25", "0.40", "FR AE CN"),  # UN 1266
    ("Men's cologne 50 ml", "330300", "12", "45", "0.15", "0.25", "FR IT AE"),  # UN 1266
    ("Perfume gift set, 3 x 30 ml", "330300", "20", "70", "0.30", "0.50", "FR AE"),  # UN 1266
    ("Nail polish remover 200 ml", "330430", "3", "10", "0.20", "0.25", "CN US"),  # UN 1090
    ("Hand sanitiser gel 70 % alcohol, 500 ml", "380894", "4", "12", "0.50", "0.55", "CN TR"),
    ("Deodorant spray can 150 ml", "330720", "3", "10", "0.15", "0.20", "DE GB PL"),  # UN 1950
    ("Hair spray can 300 ml", "330530", "4", "12", "0.25", "0.30", "DE FR PL"),  # UN 1950
    ("Gas for lighters 250 ml", "360610", "4", "10", "0.15", "0.20", "CN KR"),  # UN 1057
    ("Butane canister 227 g for camping stove", "271113", "3", "8", "0.33", "0.36", "KR CN"),
    ("Lighter fluid 133 ml", "360610", "3", "8", "0.10", "0.13", "US CN"),  # UN 1268
    ("Pod-system starter kit with 2 pods", "854340", "10", "30", "0.05", "0.10", "CN"),
    ("Portable power station 300 W", "850760", "150", "400", "3.00", "4.50", "CN"),  # UN 3480
)  # fmt: skip
DANGEROUS_INDIRECT = products("dangerous_goods", _DANGEROUS_INDIRECT)

# ---------------------------------------------------------------- wildlife

_WILDLIFE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Carved ivory figurine": ("Carved iv0ry figurine", "Carved ivroy figurine", "Ivori carving figure"),
    "Python skin leather wallet": ("Pyton skin wallet", "Phyton leather wallet", "Py-thon skin wallet"),
    "Dried seahorses 50g": ("Dried sea horse 50g", "Dry seahorce 50 g", "Sea-horse dried 50g"),
    "Tortoise shell hair comb": ("Tortoiseshel hair comb", "Tortise shell comb", "Turtle shel hair comb"),
    "Live tarantula in container": ("Live tarantla in container", "Tarantulla live spider"),
    "Crocodile leather belt": ("Crocodille leather belt", "Croc0dile skin belt", "Krokodile leather belt"),
    "Red coral bead necklace": ("Red corall bead necklace", "Red c0ral beads necklace"),
    "Dried shark fin 500g": ("Dried shark fim 500g", "Shark-fin dried 500g", "Sharkfin dry 500 g"),
    "Pangolin scales": ("Pangolim scales", "Pango-lin scale", "Pangolin scals"),
    "Rhino horn powder 10g": ("Rhin0 horn powder 10g", "Rino horn powder 10g"),
}  # fmt: skip
WILDLIFE_MISSPELT = _respelt(WILDLIFE_GOODS, _WILDLIFE_SPELLINGS)

_WILDLIFE_LANGUAGE = (
    ("zh", "Carved ivory figurine", "象牙雕刻摆件"),
    ("zh", "Pangolin scales", "穿山甲鳞片"),
    ("zh", "Dried seahorses 50g", "干海马 50克"),
    ("zh", "Dried shark fin 500g", "鱼翅 500克"),
    ("zh", "Rhino horn powder 10g", "犀牛角粉 10克"),
    ("es", "Carved ivory figurine", "Figura tallada de marfil"),
    ("es", "Tortoise shell hair comb", "Peine de carey"),
    ("pt", "Python skin leather wallet", "Carteira de pele de píton"),
    ("pt", "Red coral bead necklace", "Colar de contas de coral vermelho"),
    ("fr", "Crocodile leather belt", "Ceinture en cuir de crocodile"),
    ("fr", "Dried seahorses 50g", "Hippocampes séchés 50 g"),
    ("fr", "Tortoise shell hair comb", "Peigne en écaille de tortue"),
    ("de", "Carved ivory figurine", "Geschnitzte Elfenbeinfigur"),
    ("de", "Pangolin scales", "Schuppen vom Schuppentier"),
    ("de", "Python skin leather wallet", "Geldbörse aus Pythonleder"),
    ("it", "Red coral bead necklace", "Collana di perle di corallo rosso"),
    ("it", "Crocodile leather belt", "Cintura in pelle di coccodrillo"),
    ("nl", "Dried seahorses 50g", "Gedroogde zeepaardjes 50 g"),
    ("nl", "Carved ivory figurine", "Gesneden ivoren beeldje"),
    ("ru", "Carved ivory figurine", "Статуэтка из слоновой кости"),
    ("ru", "Crocodile leather belt", "Ремень из крокодиловой кожи"),
    ("tr", "Carved ivory figurine", "Fildişi oyma biblo"),
    ("tr", "Dried seahorses 50g", "Kurutulmuş denizatı 50 g"),
    ("ar", "Carved ivory figurine", "تمثال منحوت من العاج"),
    ("ar", "Pangolin scales", "قشور آكل النمل الحرشفي"),
    ("ja", "Carved ivory figurine", "象牙彫刻の置物"),
    ("ja", "Tortoise shell hair comb", "べっ甲の櫛"),
    ("ko", "Dried seahorses 50g", "말린 해마 50g"),
    ("ko", "Pangolin scales", "천산갑 비늘"),
)  # fmt: skip
#: Latin binomials (CITES nomenclature), traditional-medicine and trade names.
_WILDLIFE_LATIN_ROWS = (
    ("la", "Pangolin scales", "Manis javanica scales"),
    ("la", "Pangolin scales", "Squama Manis, dried"),
    ("la", "Dried seahorses 50g", "Dried Hippocampus kuda 50 g"),
    ("la", "Carved ivory figurine", "Loxodonta africana carving"),
    ("la", "Python skin leather wallet", "Python reticulatus leather wallet"),
    ("la", "Crocodile leather belt", "Crocodylus niloticus leather belt"),
    ("la", "Tortoise shell hair comb", "Eretmochelys imbricata hair comb"),
    ("la", "Tortoise shell hair comb", "Bekko hair comb"),
    ("la", "Tortoise shell hair comb", "Carey shell hair comb"),
    ("la", "Red coral bead necklace", "Corallium rubrum bead necklace"),
    ("la", "Rhino horn powder 10g", "Cornu Rhinocerotis powder 10 g"),
)  # fmt: skip
_WILDLIFE_OIL: tuple[Row, ...] = (
    ("Aquilaria agarwood oil 3 ml", "330129", "30", "150", "0.005", "0.010", "KH VN ID MY"),
)
WILDLIFE_LANGUAGE = {
    **_translated(WILDLIFE_GOODS, _WILDLIFE_LANGUAGE),
    "la": _translated(WILDLIFE_GOODS, _WILDLIFE_LATIN_ROWS)["la"]
    + products("wildlife", _WILDLIFE_OIL),
}

# ---------------------------------------------------------------- opioids

_OPIOID_SPELLINGS: dict[str, tuple[str, ...]] = {
    "Tramadol 225mg tablets": (
        "Tramad0l 225mg tablets", "Tram-adol 225 mg tabs", "Tramadoll 225mg", "Trama-dol 225mg pills",
    ),
    "Research chemical powder 10g": ("Reserch chem powder 10g", "R.C. powder 10g"),
    "Tablet press machine TDP-5": ("Tablet pres machine TDP5", "Tabl3t press TDP-5"),
    "Pill press die mould set": ("Pil press die mold set", "P1ll press die set"),
    "Fentanyl test strips": ("Fent@nyl test strips", "Fentanil test strips"),
}  # fmt: skip
_OPIOID_MISSPELT_ROWS: tuple[Row, ...] = (
    ("fent@nyl HCl 1g", "293333", "8", "40", "0.010", "0.012", "CN"),
    ("F3ntanyl powder 1g", "293333", "8", "40", "0.010", "0.012", "CN"),
)
OPIOID_MISSPELT = _respelt(OPIOID_GOODS, _OPIOID_SPELLINGS) + products(
    "opioids", _OPIOID_MISSPELT_ROWS
)

_OPIOID_LANGUAGE = (
    ("zh", "Tramadol 225mg tablets", "曲马多 225毫克 片剂"),
    ("zh", "Tablet press machine TDP-5", "单冲压片机 TDP-5"),
    ("es", "Tramadol 225mg tablets", "Tramadol 225 mg comprimidos"),
    ("es", "Tablet press machine TDP-5", "Máquina para prensar pastillas TDP-5"),
    ("pt", "Tramadol 225mg tablets", "Comprimidos de tramadol 225 mg"),
    ("fr", "Tramadol 225mg tablets", "Comprimés de tramadol 225 mg"),
    ("fr", "Pill press die mould set", "Jeu de poinçons pour presse à comprimés"),
    ("de", "Tramadol 225mg tablets", "Tramadol 225 mg Tabletten"),
    ("de", "Tablet press machine TDP-5", "Tablettenpresse TDP-5"),
    ("it", "Tramadol 225mg tablets", "Compresse di tramadolo 225 mg"),
    ("nl", "Tablet press machine TDP-5", "Tablettenpers TDP-5"),
    ("ru", "Tramadol 225mg tablets", "Трамадол 225 мг таблетки"),
    ("ru", "Tablet press machine TDP-5", "Таблеточный пресс TDP-5"),
    ("tr", "Tramadol 225mg tablets", "Tramadol 225 mg tablet"),
    ("ar", "Tramadol 225mg tablets", "أقراص ترامادول 225 ملغ"),
    ("ja", "Tramadol 225mg tablets", "トラマドール 225mg 錠剤"),
    ("ko", "Tramadol 225mg tablets", "트라마돌 225mg 정제"),
)  # fmt: skip
#: Trade names, nitazenes and fentanyl precursors (UNODC EWA; CND Table I listings).
_OPIOID_NAMES: tuple[Row, ...] = (
    ("Ultram 50 mg tablets", "300490", "10", "60", "0.03", "0.06", "IN US"),
    ("Tramal 100 mg capsules", "300490", "10", "60", "0.03", "0.06", "IN DE"),
    ("OxyContin 80 mg tablets", "300490", "20", "80", "0.03", "0.06", "IN US"),
    ("Isotonitazene powder 5 g", "293399", "10", "60", "0.005", "0.007", "CN"),
    ("Protonitazene 5 g", "293399", "10", "60", "0.005", "0.007", "CN"),
    ("Metonitazene research sample 5 g", "293399", "10", "60", "0.005", "0.007", "CN"),
    ("4-ANPP 10 g", "293339", "10", "50", "0.010", "0.012", "CN"),
    ("NPP (N-phenethyl-4-piperidone) 25 g", "293339", "10", "60", "0.025", "0.030", "CN"),
    ("1-boc-4-piperidone 100 g", "293339", "15", "70", "0.10", "0.11", "CN IN"),
    ("Tablet pressing machine, single punch", "847930", "40", "80", "18.00", "24.00", "CN"),
    ("TDP punch set 12 mm", "820730", "15", "60", "0.80", "1.50", "CN"),
)  # fmt: skip
OPIOID_LANGUAGE = {
    **_translated(OPIOID_GOODS, _OPIOID_LANGUAGE),
    "names": products("opioids", _OPIOID_NAMES),
}

# ---------------------------------------------------------------- hs_mismatch

#: Precious-metal jewellery with its hallmark (7113), declared as imitation jewellery.
_PRECIOUS: tuple[Row, ...] = (
    ("18K gold ring", "711319", "150", "600", "0.002", "0.006", "IT TR IN AE"),
    ("925 sterling silver necklace", "711311", "20", "120", "0.005", "0.030", "TH IN IT"),
    ("14k solid gold chain, 45 cm", "711319", "250", "900", "0.003", "0.010", "IT TR"),
    ("Au750 bracelet", "711319", "300", "1200", "0.005", "0.015", "IT DE TR"),
    ("Pt950 platinum band", "711319", "300", "900", "0.004", "0.008", "JP DE"),
    ("22K gold bangle", "711319", "400", "1500", "0.010", "0.020", "IN AE"),
    ("Sterling silver 925 hoop earrings", "711311", "15", "80", "0.003", "0.010", "TH CN"),
)  # fmt: skip
PRECIOUS_JEWELLERY = products("precious jewellery", _PRECIOUS)
#: Imitation-jewellery subheadings the precious goods are declared under.
IMITATION_CODES = ("711719", "711790")

_BY_DESCRIPTION = {p.description: p for p in CATALOGUE}
#: Clean catalogue goods in other languages: with the right code a trap, with another
#: chapter's code the hs_mismatch `language` variant.
_CATALOGUE_LANGUAGE = (
    ("zh", "Men's cotton T-shirt", "男士纯棉T恤"),
    ("zh", "Silicone phone case", "硅胶手机壳"),
    ("zh", "LED desk lamp", "LED台灯"),
    ("es", "Women's leather sandals", "Sandalias de piel para mujer"),
    ("es", "Ceramic coffee mug", "Taza de café de cerámica"),
    ("pt", "Cotton bath towel set", "Jogo de toalhas de banho de algodão"),
    ("pt", "Yoga mat", "Tapete de ioga"),
    ("fr", "Women's polyester summer dress", "Robe d'été femme en polyester"),
    ("fr", "Scented soy candle", "Bougie parfumée à la cire de soja"),
    ("de", "Men's denim jeans", "Herren Jeanshose"),
    ("de", "Stainless steel kitchen knife set", "Küchenmesser-Set aus Edelstahl"),
    ("de", "Bicycle helmet", "Fahrradhelm"),
    ("it", "Non-stick aluminium frying pan, 28 cm", "Padella antiaderente in alluminio, 28 cm"),
    ("it", "Roasted coffee beans 500 g", "Caffè in grani tostato 500 g"),
    ("nl", "Fleece throw blanket", "Fleece plaid deken"),
    ("nl", "Wireless computer mouse", "Draadloze computermuis"),
    ("ru", "Women's knitted acrylic jumper", "Женский вязаный свитер из акрила"),
    ("ru", "Plush teddy bear", "Плюшевый мишка"),
    ("tr", "Cotton bath towel set", "Pamuklu banyo havlusu seti"),
    ("tr", "Printed cotton bed sheet set", "Baskılı pamuklu nevresim takımı"),
    ("ar", "Men's cotton T-shirt", "تيشيرت رجالي قطني"),
    ("ar", "Ceramic coffee mug", "كوب قهوة من السيراميك"),
    ("ja", "Green tea, loose leaf 100 g", "緑茶 茶葉 100g"),
    ("ja", "Mechanical keyboard", "メカニカルキーボード"),
    ("ko", "Sheet face masks, pack of 10", "마스크팩 10매입"),
    ("ko", "Face moisturising cream", "수분 크림"),
)  # fmt: skip
CATALOGUE_LANGUAGE = _translated(tuple(_BY_DESCRIPTION.values()), _CATALOGUE_LANGUAGE)

# ---------------------------------------------------------------- category_abuse

#: "Medicine" and its translations: says what kind, not what (which substance, how much).
MEDICINE_WORDS = (
    "Medicine", "Pills", "Tablets", "Medication", "Medicamentos", "Médicaments",
    "Medikamente", "Medicinali", "Medicijnen", "Лекарства", "İlaç", "药品", "药片", "薬",
    "약", "أدوية",
)  # fmt: skip
MEDICINE_CODES = ("300490", "300450", "300410", "300439")
DOCUMENT_WORDS = ("Documents", "Papers", "Documentos", "Dokumente")

# ---------------------------------------------------------------- clean traps

_TRAPS: dict[str, tuple[Row, ...]] = {
    "trap_colour": (
        ("Ivory coloured satin wedding dress", "620443", "60", "250", "1.00", "2.00", "CN"),
        ("Coral pink lipstick", "330410", "4", "25", "0.02", "0.05", "CN FR KR"),
        ("Crocodile-embossed faux leather handbag", "420222", "15", "60", "0.50", "0.90", "CN"),
        ("Python print leggings", "610463", "8", "30", "0.15", "0.30", "CN VN"),
        ("Tortoiseshell-effect acetate glasses frame", "900311", "10", "60", "0.02", "0.04", "CN IT"),
        ("Ivory white cotton tablecloth", "630251", "10", "40", "0.40", "0.80", "IN CN PK"),
        ("Leopard print faux fur throw", "630140", "15", "45", "0.80", "1.50", "CN"),
        ("Snake print silicone phone case", "392690", "4", "15", "0.03", "0.06", "CN"),
    ),
    "trap_negation": (
        ("Battery-free kitchen timer", "910690", "4", "15", "0.05", "0.10", "CN DE"),
        ("Nicotine-free herbal tea", "121190", "4", "15", "0.05", "0.15", "DE GB PL"),
        ("Alcohol-free solid perfume balm", "330300", "10", "35", "0.02", "0.05", "FR GB"),
        ("Remote control car, batteries not included", "950300", "15", "60", "0.40", "1.00", "CN"),
        ("Sugar-free chewing gum, 10 packs", "170410", "4", "12", "0.20", "0.30", "DE US"),
        ("Fluoride-free toothpaste", "330610", "3", "10", "0.10", "0.15", "DE GB"),
        ("Mercury-free glass fever thermometer", "902511", "4", "12", "0.02", "0.04", "DE CN"),
    ),
    "trap_compatibility": (
        ("Phone case for iPhone 15", "392690", "4", "20", "0.03", "0.06", "CN"),
        ("Silicone strap compatible with Apple Watch", "911390", "4", "15", "0.02", "0.04", "CN"),
        ("Replacement ear tips for AirPods Pro", "851890", "4", "12", "0.01", "0.02", "CN"),
        ("Screen protector for Samsung Galaxy S24", "700719", "3", "12", "0.02", "0.05", "CN"),
        ("Toner cartridge compatible with HP LaserJet", "844399", "15", "50", "0.60", "1.00", "CN"),
        ("Carrying case for Sony WH-1000XM5 headphones", "420292", "8", "25", "0.15", "0.25", "CN"),
    ),
    "trap_about": (
        ("Book: A History of the Ivory Trade", "490199", "10", "30", "0.40", "0.80", "GB US"),
        ("Poster of vintage Rolex advertisements", "491191", "5", "25", "0.10", "0.20", "GB US"),
        ("Children's book about pangolins", "490300", "5", "20", "0.20", "0.50", "GB US"),
        ("Seahorse plush toy", "950300", "8", "25", "0.10", "0.30", "CN"),
        ("Documentary DVD on the opioid crisis", "852349", "5", "20", "0.08", "0.12", "US GB"),
        ("Shark plush toy", "950300", "8", "25", "0.15", "0.40", "CN"),
        ("Board game: Rhino Rangers wildlife patrol", "950490", "15", "40", "0.60", "1.20", "DE CN"),
    ),
    "trap_plated": (
        ("Gold-plated brass hoop earrings", "711719", "4", "25", "0.01", "0.03", "CN IN"),
        ("Silver-plated brass chain necklace", "711719", "4", "25", "0.02", "0.05", "CN IN"),
        ("18K gold-plated brass pendant necklace", "711719", "5", "30", "0.01", "0.04", "CN"),
        ("Rhodium-plated brass cuff bracelet", "711719", "5", "25", "0.02", "0.05", "CN TH"),
        ("Gold-plated stainless steel ring", "711719", "4", "20", "0.005", "0.02", "CN"),
    ),
}  # fmt: skip
TRAP_GOODS: dict[str, tuple[Product, ...]] = {
    kind: products(kind, rows) for kind, rows in _TRAPS.items()
}
