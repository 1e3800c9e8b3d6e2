"""SCHEMA findings speak the sender's language, never libxml2's.

Two kinds of test: exact sentences for the cases a sender meets most, and a
sweep built from the XSDs themselves: a document holding every element and
attribute each schema declares, then one violation per facet, type, order and
cardinality rule it uses. Every violation must be refused by libxml2 (else the
case proves nothing), and its finding must name the element, say the rule, and
carry no libxml2 phrasing and no generic fallback.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest
from lxml import etree

from messages.codec import encode_itmatt
from messages.schema import validate_tree
from messages.schema_model import (
    XS,
    ComplexModel,
    SchemaModel,
    ValueRule,
    builtin_rule,
    schema_model,
)
from messages.schema_text import DATETIME_EXAMPLE, PATTERN_WORDS
from tests import builders as b

SCHEMAS = ["itmatt-1.1.xsd", "itmatt-1.2.xsd", "cusitm-1.xsd", "cusrsp-1.xsd"]
LIBXML_PHRASES = re.compile(
    r"xs:|atomic type|union type|facet|\{urn:|Expected is|not a valid value|element-only|"
    r"validation root|content type|type definition|Missing child|not expected|fixed value",
)
FALLBACK = "does not match the"
#: A valid sample per pattern our XSDs use; a new pattern needs one here and words in
#: PATTERN_WORDS.
PATTERN_SAMPLES = {
    r".*(Z|[+\-]\d{2}:\d{2})": DATETIME_EXAMPLE,
    "[A-Z]{3}[A-Z0-9]{0,3}": "CNA",
}


# ------------------------------------------------------------------ exact sentences


def messages_for(data: bytes) -> list[tuple[str, str]]:
    """SCHEMA findings alone: check_message lets a specific rulebook code win over them."""
    report = validate_tree(etree.fromstring(data), "itmatt-1.2.xsd")
    return [(f.path, f.message) for f in report.message + sum(report.items.values(), [])]


def itmatt(old: bytes, new: bytes) -> bytes:
    data = encode_itmatt(b.itmatt())
    assert old in data, old
    return data.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        (
            b">0.450<",
            b">0.4501<",
            "Item[1]/TotalGrossWeight",
            "TotalGrossWeight has at most 3 decimals; got 0.4501",
        ),
        (
            b">0.450<",
            b">0<",
            "Item[1]/TotalGrossWeight",
            "TotalGrossWeight must be greater than 0; got 0",
        ),
        (
            b">0.450<",
            b">1,5<",
            "Item[1]/TotalGrossWeight",
            "TotalGrossWeight must be a number with a dot for decimals, e.g. 1.5; got '1,5'",
        ),
        (
            b"<Quantity>2<",
            b"<Quantity>two<",
            "Item[1]/ContentPiece[1]/Quantity",
            "Quantity must be a whole number, e.g. 2; got 'two'",
        ),
        (
            b"<Quantity>2<",
            b"<Quantity>1000000<",
            "Item[1]/ContentPiece[1]/Quantity",
            "Quantity must be 999999 or less; got 1000000",
        ),
        (
            b"+08:00</PostingDateTime>",
            b"</PostingDateTime>",
            "Item[1]/PostingDateTime",
            f"PostingDateTime needs a UTC offset, e.g. {DATETIME_EXAMPLE} or ...Z; "
            "got '2026-11-21T09:00:00'",
        ),
        (
            b"<PostingDateTime>2026-11-21T09:00:00+08:00<",
            b"<PostingDateTime>21/11/2026<",
            "Item[1]/PostingDateTime",
            "PostingDateTime must be an ISO 8601 date-time with a UTC offset, "
            f"e.g. {DATETIME_EXAMPLE}; got '21/11/2026'",
        ),
        (
            b"<MailClass>C<",
            b"<MailClass>X<",
            "Item[1]/MailClass",
            "MailClass is one of U, C, E; got 'X'",
        ),
        (
            b"<Description>Men's cotton T-shirt<",
            b"<Description>" + b"d" * 231 + b"<",
            "Item[1]/ContentPiece[1]/Description",
            "Description has at most 200 characters; got 231",
        ),
        (
            b"<SenderOperator>CNA<",
            b"<SenderOperator>cn<",
            "Header/SenderOperator",
            "SenderOperator must be a UPU operator code: 3 capital letters, then up to 3 "
            "capital letters or digits, e.g. CNA; got 'cn'",
        ),
        (
            b"<Index>1</Index>",
            b"<Index>1</Index><Foo/>",
            "Item[1]/ContentPiece[1]/Foo",
            "ContentPiece: element Foo is not allowed here; expected one of Description, "
            "Quantity, NetWeight, Value, HSCode, OriginCountry. ContentPiece holds, in this "
            "order: Index, Description, Quantity, NetWeight, Value, HSCode, OriginCountry",
        ),
        (
            b"<Country>CN</Country></Address>",
            b"<Country>CN</Country><Country>CN</Country></Address>",
            "Item[1]/Sender/Address/Country",
            "Address has only one Country; this is a second one",
        ),
    ],
)
def test_common_mistakes_read_plainly(old: bytes, new: bytes, path: str, message: str) -> None:
    assert messages_for(itmatt(old, new)) == [(path, message)]


def test_a_missing_header_is_named_with_the_order() -> None:
    data = re.sub(rb"<Header>.*</Header>", b"", encode_itmatt(b.itmatt()))
    assert messages_for(data) == [
        ("Item[1]", "ITMATT lacks Header, which must come before Item. "
         "ITMATT holds, in this order: Header, Item"),
    ]  # fmt: skip


def test_an_element_in_a_prefixed_foreign_namespace_is_placed_not_raised() -> None:
    # libxml2 writes the sender's prefix into the node path (`y:Foo`); XPath cannot resolve it.
    found = messages_for(itmatt(b"<Sender>", b"<y:Sender xmlns:y='urn:example:y'/><Sender>"))
    assert found == [
        ("Item[1]/Sender", "Item: element Sender is in namespace urn:example:y; it must be in "
         "urn:aedex:msg:itmatt:1, like the rest of the message"),
    ]  # fmt: skip


def test_long_values_are_cut_short() -> None:
    found = messages_for(itmatt(b"<MailClass>C<", b"<MailClass>" + b"Z" * 500 + b"<"))
    assert found == [("Item[1]/MailClass", f"MailClass is one of U, C, E; got '{'Z' * 39}…'")]


# ------------------------------------------------------------------ the sweep


def sample(rule: ValueRule) -> str:
    """A value the rule accepts."""
    if rule.enumeration:
        return rule.enumeration[0]
    if rule.patterns:
        return PATTERN_SAMPLES[rule.patterns[0]]
    if rule.base == "decimal" or rule.base == "integer":
        low = rule.min_inclusive if rule.min_inclusive is not None else Decimal(1)
        return str(max(low, Decimal(1)))
    if rule.base == "dateTime":
        return DATETIME_EXAMPLE
    if rule.base == "date":
        return "2026-11-21"
    if rule.base == "boolean":
        return "true"
    return "x" * (rule.length or rule.min_length or 1)


def violations(rule: ValueRule) -> Iterator[tuple[str, str]]:
    """(what is broken, a value breaking it) for every facet and type of `rule`."""
    if rule.base in ("decimal", "integer"):
        yield "type", "two"
        if rule.base == "integer":
            yield "whole number", "2.5"
        if rule.min_inclusive is not None:
            yield "minInclusive", str(rule.min_inclusive - 1)
        if rule.min_exclusive is not None:
            yield "minExclusive", str(rule.min_exclusive)
        if rule.max_inclusive is not None:
            yield "maxInclusive", str(rule.max_inclusive + 1)
        if rule.max_exclusive is not None:
            yield "maxExclusive", str(rule.max_exclusive)
        if rule.fraction_digits is not None:
            yield "fractionDigits", "1." + "1" * (rule.fraction_digits + 1)
        if rule.total_digits is not None:
            yield "totalDigits", "1" * (rule.total_digits + 1)
        return
    if rule.base == "dateTime":
        yield "type", "21/11/2026"
        yield "offset", DATETIME_EXAMPLE[:19]
        return
    if rule.base in ("date", "boolean"):
        yield "type", "soon"
        return
    if rule.enumeration:
        yield "enumeration", "NOT_A_CODE"
    for pattern in rule.patterns:
        yield f"pattern {pattern}", "not a code!"
    if rule.max_length is not None:
        yield "maxLength", "x" * (rule.max_length + 1)
    if rule.min_length and not rule.may_be_empty:
        yield "minLength", ""
    if rule.length is not None:
        yield "length", "x" * (rule.length + 1)


def build(model: SchemaModel, name: str, key: str, ns: str) -> etree._Element:
    """An element holding every child (each once) and every attribute the type declares."""
    element = etree.Element(f"{{{ns}}}{name}", nsmap={None: ns})  # type: ignore[dict-item]
    content = model.complex.get(key)
    if content is None:
        element.text = sample(model.simple.get(key) or builtin_rule(key))
        return element
    for attribute in content.attributes:
        element.set(attribute.name, attribute.fixed or sample(attribute.rule))
    if content.text is not None:
        element.text = sample(content.text)
    for child in content.children:
        element.append(build(model, child.name, child.type_key, ns))
    return element


@dataclass(frozen=True)
class Sweep:
    schema: str
    model: SchemaModel
    root: etree._Element


def sweeps() -> list[Sweep]:
    found = []
    for schema in SCHEMAS:
        model = schema_model(schema)
        ((name, key),) = model.roots.items()
        found.append(Sweep(schema, model, build(model, name, key, model.target_namespace)))
    return found


SWEEPS = sweeps()


def local(el: etree._Element) -> str:
    return etree.QName(el).localname


def complex_elements(sweep: Sweep) -> Iterator[tuple[etree._Element, ComplexModel]]:
    for el in sweep.root.iter():
        names = [local(a) for a in reversed(list(el.iterancestors()))] + [local(el)]
        content = sweep.model.element_at(names)
        if content is not None:
            yield el, content


def copy_at(sweep: Sweep, el: etree._Element) -> tuple[etree._Element, etree._Element]:
    """A fresh copy of the sweep document and, in it, the element at `el`'s place."""
    steps = []
    node = el
    while (parent := node.getparent()) is not None:
        steps.append(parent.index(node))
        node = parent
    root = copy.deepcopy(sweep.root)
    target = root
    for step in reversed(steps):
        target = target[step]
    return root, target


