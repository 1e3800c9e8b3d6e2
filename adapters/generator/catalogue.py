"""A catalogue of everyday cross-border e-commerce goods, as sellers declare them.

Realistic traffic needs descriptions a marketplace seller would type, an HS
2022 subheading that really exists (a made-up code would be an HS_UNKNOWN
defect, not clean data), plausible unit prices and weights (so value-per-kg
rules see a believable distribution) and the countries such goods usually
come from. Clean goods carry no risk signal of their own: no brand names,
nothing posts refuse (loose lithium cells, power banks, vapes, alcohol-based
perfume), and no goods of
the headings counterfeiters favour (shoes, bags, jewellery, watches, perfume,
audio) at under 3 EUR a unit (prices start at 4 EUR there, so a shop's 3.99 is
the lowest); those belong to the risk scenarios (scenario_goods.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Product:
    """One catalogue line: unit value in EUR and unit net weight in kg are ranges."""

    group: str
    description: str
    hs_code: str
    value_eur: tuple[Decimal, Decimal]
    weight_kg: tuple[Decimal, Decimal]
    origins: tuple[str, ...]


# group, description, HS 2022 subheading, EUR low, EUR high, kg low, kg high, origins
_ROWS: tuple[tuple[str, str, str, str, str, str, str, str], ...] = (
    # apparel
    ("apparel", "Men's cotton T-shirt", "610910", "5", "25", "0.15", "0.25", "CN BD VN TR IN"),
    ("apparel", "Women's cotton T-shirt", "610910", "5", "25", "0.12", "0.22", "CN BD VN TR"),
    ("apparel", "Women's knitted acrylic jumper", "611030", "12", "45", "0.30", "0.60", "CN TR"),
    ("apparel", "Men's cotton hoodie", "611020", "15", "50", "0.40", "0.70", "CN PK TR BD"),
    ("apparel", "Women's polyester summer dress", "610443", "10", "60", "0.20", "0.40", "CN VN"),
    ("apparel", "Men's denim jeans", "620342", "15", "70", "0.50", "0.80", "CN BD PK TR"),
    ("apparel", "Women's leggings, elastane blend", "610463", "8", "30", "0.15", "0.30", "CN VN"),
    ("apparel", "Cotton socks, pack of 5", "611595", "4", "15", "0.10", "0.25", "CN TR PK"),
    ("apparel", "Men's waterproof rain jacket", "620140", "25", "90", "0.40", "0.80", "CN VN"),
    ("apparel", "Women's silk scarf", "621410", "5", "40", "0.05", "0.10", "CN IT IN"),
    ("apparel", "Baby cotton bodysuit set", "611120", "8", "25", "0.10", "0.30", "CN BD IN"),
    ("apparel", "Knitted winter beanie hat", "650500", "5", "20", "0.05", "0.10", "CN"),
    ("apparel", "Women's cotton bra", "621210", "8", "30", "0.05", "0.10", "CN VN TH"),
    ("apparel", "Men's swim shorts", "621111", "8", "30", "0.10", "0.20", "CN VN"),
    ("apparel", "Knitted cycling gloves", "611693", "5", "25", "0.05", "0.10", "CN PK"),
    ("apparel", "Men's leather belt", "420330", "10", "40", "0.10", "0.20", "CN IN IT TR"),
    # shoes
    ("shoes", "Men's running shoes", "640411", "25", "120", "0.60", "1.00", "CN VN ID"),
    ("shoes", "Women's leather ankle boots", "640391", "40", "150", "0.80", "1.30", "CN IT PT"),
    ("shoes", "Rubber flip-flops", "640220", "4", "15", "0.20", "0.40", "CN BR TH"),
    ("shoes", "Children's canvas sneakers", "640419", "15", "40", "0.30", "0.60", "CN VN"),
    ("shoes", "Women's leather sandals", "640399", "20", "80", "0.40", "0.70", "CN IT ES IN"),
    # electronics
    ("electronics", "Wireless earbuds with charging case", "851830", "15", "150", "0.05", "0.15", "CN VN"),
    ("electronics", "Portable Bluetooth speaker", "851822", "20", "120", "0.30", "0.90", "CN"),
    ("electronics", "Smartphone, 128 GB", "851713", "150", "900", "0.15", "0.25", "CN VN IN KR"),
    ("electronics", "USB-C charging cable, 1 m", "854442", "3", "15", "0.03", "0.06", "CN"),
    ("electronics", "HDMI cable, 2 m", "854442", "4", "15", "0.08", "0.15", "CN"),
    ("electronics", "USB wall charger 20 W", "850440", "8", "30", "0.05", "0.10", "CN"),
    ("electronics", "Smartwatch with heart-rate sensor", "851762", "30", "250", "0.05", "0.10", "CN"),
    ("electronics", "Fitness tracker band", "851762", "15", "80", "0.03", "0.06", "CN"),
    ("electronics", "Wi-Fi router, dual band", "851762", "25", "150", "0.30", "0.60", "CN VN TW"),
    ("electronics", "Wireless computer mouse", "847160", "8", "40", "0.08", "0.15", "CN"),
    ("electronics", "Mechanical keyboard", "847160", "25", "120", "0.70", "1.20", "CN TW"),
    ("electronics", "Graphics drawing tablet", "847160", "30", "200", "0.40", "0.90", "CN TW"),
    ("electronics", "USB flash drive 64 GB", "852351", "5", "25", "0.01", "0.03", "CN TW"),
    ("electronics", "microSD memory card 128 GB", "852351", "8", "30", "0.005", "0.010", "CN TW KR"),
    ("electronics", "Portable SSD 1 TB", "847170", "50", "150", "0.05", "0.10", "CN TW MY"),
    ("electronics", "Tablet computer, 10 inch", "847130", "90", "500", "0.40", "0.60", "CN VN"),
    ("electronics", "E-book reader", "847130", "70", "250", "0.17", "0.25", "CN"),
    ("electronics", "Computer monitor, 27 inch", "852852", "120", "400", "5.00", "7.00", "CN KR"),
    ("electronics", "Action camera 4K", "852589", "40", "250", "0.10", "0.20", "CN"),
    ("electronics", "Car dash camera", "852589", "25", "120", "0.10", "0.25", "CN"),
    ("electronics", "Camera lens 50 mm", "900211", "80", "400", "0.20", "0.50", "JP CN TH"),
    ("electronics", "Drone with camera", "880622", "60", "400", "0.30", "1.50", "CN"),
    ("electronics", "Gaming controller for PC", "950450", "20", "70", "0.20", "0.35", "CN"),
    ("electronics", "Video game, disc edition", "852349", "20", "70", "0.08", "0.12", "JP US DE"),
    ("electronics", "Smart Wi-Fi plug", "853650", "8", "20", "0.08", "0.12", "CN"),
    ("electronics", "LED smart light bulb", "853952", "5", "20", "0.05", "0.10", "CN"),
    ("electronics", "LED desk lamp", "940521", "15", "60", "0.50", "1.20", "CN"),
    ("electronics", "LED strip lights, 5 m", "940542", "8", "30", "0.20", "0.40", "CN"),
    ("electronics", "Electric toothbrush", "850980", "20", "90", "0.20", "0.40", "CN DE"),
    ("electronics", "Hair straightener", "851632", "15", "80", "0.30", "0.60", "CN"),
    ("electronics", "Electric hair clipper", "851020", "10", "50", "0.20", "0.50", "CN"),
    ("electronics", "Digital kitchen scale", "842310", "8", "30", "0.40", "0.80", "CN"),
    # phone accessories
    ("phone accessories", "Silicone phone case", "392690", "2", "20", "0.03", "0.06", "CN"),
    ("phone accessories", "Tempered glass screen protector", "700719", "2", "12", "0.02", "0.05", "CN"),
    ("phone accessories", "Fabric phone pouch with card slots", "420232", "5", "25", "0.04", "0.08", "CN"),
    ("phone accessories", "Car phone holder, metal clamp", "830230", "5", "20", "0.10", "0.20", "CN"),
    ("phone accessories", "Selfie stick with tripod", "962000", "8", "25", "0.20", "0.40", "CN"),
    # cosmetics
    ("cosmetics", "Face moisturising cream", "330499", "5", "45", "0.05", "0.25", "KR FR CN US"),
    ("cosmetics", "Sunscreen lotion SPF 50", "330499", "6", "30", "0.10", "0.25", "KR FR AU"),
    ("cosmetics", "Sheet face masks, pack of 10", "330499", "5", "25", "0.20", "0.30", "KR CN"),
    ("cosmetics", "Matte lipstick", "330410", "3", "30", "0.02", "0.05", "CN FR KR"),
    ("cosmetics", "Eye shadow palette", "330420", "5", "40", "0.05", "0.15", "CN KR US"),
    # Not nail polish: a flammable liquid (UN 1263) many posts refuse in air mail.
    ("cosmetics", "Manicure tool set", "821420", "5", "25", "0.10", "0.30", "CN DE"),
    # Not eau de parfum: alcohol-based perfume is a flammable liquid (UN 1266, ICAO TI),
    # refused in air mail; a solid balm under the same heading is not.
    ("cosmetics", "Solid perfume balm 15 g", "330300", "10", "35", "0.02", "0.05", "FR GB US"),
    ("cosmetics", "Shampoo 400 ml", "330510", "3", "15", "0.40", "0.50", "FR DE JP"),
    ("cosmetics", "Argan hair oil serum", "330590", "5", "25", "0.10", "0.20", "MA FR CN"),
    ("cosmetics", "Makeup brush set", "960330", "5", "30", "0.10", "0.30", "CN"),
    ("cosmetics", "Safety razor with blades", "821210", "5", "25", "0.05", "0.15", "CN DE US"),
    ("cosmetics", "Synthetic false eyelashes", "670419", "2", "15", "0.01", "0.03", "CN KR"),
    # toys
    ("toys", "Plastic building blocks set", "950300", "10", "80", "0.30", "1.50", "CN DK"),
    ("toys", "Plush teddy bear", "950300", "8", "40", "0.15", "0.60", "CN"),
    ("toys", "Remote control car", "950300", "15", "80", "0.40", "1.20", "CN"),
    ("toys", "Jigsaw puzzle, 1000 pieces", "950300", "8", "25", "0.50", "0.80", "CN DE"),
    ("toys", "Wooden chess set", "950490", "15", "60", "0.60", "1.50", "IN CN"),
    ("toys", "Family board game", "950490", "15", "50", "0.60", "1.50", "CN DE US"),
    ("toys", "Playing cards, two decks", "950440", "3", "12", "0.10", "0.20", "CN US"),
    ("toys", "Trading card booster pack", "950440", "3", "10", "0.02", "0.04", "JP US BE"),
    ("toys", "Christmas tree ornaments set", "950510", "5", "30", "0.20", "0.60", "CN"),
    ("toys", "Party balloons, pack of 50", "950590", "3", "10", "0.15", "0.25", "CN"),
    # books and stationery
    ("books", "Paperback novel", "490199", "5", "20", "0.20", "0.50", "GB US DE"),
    ("books", "Hardcover cookbook", "490199", "15", "40", "0.80", "1.40", "GB US IT"),
    ("books", "Children's picture book", "490300", "5", "20", "0.20", "0.60", "GB CN"),
    ("books", "Wall calendar 2027", "491000", "5", "20", "0.20", "0.40", "CN DE"),
    ("books", "A5 lined notebook", "482020", "3", "15", "0.15", "0.30", "CN JP"),
    ("books", "Gel pens, pack of 12", "960810", "3", "12", "0.10", "0.20", "CN JP"),
    ("books", "Acrylic paint set, 24 colours", "321310", "8", "30", "0.30", "0.60", "CN"),
    ("books", "Cross-stitch embroidery kit", "630800", "8", "30", "0.20", "0.40", "CN"),
    ("books", "Merino wool knitting yarn, 100 g", "510910", "5", "15", "0.10", "0.11", "PE TR IT"),
    # jewellery
    ("jewellery", "Sterling silver necklace", "711311", "15", "120", "0.01", "0.05", "TH IN CN IT"),
    ("jewellery", "Silver ring with cubic zirconia", "711311", "10", "80", "0.005", "0.02", "TH CN"),
    ("jewellery", "Gold-plated hoop earrings", "711719", "4", "30", "0.01", "0.03", "CN IN"),
    ("jewellery", "Stainless steel bracelet", "711719", "4", "25", "0.02", "0.06", "CN"),
    ("jewellery", "Glass bead bracelet", "711790", "4", "15", "0.01", "0.05", "CN IN"),
    ("jewellery", "Plastic hair clips set", "961511", "2", "12", "0.03", "0.10", "CN"),
    # kitchenware
    ("kitchenware", "Stainless steel kitchen knife set", "821110", "20", "120", "0.80", "2.00", "CN DE JP"),
    ("kitchenware", "Non-stick aluminium frying pan, 28 cm", "761510", "15", "60", "0.90", "1.50", "CN IT"),
    ("kitchenware", "Silicone baking mat", "392410", "4", "15", "0.10", "0.20", "CN"),
    ("kitchenware", "Silicone kitchen utensil set", "392410", "8", "30", "0.40", "0.80", "CN"),
    ("kitchenware", "Ceramic coffee mug", "691200", "5", "20", "0.30", "0.45", "CN PT"),
    ("kitchenware", "Porcelain dinner plate set", "691110", "15", "60", "2.00", "4.00", "CN DE"),
    ("kitchenware", "Glass food storage containers", "701349", "15", "40", "1.00", "2.50", "CN TR"),
    ("kitchenware", "Stainless steel water bottle", "732393", "10", "35", "0.30", "0.50", "CN"),
    ("kitchenware", "Bamboo cutting board", "441911", "8", "30", "0.50", "1.20", "CN VN"),
    ("kitchenware", "Manual coffee grinder", "821000", "15", "50", "0.30", "0.70", "CN JP"),
    ("kitchenware", "Electric kettle 1.7 l", "851679", "15", "50", "0.90", "1.40", "CN"),
    ("kitchenware", "Espresso machine", "851671", "60", "300", "3.00", "8.00", "CN IT CH"),
    # tools
    ("tools", "Cordless drill driver 18 V", "846721", "40", "150", "1.20", "2.50", "CN DE"),
    ("tools", "Precision screwdriver set", "820540", "8", "30", "0.20", "0.50", "CN TW"),
    ("tools", "Adjustable spanner", "820412", "6", "25", "0.20", "0.50", "CN DE"),
    ("tools", "Digital multimeter", "903031", "10", "60", "0.20", "0.40", "CN"),
    ("tools", "Tape measure 5 m", "901780", "3", "15", "0.15", "0.30", "CN"),
    ("tools", "Soldering iron kit", "851511", "10", "40", "0.30", "0.80", "CN"),
    ("tools", "LED head torch", "851310", "5", "30", "0.08", "0.20", "CN"),
    ("tools", "Garden hose with fittings, 15 m", "391733", "15", "40", "1.50", "2.50", "CN IT"),
    # sports
    ("sports", "Yoga mat", "950691", "10", "40", "0.80", "1.50", "CN TW"),
    ("sports", "Resistance bands set", "950691", "5", "25", "0.20", "0.50", "CN"),
    ("sports", "Bicycle LED light set", "851210", "8", "30", "0.10", "0.20", "CN"),
    ("sports", "Bicycle saddle", "871495", "10", "40", "0.30", "0.50", "CN TW IT"),
    ("sports", "Bicycle floor pump", "841420", "8", "30", "0.80", "1.50", "CN TW"),
    ("sports", "Bicycle helmet", "650610", "20", "90", "0.25", "0.40", "CN"),
    ("sports", "Fishing reel", "950730", "15", "80", "0.20", "0.40", "CN JP"),
    ("sports", "Fishing lures set", "950790", "5", "25", "0.10", "0.30", "CN"),
    ("sports", "Tennis balls, can of 3", "950661", "4", "12", "0.17", "0.20", "TH PH"),
    ("sports", "Football, size 5", "950662", "10", "40", "0.40", "0.45", "PK CN"),
    ("sports", "Swimming goggles", "900490", "5", "20", "0.03", "0.08", "CN"),
    ("sports", "Two-person camping tent", "630622", "40", "150", "2.00", "3.50", "CN VN"),
    ("sports", "Sleeping bag", "940430", "15", "60", "1.00", "1.80", "CN"),
    ("sports", "Binoculars 10x42", "900510", "30", "150", "0.60", "0.90", "CN JP"),
    # auto parts
    ("auto parts", "Car brake pads set", "870830", "20", "80", "1.00", "2.00", "CN DE TR"),
    ("auto parts", "LED headlight bulbs H7, pair", "851220", "15", "60", "0.20", "0.40", "CN"),
    ("auto parts", "Windscreen wiper blades, pair", "851240", "8", "30", "0.30", "0.50", "CN"),
    ("auto parts", "Engine air filter", "842131", "8", "30", "0.20", "0.50", "CN DE"),
    ("auto parts", "Spark plugs, set of 4", "851110", "10", "40", "0.20", "0.30", "JP CN DE"),
    ("auto parts", "Motorcycle helmet", "650610", "40", "200", "1.20", "1.70", "CN IT"),
    # supplements and food
    ("supplements", "Vitamin D3 capsules, 120 count", "210690", "8", "30", "0.10", "0.20", "US GB DE"),
    ("supplements", "Collagen peptide supplement, 300 g", "210690", "15", "45", "0.30", "0.50", "US KR"),
    ("supplements", "Whey protein isolate 1 kg", "210610", "20", "50", "1.00", "1.20", "US GB DE"),
    ("supplements", "Fish oil omega-3 softgels", "150420", "10", "30", "0.15", "0.30", "US NO"),
    ("supplements", "Green tea, loose leaf 100 g", "090210", "5", "25", "0.10", "0.15", "CN JP"),
    ("supplements", "Roasted coffee beans 500 g", "090121", "10", "30", "0.50", "0.55", "IT BR CO"),
    # pet supplies
    ("pet supplies", "Nylon dog collar with leash", "420100", "5", "30", "0.10", "0.30", "CN"),
    ("pet supplies", "Pet grooming brush", "960329", "4", "20", "0.10", "0.20", "CN"),
    ("pet supplies", "Dry cat food 2 kg", "230910", "8", "25", "2.00", "2.10", "FR DE US"),
    ("pet supplies", "Rubber dog chew toy", "401699", "3", "15", "0.10", "0.30", "CN"),
    ("pet supplies", "Aquarium air pump", "841480", "8", "30", "0.30", "0.60", "CN"),
    ("pet supplies", "Plush pet bed", "940490", "15", "50", "0.80", "2.00", "CN"),
    # home decor and textiles
    ("home decor", "Scented soy candle", "340600", "5", "30", "0.20", "0.50", "CN US GB"),
    ("home decor", "Cotton cushion cover", "630492", "5", "20", "0.10", "0.20", "IN CN"),
    ("home decor", "Wooden picture frame", "441490", "5", "25", "0.30", "0.80", "CN"),
    ("home decor", "Ceramic flower vase", "691390", "10", "40", "0.50", "1.50", "CN PT"),
    ("home decor", "Artificial plant in pot", "670210", "8", "35", "0.30", "1.00", "CN"),
    ("home decor", "Quartz wall clock", "910521", "10", "40", "0.50", "1.00", "CN"),
    ("home decor", "Blackout curtains, pair", "630392", "15", "50", "1.00", "2.00", "CN IN"),
    ("home decor", "Cotton bath towel set", "630260", "15", "45", "0.80", "1.60", "TR IN PK"),
    ("home decor", "Printed cotton bed sheet set", "630221", "20", "70", "1.00", "2.00", "IN PK TR"),
    ("home decor", "Fleece throw blanket", "630140", "10", "40", "0.80", "1.50", "CN"),
    ("home decor", "LED fairy lights for Christmas tree", "940531", "5", "25", "0.10", "0.30", "CN"),
    ("home decor", "Microfibre cleaning cloths, pack of 10", "630710", "4", "15", "0.20", "0.40", "CN"),
    ("home decor", "Shower head with filter", "848180", "10", "35", "0.30", "0.50", "CN"),
    # bags
    ("bags", "Women's leather handbag", "420221", "30", "200", "0.60", "1.20", "CN IT IN"),
    ("bags", "Canvas backpack", "420292", "15", "60", "0.50", "0.90", "CN VN"),
    ("bags", "Nylon toiletry bag", "420292", "5", "20", "0.10", "0.25", "CN"),
    ("bags", "Laptop sleeve, 15 inch", "420212", "10", "35", "0.20", "0.40", "CN"),
    ("bags", "Hard-shell carry-on suitcase", "420212", "40", "150", "2.50", "3.50", "CN"),
    ("bags", "Men's leather wallet", "420231", "10", "60", "0.08", "0.15", "CN IN IT"),
    # watches and eyewear
    ("watches", "Men's quartz wristwatch, stainless steel", "910211", "20", "200", "0.08", "0.15", "CN JP CH"),
    ("watches", "Women's quartz watch with leather strap", "910211", "20", "150", "0.05", "0.10", "CN JP"),
    ("watches", "Automatic mechanical wristwatch", "910221", "100", "600", "0.10", "0.20", "JP CH CN"),
    ("watches", "Leather watch strap", "911390", "5", "25", "0.02", "0.04", "CN IT"),
    ("eyewear", "Polarised sunglasses", "900410", "5", "60", "0.03", "0.06", "CN IT"),
    # health and baby
    ("health", "Digital fever thermometer", "902519", "5", "20", "0.03", "0.06", "CN"),
    ("health", "Upper-arm blood pressure monitor", "901890", "20", "70", "0.30", "0.60", "CN JP"),
    ("health", "Disposable face masks, pack of 50", "630790", "5", "15", "0.20", "0.30", "CN"),
    ("baby", "Baby feeding bottle", "392490", "5", "20", "0.10", "0.20", "CN TH"),
    ("baby", "Disposable baby nappies, size 4", "961900", "20", "35", "1.00", "2.00", "PL DE JP"),
    # music and misc
    ("music", "Acoustic guitar strings", "920930", "5", "20", "0.03", "0.06", "US CN"),
    ("music", "Soprano ukulele", "920290", "25", "80", "0.60", "1.00", "CN ID"),
    ("misc", "Folding umbrella", "660191", "8", "30", "0.30", "0.50", "CN"),
)  # fmt: skip


def _product(row: tuple[str, str, str, str, str, str, str, str]) -> Product:
    group, description, hs_code, v_lo, v_hi, w_lo, w_hi, origins = row
    return Product(
        group=group,
        description=description,
        hs_code=hs_code,
        value_eur=(Decimal(v_lo), Decimal(v_hi)),
        weight_kg=(Decimal(w_lo), Decimal(w_hi)),
        origins=tuple(origins.split()),
    )


#: The whole catalogue, in a fixed order (generation picks by index, so order is part of
#: reproducibility).
CATALOGUE: tuple[Product, ...] = tuple(_product(row) for row in _ROWS)
