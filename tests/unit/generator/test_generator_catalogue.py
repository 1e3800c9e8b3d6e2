"""The catalogue is real data: HS 2022 subheadings that exist, ISO origins, sane ranges."""

from adapters.generator.catalogue import CATALOGUE
from messages import hs
from messages.codes import is_country
from messages.rulebook import garbage_reason, is_vague

GROUPS = {
    "apparel", "shoes", "electronics", "phone accessories", "cosmetics", "toys", "books",
    "jewellery", "kitchenware", "tools", "sports", "auto parts", "supplements",
    "pet supplies", "home decor", "bags", "watches",
}  # fmt: skip


def test_catalogue_is_large_and_covers_every_group() -> None:
    assert len(CATALOGUE) >= 120
    assert GROUPS <= {p.group for p in CATALOGUE}


def test_every_hs_code_is_an_hs_2022_subheading() -> None:
    unknown = [(p.description, p.hs_code) for p in CATALOGUE if not hs.is_subheading(p.hs_code)]
    assert unknown == []


def test_descriptions_are_specific_and_unique() -> None:
    descriptions = [p.description for p in CATALOGUE]
    assert len(set(descriptions)) == len(descriptions)
    for text in descriptions:
        assert not is_vague(text, "SALE_OF_GOODS"), text
        assert garbage_reason(text) is None, text
        assert len(text) <= 200


def test_ranges_and_origins_are_plausible() -> None:
    for product in CATALOGUE:
        low, high = product.value_eur
        assert 0 < low < high <= 1000, product
        light, heavy = product.weight_kg
        assert 0 < light < heavy <= 10, product
        assert product.origins and all(is_country(c) for c in product.origins), product