def findings_after(sweep: Sweep, root: etree._Element) -> list[tuple[str, str]]:
    report = validate_tree(root, sweep.schema)
    return [(f.path, f.message) for f in report.message + sum(report.items.values(), [])]


def assert_plain(findings: list[tuple[str, str]], names: set[str], case: str) -> None:
    assert findings, f"{case}: libxml2 accepted it, so the case proves nothing"
    for _path, message in findings:
        assert not LIBXML_PHRASES.search(message), f"{case}: {message}"
        assert FALLBACK not in message, f"{case}: generic fallback: {message}"
        assert any(message.startswith(n) for n in names), f"{case}: {message} names none of {names}"


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.schema)
def test_the_document_built_from_the_schema_is_valid(sweep: Sweep) -> None:
    assert findings_after(sweep, sweep.root) == []


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.schema)
def test_every_value_rule_breaks_in_plain_words(sweep: Sweep) -> None:
    cases = 0
    for el in sweep.root.iter():
        names = [local(a) for a in reversed(list(el.iterancestors()))] + [local(el)]
        content = sweep.model.element_at(names)
        rules: list[tuple[str | None, ValueRule]] = []
        if content is None:
            rules.append((None, sweep.model.value_at(names) or ValueRule()))
        else:
            rules += [(None, content.text)] if content.text is not None else []
            rules += [(a.name, a.rule) for a in content.attributes if a.fixed is None]
        for attribute, rule in rules:
            for broken, value in violations(rule):
                root, target = copy_at(sweep, el)
                if attribute is None:
                    target.text = value
                else:
                    target.set(attribute, value)
                subject = f"{local(el)} attribute {attribute}" if attribute else local(el)
                assert_plain(
                    findings_after(sweep, root), {subject}, f"{subject} {broken} {value!r}"
                )
                cases += 1
    assert cases > 20


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.schema)
def test_every_structure_rule_breaks_in_plain_words(sweep: Sweep) -> None:
    ns = sweep.model.target_namespace
    for el, content in complex_elements(sweep):
        name = local(el)
        parents = {name, *(local(p) for p in el.iterancestors())}
        if content.children:
            root, target = copy_at(sweep, el)
            target.insert(0, etree.Element(f"{{{ns}}}Unknown"))
            assert_plain(findings_after(sweep, root), parents, f"{name}: unknown child")
            root, target = copy_at(sweep, el)
            target.text = "loose text"
            assert_plain(findings_after(sweep, root), {name}, f"{name}: text")
        else:
            root, target = copy_at(sweep, el)
            target.append(etree.Element(f"{{{ns}}}Bold"))
            assert_plain(findings_after(sweep, root), {name}, f"{name}: element in text")
        for position, child in enumerate(content.children):
            if child.min_occurs > 0:
                root, target = copy_at(sweep, el)
                target.remove(target.findall(f"{{{ns}}}{child.name}")[0])
                assert_plain(findings_after(sweep, root), parents, f"{name} without {child.name}")
            if child.max_occurs is not None and child.max_occurs <= 1000:
                root, target = copy_at(sweep, el)
                first = target.find(f"{{{ns}}}{child.name}")
                assert first is not None
                for _ in range(child.max_occurs):
                    first.addnext(copy.deepcopy(first))
                assert_plain(
                    findings_after(sweep, root), parents, f"{name}: {child.name} too often"
                )
            if position > 0:
                root, target = copy_at(sweep, el)
                moved = target.find(f"{{{ns}}}{child.name}")
                assert moved is not None
                target.insert(0, moved)
                assert_plain(findings_after(sweep, root), parents, f"{name}: {child.name} first")
        for attribute in content.attributes:
            if attribute.required:
                root, target = copy_at(sweep, el)
                del target.attrib[attribute.name]
                assert_plain(
                    findings_after(sweep, root), {name}, f"{name} without @{attribute.name}"
                )
            if attribute.fixed is not None:
                root, target = copy_at(sweep, el)
                target.set(attribute.name, attribute.fixed + "9")
                assert_plain(findings_after(sweep, root), {name}, f"{name} @{attribute.name}")
        root, target = copy_at(sweep, el)
        target.set("unknown", "1")
        assert_plain(findings_after(sweep, root), {name}, f"{name} @unknown")


