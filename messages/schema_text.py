"""libxml2's XSD errors in the sender's words.

libxml2 says "'0.4501' is not a valid value of the union type 'OptWeight'" or
"This element is not expected. Expected is ( {urn:...}Bar )": type names and
automaton states, not what a data clerk must change. `plain_message` names
the element by its local name and states the rule from the XSD facets
(`messages.schema_model`), checking the sent value against them to say which
one it broke: "TotalGrossWeight has at most 3 decimals; got 0.4501". An
error it does not recognise gets a plain generic sentence; the libxml2 text
never reaches the finding.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from messages.schema_model import SchemaModel, ValueRule, schema_model

#: Sentences for the patterns our XSDs use; a test keeps every pattern here.
PATTERN_WORDS: dict[str, str] = {
    r".*(Z|[+\-]\d{2}:\d{2})": "a date-time with a UTC offset",
    "[A-Z]{3}[A-Z0-9]{0,3}": (
        "a UPU operator code: 3 capital letters, then up to 3 capital letters or digits, e.g. CNA"
    ),
}
DATETIME_EXAMPLE = "2026-11-21T09:00:00+08:00"

_HEAD = re.compile(r"Element '(?P<el>[^']*)'(?:, attribute '(?P<attr>[^']*)')?: (?P<rest>.*)", re.S)
_FACET = re.compile(r"\[facet '(?P<facet>\w+)'\] (?P<text>.*)", re.S)
_QUOTED = re.compile(r"'([^']*)'")
_LENGTH = re.compile(r"has a length of '(\d+)'")
_NOT_VALID = re.compile(
    r"'(?P<value>.*)' is not a valid value of the \w+ type '(?P<type>[^']*)'", re.S
)
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (?P<names>.*?) \)")
_ATTRIBUTE = re.compile(
    r"The attribute '(?P<name>[^']*)' is (?P<what>required but missing|not allowed)"
)
_FIXED = re.compile(
    r"The value '(?P<value>.*)' does not match the fixed value constraint '(?P<fixed>.*)'", re.S
)

_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_INTEGER = re.compile(r"[+-]?\d+")
_COMMA_DECIMAL = re.compile(r"[+-]?\d+,\d+")
_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(?P<offset>Z|[+-]\d{2}:\d{2})?"
)
_DATE = re.compile(r"-?\d{4,}-\d{2}-\d{2}(Z|[+-]\d{2}:\d{2})?")
_SHOWN = 40


def plain_message(raw: str, element: etree._Element | None, schema_file: str) -> str:
    """The plain-English sentence for one libxml2 XSD error on `element`."""
    model = schema_model(schema_file)
    head = _HEAD.match(raw)
    if head is None:
        return f"the message does not match the {model.title} schema"
    name = _local(head["el"])
    attribute = head["attr"]
    rest = head["rest"].strip()
    subject = f"{name} attribute {attribute}" if attribute else name
    for explain in _EXPLAINERS:
        sentence = explain(_Error(subject, name, attribute, rest, head["el"], element, model))
        if sentence is not None:
            return sentence
    return f"{subject} does not match the {model.title} schema here"


@dataclass(frozen=True, slots=True)
class _Error:
    """One parsed libxml2 error with what we know about its element."""

    subject: str  # "TotalValue" or "TotalValue attribute currency"
    name: str
    attribute: str | None
    rest: str  # libxml2's text after "Element '...': "
    qname: str  # "{namespace}local" as libxml2 wrote it
    element: etree._Element | None
    model: SchemaModel

    def rule(self) -> ValueRule | None:
        """The declared rule of the value in error, from the element's place in the tree."""
        names = _ancestry(self.element)
        if self.attribute is None:
            return self.model.value_at(names)
        owner = self.model.element_at(names)
        declared = owner.attribute(self.attribute) if owner is not None else None
        return declared.rule if declared is not None else None

    def value(self) -> str | None:
        if self.element is None:
            return None
        if self.attribute is not None:
            return self.element.get(self.attribute)
        return self.element.text or ""


# ------------------------------------------------------------------ explainers


