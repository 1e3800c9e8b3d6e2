"""What our XSDs allow, read from the XSDs themselves: value rules and child orders.

libxml2 names a type ("not a valid value of the union type 'OptWeight'") but
not the rule it broke, and names the next allowed element but not the order.
To tell a sender "TotalGrossWeight has at most 3 decimals" or "ContentPiece
holds, in this order: Index, Description, ..." we need the facets and
sequences of `messages/schemas/*.xsd`. Reading them here, once per schema
file, keeps the explanation in step with the schemas as they change.

Covers the XSD features our schemas use: named and anonymous simple types
(restriction chains, unions), complex types with a sequence, simple content
or complex-content extension, attributes (required, fixed), include.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib.resources import as_file, files

from lxml import etree

XS = "{http://www.w3.org/2001/XMLSchema}"

#: Built-in types: XSD local name -> (our base, implicit lower bound).
_BUILTINS: dict[str, tuple[str, Decimal | None]] = {
    "string": ("string", None),
    "normalizedString": ("string", None),
    "token": ("string", None),
    "decimal": ("decimal", None),
    "integer": ("integer", None),
    "int": ("integer", None),
    "long": ("integer", None),
    "nonNegativeInteger": ("integer", Decimal(0)),
    "positiveInteger": ("integer", Decimal(1)),
    "dateTime": ("dateTime", None),
    "date": ("date", None),
    "boolean": ("boolean", None),
}


@dataclass(frozen=True, slots=True)
class ValueRule:
    """The facets of a simple type, resolved down to one of our bases.

    `base` is "string", "decimal", "integer", "dateTime", "date" or "boolean".
    `may_be_empty` marks our `OptX` unions (a type or the empty string).
    """

    base: str = "string"
    enumeration: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    length: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    total_digits: int | None = None
    fraction_digits: int | None = None
    min_inclusive: Decimal | None = None
    min_exclusive: Decimal | None = None
    max_inclusive: Decimal | None = None
    max_exclusive: Decimal | None = None
    may_be_empty: bool = False


@dataclass(frozen=True, slots=True)
class ChildDecl:
    name: str
    type_key: str
    min_occurs: int = 1
    max_occurs: int | None = 1  # None: unbounded


@dataclass(frozen=True, slots=True)
class AttributeDecl:
    name: str
    rule: ValueRule
    required: bool = False
    fixed: str | None = None


@dataclass(frozen=True, slots=True)
class ComplexModel:
    """Children in sequence order, or the rule of the text (simple content)."""

    children: tuple[ChildDecl, ...] = ()
    text: ValueRule | None = None
    attributes: tuple[AttributeDecl, ...] = ()

    def child(self, name: str) -> ChildDecl | None:
        return next((c for c in self.children if c.name == name), None)

    def attribute(self, name: str) -> AttributeDecl | None:
        return next((a for a in self.attributes if a.name == name), None)


@dataclass
class SchemaModel:
    """One compiled schema file with its includes, as rules and orders."""

    title: str
    target_namespace: str
    roots: dict[str, str] = field(default_factory=dict)  # global element -> type key
    simple: dict[str, ValueRule] = field(default_factory=dict)
    complex: dict[str, ComplexModel] = field(default_factory=dict)

    def value_rule(self, type_name: str) -> ValueRule | None:
        """The rule of a type as libxml2 names it (`{ns}OptWeight`, `xs:decimal`)."""
        local = type_name.rpartition("}")[2].rpartition(":")[2]
        if type_name.startswith("xs:") or local not in self.simple:
            return builtin_rule(local)
        return self.simple[local]

    def element_at(self, names: Sequence[str]) -> ComplexModel | None:
        """The content model of the element reached by local names from the root."""
        if not names or names[0] not in self.roots:
            return None
        model = self.complex.get(self.roots[names[0]])
        for name in names[1:]:
            child = model.child(name) if model is not None else None
            if child is None:
                return None
            model = self.complex.get(child.type_key)
        return model

    def value_at(self, names: Sequence[str]) -> ValueRule | None:
        """The rule of a leaf element's text, by local names from the root."""
        if len(names) < 2:
            return None
        parent = self.element_at(names[:-1])
        child = parent.child(names[-1]) if parent is not None else None
        if child is None:
            return None
        if child.type_key in self.complex:
            return self.complex[child.type_key].text
        return self.simple.get(child.type_key) or builtin_rule(child.type_key)

    def every_rule(self) -> Iterator[tuple[tuple[str, ...], str | None, ValueRule]]:
        """Every (element path, attribute or None, rule) the schema declares."""
        for root, key in self.roots.items():
            yield from self._walk((root,), key, depth=0)

    def _walk(
        self, path: tuple[str, ...], key: str, *, depth: int
    ) -> Iterator[tuple[tuple[str, ...], str | None, ValueRule]]:
        model = self.complex.get(key)
        if model is None or depth > 32:
            return
        for attribute in model.attributes:
            yield path, attribute.name, attribute.rule
        if model.text is not None:
            yield path, None, model.text
        for child in model.children:
            child_path = (*path, child.name)
            if child.type_key in self.complex:
                yield from self._walk(child_path, child.type_key, depth=depth + 1)
            else:
                rule = self.simple.get(child.type_key) or builtin_rule(child.type_key)
                yield child_path, None, rule


