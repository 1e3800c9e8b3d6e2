"""The intake API on a real, migrated database (SQLite, and PostgreSQL when present).

No broker here: the app runs without a producer, as it does when the broker is
down, and the relay publishes later. What matters at intake: 202 only once the
raw bytes are in the inbox, a precise refusal otherwise, and operators kept apart.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from adapters.generator import generate, itmatt_only
from messages import s10
from messages.codec import encode_itmatt
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage, InboxStatus
from service.keys import create_key
from service.settings import Settings
from tests import builders
from tests.unit.adapters.test_adapter_express_manifest import MANIFEST_JSON

LIMIT = 64 * 1024


@dataclass
class Api:
    client: httpx.AsyncClient
    database_url: str
    keys: dict[str, str]

    async def post(self, operator: str, body: bytes, media: str = "application/xml",
                   route: str = "/v1/messages") -> httpx.Response:  # fmt: skip
        return await self.client.post(
            route,
            content=body,
            headers={"Content-Type": media, "Authorization": f"Bearer {self.keys[operator]}"},
        )

    async def get(self, operator: str, path: str) -> httpx.Response:
        return await self.client.get(
            path, headers={"Authorization": f"Bearer {self.keys[operator]}"}
        )

    async def inbox(self) -> list[InboxMessage]:
        engine = create_engine(self.database_url)
        try:
            async with create_sessionmaker(engine)() as session:
                return list(await session.scalars(select(InboxMessage)))
        finally:
            await engine.dispose()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    settings = Settings(database_url=database_url, kafka_bootstrap="", max_message_bytes=LIMIT)
    engine = create_engine(database_url)
    async with create_sessionmaker(engine)() as session, session.begin():
        keys = {code: await create_key(session, operator=code) for code in ("CNA", "DEA", "DHL")}
    await engine.dispose()
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield Api(client, database_url, keys)


def _itmatt(message_id: str = "CNA-20261122-000001", **header: object) -> bytes:
    return encode_itmatt(builders.itmatt(message_id=message_id, **header))


async def test_accepted_message_is_in_the_inbox_byte_for_byte(api: Api) -> None:
    body = _itmatt()
    answer = await api.post("CNA", body)
    assert answer.status_code == 202, answer.text
    reply = answer.json()
    assert reply["message_id"] == "CNA-20261122-000001"
    assert reply["items"] == 1
    assert reply["status"] == "ACCEPTED"
    [row] = await api.inbox()
    assert str(row.id) == reply["inbox_id"]
    assert row.raw == body
    assert row.status == InboxStatus.RECEIVED
    assert (row.sender_operator, row.kind, row.source) == ("CNA", "ITMATT", "API")


async def test_generated_traffic_is_accepted_with_its_item_count(api: Api) -> None:
    files = list(generate(itmatt_only(120, 5, items_per_message=40)))
    for file in files:
        operator = file.envelope.sender_operator
        assert operator is not None
        api.keys.setdefault(operator, api.keys["CNA"])
    for file in files:
        if file.envelope.sender_operator != "CNA":
            continue
        answer = await api.post("CNA", file.data)
        assert answer.status_code == 202, answer.text
        assert answer.json()["items"] == file.envelope.items


async def test_the_same_message_twice_is_accepted_once(api: Api) -> None:
    first = await api.post("CNA", _itmatt())
    again = await api.post("CNA", _itmatt())
    assert again.status_code == 202
    assert again.json()["status"] == "DUPLICATE_MESSAGE"
    assert again.json()["inbox_id"] == first.json()["inbox_id"]
    assert len(await api.inbox()) == 1


async def test_a_message_id_reused_for_other_content_is_refused(api: Api) -> None:
    await api.post("CNA", _itmatt())
    other = encode_itmatt(
        builders.itmatt(
            builders.item(item_id=s10.make("RR", 87654321, "CN")), message_id="CNA-20261122-000001"
        )
    )
    answer = await api.post("CNA", other)
    assert answer.status_code == 409
    assert answer.json()["error"] == "MESSAGE_ID_REUSED"
    assert len(await api.inbox()) == 1


async def test_sender_operator_must_be_the_keys_operator(api: Api) -> None:
    answer = await api.post("DEA", _itmatt())  # SenderOperator CNA, DEA's key
    assert answer.status_code == 403
    assert answer.json()["error"] == "UNKNOWN_OPERATOR"
    assert await api.inbox() == []


@pytest.mark.parametrize("authorization", [None, "Bearer nonsense", "Basic abc"])
async def test_without_a_valid_key_nothing_is_accepted(api: Api, authorization: str | None) -> None:
    headers = {"Content-Type": "application/xml"}
    if authorization:
        headers["Authorization"] = authorization
    answer = await api.client.post("/v1/messages", content=_itmatt(), headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"] == "UNAUTHORISED"
    assert await api.inbox() == []


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]>
<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2">&lol2;</ITMATT>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ITMATT xmlns="urn:aedex:msg:itmatt:1" version="1.2"><Header>&xxe;</Header></ITMATT>"""


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (BILLION_LAUGHS, 400, "XML_FORBIDDEN"),
        (XXE, 400, "XML_FORBIDDEN"),
        (b"this is not xml", 400, "XML_MALFORMED"),
        (b"<ITMATT xmlns='urn:aedex:msg:itmatt:1' version='1.2'><Header>", 400, "XML_MALFORMED"),
        (b"<CUSRSP xmlns='urn:aedex:msg:cusrsp:1' version='1'/>", 400, "XML_MALFORMED"),
        ("<?xml version='1.0' encoding='UTF-16'?><a/>".encode("utf-16"), 400, "XML_MALFORMED"),
        (b"<a>" + b"x" * (LIMIT + 1) + b"</a>", 413, "XML_TOO_LARGE"),
        (
            b"<ITMATT xmlns='urn:aedex:msg:itmatt:1' version='1.2'><Header/></ITMATT>",
            422,
            "MANDATORY_MISSING",
        ),
    ],
    ids=["billion-laughs", "xxe", "not-xml", "truncated", "wrong-root", "utf-16", "oversize",
         "no-header-ids"],
)  # fmt: skip
async def test_bad_messages_are_refused_with_a_precise_code(
    api: Api, body: bytes, status: int, code: str
) -> None:
    answer = await api.post("CNA", body)
    assert answer.status_code == status, answer.text
    assert answer.json()["error"] == code
    assert answer.json()["detail"]
    assert "Traceback" not in answer.text
    assert await api.inbox() == []


