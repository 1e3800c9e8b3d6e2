"""Express manifests in the item lifecycle, through the API to the CUSRSP (issue 12).

A carrier's manifest (JSON or CSV) with a bad master AWB is refused whole; the corrected
resend is answered shipment by shipment; a later upload under the same manifest_id
replaces one shipment and cancels another (one CUSITM per function); a bad HS code comes
back in a CUSRSP `<Error>` at the manifest's own place, as the carrier wrote it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from adapters.express import (
    Manifest,
    ManifestLine,
    ManifestParty,
    Shipment,
    manifest_to_csv,
    manifest_to_json,
)
from messages.codec import decode_cusrsp
from messages.models import MessageFunction
from tests.e2e.pipeline import Pipeline, start_pipeline
from tests.unit.adapters.test_adapter_express_manifest import CONSIGNEE_1, SHIPPER

pytestmark = [pytest.mark.kafka, pytest.mark.timeout(300)]

CARRIER = "DHL"
ROUTE = "/v1/express/manifests"
MEDIA = {"json": "application/json", "csv": "text/csv"}
GOOD_AWB = "176-12345675"
BAD_AWB = "176-12345676"


@pytest.fixture
async def pipeline(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Pipeline]:
    async for running in start_pipeline(database_url, kafka_bootstrap):
        yield running


def line(hs_code: str = "610910", value: str = "20.00") -> ManifestLine:
    return ManifestLine(
        description="Men's cotton T-shirt",
        hs_code=hs_code,
        quantity=1,
        net_weight_kg=Decimal("0.2"),
        value=Decimal(value),
        origin="CN",
    )


def shipment(hawb: str, *lines: ManifestLine, **changes: Any) -> Shipment:
    lines = lines or (line(),)
    total = sum((item.value or Decimal(0) for item in lines), Decimal(0))
    return replace(
        Shipment(
            hawb=hawb,
            shipper=ManifestParty(**SHIPPER),
            consignee=ManifestParty(**CONSIGNEE_1),
            pieces=1,
            gross_weight_kg=Decimal("0.5") * len(lines),
            value=total,
            currency="EUR",
            lines=lines,
        ),
        **changes,
    )


def hawb_number(fmt: str, serial: int) -> str:
    """A 10-digit HAWB, as carriers number them, distinct per format and serial."""
    return f"{(1 if fmt == 'json' else 2)}{serial:09d}"


class Carrier:
    """One carrier posting manifests (all under one manifest_id) in one format."""

    def __init__(self, pipeline: Pipeline, fmt: str) -> None:
        self.pipeline = pipeline
        self.fmt = fmt
        self.now = datetime.now(UTC).replace(microsecond=0)

    def manifest(self, *shipments: Shipment, master_awb: str = GOOD_AWB) -> bytes:
        manifest = Manifest(
            carrier=CARRIER,
            manifest_id=f"DHL-LIFE-{self.fmt.upper()}",
            master_awb=master_awb,
            flight="LH8401",
            departure=self.now - timedelta(hours=6),
            arrival=self.now + timedelta(hours=6),
            shipments=shipments,
        )
        if self.fmt == "csv":
            return manifest_to_csv(manifest).encode()
        return manifest_to_json(manifest)

    async def post(self, data: bytes, status: int = 202) -> dict[str, Any]:
        answer = await self.pipeline.post(CARRIER, data, ROUTE, MEDIA[self.fmt])
        assert answer.status_code == status, answer.text
        return dict(answer.json())

    async def get(self, path: str) -> dict[str, Any] | None:
        key = await self.pipeline.key(CARRIER)
        answer = await self.pipeline.client.get(path, headers={"Authorization": f"Bearer {key}"})
        if answer.status_code == 404:
            return None
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    async def answered(self, hawb: str, decisions: int, timeout: float = 60) -> dict[str, Any]:
        """GET /v1/items/HAWB once `decisions` answers were sent for it."""
        deadline = time.monotonic() + timeout
        while True:
            found = await self.get(f"/v1/items/{hawb}")
            if found is not None and len(found["decisions"]) >= decisions:
                return found
            assert time.monotonic() < deadline, f"after {timeout:.0f} s: {found}"
            await asyncio.sleep(0.2)

    async def cusrsp_errors(self, hawb: str) -> list[tuple[str, str]]:
        """(code, path) of every `<Error>` in the CUSRSP answers for this HAWB."""
        page = await self.get("/v1/responses?after=0&limit=500")
        assert page is not None
        return [
            (error.code, error.path)
            for answer in page["responses"]
            if answer["item_id"] == hawb
            for response in decode_cusrsp(answer["cusrsp"].encode()).responses
            for error in response.errors
        ]


def _statuses(item: dict[str, Any]) -> list[str]:
    return [v["status"] for v in item["versions"]]


@pytest.mark.parametrize("fmt", ["json", "csv"])
async def test_a_manifest_is_refused_corrected_replaced_and_cancelled_per_shipment(
    pipeline: Pipeline, fmt: str
) -> None:
    carrier = Carrier(pipeline, fmt)
    a, b, c = (hawb_number(fmt, n) for n in range(3))
    originals = (shipment(a), shipment(b), shipment(c))

    # A bad master AWB refuses the whole manifest at its own place; nothing is stored.
    refused = await carrier.post(carrier.manifest(*originals, master_awb=BAD_AWB), 422)
    place = "master_awb" if fmt == "json" else "row 2, column master_awb"
    assert [(f["code"], f["path"]) for f in refused["findings"]] == [("AWB_CHECK_DIGIT", place)]
    assert await carrier.get(f"/v1/items/{a}") is None

    # The corrected resend, same manifest_id: accepted, every shipment answered.
    first = await carrier.post(carrier.manifest(*originals))
    assert (first["status"], first["items"]) == ("ACCEPTED", 3)
    for hawb in (a, b, c):
        item = await carrier.answered(hawb, 1)
        assert _statuses(item) == ["ASSESSED"]
        assert item["decisions"][0]["axis"] == "FISCAL"
        assert item["decisions"][0]["in_reply_to"] == first["message_id"]

    # Later, under the same manifest_id: A is replaced, B cancelled by its HAWB alone.
    correction = carrier.manifest(
        shipment(a, line(value="25.00"), message_function=MessageFunction.REPLACE),
        Shipment(hawb=b, message_function=MessageFunction.CANCEL),
    )
    second = await carrier.post(correction)
    assert second["status"] == "ACCEPTED" and second["items"] == 2
    assert [m["message_function"] for m in second["messages"]] == ["replace", "cancel"]
    replaced, cancelled = (m["message_id"] for m in second["messages"])

    item = await carrier.answered(a, 2)
    assert _statuses(item) == ["SUPERSEDED", "ASSESSED"]
    assert item["decisions"][1]["axis"] == "FISCAL"
    assert item["decisions"][1]["in_reply_to"] == replaced

    item = await carrier.answered(b, 2)
    assert _statuses(item) == ["SUPERSEDED", "CANCELLED"]
    assert item["status"] == "CANCELLED"
    assert item["decisions"][1]["decision"] == "CANCELLED"
    assert item["decisions"][1]["in_reply_to"] == cancelled

    # The identical resend is a duplicate: nothing is answered again.
    again = await carrier.post(correction)
    assert again["status"] == "DUPLICATE_MESSAGE"
    untouched = await carrier.answered(c, 1)
    assert _statuses(untouched) == ["ASSESSED"]
    assert len((await carrier.answered(a, 2))["decisions"]) == 2


@pytest.mark.parametrize(
    ("fmt", "first", "second"),
    [
        ("json", "shipments[0].lines[0].hs_code", "shipments[1].lines[1].hs_code"),
        # The header is row 1; shipment 0 is row 2, shipment 1's lines rows 3 and 4.
        ("csv", "row 2, column hs_code", "row 4, column hs_code"),
    ],
)
async def test_a_bad_hs_code_is_answered_at_its_manifest_location(
    pipeline: Pipeline, fmt: str, first: str, second: str
) -> None:
    carrier = Carrier(pipeline, fmt)
    a, b = hawb_number(fmt, 10), hawb_number(fmt, 11)
    accepted = await carrier.post(
        carrier.manifest(
            shipment(a, line(hs_code="999999")), shipment(b, line(), line(hs_code="999999"))
        )
    )
    for hawb, path in ((a, first), (b, second)):
        item = await carrier.answered(hawb, 1)
        assert item["decisions"][0]["decision"] == "REJECTED"
        assert ("HS_UNKNOWN", path) in {
            (f["code"], f["path"]) for f in item["versions"][0]["findings"]
        }
        assert ("HS_UNKNOWN", path) in await carrier.cusrsp_errors(hawb)
        assert not any(p.startswith("Item[") for _, p in await carrier.cusrsp_errors(hawb))
    message = await carrier.get(f"/v1/messages/{accepted['message_id']}")
    assert message is not None
    paths = {f["path"] for item in message["items"] for f in item["findings"]}
    assert {first, second} <= paths


async def test_a_hawb_is_one_item_whatever_its_letter_case(pipeline: Pipeline) -> None:
    """Items are keyed trimmed and upper case: a cancellation written in capitals finds
    the original written in lower case, and a second original of it is ITEM_ID_REUSED."""
    carrier = Carrier(pipeline, "json")
    lower = f"dhlx{hawb_number('json', 20)}"
    await carrier.post(carrier.manifest(shipment(lower)))
    await carrier.answered(lower, 1)
    again = Carrier(pipeline, "json")
    again.now += timedelta(minutes=1)
    await again.post(again.manifest(shipment(lower.upper())))
    item = await carrier.answered(lower.upper(), 2)
    assert _statuses(item) == ["ASSESSED", "REJECTED"]
    assert "ITEM_ID_REUSED" in {f["code"] for f in item["versions"][1]["findings"]}
    await carrier.post(
        carrier.manifest(Shipment(hawb=lower.upper(), message_function=MessageFunction.CANCEL))
    )
    item = await carrier.answered(lower, 3)
    assert item["status"] == "CANCELLED"
    assert item["decisions"][2]["decision"] == "CANCELLED"
