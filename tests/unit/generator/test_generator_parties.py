"""Parties: locale-true, within XSD limits, E.123 phones, reused from pools."""

import os
import random
import subprocess
import sys
from collections import Counter

import pytest

from adapters.generator.geography import COUNTRIES, DESTINATIONS, ORIGINS
from adapters.generator.parties import (
    PartyFactory,
    PartyPool,
    e123_phone,
    fit,
    legacy_address,
)
from messages.codes import is_country
from messages.rulebook import garbage_reason, phone_problem


@pytest.fixture(scope="module")
def factory() -> PartyFactory:
    return PartyFactory()


def test_every_country_is_known_and_routed() -> None:
    assert set(ORIGINS) | set(DESTINATIONS) <= set(COUNTRIES)
    assert all(is_country(code) for code in COUNTRIES)


@pytest.mark.parametrize("country", sorted(COUNTRIES))
def test_parties_are_clean_and_fit_the_schema(factory: PartyFactory, country: str) -> None:
    rng = random.Random(f"parties-{country}")
    for n in range(12):
        party = factory.seller(country, rng) if n % 2 else factory.person(country, rng)
        address = party.address
        assert address is not None and address.country == country
        assert party.name or party.business_name
        for text, limit in (
            (party.name, 70),
            (party.business_name, 70),
            (address.street, 70),
            (address.house_number, 35),
            (address.postcode, 20),
            (address.city, 50),
            (address.region, 50),
        ):
            assert text is None or (0 < len(text) <= limit and text == text.strip())
        for text in (party.name, party.business_name, address.city):
            assert text is None or garbage_reason(text) is None, text
        assert party.phone is None or phone_problem(party.phone) is None, party.phone
        assert party.email is None or party.email.isascii() and "@" in party.email
        legacy = legacy_address(address)
        assert legacy.street is None and legacy.region is None
        assert 1 <= len(legacy.lines) <= 4 and all(len(line) <= 70 for line in legacy.lines)


@pytest.mark.parametrize("country", sorted(COUNTRIES))
def test_phones_are_e123(country: str) -> None:
    rng = random.Random(country)
    for _ in range(20):
        phone = e123_phone(country, rng)
        assert phone.startswith("+") and phone_problem(phone) is None, phone


def test_same_rng_gives_same_party(factory: PartyFactory) -> None:
    first = factory.person("DE", random.Random(5))
    factory.person("FR", random.Random(9))  # other use of the shared Faker in between
    assert factory.person("DE", random.Random(5)) == first


def test_pool_reuses_recent_parties(factory: PartyFactory) -> None:
    pool = PartyPool(factory.person, reuse=0.7)
    rng = random.Random(1)
    picks = [pool.pick("NL", rng) for _ in range(200)]
    distinct = {(p.name, p.address.postcode if p.address else None) for p in picks}
    assert 30 < len(distinct) < 110  # about 3 items per addressee


def test_pool_picks_a_party_at_most_uses_times(factory: PartyFactory) -> None:
    pool = PartyPool(factory.person, reuse=0.9, uses=2)
    rng = random.Random(1)
    picks = [pool.pick("NL", rng) for _ in range(200)]
    per_party = Counter(id(party) for party in picks)  # `picks` keeps every party alive
    assert max(per_party.values()) == 2
    assert len(per_party) < 150  # still reused: about half the picks are repeats


def test_fit_cuts_and_blanks() -> None:
    assert fit("  abc  ", 2) == "ab"
    assert fit("   ", 5) is None
    assert fit(None, 5) is None


def test_parties_do_not_depend_on_the_hash_seed() -> None:
    """Faker builds some lists from sets (it_IT cities); the factory must hide that."""
    code = (
        "import random\n"
        "from adapters.generator.geography import COUNTRIES\n"
        "from adapters.generator.parties import PartyFactory\n"
        "f = PartyFactory()\n"
        "for c in sorted(COUNTRIES):\n"
        "    rng = random.Random(c)\n"
        "    for _ in range(5):\n"
        "        print(f.person(c, rng).model_dump_json(), f.seller(c, rng).model_dump_json())\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in ("1", "2")
    }
    assert len(outputs) == 1
