"""Expected outcomes of a replay, the answers it got, and the verdict per item.

A carrier's conformance gate (issue 16) says, per item, what Customs must answer:
the decision (one code, several allowed, or any), error codes that must all be
present, the security decision (a code, none, or any) and whether the item is held
at all. Expectations come from three places, all read by `load_expectations`:

- a hand-written JSON Lines file: `{"item_id", "decision", "codes", "security",
  "held", "in_reply_to"}` per line; every field but `item_id` may be left out or
  be `"any"`;
- the generator's `labels.jsonl`: a defect must be REJECTED with its codes (a
  warning only needs its code), a scenario item must be held, a clean item
  released with no security decision;
- a previous run (`--expect-from-run`): a recording of its `aed.responses` topic,
  or the answers file `aedex replay --save-answers` wrote; the same answer per
  item and message is expected again (determinism).

Answers are read from CUSRSP XML, so the gate checks exactly what a carrier receives.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from messages.codec import decode_cusrsp
from messages.codelists import DECISIONS
from messages.findings import SEVERITY, Code
from service.harness.recording import MAGIC, Recording

ANY = "any"
#: An expectation's "no security decision" (JSON null), as opposed to any.
NO_SECURITY = "\0none"
#: A fiscal decision that stops the item: what "held" means to a carrier.
HELD = frozenset(code for code, d in DECISIONS.items() if d.axis == "FISCAL" and code != "RELEASE")
#: Decisions that end an item's automated answer (a SECURITY-only CUSRSP does not).
FINAL = frozenset(code for code, d in DECISIONS.items() if d.axis != "SECURITY") - {"ACCEPTED"}
#: What an item that is assessed (not rejected, not withdrawn) may be answered.
ACCEPTED_OUTCOMES = FINAL - {"REJECTED", "CANCELLED"}


class ExpectationError(ValueError):
    """An expectation file that cannot be read: the message names the file and line."""


def item_key(item_id: str) -> str:
    """Items compare as the item store keys them: trimmed, upper case."""
    return item_id.strip().upper()


@dataclass(frozen=True, slots=True)
class Answer:
    """Customs' answer on one item, as the carrier received it."""

    item_id: str
    decision: str
    in_reply_to: str
    security: str | None = None
    codes: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    #: Each error or warning as the CUSRSP words it: code, data element, text.
    findings: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "in_reply_to": self.in_reply_to,
            "decision": self.decision,
            "security": self.security,
            "codes": list(self.codes),
            "reasons": list(self.reasons),
            "findings": list(self.findings),
        }


def answers_from_cusrsp(xml: bytes) -> list[Answer]:
    """Each item's answer in one CUSRSP: its non-security decision, with the security
    decision the same message carries; an item with a security decision alone is left
    out (its fiscal answer is still to come)."""
    message = decode_cusrsp(xml)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for response in message.responses:
        entry = found.setdefault(
            (response.item_id, response.in_reply_to), {"codes": [], "reasons": [], "findings": []}
        )
        if response.axis == "SECURITY":
            entry["security"] = response.decision
        else:
            entry["decision"] = response.decision
        entry["codes"] += [error.code for error in response.errors]
        entry["findings"] += [
            f"{e.code} ({e.severity}) at {e.path}: {e.text}" for e in response.errors
        ]
        entry["reasons"] += response.reasons
    return [
        Answer(
            item_id,
            entry["decision"],
            in_reply_to,
            entry.get("security"),
            tuple(entry["codes"]),
            tuple(entry["reasons"]),
            tuple(entry["findings"]),
        )
        for (item_id, in_reply_to), entry in found.items()
        if entry.get("decision") in FINAL
    ]


class Answers:
    """The answers seen so far, per item and per message it replies to: the first final
    answer to a message counts (an officer's later decision is not the pipeline's)."""

    def __init__(self) -> None:
        self._first: dict[tuple[str, str], Answer] = {}
        #: Per item, the messages answered, in the order their answers came.
        self._messages: dict[str, list[str]] = {}

    def add(self, answer: Answer) -> bool:
        """Keep `answer` unless its item and message are answered already."""
        item = item_key(answer.item_id)
        if (item, answer.in_reply_to) in self._first:
            return False
        self._first[item, answer.in_reply_to] = answer
        self._messages.setdefault(item, []).append(answer.in_reply_to)
        return True

    def get(self, item_id: str, in_reply_to: str | None = None) -> Answer | None:
        """The answer to `in_reply_to`, or, without it, to the item's latest message."""
        item = item_key(item_id)
        if in_reply_to is None:
            messages = self._messages.get(item)
            return self._first[item, messages[-1]] if messages else None
        return self._first.get((item, in_reply_to))

    def __len__(self) -> int:
        return len(self._first)

    def __iter__(self) -> Iterator[Answer]:
        return iter(self._first.values())


