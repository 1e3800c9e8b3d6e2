"""`aedex record --http`: what the API received, read back from the inbox, in order and cut
to its period, on SQLite and PostgreSQL.

The traffic is posted through the real app (no broker: the API then only stores, and the
relay would publish), so the rows are exactly those intake writes: ITMATTs of two
operators, and an express manifest stored as the two CUSITMs it became (one receipt time).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import select

from messages.codec import encode_itmatt
from messages.xml import XmlLimits
from service.api.app import create_app
from service.db.base import aware
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import InboxMessage
from service.harness.capture import Period
from service.harness.capture_http import record_http
from service.harness.recording import Recorded, Recording
from service.intake import accept, read_envelope
from service.keys import create_keys
from service.publish import inbound_key
from service.settings import Settings
from tests import builders
from tests.unit.adapters.test_adapter_express_manifest import MANIFEST_JSON

pytestmark = pytest.mark.timeout(120)

#: The manifest with its second shipment a replacement: one upload, two CUSITM messages.
TWO_FUNCTIONS = MANIFEST_JSON.replace(
    b'"hawb": "1234567891",', b'"hawb": "1234567891", "message_function": "replace",'
)


def _itmatt(operator: str, number: int) -> bytes:
    return encode_itmatt(
        builders.itmatt(
            message_id=f"{operator}-20261122-{number:06d}",
            sender_operator=operator,
            recipient_operator="DEA" if operator != "DEA" else "CNA",
        )
    )


@dataclass(frozen=True)
class Stored:
    """An inbox row as the database holds it (what each record is checked against)."""

    id: uuid.UUID
    sender_operator: str
    message_id: str
    kind: str
    source: str
    raw: bytes
    received_at: datetime
    publish_count: int = 0


async def _post_traffic(database_url: str) -> list[Stored]:
    """Post five messages in four uploads through the API, store one message the way the
    validate stage stores one produced straight to Kafka; the inbox rows, by id."""
    keys = await create_keys(database_url, ["CNA", "DEA", "DHL"])
    app = create_app(Settings(database_url=database_url, kafka_bootstrap=""))
    uploads = [
        ("CNA", "/v1/messages", "application/xml", _itmatt("CNA", 1)),
        ("DEA", "/v1/messages", "application/xml", _itmatt("DEA", 1)),
        ("DHL", "/v1/express/manifests", "application/json", TWO_FUNCTIONS),
        ("CNA", "/v1/messages", "application/xml", _itmatt("CNA", 2)),
    ]
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            for operator, route, media, body in uploads:
                answer = await client.post(
                    route,
                    content=body,
                    headers={"Content-Type": media, "Authorization": f"Bearer {keys[operator]}"},
                )
                assert answer.status_code == 202, answer.text
            refused = await client.post(  # CNA's message under DEA's key: nothing stored
                "/v1/messages",
                content=_itmatt("CNA", 3),
                headers={
                    "Content-Type": "application/xml",
                    "Authorization": f"Bearer {keys['DEA']}",
                },
            )
            assert refused.status_code == 403
    engine = create_engine(database_url)
    try:
        sessions = create_sessionmaker(engine)
        async with sessions() as session, session.begin():
            data = _itmatt("DEA", 2)
            await accept(
                session, data=data, envelope=read_envelope(data, XmlLimits()), source="KAFKA"
            )
        async with sessions() as session:
            rows = await session.scalars(select(InboxMessage))
            return sorted(
                (
                    Stored(
                        r.id,
                        r.sender_operator,
                        r.message_id,
                        r.kind,
                        r.source,
                        r.raw,
                        aware(r.received_at),
                    )  # fmt: skip
                    for r in rows
                ),
                key=lambda r: r.id,
            )
    finally:
        await engine.dispose()


def _read(path: Path) -> tuple[dict[str, object], list[Recorded]]:
    with path.open("rb") as file:
        opened = Recording(file)
        records = list(opened)
        assert opened.complete
        return opened.header, records


def _header(record: Recorded, name: str) -> str:
    [value] = [v for n, v in record.headers if n == name]
    assert value is not None
    return value.decode()


def _expected_order(rows: list[Stored]) -> list[Stored]:
    """What the API received, in receipt order; a manifest's messages share one receipt
    time and follow their row ids."""
    received = [r for r in rows if r.source != "KAFKA"]
    return sorted(received, key=lambda r: (r.received_at, r.id))


async def test_the_inbox_of_a_period_is_recorded_in_receipt_order_with_its_operators(
    database_url: str, tmp_path: Path
) -> None:
    rows = await _post_traffic(database_url)
    assert len(rows) == 6 and sum(r.source == "KAFKA" for r in rows) == 1
    out = tmp_path / "http.aedexrec"
    assert await record_http(database_url, out, topic="aed.inbound") == 5
    header, got = _read(out)
    assert {k: header[k] for k in ("topic", "source", "since", "until")} == {
        "topic": "aed.inbound",
        "source": "http",
        "since": None,
        "until": None,
    }
    expected = _expected_order(rows)
    assert [_header(r, "inbox-id") for r in got] == [str(r.id) for r in expected]
    # Upload order: CNA, DEA, DHL's manifest (its two CUSITMs), CNA again.
    assert [r.sender_operator for r in expected] == ["CNA", "DEA", "DHL", "DHL", "CNA"]
    assert [(r.kind, r.source) for r in expected][2:4] == [("CUSITM", "EXPRESS")] * 2
    for record, row in zip(got, expected, strict=True):
        assert record.value == row.raw
        assert record.key == inbound_key(row) == f"{row.sender_operator}:{row.message_id}".encode()
        assert record.timestamp_ms == int(row.received_at.timestamp() * 1000)
        assert record.partition == 0
        assert record.headers[:5] == (
            ("sender-operator", row.sender_operator.encode()),
            ("message-id", row.message_id.encode()),
            ("kind", row.kind.encode()),
            ("source", row.source.encode()),
            ("received-at", row.received_at.isoformat().encode()),
        )
    assert [r.offset for r in got] == list(range(5))

    # A period from DEA's receipt to the manifest's, both ends inside: those three.
    dea, manifest = expected[1].received_at, expected[2].received_at
    assert len({r.received_at for r in expected}) == 4  # distinct but for the manifest's pair
    period = Period(dea, manifest)
    assert await record_http(database_url, out, period=period) == 3
    header, cut = _read(out)
    assert (header["since"], header["until"], header["topic"]) == (
        dea.isoformat(),
        manifest.isoformat(),
        None,
    )
    assert [r.value for r in cut] == [r.raw for r in expected[1:4]]
    # A microsecond inside each end leaves the ends out; the offset of the times is theirs.
    plus_two = timezone(timedelta(hours=2))
    inner = Period(
        (dea + timedelta(microseconds=1)).astimezone(plus_two),
        (manifest - timedelta(microseconds=1)).astimezone(plus_two),
    )
    assert await record_http(database_url, out, period=inner) == 0
    assert await record_http(database_url, out, period=Period(since=manifest)) == 3
    assert await record_http(database_url, out, period=Period(until=dea)) == 2


async def test_pages_and_counts_keep_the_order(database_url: str, tmp_path: Path) -> None:
    await _post_traffic(database_url)
    whole, paged = tmp_path / "whole.aedexrec", tmp_path / "paged.aedexrec"
    assert await record_http(database_url, whole) == 5
    _, expected = _read(whole)
    for page in (1, 2, 3):  # every page boundary, the manifest's shared receipt time included
        assert await record_http(database_url, paged, page=page) == 5
        assert _read(paged)[1] == expected
    for count, page in ((3, 1000), (3, 2), (1, 1), (9, 2)):
        assert await record_http(database_url, paged, count=count, page=page) == min(count, 5)
        assert _read(paged)[1] == expected[:count]


def _aedex(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own console script, fixed arguments
        [str(Path(sys.executable).with_name("aedex")), *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


async def test_aedex_record_http_writes_the_file_and_says_how_many(
    database_url: str, tmp_path: Path
) -> None:
    rows = await _post_traffic(database_url)
    out = tmp_path / "cli.aedexrec"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")}
    done = _aedex(
        "record", "--http", "--out", str(out), "--database-url", database_url, "--since", "1h",
        env=clean,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"recorded 5 messages the API received to {out}"
    header, got = _read(out)
    assert header["topic"] == "aed.inbound" and header["source"] == "http"
    assert [r.value for r in got] == [r.raw for r in _expected_order(rows)]
    # The database from the environment, the topic under its prefix; 2 days ago: nothing.
    env = clean | {"AEDEX_DATABASE_URL": database_url, "AEDEX_TOPIC_PREFIX": "test"}
    done = _aedex("record", "--http", "--out", str(out), "--until", "2d", env=env)
    assert done.stdout.strip() == f"recorded 0 messages the API received to {out}", done.stderr
    header, got = _read(out)
    assert header["topic"] == "test.inbound" and got == []


def test_aedex_record_http_names_what_is_wrong(sqlite_database_url: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")}
    out = str(tmp_path / "x.aedexrec")
    empty = _aedex("record", "--http", "--out", out, "--database-url", sqlite_database_url, env=env)
    assert empty.returncode == 1
    assert empty.stderr.startswith("aedex: the database at sqlite+aiosqlite:///")
    assert empty.stderr.rstrip().endswith(
        "is not migrated (no such table: inbox_messages); run `aedex db upgrade`"
    )
    both = _aedex("record", "--http", "--topic", "aed.inbound", "--out", out, env=env)
    assert (both.returncode, both.stderr.strip()) == (
        2,
        "aedex: --http reads the database: --topic and --bootstrap are for a topic",
    )
    neither = _aedex("record", "--out", out, env=env)
    assert (neither.returncode, neither.stderr.strip()) == (
        2,
        "aedex: nothing to record: pass --topic T, or --http",
    )