async def test_only_xml_is_taken_as_a_message(api: Api) -> None:
    answer = await api.post("CNA", _itmatt(), media="application/json")
    assert answer.status_code == 415
    assert answer.json()["error"] == "UNSUPPORTED_MEDIA_TYPE"


def _manifest() -> bytes:
    """A manifest of carrier DHL with two shipments."""
    return MANIFEST_JSON


async def test_express_manifest_becomes_one_cusitm_in_the_inbox(api: Api) -> None:
    body = _manifest()
    answer = await api.post("DHL", body, "application/json", "/v1/express/manifests")
    assert answer.status_code == 202, answer.text
    again = await api.post("DHL", body, "application/json", "/v1/express/manifests")
    assert again.json()["status"] == "DUPLICATE_MESSAGE"
    [row] = await api.inbox()
    assert (row.kind, row.source, row.sender_operator) == ("CUSITM", "EXPRESS", "DHL")
    assert row.item_count == answer.json()["items"] > 0


async def test_manifest_of_another_carrier_is_refused(api: Api) -> None:
    answer = await api.post("DEA", _manifest(), "application/json", "/v1/express/manifests")
    assert answer.status_code == 403
    assert answer.json()["error"] == "UNKNOWN_OPERATOR"


async def test_manifest_that_is_not_json_is_refused(api: Api) -> None:
    answer = await api.post("DHL", b"{not json", "application/json", "/v1/express/manifests")
    assert answer.status_code == 422
    assert answer.json()["error"] == "MANIFEST_INVALID"


