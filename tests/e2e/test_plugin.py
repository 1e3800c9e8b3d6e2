"""The carriers' pytest plugin (service.testing) against the `aedex run` it starts.

One server for the whole module (session scope): messages and manifests from the API's
own examples are answered item by item with their decisions and error codes; a held item
goes to an officer's queue and the officer's decision reaches the operator; the clients
keep their keys out of reprs and logs; a wait that times out names the missing items.
Each test sends new ids, addressees and present times (the server remembers its history).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.api.examples import example
from service.testing import (
    AedexServer,
    OperatorClient,
    unique_message_id,
    unique_s10,
)

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

CARRIER = "DHL"  # the manifests' carrier: the operator of the key that posts them
SANCTIONED = "Viktor Aleksandrovich Dragunov"  # risk/rules/default.yaml: SANCTIONS_ADDRESSEE
ITEM = re.compile(r"\s*<Item>.*</Item>", re.DOTALL)


def _now(hours: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


def _postcode() -> str:
    """A new addressee for each item: risk rules count items per addressee."""
    return str(10000 + secrets.randbelow(90000))


def _itmatt(message_id: str, *items: dict[str, str]) -> str:
    """service/api/examples/itmatt.xml with a new MessageId, present times, and one copy of
    its item per `items` entry (ItemId, and optionally HSCode or addressee Name)."""
    source = example("itmatt.xml")
    template = ITEM.search(source)
    assert template is not None
    copies = []
    for changes in items:
        copy = template.group()
        copy = copy.replace("RR123456785CN", changes["item_id"])
        copy = copy.replace("<HSCode>610910<", f"<HSCode>{changes.get('hs_code', '610910')}<")
        copy = copy.replace("<Name>Anna Müller<", f"<Name>{changes.get('name', 'Anna Müller')}<")
        copy = copy.replace("<Postcode>10115<", f"<Postcode>{_postcode()}<")
        copy = re.sub(r"<PostingDateTime>[^<]+<", f"<PostingDateTime>{_now(-1)}<", copy)
        copies.append(copy)
    head, tail = source[: template.start()], source[template.end() :]
    head = head.replace("CNA-20261201-000001", message_id)
    head = re.sub(r"<PreparedAt>[^<]+<", f"<PreparedAt>{_now()}<", head)
    return head + "".join(copies) + tail


def _hawb() -> str:
    return f"9{secrets.randbelow(10**9):09d}"


def test_a_message_is_answered_item_by_item(aedex_operator: OperatorClient) -> None:
    clean, wrong = unique_s10(), unique_s10()
    message_id = unique_message_id("CNA")
    posted = aedex_operator.post_message(
        _itmatt(message_id, {"item_id": clean}, {"item_id": wrong, "hs_code": "999999"})
    )
    assert posted.status_code == 202, posted.text
    assert posted.json()["message_id"] == message_id

    # Ids are matched trimmed and upper-cased, and the answers keyed as they were asked.
    asked = f" {clean.lower()} "
    answers = aedex_operator.await_responses([asked, wrong], timeout=60)

    assert set(answers) == {asked, wrong}
    released, rejected = answers[asked], answers[wrong]
    assert (released.item_id, released.decision, released.security) == (clean, "RELEASE", None)
    assert released.codes == () and released.in_reply_to == message_id
    assert '<Decision axis="FISCAL">RELEASE</Decision>' in released.cusrsp
    assert rejected.decision == "REJECTED" and rejected.in_reply_to == message_id
    assert rejected.codes == ("HS_UNKNOWN",)
    assert f"<ItemId>{wrong}</ItemId>" in rejected.cusrsp


def _manifest_json(manifest_id: str, hawbs: tuple[str, str]) -> dict[str, Any]:
    """service/api/examples/manifest.json, flying now, its second shipment's HS code wrong."""
    manifest: dict[str, Any] = json.loads(example("manifest.json"))
    manifest.update(manifest_id=manifest_id, departure=_now(-2), arrival=_now(10))
    for shipment, hawb in zip(manifest["shipments"], hawbs, strict=True):
        shipment["hawb"] = hawb
        shipment["consignee"]["postcode"] = _postcode()
    manifest["shipments"][1]["lines"][0]["hs_code"] = "999999"
    return manifest