@pytest.mark.parametrize("sweep", SWEEPS, ids=lambda s: s.schema)
def test_a_wrong_root_namespace_is_said_plainly(sweep: Sweep) -> None:
    root = copy.deepcopy(sweep.root)
    root.tag = f"{{urn:example:other}}{local(root)}"
    assert findings_after(sweep, root) == [
        ("", f"the root element is {local(root)} in namespace urn:example:other; the "
         f"{sweep.model.title} schema expects {local(root)} in namespace {sweep.model.target_namespace}"),
    ]  # fmt: skip


def test_the_sweep_breaks_every_facet_the_xsd_files_use() -> None:
    """Read straight from the XSD text, so a facet the model failed to read shows up here."""
    used: set[str] = set()
    for path in Path(str(files("messages.schemas"))).glob("*.xsd"):
        for el in etree.parse(str(path)).iter(f"{XS}*"):
            used.add(etree.QName(el).localname)
    facets = used & {
        "minLength", "maxLength", "pattern", "enumeration", "fractionDigits", "totalDigits",
        "minInclusive", "minExclusive", "maxInclusive", "maxExclusive", "whiteSpace",
    }  # fmt: skip
    # `length` only defines Empty, which the OptX unions turn into "may be left empty".
    broken = {
        what.partition(" ")[0]
        for schema in SCHEMAS
        for _path, _attribute, rule in schema_model(schema).every_rule()
        for what, _value in violations(rule)
    }
    assert facets <= broken, facets - broken


def test_every_pattern_of_the_schemas_has_words_and_a_sample() -> None:
    patterns = {
        pattern
        for schema in SCHEMAS
        for _path, _attribute, rule in schema_model(schema).every_rule()
        for pattern in rule.patterns
    }
    assert patterns <= set(PATTERN_WORDS), patterns - set(PATTERN_WORDS)
    assert patterns <= set(PATTERN_SAMPLES), patterns - set(PATTERN_SAMPLES)