def _facet(error: _Error) -> str | None:
    found = _FACET.match(error.rest)
    if found is None:
        return None
    facet, text = found["facet"], found["text"]
    quoted = _QUOTED.findall(text)
    limit = quoted[-1] if quoted else ""
    length = _LENGTH.search(text)
    value = error.value()
    if value is None:
        value = quoted[0] if quoted and facet not in ("maxLength", "minLength", "length") else ""
    subject = error.subject
    if facet in ("maxLength", "minLength", "length") and length is not None and limit.isdigit():
        return _length_sentence(subject, facet, int(limit), int(length[1]))
    rule = error.rule() or ValueRule()
    if facet == "enumeration":
        choices = rule.enumeration or tuple(_QUOTED.findall(text.partition("{")[2]))
        return _one_of(subject, choices, value)
    if facet == "pattern":
        return _pattern_sentence(subject, rule, limit, value)
    words = {
        "fractionDigits": f"has at most {limit} decimals",
        "totalDigits": f"has at most {limit} digits",
        "minInclusive": f"must be {limit} or more",
        "minExclusive": f"must be greater than {limit}",
        "maxInclusive": f"must be {limit} or less",
        "maxExclusive": f"must be less than {limit}",
    }.get(facet)
    if words is None:
        return None
    return f"{subject} {words}; got {_number(value)}"


def _not_valid(error: _Error) -> str | None:
    found = _NOT_VALID.match(error.rest)
    if found is None:
        return None
    value = error.value()
    if value is None:
        value = found["value"]
    rule = error.model.value_rule(found["type"])
    return _explain_value(error.subject, value, rule or error.rule() or ValueRule())


def _missing_child(error: _Error) -> str | None:
    if not error.rest.startswith("Missing child element"):
        return None
    model = error.model.element_at(_ancestry(error.element))
    present = _child_names(error.element)
    missing: list[str] = []
    if model is not None:
        missing = [c.name for c in model.children if c.min_occurs > present.count(c.name)]
    if not missing:
        missing = _expected(error.rest)
        if len(missing) > 1:
            return f"{error.name} is incomplete: it lacks {_or(missing)}"
    if not missing:
        return f"{error.name} is incomplete: a required element is missing"
    verb = "is" if len(missing) == 1 else "are"
    return f"{error.name} lacks {_and(missing)}, which {verb} required"


def _unexpected(error: _Error) -> str | None:
    if not error.rest.startswith("This element is not expected"):
        return None
    namespace = error.qname[1:].partition("}")[0] if error.qname.startswith("{") else ""
    expected = _expected(error.rest)
    parent = error.element.getparent() if error.element is not None else None
    model = error.model.element_at(_ancestry(parent)) if parent is not None else None
    where = _local(parent.tag) if parent is not None else "the message"
    wanted = f"expected {_or(expected)}" if expected else "nothing more is allowed here"
    if model is None or not model.children:
        return f"{where}: element {error.name} is not allowed here; {wanted}"
    order = f"{where} holds, in this order: {', '.join(c.name for c in model.children)}"
    declared = model.child(error.name)
    if declared is None:
        return f"{where}: element {error.name} is not allowed here; {wanted}. {order}"
    if namespace != error.model.target_namespace:
        shown = f"namespace {namespace}" if namespace else "no namespace"
        return (
            f"{where}: element {error.name} is in {shown}; "
            f"it must be in {error.model.target_namespace}, like the rest of the message"
        )
    earlier = _earlier_siblings(error.element, error.name)
    if declared.max_occurs is not None and earlier >= declared.max_occurs:
        if declared.max_occurs == 1:
            return f"{where} has only one {error.name}; this is a second one"
        return (
            f"{where} has at most {declared.max_occurs} {error.name} elements; "
            f"this is number {earlier + 1}"
        )
    missing = [n for n in expected if (c := model.child(n)) is not None and c.min_occurs > 0]
    missing = [n for n in missing if n not in _child_names(parent)]
    if len(missing) == 1:
        return f"{where} lacks {missing[0]}, which must come before {error.name}. {order}"
    return f"{where}: element {error.name} is out of order; {wanted}. {order}"


def _no_root(error: _Error) -> str | None:
    if not error.rest.startswith("No matching global declaration"):
        return None
    namespace = error.qname[1:].partition("}")[0] if error.qname.startswith("{") else ""
    shown = f"namespace {namespace}" if namespace else "no namespace"
    roots = _or(list(error.model.roots))
    return (
        f"the root element is {error.name} in {shown}; the {error.model.title} schema "
        f"expects {roots} in namespace {error.model.target_namespace}"
    )


def _attribute(error: _Error) -> str | None:
    found = _ATTRIBUTE.match(error.rest)
    if found is not None:
        if found["what"].startswith("required"):
            return f"{error.name} lacks its required attribute {found['name']}"
        model = error.model.element_at(_ancestry(error.element))
        allowed = [a.name for a in model.attributes] if model is not None else []
        tail = f"; it takes {_and(allowed)}" if allowed else "; it takes none"
        return f"{error.name} does not take an attribute {found['name']}{tail}"
    fixed = _FIXED.match(error.rest)
    if fixed is not None:
        return f"{error.subject} must be {fixed['fixed']}; got {_shown(fixed['value'])}"
    return None


