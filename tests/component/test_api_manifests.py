"""POST /v1/express/manifests on a real, migrated database (SQLite, and PostgreSQL when present).

Header problems refuse the whole manifest here, 422 with each finding at the manifest's own
place, and nothing is stored; a corrected resend under the same manifest_id is accepted; an
upload naming several message functions becomes one inbox row per function, all or none.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage
from service.keys import create_key
from service.settings import Settings
from tests.unit.adapters.test_adapter_express_manifest import CSV_ROWS, MANIFEST_JSON, to_csv

ROUTE = "/v1/express/manifests"
JSON = "application/json"
CSV = "text/csv"
BAD_AWB = "176-12345676"  # check digit 6; 1234567 mod 7 is 5
MANIFEST_ID = "DHL-20261122-0001"


@dataclass
class Carrier:
    client: httpx.AsyncClient
    database_url: str
    key: str

    async def post(self, body: bytes, media: str = JSON) -> httpx.Response:
        return await self.client.post(
            ROUTE,
            content=body,
            headers={"Content-Type": media, "Authorization": f"Bearer {self.key}"},
        )

    async def inbox(self) -> list[InboxMessage]:
        engine = create_engine(self.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                rows = await session.scalars(select(InboxMessage).order_by(InboxMessage.message_id))
                return list(rows)
        finally:
            await engine.dispose()


@pytest.fixture
async def carrier(database_url: str) -> AsyncIterator[Carrier]:
    settings = Settings(database_url=database_url, kafka_bootstrap="")
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        key = await create_key(session, operator="DHL")
    await engine.dispose()
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Carrier(client, database_url, key)


def manifest(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(MANIFEST_JSON)
    return found | changes


def encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


def csv(**cells: str) -> bytes:
    return to_csv([row | cells for row in CSV_ROWS]).encode()


def codes_and_paths(answer: httpx.Response) -> list[tuple[str, str]]:
    return [(f["code"], f["path"]) for f in answer.json()["findings"]]


async def test_a_bad_master_awb_is_refused_at_its_json_path(carrier: Carrier) -> None:
    answer = await carrier.post(encode(manifest(master_awb=BAD_AWB)))
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "AWB_CHECK_DIGIT"
    assert codes_and_paths(answer) == [("AWB_CHECK_DIGIT", "master_awb")]
    assert body["findings"][0]["severity"] == "error"
    assert "master_awb" in body["detail"] and BAD_AWB in body["detail"]
    assert await carrier.inbox() == [], "a refused manifest stores nothing"


async def test_a_bad_master_awb_is_refused_at_its_csv_row(carrier: Carrier) -> None:
    answer = await carrier.post(csv(master_awb=BAD_AWB), CSV)
    assert answer.status_code == 422, answer.text
    assert codes_and_paths(answer) == [("AWB_CHECK_DIGIT", "row 2, column master_awb")]
    assert await carrier.inbox() == []


@pytest.mark.parametrize(
    ("body", "media", "path"),
    [
        (encode(manifest(manifest_id=None)), JSON, "manifest_id"),
        (csv(manifest_id=""), CSV, "row 2, column manifest_id"),
    ],
)
async def test_a_missing_manifest_id_is_refused_with_its_finding(
    carrier: Carrier, body: bytes, media: str, path: str
) -> None:
    answer = await carrier.post(body, media)
    assert answer.status_code == 422, answer.text
    assert codes_and_paths(answer) == [("MANDATORY_MISSING", path)]
    assert answer.json()["error"] == "MANDATORY_MISSING"


async def test_a_manifest_id_too_long_for_the_message_id_is_refused(carrier: Carrier) -> None:
    answer = await carrier.post(encode(manifest(manifest_id="M" * 25)))
    assert answer.status_code == 422, answer.text
    assert codes_and_paths(answer) == [("SCHEMA", "manifest_id")]


async def test_a_structural_error_names_its_place_in_the_findings(carrier: Carrier) -> None:
    document = manifest()
    document["shipments"][1]["message_function"] = "delete"
    answer = await carrier.post(encode(document))
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "MANIFEST_INVALID"
    assert codes_and_paths(answer) == [("SCHEMA", "shipments[1].message_function")]


async def test_a_corrected_resend_is_accepted_and_an_identical_one_is_a_duplicate(
    carrier: Carrier,
) -> None:
    refused = await carrier.post(encode(manifest(master_awb=BAD_AWB)))
    assert refused.status_code == 422
    corrected = encode(manifest())
    first = await carrier.post(corrected)
    assert first.status_code == 202, first.text
    body = first.json()
    assert set(body) == {"message_id", "inbox_id", "items", "status"}
    assert (body["items"], body["status"]) == (2, "ACCEPTED")
    assert body["message_id"].startswith(f"{MANIFEST_ID}-") and body["message_id"].endswith("-9")
    again = await carrier.post(corrected)
    assert again.status_code == 202
    assert again.json() == body | {"status": "DUPLICATE_MESSAGE"}
    # The carrier corrects a shipment and resends under the same manifest_id: new bytes, new
    # MessageId, accepted (not MESSAGE_ID_REUSED).
    document = manifest()
    document["shipments"] = [document["shipments"][1] | {"message_function": "replace"}]
    replaced = await carrier.post(encode(document))
    assert replaced.status_code == 202, replaced.text
    assert replaced.json()["message_id"] not in (body["message_id"], MANIFEST_ID)
    assert len(await carrier.inbox()) == 2


async def test_item_level_problems_are_accepted_for_the_validate_stage(carrier: Carrier) -> None:
    document = manifest()
    document["shipments"][0]["lines"][0]["hs_code"] = "999999"
    answer = await carrier.post(encode(document))
    assert answer.status_code == 202, answer.text
    [row] = await carrier.inbox()
    assert row.locations == {"format": "json", "shipments": [0, 1]}


async def test_several_functions_make_one_inbox_row_each(carrier: Carrier) -> None:
    document = manifest()
    document["shipments"][0]["message_function"] = "5"
    document["shipments"][1] = {"hawb": "1234567891", "message_function": "cancel"}
    answer = await carrier.post(encode(document))
    assert answer.status_code == 202, answer.text
    body = answer.json()
    listed = body["messages"]
    assert [m["message_function"] for m in listed] == ["replace", "cancel"]
    assert [m["message_id"][-2:] for m in listed] == ["-5", "-1"]
    assert (body["message_id"], body["inbox_id"]) == (
        listed[0]["message_id"],
        listed[0]["inbox_id"],
    )
    assert (body["items"], body["status"]) == (2, "ACCEPTED")
    rows = {row.message_id: row for row in await carrier.inbox()}
    assert set(rows) == {m["message_id"] for m in listed}
    assert {str(row.id) for row in rows.values()} == {m["inbox_id"] for m in listed}
    assert {row.item_count for row in rows.values()} == {1}
    assert len({row.received_at for row in rows.values()}) == 1, "stored together"
    again = await carrier.post(encode(document))
    assert again.json()["status"] == "DUPLICATE_MESSAGE"
    assert [m["status"] for m in again.json()["messages"]] == ["DUPLICATE_MESSAGE"] * 2
    assert len(await carrier.inbox()) == 2


async def test_csv_rows_are_kept_to_locate_findings(carrier: Carrier) -> None:
    answer = await carrier.post(csv(), CSV)
    assert answer.status_code == 202, answer.text
    [row] = await carrier.inbox()
    assert row.locations == {
        "format": "csv",
        "row": 2,
        "shipments": [{"row": 2, "lines": [2, 4]}, {"row": 3, "lines": [3]}],
    }
