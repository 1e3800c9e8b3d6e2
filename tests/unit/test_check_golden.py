"""`check_message` gives today's findings and canonical items, byte for byte (issue 15).

The digests in tests/data/check_golden.json were recorded from the implementation
before the performance rewrite; see tests/unit/golden_check.py.
"""

from __future__ import annotations

import json

import orjson

from tests.unit.golden_check import GOLDEN, OFFLINE, check, corpus, digest_of, summary


def test_check_message_matches_golden_digests() -> None:
    golden: dict[str, str] = orjson.loads(GOLDEN.read_bytes())
    messages = list(corpus())
    names = [name for name, _ in messages]
    assert sorted(names) == sorted(golden), "the corpus changed: regenerate the golden file"
    differ = []
    first: str | None = None
    for name, data in messages:
        result = check(name, data)
        if digest_of(result) != golden[name]:
            differ.append(name)
            if first is None:
                first = f"{name}:\n{json.dumps(summary(result), indent=1, ensure_ascii=False)}"
    assert not differ, (
        f"{len(differ)} of {len(messages)} messages differ from the golden digests:\n"
        + "\n".join(differ)
        + f"\n\nnow, for the first one (compare with the code before the change):\n{first}"
    )


def test_models_built_without_validation_equal_validated_ones() -> None:
    """Decoded messages and canonical items are built, not validated (messages.prebuilt):
    validating their own dump must give equal models."""
    from messages.models import CusitmMessage, ItmattMessage

    checked = 0
    for name, data in list(corpus())[::7]:
        result = check(name, data)
        if isinstance(result.message, ItmattMessage | CusitmMessage):
            model = type(result.message)
            assert model.model_validate(result.message.model_dump()) == result.message, name
        for item_check in result.items:
            if item_check.item is not None:
                item = item_check.item
                assert type(item).model_validate(item.model_dump()) == item, name
                checked += 1
    assert checked > 100


def test_every_whitespace_but_the_space_is_unprintable() -> None:
    """`messages.text.clean` skips its whitespace regex for printable text on this ground."""
    import re
    import sys

    space = re.compile(r"\s")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert bool(space.match(char)) == char.isspace(), hex(code)
        if char.isspace() and char != " ":
            assert not char.isprintable(), hex(code)


def test_flat_decoder_agrees_with_the_nested_one_on_schema_valid_items() -> None:
    """`decode_valid_item` (used when the XSD found no error) builds what `decode_item` does."""
    from messages.codec import decode_item, decode_valid_item
    from messages.schema import SCHEMA_FILES, validate_tree
    from messages.xml import parse_untrusted

    compared = 0
    for name, data in corpus():
        if name.endswith(OFFLINE):
            continue
        try:
            root = parse_untrusted(data)
        except Exception:
            continue
        schema_file = SCHEMA_FILES.get((str(root.tag), root.get("version") or ""))
        if schema_file is None or schema_file.startswith("cusrsp"):
            continue
        report = validate_tree(root, schema_file)
        if report.message or report.items:
            continue
        for el in root:
            if str(el.tag).endswith("}Item"):
                nested, flat = decode_item(el), decode_valid_item(el)
                assert flat == nested, name
                assert flat.model_fields_set == nested.model_fields_set, name
                compared += 1
    assert compared > 1000
