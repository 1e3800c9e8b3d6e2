"""Golden tests of the matching primitives: normalisation, misspellings, context, parties."""

from __future__ import annotations

import pytest

from messages.canonical import PartyRecord
from risk.context import CONTEXT_KINDS, Contexts
from risk.fuzzy import FuzzyVocabulary, allowed_edits
from risk.lists import KeywordChapters, word_matcher
from risk.matcher import TermMatcher
from risk.normalise import leet_reading, tokens
from risk.parties import address_block, person_words, phone_digits, same_person
from risk.wordlists import contexts, packaged, packaged_names

CONTEXTS = Contexts.from_terms(
    {
        "negation_before": ["no", "without", "free of"],
        "negation_after": ["free", "not included"],
        "colour_before": ["faux", "imitation"],
        "colour_after": ["coloured", "pink", "print", "effect"],
        "compatibility_before": ["for", "compatible with"],
        "about_markers": ["book", "poster", "plush"],
    }
)
ALL = frozenset(CONTEXT_KINDS)


def matcher(*terms: str, kinds: frozenset = ALL, **options: object) -> TermMatcher:
    return TermMatcher(terms, contexts=CONTEXTS, kinds=kinds, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("G U C C I belt", ("gucci", "belt")),
        ("L.V. bag", ("lv", "bag")),
        ("Ro-lex", ("rolex",)),
        ("ＲＯＬＥＸ", ("rolex",)),  # full-width letters (NFKC)
        ("象牙", ("h8c61", "h7259")),  # one token per Han character, as itself
        ("산", ("kc0b0",)),  # Hangul reads "san" like 傘, but is its own character
        ("Слоновая кость", ("slonovaya", "kost")),
        ("1:1 copy", ("1:1", "copy")),
    ],
)
def test_tokens_undo_the_usual_disguises(text: str, words: tuple[str, ...]) -> None:
    assert tokens(text).words == words


def test_clauses_stop_at_punctuation() -> None:
    read = tokens("Drone without case, lithium battery")
    assert read.clauses[read.words.index("without")] != read.clauses[read.words.index("lithium")]


@pytest.mark.parametrize(
    ("word", "reading"),
    [("r0lex", "rolex"), ("n1ke", "nike"), ("fent@nyl", "fentanyl"), ("18k", None),
     ("100ml", None), ("cr2032", None), ("18650", None), ("rolex", None)],
)  # fmt: skip
def test_leet_digits_are_read_only_inside_words(word: str, reading: str | None) -> None:
    assert leet_reading(word) == reading


def test_edit_distance_grows_with_length() -> None:
    assert [allowed_edits(n) for n in (3, 4, 5, 9, 10, 12)] == [0, 0, 1, 1, 2, 2]
    vocabulary = FuzzyVocabulary(["rolex", "chanel", "lithium"], frozenset({"channel"}))
    assert vocabulary.near("rollex") == ("rolex",)
    assert vocabulary.near("lithum") == ("lithium",)
    assert vocabulary.near("channel") == ()  # an ordinary word is taken as written
    assert vocabulary.near("nike") == ()


@pytest.mark.parametrize(
    ("token", "near"),
    [
        ("rolx", ("rolex",)),  # four letters: one left out of a five-letter word
        ("gucc", ("gucci",)),
        ("pyhton", ("python",)),  # two neighbours swapped: one edit (OSA)
        ("phyton", ("python",)),  # the same letters, one moved
        ("nike", ()),  # four letters, same length: no edit at all
        ("bike", ()),
        ("role", ()),  # an ordinary word is never stretched to a list word
        ("nothyp", ()),  # the same letters, but not one moved and a different first letter
    ],
)
def test_typist_slips_are_read_within_their_bounds(token: str, near: tuple[str, ...]) -> None:
    vocabulary = FuzzyVocabulary(["rolex", "gucci", "python", "nike"], frozenset({"role"}))
    assert vocabulary.near(token) == near


@pytest.mark.parametrize(
    ("description", "expected"),
    [
        ("Sunglasses, polarised", ("90",)),
        ("Sunglasses case, hard shell", ()),  # the goods are the case
        ("Perfume bottle, empty glass", ()),
        ("Laptop bag 15 inch", ()),
        ("Laptop 15 inch", ("84",)),
        ("Étui pour lunettes de soleil", ()),  # the container first, with a preposition
    ],
)
def test_a_container_after_a_goods_word_is_the_goods(
    description: str, expected: tuple[str, ...]
) -> None:
    chapters = KeywordChapters(
        {"_include": ["goods_keywords"], "sunglasses": ["90"], "perfume": ["33"], "laptop": ["84"]}
    )
    assert chapters.expected(description) == expected


@pytest.mark.parametrize(
    ("text", "how"),
    [
        ("Rolex Submariner", "exact"),
        ("R0lex Submariner", "leet"),
        ("Rollex watch", "misspelt"),
        ("Powerbank 20000", "joined"),
        ("power-bank", "joined"),
        ("Pover bank 10000", "misspelt"),
    ],
)
def test_spelling_variants_match_and_say_how(text: str, how: str) -> None:
    found = matcher("rolex", "power bank").find_match(text)
    assert found is not None and found.how == how
    if how != "exact":
        assert "read as" in found.explain()