@dataclass(frozen=True, slots=True)
class Expectation:
    """What one item's answer must be; `None` in a field means any."""

    item_id: str
    decisions: frozenset[str] | None = None
    codes: frozenset[str] | None = None
    #: The security decision; `NO_SECURITY` for "none", `None` for any.
    security: str | None = None
    held: bool | None = None
    in_reply_to: str | None = None
    #: Where it was written (file:line), for the report.
    source: str = ""

    def problems(self, got: Answer) -> list[str]:
        """What in `got` differs from this expectation, one sentence each."""
        out: list[str] = []
        if self.decisions is not None and got.decision not in self.decisions:
            out.append(f"decision {got.decision}, expected {' or '.join(sorted(self.decisions))}")
        if self.codes:
            missing = sorted(self.codes - set(got.codes))
            if missing:
                out.append(f"codes {', '.join(missing)} missing (got {_listed(got.codes)})")
        if self.security == NO_SECURITY and got.security is not None:
            out.append(f"security decision {got.security}, expected none")
        elif self.security not in (None, NO_SECURITY) and got.security != self.security:
            out.append(f"security decision {got.security or 'none'}, expected {self.security}")
        held = got.decision in HELD or got.security is not None
        if self.held is not None and held != self.held:
            out.append(f"{'held' if held else 'not held'} ({got.decision}), expected "
                       f"{'held' if self.held else 'not held'}")  # fmt: skip
        return out

    def describe(self) -> str:
        parts = []
        if self.decisions is not None:
            parts.append(" or ".join(sorted(self.decisions)))
        if self.held is not None:
            parts.append("held" if self.held else "not held")
        if self.codes:
            parts.append("codes " + ", ".join(sorted(self.codes)))
        if self.security == NO_SECURITY:
            parts.append("no security decision")
        elif self.security is not None:
            parts.append(f"security {self.security}")
        return "; ".join(parts) or "any answer"


def _listed(codes: Iterable[str]) -> str:
    return ", ".join(codes) or "none"


class Outcome(StrEnum):
    PASSED = "passed"
    MISMATCH = "mismatch"
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Verdict:
    expectation: Expectation
    outcome: Outcome
    answer: Answer | None = None
    problems: tuple[str, ...] = ()


@dataclass
class Report:
    verdicts: list[Verdict] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for v in self.verdicts if v.outcome == outcome)

    @property
    def passed(self) -> bool:
        return all(v.outcome == Outcome.PASSED for v in self.verdicts)

    def failures(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.outcome != Outcome.PASSED]


def judge(expectations: Iterable[Expectation], answers: Answers) -> Report:
    """Each expectation against the answer it names."""
    report = Report()
    for expected in expectations:
        got = answers.get(expected.item_id, expected.in_reply_to)
        if got is None:
            report.verdicts.append(Verdict(expected, Outcome.MISSING))
            continue
        problems = expected.problems(got)
        outcome = Outcome.MISMATCH if problems else Outcome.PASSED
        report.verdicts.append(Verdict(expected, outcome, got, tuple(problems)))
    return report


# ---------------------------------------------------------------- reading expectations


def load_expectations(path: Path) -> list[Expectation]:
    """Hand-written expectations or generator labels, told apart line by line."""
    entries = list(_json_lines(path))
    # A label of a whole message (no item id) with an error rejects each of its items.
    message_errors: dict[str, frozenset[str]] = {}
    for _, entry in entries:
        if _is_label(entry) and not entry.get("item_id"):
            codes = _error_codes(entry.get("expected") or ())
            if codes:
                file = str(entry.get("file"))
                message_errors[file] = message_errors.get(file, frozenset()) | codes
    out: list[Expectation] = []
    for number, entry in entries:
        where = f"{path.name}:{number}"
        if not _is_label(entry):
            out.append(_from_written(entry, where))
        elif entry.get("item_id"):
            out.append(_from_label(entry, where, message_errors.get(str(entry.get("file")))))
    return out


def _is_label(entry: dict[str, Any]) -> bool:
    return "defect" in entry or "scenario" in entry


def _error_codes(codes: Iterable[Any]) -> frozenset[str]:
    return frozenset(
        str(c) for c in codes if str(c) in Code.__members__ and SEVERITY[Code(str(c))] == "error"
    )


def expectations_from_run(path: Path) -> list[Expectation]:
    """A previous run's answers as expectations: the same decision, security decision and
    codes for each item and message. `path` is a recording of `aed.responses` or an
    answers file of `--save-answers`."""
    return [
        Expectation(
            item_id=a.item_id,
            decisions=frozenset({a.decision}),
            codes=frozenset(a.codes),
            security=a.security or NO_SECURITY,
            in_reply_to=a.in_reply_to,
            source=f"{path.name}: {a.in_reply_to}",
        )
        for a in read_answers(path)
    ]