async def test_validate_is_a_dry_run_with_every_finding(api: Api) -> None:
    bad = encode_itmatt(builders.itmatt(builders.item(item_id="RR123456789XX")))
    answer = await api.post("CNA", bad, route="/v1/validate")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    codes = {f["code"] for item in report["items"] for f in item["findings"]}
    assert "ITEM_ID_CHECK_DIGIT" in codes or "ITEM_ID_COUNTRY" in codes
    assert report["items"][0]["accepted"] is False
    assert await api.inbox() == []


async def test_an_operator_cannot_see_another_operators_message(api: Api) -> None:
    await api.post("CNA", _itmatt())
    mine = await api.get("CNA", "/v1/messages/CNA-20261122-000001")
    theirs = await api.get("DEA", "/v1/messages/CNA-20261122-000001")
    missing = await api.get("DEA", "/v1/messages/NO-SUCH-MESSAGE")
    assert mine.status_code == 200
    assert mine.json()["status"] == "RECEIVED"
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == {**missing.json(), "detail": theirs.json()["detail"]}
    assert (await api.get("DEA", "/v1/responses")).json() == {"responses": [], "next": 0}


async def test_health_readiness_and_metrics(api: Api) -> None:
    assert (await api.client.get("/healthz")).json() == {"status": "ok"}
    ready = await api.client.get("/readyz")
    # The database answers, but no stage worker runs here: not ready, and it says which.
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"] == "ok"
    assert checks["stage:validate"].startswith("no worker seen")
    await api.post("CNA", _itmatt())
    metrics = (await api.client.get("/metrics")).text
    assert 'aedex_inbox_messages{status="RECEIVED"} 1.0' in metrics


async def test_inbox_count_matches_accepted_messages(api: Api) -> None:
    for n in range(5):
        answer = await api.post("CNA", _itmatt(message_id=f"CNA-M-{n}"))
        assert answer.status_code == 202
    engine = create_engine(api.database_url)
    async with create_sessionmaker(engine)() as session:
        count = await session.scalar(select(func.count()).select_from(InboxMessage))
    await engine.dispose()
    assert count == 5
    assert (
        orjson.loads((await api.get("CNA", "/v1/messages/CNA-M-3")).content)["items_declared"] == 1
    )


def _metric(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


async def test_refusals_are_counted_by_code_and_operator_and_reads_apart(api: Api) -> None:
    await api.post("CNA", b"<not xml")
    await api.post("CNA", _itmatt(sender_operator="DEA"))
    await api.get("CNA", "/v1/messages/NO-SUCH-MESSAGE")  # a failed read, not a refused message
    await api.client.get("/v1/no-such-route")
    text = (await api.client.get("/metrics")).text
    refused = _metric(text, "aedex_messages_refused_total")
    assert refused == {
        (("code", "XML_MALFORMED"), ("operator", "CNA")): 1.0,
        (("code", "UNKNOWN_OPERATOR"), ("operator", "CNA")): 1.0,
    }
    others = _metric(text, "aedex_http_refusals_total")
    assert others == {(("code", "NOT_FOUND"), ("method", "GET")): 2.0}


async def test_each_intake_is_one_log_line_with_request_operator_message_and_outcome(
    api: Api,
) -> None:
    """Read from the JSON log sink (AEDEX_LOG_FILE, set for the test session by
    tests/log_secrets.py), as an operator's log pipeline would."""
    accepted = await api.post("CNA", _itmatt(message_id="CNA-LOG-1"))
    refused = await api.post("CNA", _itmatt(message_id="CNA-LOG-2", sender_operator="DEA"))
    ids = [accepted.headers["x-request-id"], refused.headers["x-request-id"]]
    sink = Path(os.environ["AEDEX_LOG_FILE"].replace("{pid}", str(os.getpid())))
    lines = [orjson.loads(line) for line in sink.read_text(encoding="utf-8").splitlines()]
    intake = [
        line
        for line in lines
        if line.get("event") in ("intake", "intake refused") and line.get("request_id") in ids
    ]
    assert [
        (line["request_id"], line["outcome"], line["operator"], line["message_id"])
        for line in intake
    ] == [
        (ids[0], "ACCEPTED", "CNA", "CNA-LOG-1"),
        (ids[1], "UNKNOWN_OPERATOR", "CNA", "CNA-LOG-2"),
    ]
