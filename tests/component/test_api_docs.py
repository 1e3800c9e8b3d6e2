"""`/docs` (Swagger UI) and `/redoc` load with no network: every asset is served by the app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager

from service.api.app import create_app
from service.keys import create_keys
from service.settings import Settings

ASSET = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""")
ABSOLUTE = re.compile(r"""https?://[^"'\s)]+""")


@pytest.fixture
async def client(sqlite_migrated_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(database_url=sqlite_migrated_url, kafka_bootstrap=""))
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            yield client


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_documentation_pages_need_no_network(client: httpx.AsyncClient, page: str) -> None:
    answer = await client.get(page)
    assert answer.status_code == 200
    assert ABSOLUTE.findall(answer.text) == [], "the page loads something from another host"
    assets = [a or b for a, b in ASSET.findall(answer.text)]
    assert any(a.endswith(".js") for a in assets), assets
    for asset in assets:
        assert asset.startswith("/"), asset
        served = await client.get(asset)
        assert served.status_code == 200, (asset, served.status_code)
        assert served.content, asset
    if page == "/docs":
        assert "/openapi.json" in assets


def _operator(route: str, value: object) -> str:
    if isinstance(value, dict):
        return str(value["carrier"])
    text = str(value)
    if route == "/v1/express/manifests":
        header, first, *_ = text.splitlines()
        return first.split(",")[header.split(",").index("carrier")]
    return text.split("<SenderOperator>", 1)[1].split("<", 1)[0]


async def test_every_documented_example_is_accepted(
    client: httpx.AsyncClient, sqlite_migrated_url: str
) -> None:
    """The examples in /openapi.json are real: each is accepted as it stands, no error found."""
    document = (await client.get("/openapi.json")).json()
    posted = 0
    for route, operations in document["paths"].items():
        content = operations.get("post", {}).get("requestBody", {}).get("content", {})
        for media, body in content.items():
            for name, example in body.get("examples", {}).items():
                value = example["value"]
                operator = _operator(route, value)
                keys = await create_keys(sqlite_migrated_url, [operator])
                data = orjson.dumps(value) if isinstance(value, dict) else value.encode()
                answer = await client.post(
                    route,
                    content=data,
                    headers={
                        "Content-Type": media,
                        "Authorization": f"Bearer {keys[operator]}",
                    },
                )
                posted += 1
                if route == "/v1/validate":
                    assert answer.status_code == 200, (route, name, answer.text)
                    report = answer.json()
                    errors = [
                        f
                        for f in report["findings"]
                        + [f for item in report["items"] for f in item["findings"]]
                        if f["severity"] == "error"
                    ]
                    assert errors == [], (route, name, errors)
                else:
                    assert answer.status_code == 202, (route, name, media, answer.text)
    assert posted >= 6, "XML (ITMATT, CUSITM) on two routes, manifest JSON and CSV"