def _content_kind(error: _Error) -> str | None:
    if error.rest.startswith("Character content other than whitespace is not allowed"):
        text = (error.element.text or "").strip() if error.element is not None else ""
        got = f"; got {_shown(text)}" if text else ""
        return f"{error.name} holds elements only, not text{got}"
    if error.rest.startswith("Element content is not allowed"):
        children = _child_names(error.element)
        got = f"; got element {children[0]}" if children else ""
        return f"{error.name} holds text only, not elements{got}"
    return None


_EXPLAINERS: tuple[Callable[[_Error], str | None], ...] = (
    _facet,
    _not_valid,
    _missing_child,
    _unexpected,
    _no_root,
    _attribute,
    _content_kind,
)


# ------------------------------------------------------------------ value rules


def _explain_value(subject: str, value: str, rule: ValueRule) -> str:
    """Why `value` breaks `rule`, naming the first facet it breaks."""
    if rule.base in ("decimal", "integer"):
        return _number_sentence(subject, value, rule)
    if rule.base == "dateTime":
        return _datetime_sentence(subject, value)
    if rule.base == "date":
        if not _DATE.fullmatch(value.strip()) or not _real_date(value.strip()[:10]):
            return f"{subject} must be an ISO 8601 date, e.g. 2026-11-21; got {_shown(value)}"
    elif rule.base == "boolean":
        return f"{subject} must be true or false; got {_shown(value)}"
    if rule.enumeration and value not in rule.enumeration:
        return _one_of(subject, rule.enumeration, value)
    for facet, limit in (
        ("length", rule.length),
        ("maxLength", rule.max_length),
        ("minLength", rule.min_length),
    ):
        if limit is not None and _breaks_length(facet, limit, len(value)):
            return _length_sentence(subject, facet, limit, len(value))
    for pattern in rule.patterns:
        try:
            matched = re.fullmatch(pattern, value) is not None
        except re.error:  # XSD regex syntax Python lacks (\i, \c, class subtraction)
            matched = False
        if not matched:
            return _pattern_sentence(subject, rule, pattern, value)
    return f"{subject} must be {_describe_rule(rule)}; got {_shown(value)}"


def _describe_rule(rule: ValueRule) -> str:
    """The whole rule in words, for when no single facet can be named."""
    if rule.base in ("decimal", "integer"):
        parts = ["a whole number" if rule.base == "integer" else "a number"]
        parts += [_bound_words(rule)] if _bound_words(rule) else []
        if rule.fraction_digits is not None and rule.base == "decimal":
            parts.append(f"with at most {rule.fraction_digits} decimals")
        if rule.total_digits is not None:
            parts.append(f"of at most {rule.total_digits} digits")
        return " ".join(parts)
    if rule.base == "dateTime":
        return f"an ISO 8601 date-time with a UTC offset, e.g. {DATETIME_EXAMPLE}"
    if rule.enumeration:
        return f"one of {', '.join(rule.enumeration)}"
    if rule.patterns:
        return PATTERN_WORDS.get(rule.patterns[0], "in the required format")
    if rule.max_length is not None:
        return f"text of at most {rule.max_length} characters"
    return "a valid value"


def _number_sentence(subject: str, value: str, rule: ValueRule) -> str:
    text = " ".join(value.split())
    integer = rule.base == "integer"
    if integer and not _INTEGER.fullmatch(text):
        return f"{subject} must be a whole number, e.g. 2; got {_shown(value)}"
    if not _DECIMAL.fullmatch(text):
        if _COMMA_DECIMAL.fullmatch(text):
            return (
                f"{subject} must be a number with a dot for decimals, e.g. 1.5; got {_shown(value)}"
            )
        return f"{subject} must be a number, e.g. 12.50; got {_shown(value)}"
    number = Decimal(text)
    low, above, high, below = (
        rule.min_inclusive,
        rule.min_exclusive,
        rule.max_inclusive,
        rule.max_exclusive,
    )
    bounds = (
        (low is not None and number < low, f"must be {low} or more"),
        (above is not None and number <= above, f"must be greater than {above}"),
        (high is not None and number > high, f"must be {high} or less"),
        (below is not None and number >= below, f"must be less than {below}"),
    )
    for broken, words in bounds:
        if broken:
            return f"{subject} {words}; got {_number(text)}"
    decimals, digits = _digits(text)
    if rule.fraction_digits is not None and decimals > rule.fraction_digits:
        return f"{subject} has at most {rule.fraction_digits} decimals; got {_number(text)}"
    if rule.total_digits is not None and digits > rule.total_digits:
        return f"{subject} has at most {rule.total_digits} digits; got {_number(text)}"
    return f"{subject} must be {_describe_rule(rule)}; got {_shown(value)}"