def builtin_rule(local: str) -> ValueRule:
    base, lower = _BUILTINS.get(local, ("string", None))
    return ValueRule(base=base, min_inclusive=lower)


@cache
def schema_model(filename: str) -> SchemaModel:
    """The model of one of `messages/schemas/*.xsd`, read once (trusted package data)."""
    top = _load(filename)
    stem = filename.removesuffix(".xsd")
    name, _, version = stem.partition("-")
    model = SchemaModel(
        title=f"{name.upper()} {version}".strip(),
        target_namespace=top.get("targetNamespace") or "",
    )
    _Reader(model).read([top, *_includes(top, seen={filename})])
    return model


def _load(filename: str) -> etree._Element:
    resource = files("messages.schemas").joinpath(filename)
    with as_file(resource) as path:
        return etree.parse(str(path)).getroot()


def _includes(schema: etree._Element, *, seen: set[str]) -> list[etree._Element]:
    found: list[etree._Element] = []
    for include in schema.iterchildren(f"{XS}include"):
        location = include.get("schemaLocation") or ""
        if location and location not in seen:
            seen.add(location)
            included = _load(location)
            found += [included, *_includes(included, seen=seen)]
    return found


def _local(qname: str | None) -> str:
    return (qname or "").rpartition(":")[2]


def _occurs(value: str | None) -> int | None:
    if value == "unbounded":
        return None
    return int(value) if value else 1


def _number(value: str | None) -> Decimal | None:
    try:
        return Decimal(value) if value is not None else None
    except InvalidOperation:
        return None


