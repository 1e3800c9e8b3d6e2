"""Expectations: the three sources read as documented, judged per item, reported in JUnit."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from messages.codec import encode_cusrsp
from messages.models import CusrspHeader, CusrspMessage, Response, ResponseError
from service.harness.expect import (
    Answer,
    Answers,
    ExpectationError,
    Outcome,
    answers_from_cusrsp,
    expectations_from_run,
    judge,
    load_expectations,
    write_answers,
)
from service.harness.report import write_junit

NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def _lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def _answers(*found: Answer) -> Answers:
    answers = Answers()
    for one in found:
        answers.add(one)
    return answers


def test_a_hand_written_line_leaves_out_what_is_any(tmp_path: Path) -> None:
    expected = load_expectations(
        _lines(
            tmp_path / "e.jsonl",
            '{"item_id": "rx1", "decision": "RELEASE", "security": null}',
            '{"item_id": "RX2", "decision": ["HOLD", "INSPECT"], "codes": "any"}',
            '{"item_id": "RX3", "decision": "REJECTED", "codes": ["HS_FORMAT"]}',
            '{"item_id": "RX4", "held": true, "security": "any"}',
        )
    )
    answers = _answers(
        Answer("RX1", "RELEASE", "M1", security="SCREEN"),
        Answer("RX2", "INSPECT", "M1"),
        Answer("RX3", "REJECTED", "M1", codes=("PHONE_FORMAT",)),
        Answer("RX4", "RELEASE", "M1", security="DO_NOT_LOAD"),
    )
    report = judge(expected, answers)
    outcomes = {v.expectation.item_id: (v.outcome, v.problems) for v in report.verdicts}
    assert outcomes["rx1"] == (Outcome.MISMATCH, ("security decision SCREEN, expected none",))
    assert outcomes["RX2"] == (Outcome.PASSED, ())
    assert outcomes["RX3"] == (
        Outcome.MISMATCH, ("codes HS_FORMAT missing (got PHONE_FORMAT)",),
    )  # fmt: skip
    assert outcomes["RX4"] == (Outcome.PASSED, ())  # a security decision holds it


@pytest.mark.parametrize(
    ("line", "complaint"),
    [
        ('{"decision": "RELEASE"}', "item_id"),
        ('{"item_id": "RX1", "decision": "LET_GO"}', "'LET_GO' is not a decision"),
        ('{"item_id": "RX1", "security": "HOLD"}', "HOLD is not a security decision"),
        ('{"item_id": "RX1", "colour": "red"}', "unknown fields colour"),
        ('{"item_id": "RX1", "codes": "HS_FORMAT"}', "codes must be a list"),
        ("[1, 2]", "a JSON object"),
        ("{not json", "not JSON"),
    ],
)
def test_a_bad_line_is_named_with_its_line_number(
    tmp_path: Path, line: str, complaint: str
) -> None:
    path = _lines(tmp_path / "bad.jsonl", '{"item_id": "RX0"}', line)
    with pytest.raises(ExpectationError, match=rf"bad.jsonl:2: .*{complaint}"):
        load_expectations(path)


def test_generator_labels_expect_what_the_label_says(tmp_path: Path) -> None:
    label = '{{"file": {}, "message_id": "M1", "item_index": 1, "item_id": {}, ' \
        '"defect": {}, "expected": {}, "scenario": {}, "variant": null}}'  # fmt: skip
    expected = load_expectations(
        _lines(
            tmp_path / "labels.jsonl",
            label.format('"a.xml"', '"RX1"', '"HS_FORMAT"', '["HS_FORMAT"]', "null"),
            label.format('"a.xml"', '"RX2"', '"PHONE_FORMAT"', '["PHONE_FORMAT"]', "null"),
            label.format('"a.xml"', '"RX3"', "null", "[]", '"opioids"'),
            label.format('"a.xml"', '"RX4"', "null", "[]", "null"),
            # A whole message's defect: an error rejects each item of its file.
            label.format('"b.xml"', "null", '"AWB_CHECK_DIGIT"', '["AWB_CHECK_DIGIT"]', "null"),
            label.format('"b.xml"', '"RX5"', "null", "[]", "null"),
            label.format('"h.xml"', "null", '"XML_MALFORMED"', '["XML_MALFORMED"]', "null"),
        )
    )
    assert [e.item_id for e in expected] == ["RX1", "RX2", "RX3", "RX4", "RX5"]
    answers = [
        Answer("RX1", "REJECTED", "M1", codes=("HS_FORMAT",)),
        Answer("RX2", "DOCUMENTS_REQUIRED", "M1"),  # a warning: anything but rejected
        Answer("RX3", "RELEASE", "M1"),  # a missed scenario
        Answer("RX4", "RELEASE", "M1"),
        Answer("RX5", "REJECTED", "M2", codes=("AWB_CHECK_DIGIT",)),
    ]
    report = judge(expected, _answers(*answers))
    assert [v.outcome for v in report.verdicts] == [
        Outcome.PASSED, Outcome.PASSED, Outcome.MISMATCH, Outcome.PASSED, Outcome.PASSED,
    ]  # fmt: skip
    assert report.verdicts[2].problems == ("not held (RELEASE), expected held",)
    rejected_warning = judge(expected[1:2], _answers(Answer("RX2", "REJECTED", "M1")))
    assert rejected_warning.verdicts[0].outcome == Outcome.MISMATCH


def test_a_previous_run_is_expected_again_per_item_and_message(tmp_path: Path) -> None:
    saved = tmp_path / "answers.jsonl"
    write_answers(
        [
            Answer("RX1", "REJECTED", "M1", codes=("HS_FORMAT",)),
            Answer("RX1", "RELEASE", "M2"),  # its correction
            Answer("RX2", "HOLD", "M1", security="SCREEN"),
        ],
        saved,
    )
    expected = expectations_from_run(saved)
    same = _answers(
        Answer("RX1", "REJECTED", "M1", codes=("HS_FORMAT",)),
        Answer("RX1", "RELEASE", "M2"),
        Answer("RX2", "HOLD", "M1", security="SCREEN"),
    )
    assert judge(expected, same).passed
    changed = _answers(
        Answer("RX1", "REJECTED", "M1", codes=("HS_FORMAT",)),
        Answer("RX1", "RELEASE", "M2"),
        Answer("RX2", "HOLD", "M1"),
    )
    report = judge(expected, changed)
    assert [v.expectation.item_id for v in report.failures()] == ["RX2"]
    assert report.failures()[0].problems == ("security decision none, expected SCREEN",)


def test_the_first_answer_to_a_message_counts_and_a_missing_one_is_missing(
    tmp_path: Path,
) -> None:
    answers = _answers(Answer("RX1", "HOLD", "M1"), Answer("rx1 ", "SEIZE", "M1"))
    assert len(answers) == 1
    expected = load_expectations(
        _lines(tmp_path / "e.jsonl", '{"item_id": "RX1", "decision": "HOLD"}', '{"item_id": "RX9"}')
    )
    report = judge(expected, answers)
    assert [v.outcome for v in report.verdicts] == [Outcome.PASSED, Outcome.MISSING]


def test_a_cusrsp_gives_one_answer_per_item_with_its_security_decision() -> None:
    def response(item: str, decision: str, axis: str | None, **extra: object) -> Response:
        return Response(item_id=item, in_reply_to="M1", decision=decision, axis=axis,
                        decided_at=NOW, **extra)  # type: ignore[arg-type]  # fmt: skip

    xml = encode_cusrsp(
        CusrspMessage(
            header=CusrspHeader(message_id="R1", sender_authority="AEDEX01",
                                recipient_operator="CNA", prepared_at=NOW),  # fmt: skip
            responses=[
                response("RX1", "SCREEN", "SECURITY"),
                response("RX1", "HOLD", "FISCAL", reasons=["detained"]),
                response("RX2", "REJECTED", None, errors=[
                    ResponseError(code="HS_FORMAT", path="Item/HS", text="6 digits")]),
                response("RX3", "SCREEN", "SECURITY"),  # its fiscal answer is yet to come
            ],
        )
    )  # fmt: skip
    found = {a.item_id: a for a in answers_from_cusrsp(xml)}
    assert set(found) == {"RX1", "RX2"}
    assert (found["RX1"].decision, found["RX1"].security) == ("HOLD", "SCREEN")
    assert found["RX1"].reasons == ("detained",)
    assert found["RX2"].codes == ("HS_FORMAT",)
    assert found["RX2"].findings == ("HS_FORMAT (error) at Item/HS: 6 digits",)


def test_junit_has_a_case_per_item_and_a_failure_or_error_for_each_that_failed(
    tmp_path: Path,
) -> None:
    expected = load_expectations(
        _lines(
            tmp_path / "e.jsonl",
            '{"item_id": "RX1", "decision": "RELEASE"}',
            '{"item_id": "RX2", "decision": "RELEASE"}',
            '{"item_id": "RX3"}',
        )
    )
    report = judge(expected, _answers(Answer("RX1", "RELEASE", "M"), Answer("RX2", "HOLD", "M")))
    path = tmp_path / "out" / "junit.xml"
    write_junit(report, path, suite="gate")
    suite = etree.parse(str(path)).getroot()[0]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite}
    assert len(cases["RX1"]) == 0
    failure = cases["RX2"].find("failure")
    assert failure is not None
    assert failure.get("message") == "decision HOLD, expected RELEASE"
    assert cases["RX3"].find("error") is not None