def _digits(text: str) -> tuple[int, int]:
    """(fraction digits, total digits) as XSD counts them: padding zeros do not count.

    Counted on the written number: Decimal.normalize() would round to 28 digits.
    """
    whole, _, fraction = text.lstrip("+-").partition(".")
    fraction = fraction.rstrip("0")
    significant = (whole + fraction).lstrip("0")
    return len(fraction), max(1, len(significant))


def _datetime_sentence(subject: str, value: str) -> str:
    text = value.strip()
    found = _DATETIME.fullmatch(text)
    if found is not None and _real_date(text[:10]) and _real_time(text):
        if found["offset"] is None:
            return (
                f"{subject} needs a UTC offset, e.g. {DATETIME_EXAMPLE} or ...Z; "
                f"got {_shown(value)}"
            )
    return (
        f"{subject} must be an ISO 8601 date-time with a UTC offset, "
        f"e.g. {DATETIME_EXAMPLE}; got {_shown(value)}"
    )


def _real_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _real_time(text: str) -> bool:
    clock = text.partition("T")[2][:8]
    try:
        datetime.strptime(clock, "%H:%M:%S")
    except ValueError:
        return clock == "24:00:00"
    return True


def _pattern_sentence(subject: str, rule: ValueRule, pattern: str, value: str) -> str:
    if rule.base == "dateTime" or PATTERN_WORDS.get(pattern, "").startswith("a date-time"):
        return _datetime_sentence(subject, value)
    words = PATTERN_WORDS.get(pattern)
    if words is None:
        return f"{subject} is not in the required format; got {_shown(value)}"
    return f"{subject} must be {words}; got {_shown(value)}"


def _length_sentence(subject: str, facet: str, limit: int, length: int) -> str:
    if facet == "maxLength":
        return f"{subject} has at most {limit} characters; got {length}"
    if facet == "minLength":
        if limit == 1:
            return f"{subject} must not be empty"
        return f"{subject} has at least {limit} characters; got {length}"
    if limit == 0:
        return f"{subject} must be empty; got {length} characters"
    return f"{subject} has exactly {limit} characters; got {length}"


def _breaks_length(facet: str, limit: int, length: int) -> bool:
    if facet == "maxLength":
        return length > limit
    if facet == "minLength":
        return length < limit
    return length != limit


def _one_of(subject: str, choices: tuple[str, ...], value: str) -> str:
    return f"{subject} is one of {', '.join(choices)}; got {_shown(value)}"


def _bound_words(rule: ValueRule) -> str:
    words = []
    if rule.min_exclusive is not None:
        words.append(f"greater than {rule.min_exclusive}")
    if rule.min_inclusive is not None:
        words.append(f"from {rule.min_inclusive}")
    if rule.max_inclusive is not None:
        words.append(f"up to {rule.max_inclusive}")
    if rule.max_exclusive is not None:
        words.append(f"less than {rule.max_exclusive}")
    return " ".join(words)


# ------------------------------------------------------------------ helpers


def _local(qname: str) -> str:
    return qname.rpartition("}")[2]


def _ancestry(element: etree._Element | None) -> list[str]:
    names: list[str] = []
    node = element
    while node is not None:
        if isinstance(node.tag, str):
            names.append(_local(node.tag))
        node = node.getparent()
    return names[::-1]


def _child_names(element: etree._Element | None) -> list[str]:
    if element is None:
        return []
    return [_local(c.tag) for c in element if isinstance(c.tag, str)]


def _earlier_siblings(element: etree._Element | None, name: str) -> int:
    if element is None:
        return 0
    return sum(
        1
        for s in element.itersiblings(preceding=True)
        if isinstance(s.tag, str) and _local(s.tag) == name
    )


def _expected(rest: str) -> list[str]:
    found = _EXPECTED.search(rest)
    if found is None:
        return []
    names = [_local(n.strip()) for n in found["names"].split(",")]
    return list(dict.fromkeys(n for n in names if n))


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _or(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"one of {', '.join(names)}"


def _number(value: str) -> str:
    """A sent number as written (unquoted), cut short."""
    text = " ".join(value.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _shown(value: str) -> str:
    """A sent value, quoted and cut short: messages quote data, they do not carry it."""
    cut = value if len(value) <= _SHOWN else value[: _SHOWN - 1] + "…"
    return f"'{cut}'"