class _Reader:
    """Fills a SchemaModel; named types resolve lazily, in any declaration order."""

    def __init__(self, model: SchemaModel) -> None:
        self.model = model
        self.simple_defs: dict[str, etree._Element] = {}
        self.complex_defs: dict[str, etree._Element] = {}
        self._anonymous = 0

    def read(self, schemas: list[etree._Element]) -> None:
        for schema in schemas:
            for el in schema.iterchildren(f"{XS}simpleType"):
                self.simple_defs[el.get("name") or ""] = el
            for el in schema.iterchildren(f"{XS}complexType"):
                self.complex_defs[el.get("name") or ""] = el
        for name in self.simple_defs:
            self.simple_type(name)
        for name in self.complex_defs:
            self.complex_type(name)
        for schema in schemas:
            for el in schema.iterchildren(f"{XS}element"):
                self.model.roots[el.get("name") or ""] = self._element_type(el)

    def simple_type(self, name: str) -> ValueRule:
        found = self.model.simple.get(name)
        if found is None:
            definition = self.simple_defs.get(name)
            found = self._simple(definition) if definition is not None else builtin_rule(name)
            self.model.simple[name] = found
        return found

    def _rule_of(self, qname: str | None) -> ValueRule:
        local = _local(qname)
        if local in self.complex_defs:
            return self.complex_type(local).text or ValueRule()
        return self.simple_type(local) if local in self.simple_defs else builtin_rule(local)

    def _simple(self, el: etree._Element) -> ValueRule:
        union = el.find(f"{XS}union")
        if union is not None:
            members = [self._rule_of(m) for m in (union.get("memberTypes") or "").split()]
            members += [self._simple(s) for s in union.iterchildren(f"{XS}simpleType")]
            values = [m for m in members if m.length != 0]
            # Our unions are "a type or empty"; a union of several value types is
            # described by its first member.
            first = values[0] if values else ValueRule()
            return replace(first, may_be_empty=len(values) < len(members))
        restriction = el.find(f"{XS}restriction")
        if restriction is None:
            return ValueRule()
        return self._restrict(restriction)

    def _restrict(self, restriction: etree._Element) -> ValueRule:
        inline = restriction.find(f"{XS}simpleType")
        rule = (
            self._simple(inline) if inline is not None else self._rule_of(restriction.get("base"))
        )
        enumeration = tuple(
            e.get("value") or "" for e in restriction.iterchildren(f"{XS}enumeration")
        )
        patterns = tuple(p.get("value") or "" for p in restriction.iterchildren(f"{XS}pattern"))
        changes: dict[str, object] = {}
        if enumeration:
            changes["enumeration"] = enumeration
        if patterns:
            changes["patterns"] = rule.patterns + patterns
        for facet, attribute in (
            ("length", "length"),
            ("minLength", "min_length"),
            ("maxLength", "max_length"),
            ("totalDigits", "total_digits"),
            ("fractionDigits", "fraction_digits"),
        ):
            found = restriction.find(f"{XS}{facet}")
            if found is not None:
                changes[attribute] = int(found.get("value") or 0)
        for facet, attribute in (
            ("minInclusive", "min_inclusive"),
            ("minExclusive", "min_exclusive"),
            ("maxInclusive", "max_inclusive"),
            ("maxExclusive", "max_exclusive"),
        ):
            found = restriction.find(f"{XS}{facet}")
            if found is not None:
                changes[attribute] = _number(found.get("value"))
        return replace(rule, **changes)  # type: ignore[arg-type]

    def complex_type(self, name: str) -> ComplexModel:
        found = self.model.complex.get(name)
        if found is None:
            definition = self.complex_defs.get(name)
            found = self._complex(definition) if definition is not None else ComplexModel()
            self.model.complex[name] = found
        return found

    def _complex(self, el: etree._Element) -> ComplexModel:
        simple = el.find(f"{XS}simpleContent")
        if simple is not None:
            derivation = simple[0]
            base = self._rule_of(derivation.get("base"))
            if derivation.tag == f"{XS}restriction":
                base = self._restrict(derivation)
            return ComplexModel(text=base, attributes=self._attributes(derivation))
        content = el.find(f"{XS}complexContent")
        if content is not None:
            extension = content[0]
            base_model = self.complex_type(_local(extension.get("base")))
            return ComplexModel(
                children=base_model.children + self._children(extension),
                attributes=base_model.attributes + self._attributes(extension),
            )
        return ComplexModel(children=self._children(el), attributes=self._attributes(el))

    def _children(self, el: etree._Element) -> tuple[ChildDecl, ...]:
        children: list[ChildDecl] = []
        for group in el.iterchildren(f"{XS}sequence", f"{XS}choice", f"{XS}all"):
            optional = group.tag == f"{XS}choice" or group.get("minOccurs") == "0"
            for child in group.iterchildren(f"{XS}element"):
                name = child.get("name") or _local(child.get("ref"))
                children.append(
                    ChildDecl(
                        name=name,
                        type_key=self._element_type(child),
                        min_occurs=0 if optional else _occurs(child.get("minOccurs")) or 0,
                        max_occurs=_occurs(child.get("maxOccurs")),
                    )
                )
            children += self._children(group)
        return tuple(children)

    def _element_type(self, el: etree._Element) -> str:
        """A type key: the named type, or a key for an anonymous one defined inline."""
        if el.get("type"):
            return _local(el.get("type"))
        self._anonymous += 1
        key = f"#{el.get('name')}-{self._anonymous}"
        inline_complex = el.find(f"{XS}complexType")
        inline_simple = el.find(f"{XS}simpleType")
        if inline_complex is not None:
            self.model.complex[key] = self._complex(inline_complex)
        elif inline_simple is not None:
            self.model.simple[key] = self._simple(inline_simple)
        else:
            self.model.simple[key] = ValueRule()
        return key

    def _attributes(self, el: etree._Element) -> tuple[AttributeDecl, ...]:
        found: list[AttributeDecl] = []
        for attribute in el.iterchildren(f"{XS}attribute"):
            inline = attribute.find(f"{XS}simpleType")
            rule = (
                self._simple(inline) if inline is not None else self._rule_of(attribute.get("type"))
            )
            found.append(
                AttributeDecl(
                    name=attribute.get("name") or "",
                    rule=rule,
                    required=attribute.get("use") == "required",
                    fixed=attribute.get("fixed"),
                )
            )
        return tuple(found)