@pytest.mark.parametrize(
    "text",
    [
        "Ivory coloured dress",  # colour
        "Coral pink lipstick",  # colour
        "Faux crocodile handbag",  # imitation
        "Python print leggings",  # pattern
        "Batteries not included",  # negation after
        "Toy car without battery",  # negation before
        "Case for iPhone 15",  # compatibility
        "Strap compatible with Apple Watch",  # compatibility
        "Book about ivory",  # about
        "Seahorse plush",  # about
    ],
)
def test_context_cancels_the_match(text: str) -> None:
    terms = ("ivory", "coral", "crocodile", "python", "battery", "batteries", "iphone",
             "apple watch", "seahorse")  # fmt: skip
    assert matcher(*terms).find_match(text) is None


def test_context_applies_only_where_the_list_asks() -> None:
    batteries = matcher("battery", kinds=frozenset({"negation", "compatibility"}))
    assert batteries.matches("Book light with lithium battery")  # still a battery
    assert not batteries.matches("Toy car, no battery")


def test_context_stays_in_its_clause() -> None:
    assert matcher("battery").matches("Drone without case, with battery")


def test_unless_phrases_cancel_in_the_same_clause() -> None:
    perfume = matcher("perfume", unless=["solid perfume"])
    assert not perfume.matches("Solid perfume balm 15 g")
    assert perfume.matches("Perfume 100 ml")


def test_covers_asks_whether_the_text_names_anything_else() -> None:
    medicines = matcher("medicine", "pills", "tablets")
    assert medicines.covers("Pills 60 pcs")
    assert medicines.covers("Medicine")
    assert not medicines.covers("Ibuprofen 400 mg tablets")
    assert not medicines.covers("Garden hose")


def test_packaged_lists_have_sources_and_load() -> None:
    names = packaged_names()
    assert {"batteries", "cites", "drugs", "brands"} <= set(names)
    for name in names:
        words = packaged(name)
        assert words.sources, f"{name} cites no source"
        assert words.terms, f"{name} is empty"
    assert contexts().about_markers


def test_packaged_lists_read_other_languages_and_scientific_names() -> None:
    cites = word_matcher({"include": ["cites"], "context": list(CONTEXT_KINDS)})
    for text in ("象牙雕刻", "Marfil tallado", "Elfenbein Figur", "Manis javanica scales"):
        assert cites.matches(text), text
    assert not cites.matches("Ivory coloured satin wedding dress")
    brands = word_matcher({"include": ["brands"], "context": list(CONTEXT_KINDS)})
    assert brands.matches("劳力士手表")
    assert not brands.matches("Phone case for iPhone 15")


def test_person_words_survive_order_case_and_transliteration() -> None:
    assert person_words("Müller, Anna") == person_words("anna MUELLER") == ("anna", "muller")
    assert same_person(person_words("A. Müller"), person_words("Anna Mueller"))
    assert same_person(person_words("Jorg Muller"), person_words("Jörg Müler"))  # one letter
    assert not same_person(person_words("Anna Müller"), person_words("Peter Müller"))
    assert not same_person(person_words("A. M."), person_words("Anna Müller"))  # initials only


def test_address_block_and_phone_ignore_how_they_are_written() -> None:
    one = PartyRecord(street="Hauptstraße 5", postcode="10115", country="DE")
    other = PartyRecord(street="Hauptstr.", house_number="5", postcode="10 115", country="DE")
    assert address_block(one) == address_block(other)
    assert address_block(PartyRecord(street="Hauptstraße 7", postcode="10115", country="DE")) != (
        address_block(one)
    )
    assert phone_digits("+86 755 1234 5678") == phone_digits("0086-755-12345678")


#: Declared data element -> where a rule reads it (`item.<field>`, `l.<field>`, party fields).
DECLARED_TO_RULE = {
    "item_id": "item_id", "id_type": "id_type", "posting_datetime": "posting_at",
    "mail_class": "mail_class", "mail_category": "mail_category",
    "declaration_form": "declaration_form", "category": "category",
    "category_explanation": "category_explanation", "total_value": "total_value",
    "total_gross_weight": "total_gross_weight_kg", "postal_charges": "postal_charges",
    "insured_value": "insured_value", "invoice_number": "invoice_number",
    "licence_numbers": "licence_numbers", "certificate_numbers": "certificate_numbers",
    "comments": "comments", "sender": "sender", "addressee": "addressee", "contents": "lines",
}  # fmt: skip
PIECE_TO_LINE = {
    "index": "index", "description": "description", "quantity": "quantity",
    "net_weight": "net_weight_kg", "value": "value", "hs_code": "hs_code",
    "origin_country": "origin",
}  # fmt: skip


def test_every_declared_data_element_is_readable_by_a_rule() -> None:
    from messages.models import Address, ContentPiece, DeclaredItem, Party
    from risk.fields import FIELDS

    assert set(DeclaredItem.model_fields) == set(DECLARED_TO_RULE), "map the new data element"
    assert set(DECLARED_TO_RULE.values()) <= set(FIELDS["item"])
    assert set(ContentPiece.model_fields) == set(PIECE_TO_LINE)
    assert set(PIECE_TO_LINE.values()) <= set(FIELDS["line"])
    party_fields = set(Party.model_fields) - {"address"} | set(Address.model_fields) - {"lines"}
    assert party_fields <= set(FIELDS["party"])
    assert "address_lines" in FIELDS["party"]
    assert {"insured_value_eur", "postal_charges_eur", "currency"} <= set(FIELDS["item"])
