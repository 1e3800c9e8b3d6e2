"""The officers' UI in headless Chromium (Playwright for Python, Debian's `chromium`).

The app runs under a real uvicorn on a temporary SQLite database with review
tasks whose descriptions and reasons carry `<script>` and `<img onerror>`; the
browser signs in, filters, opens a case, decides with the keyboard, and the
operator's `GET /v1/responses` then holds the CUSRSP. Every page is watched
for dialogs (an executed script) and for requests leaving the app. `make test`
installs Debian's chromium when it is missing; without it these tests fail,
they never skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

from service.accounts import create_user
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.keys import create_keys
from service.settings import Settings
from tests.api_clients import serve
from tests.review_data import store_review_items

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass
class Watch:
    """What a page did that it must not: dialogs opened, requests to anywhere but the app."""

    origin: str
    dialogs: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        async def dismiss(dialog: object) -> None:
            self.dialogs.append(getattr(dialog, "message", "?"))
            await dialog.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", dismiss)
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith(self.origin) and not request.url.endswith("/x")
                else self.strays.append(request.url)
            ),
        )


@dataclass
class Ui:
    base: str
    url: str
    operator_key: str
    browser: Browser

    async def page(self) -> tuple[Page, Watch]:
        context = await self.browser.new_context(viewport={"width": 1280, "height": 800})
        page = await context.new_page()
        watch = Watch(self.base)
        watch.attach(page)
        return page, watch

    async def login(self, page: Page, who: str = "olga", password: str = PASSWORD) -> None:
        await page.goto(f"{self.base}/ui/login")
        await page.fill("input[name=username]", who)
        await page.fill("input[name=password]", password)
        await page.click("button[type=submit]")


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Debian's chromium is missing: `make test` installs it (apt-get install chromium)"
        )
    return found


@pytest.fixture(params=[True], ids=["hostile"])
def served(
    request: pytest.FixtureRequest, sqlite_migrated_url: str
) -> Iterator[tuple[str, str, str]]:
    """The app on a database of review tasks (hostile markup in them unless the test asks
    for plain data with `@pytest.mark.parametrize("served", [False], indirect=True)`)."""
    url = sqlite_migrated_url

    async def prepare() -> str:
        await store_review_items(url, hostile=request.param)
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session, session.begin():
            await create_user(session, "olga", "officer", PASSWORD, actor="test")
            await create_user(session, "sam", "supervisor", PASSWORD, actor="test")
        await engine.dispose()
        return (await create_keys(url, ["CNA"]))["CNA"]

    key = asyncio.run(prepare())
    with serve(create_app(Settings(database_url=url, kafka_bootstrap=""))) as base:
        yield base, url, key


@pytest.fixture
async def ui(served: tuple[str, str, str]) -> AsyncIterator[Ui]:
    base, url, key = served
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_chromium(), args=args)
        try:
            yield Ui(base, url, key, browser)
        finally:
            await browser.close()


async def test_sign_in_filter_the_queue_and_see_hostile_text_as_text(ui: Ui) -> None:
    page, watch = await ui.page()
    await ui.login(page)
    await page.wait_for_url("**/ui/queue**")
    rows = page.locator("table.queue tbody tr")
    assert await rows.count() == 5
    body = await page.inner_text("body")
    assert "<script>alert(1)</script>" in body  # shown, as text
    assert await page.locator("table.queue img").count() == 0
    no_scroll = await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_scroll, "the queue scrolls sideways at 1280x800"
    await page.fill("input[name=operator]", "TRA")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_url("**operator=TRA**")
    assert await rows.count() == 1
    assert "RR200000004TR" in await rows.first.inner_text()
    assert watch.dialogs == [] and watch.strays == []


async def test_a_form_post_without_the_csrf_token_is_refused(ui: Ui) -> None:
    page, _ = await ui.page()
    await ui.login(page)
    await page.wait_for_url("**/ui/queue**")
    # The page's own cookies, a forged form post without the token (what another site sends).
    forged = await page.request.post(f"{ui.base}/ui/logout", form={"x": "1"})
    assert forged.status == 403
    await page.goto(f"{ui.base}/ui/queue")
    assert "/ui/queue" in page.url  # still signed in: the forged logout did nothing


async def test_repeated_failures_lock_the_account(ui: Ui) -> None:
    page, _ = await ui.page()
    for _ in range(5):
        await ui.login(page, password="wrong password, again")
        assert "unknown user or wrong password" in await page.inner_text("body")
    await ui.login(page)  # the right password, during the lockout
    assert "locked" in await page.inner_text("body")
    assert "/ui/login" in page.url


async def test_open_a_case_decide_with_the_keyboard_and_the_operator_gets_the_cusrsp(
    ui: Ui,
) -> None:
    page, watch = await ui.page()
    await ui.login(page)
    await page.wait_for_url("**/ui/queue**")
    # j moves to the first row, Enter opens it: the highest priority task.
    await page.keyboard.press("j")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ui/items/RR200000005CN")
    body = await page.inner_text("body")
    assert "counterfeit seen <script>alert(1)</script>" in body  # the hit's reason, as text
    assert "sneakers <script>" in body  # the declared description, as text
    assert "RR200000001CN" in body  # the same addressee's other items: its history
    # s picks SEIZE and focuses the decide button; Enter submits.
    await page.keyboard.press("s")
    assert await page.is_checked("input[name=decision][value=SEIZE]")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/ui/queue**")
    assert await page.locator("table.queue a.open", has_text="RR200000005CN").count() == 0
    answer = await page.request.get(
        f"{ui.base}/v1/responses", headers={"Authorization": f"Bearer {ui.operator_key}"}
    )
    sent = [r for r in (await answer.json())["responses"] if r["item_id"] == "RR200000005CN"]
    assert [r["decision"] for r in sent] == ["SEIZE"]
    assert watch.dialogs == [] and watch.strays == []


@pytest.mark.parametrize("served", [False], ids=["plain"], indirect=True)
async def test_screenshots_of_the_queue_and_a_case(ui: Ui) -> None:
    """docs/screenshots/, shown in README: the queue at 1280x800 and a splitting case."""
    page, watch = await ui.page()
    await ui.login(page)
    await page.wait_for_url("**/ui/queue**")
    assert await page.locator("table.queue tbody tr").count() == 5
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    await page.goto(f"{ui.base}/ui/items/RR200000002CN")
    assert "3 items from this sender" in await page.inner_text("body")
    await page.screenshot(path=str(SCREENSHOTS / "case.png"), full_page=True)
    assert watch.dialogs == [] and watch.strays == []
