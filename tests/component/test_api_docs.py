"""`/docs` (Swagger UI) and `/redoc` load with no network: every asset is served by the app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from service.api.app import create_app
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