def read_answers(path: Path) -> Iterator[Answer]:
    """The answers in a responses recording or an answers file, first per item and message."""
    seen = Answers()
    with path.open("rb") as file:
        if file.read(len(MAGIC)) == MAGIC:
            file.seek(0)
            for record in Recording(file):
                for found in answers_from_cusrsp(record.value or b""):
                    if seen.add(found):
                        yield found
            return
    for number, entry in _json_lines(path):
        try:
            found = Answer(
                item_id=str(entry["item_id"]), decision=str(entry["decision"]),
                in_reply_to=str(entry["in_reply_to"]), security=entry.get("security"),
                codes=tuple(entry.get("codes") or ()), reasons=tuple(entry.get("reasons") or ()),
                findings=tuple(entry.get("findings") or ()),
            )  # fmt: skip
        except KeyError as missing:
            raise ExpectationError(f"{path.name}:{number}: an answer needs {missing}") from None
        if seen.add(found):
            yield found


def write_answers(answers: Iterable[Answer], path: Path) -> int:
    """The answers file `--expect-from-run` reads back; returns how many were written."""
    written = 0
    with path.open("wb") as file:
        for found in answers:
            file.write(orjson.dumps(found.as_json()) + b"\n")
            written += 1
    return written


def _json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as error:
        raise ExpectationError(f"{path}: {error.strerror}") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as error:
            raise ExpectationError(f"{path.name}:{number}: not JSON ({error})") from None
        if not isinstance(entry, dict):
            raise ExpectationError(f"{path.name}:{number}: each line must be a JSON object")
        yield number, entry


def _from_written(entry: dict[str, Any], where: str) -> Expectation:
    item_id = entry.get("item_id")
    if not isinstance(item_id, str) or not item_id.strip():
        raise ExpectationError(f"{where}: item_id (a string) is required")
    unknown = set(entry) - {"item_id", "decision", "codes", "security", "held", "in_reply_to"}
    if unknown:
        raise ExpectationError(f"{where}: unknown fields {', '.join(sorted(unknown))}")
    decision = entry.get("decision", ANY)
    if decision == ANY:
        decisions = None
    else:
        named = [decision] if isinstance(decision, str) else decision
        if not isinstance(named, list) or not named:
            raise ExpectationError(f"{where}: decision must be a code, a list of codes or 'any'")
        decisions = frozenset(_decision(code, where) for code in named)
    codes = entry.get("codes", ANY)
    if codes != ANY and not (isinstance(codes, list) and all(isinstance(c, str) for c in codes)):
        raise ExpectationError(f"{where}: codes must be a list of codes or 'any'")
    security = entry.get("security", ANY)
    if security is None:
        security = NO_SECURITY
    elif security == ANY:
        security = None
    elif _decision(security, where) and DECISIONS[security].axis != "SECURITY":
        raise ExpectationError(f"{where}: {security} is not a security decision")
    held = entry.get("held", ANY)
    if held not in (True, False, ANY):
        raise ExpectationError(f"{where}: held must be true, false or 'any'")
    in_reply_to = entry.get("in_reply_to")
    return Expectation(
        item_id=item_id, decisions=decisions,
        codes=None if codes == ANY else frozenset(codes), security=security,
        held=None if held == ANY else held,
        in_reply_to=in_reply_to if isinstance(in_reply_to, str) else None, source=where,
    )  # fmt: skip


def _decision(code: Any, where: str) -> str:
    if not isinstance(code, str) or code not in DECISIONS:
        known = ", ".join(DECISIONS)
        raise ExpectationError(f"{where}: {code!r} is not a decision (one of {known})")
    return code


def _from_label(
    entry: dict[str, Any], where: str, message_errors: frozenset[str] | None
) -> Expectation:
    """A generator label's outcome. Errors reject the item with their codes. Warnings are
    not in the CUSRSP of an item that is not rejected (DESIGN.md §3: Error elements come
    with REJECTED), so a warning only says the item must not be rejected."""
    codes = frozenset(str(code) for code in entry.get("expected") or ())
    errors = _error_codes(codes) | (message_errors or frozenset())
    # No message id: a manifest's CUSITM is named at intake, not by the generator.
    common: dict[str, Any] = {"item_id": entry["item_id"], "source": where}
    if errors:
        return Expectation(decisions=frozenset({"REJECTED"}), codes=errors, **common)
    if entry.get("scenario"):
        return Expectation(held=True, **common)
    if entry.get("defect"):
        return Expectation(decisions=ACCEPTED_OUTCOMES, **common)
    return Expectation(decisions=frozenset({"RELEASE"}), security=NO_SECURITY, **common)