def _manifest_csv(manifest_id: str, hawbs: tuple[str, str]) -> str:
    """service/api/examples/manifest.csv, changed as `_manifest_json` changes the JSON."""
    text = example("manifest.csv")
    text = text.replace("DHL-20261122-0001", manifest_id)
    text = text.replace("2026-11-21T22:10:00+08:00", _now(-2))
    text = text.replace("2026-11-22T05:40:00+01:00", _now(10))
    text = text.replace(",1234567890,", f",{hawbs[0]},").replace(",1234567891,", f",{hawbs[1]},")
    text = text.replace(",10115,", f",{_postcode()},", 2)
    return text.replace(",611710,", ",999999,")


def test_a_manifest_is_answered_shipment_by_shipment(aedex_server: AedexServer) -> None:
    carrier = aedex_server.operator(CARRIER)
    as_json, as_csv = (_hawb(), _hawb()), (_hawb(), _hawb())
    manifest_id = f"DHL-T-{secrets.token_hex(6).upper()}"
    posted = carrier.post_manifest(_manifest_json(manifest_id, as_json))
    assert posted.status_code == 202, posted.text
    assert posted.json()["items"] == 2
    posted = carrier.post_manifest(_manifest_csv(f"{manifest_id}C", as_csv))  # text/csv
    assert posted.status_code == 202, posted.text

    answers = carrier.await_responses([*as_json, *as_csv], timeout=60)

    for good, bad in (as_json, as_csv):
        assert answers[good].decision == "RELEASE", answers[good]
        assert answers[good].codes == ()
        assert answers[bad].decision == "REJECTED"
        assert answers[bad].codes == ("HS_UNKNOWN",)
        assert answers[good].in_reply_to == answers[bad].in_reply_to
        assert answers[good].in_reply_to.startswith(manifest_id)


def test_an_officer_decides_a_held_item_and_the_operator_is_told(
    aedex_server: AedexServer, aedex_operator: OperatorClient
) -> None:
    held = unique_s10()
    message_id = unique_message_id("CNA")
    posted = aedex_operator.post_message(_itmatt(message_id, {"item_id": held, "name": SANCTIONED}))
    assert posted.status_code == 202, posted.text
    first = aedex_operator.await_responses([held])[held]
    assert first.decision == "HOLD"
    assert first.reasons, "a HOLD says what to do"
    assert not any("SANCTION" in reason.upper() for reason in first.reasons), "never why"

    officer = aedex_server.officer()
    [task] = [t for t in officer.queue(action="HOLD", operator="CNA") if t["item_id"] == held]
    assert task["status"] == "open" and task["claimed_by"] is None
    assert "SANCTIONS_ADDRESSEE" in {hit["rule"] for hit in task["hits"]}
    assert officer.task(held) == task
    assert officer.case(held)["declared"]["addressee"]["name"] == SANCTIONED

    decided = officer.decide(held, "RELEASE", note="namesake: other date of birth")
    assert decided.status_code == 200, decided.text
    assert decided.json()["decision"] == "RELEASE"
    again = officer.decide(held, "SEIZE", version=task["version"])
    assert again.status_code == 409, again.text  # decided already: the version moved on

    # The same client carries on from its cursor: the HOLD was handed out, this is new.
    second = aedex_operator.await_responses([held])[held]
    assert second.decision == "RELEASE"
    assert second.response_id > first.response_id
    assert second.in_reply_to == message_id
    task_after = officer.task(held)
    assert task_after is not None and task_after["status"] == "decided"
    assert held not in {t["item_id"] for t in officer.queue(action="HOLD", operator="CNA")}


def test_keys_stay_out_of_reprs_and_the_server_log(
    aedex_server: AedexServer, aedex_operator: OperatorClient
) -> None:
    key = aedex_operator.http.headers["Authorization"].removeprefix("Bearer ")
    assert key.startswith("aedex_")
    officer = aedex_server.officer()
    token = officer.http.headers["Authorization"].removeprefix("Bearer ")
    shown = " ".join(map(repr, (aedex_server, aedex_operator, officer)))
    assert "CNA" in shown and aedex_server.url in shown
    assert key not in shown and token not in shown
    assert aedex_operator.await_responses([], timeout=0) == {}
    officer.queue()
    assert aedex_server.log_path is not None
    log = aedex_server.log_path.read_text(encoding="utf-8")
    assert "GET /v1/responses" in log and "GET /v1/review/queue" in log
    assert key not in log and token not in log


def test_a_wait_that_times_out_names_the_missing_items(aedex_operator: OperatorClient) -> None:
    never_sent = unique_s10()
    with pytest.raises(AssertionError, match=f"1 item\\(s\\): {never_sent}"):
        aedex_operator.await_responses([never_sent.lower()], timeout=1)
