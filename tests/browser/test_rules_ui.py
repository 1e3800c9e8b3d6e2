"""The rule governance pages in headless Chromium: versions, backtest, performance, shadow.

The app runs under a real uvicorn on a SQLite database with stored items and
officers' outcomes (tests/governance_data.py). One supervisor uploads a
version through the page and backtests it; the page refuses her approval
(four eyes); a second supervisor approves and activates it with the
confirmation boxes; the performance page draws its SVG charts; the shadow page
compares a shadow run. An officer reads the pages and is refused any change.
Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser, Page, async_playwright

from service.accounts import create_user
from service.api.app import create_app
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import AssessmentHit, ShadowAssessment
from service.settings import Settings
from tests.api_clients import serve
from tests.browser.test_officer_ui import SCREENSHOTS, Watch, _chromium
from tests.governance_data import TSHIRT_RULE, rolex, store, tshirt, with_rules

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery staple"
HOSTILE_REASON = "<script>alert(1)</script> T-shirts this week"


def _candidate() -> str:
    return with_rules("2026.12.60", TSHIRT_RULE)


@pytest.fixture
def served(sqlite_migrated_url: str) -> Iterator[str]:
    url = sqlite_migrated_url

    async def prepare() -> None:
        ids = await store(
            url,
            [
                rolex(1, True, revenue="120.00", decision="SEIZE", hits=("BRAND_AT_LOW_UNIT_VALUE",), action="INSPECT"),
                rolex(2, True, revenue="80.00", hits=("BRAND_AT_LOW_UNIT_VALUE", "BRAND_BELOW_REFERENCE"), action="INSPECT"),
                rolex(3, False, hits=("BRAND_BELOW_REFERENCE",), action="DOCUMENTS_REQUIRED"),
                tshirt(4, True, revenue="9.50"),
                tshirt(5, False),
                tshirt(6, None),
            ],
        )  # fmt: skip
        engine = create_engine(url)
        async with create_sessionmaker(engine)() as session, session.begin():
            for name, role in (("ann", "supervisor"), ("ben", "supervisor"), ("olga", "officer")):
                await create_user(session, name, role, PASSWORD, actor="test")
            # What a shadow run of 2026.12.61 left: it would have held the T-shirts.
            for item_id in ("TS000000004CN", "TS000000005CN"):
                session.add(
                    ShadowAssessment(
                        id=uuid.uuid4(), item_row_id=ids[item_id], item_id=item_id,
                        ruleset="default", ruleset_version="2026.12.61", score=80, action="HOLD",
                        security_action=None, assessed_at=datetime.now(UTC),
                        hits=[{"rule": "TSHIRT_HOLD", "score": 80, "reason": "a T-shirt"}],
                    )
                )  # fmt: skip
                session.add(
                    AssessmentHit(
                        item_row_id=ids[item_id], item_id=item_id, ruleset="default",
                        ruleset_version="2026.12.61", rule="TSHIRT_HOLD", axis="FISCAL",
                        score=80, action=None, shadow=True, assessed_at=datetime.now(UTC),
                    )
                )  # fmt: skip
        await engine.dispose()

    asyncio.run(prepare())
    with serve(create_app(Settings(database_url=url, kafka_bootstrap=""))) as base:
        yield base


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    async with async_playwright() as playwright:
        found = await playwright.chromium.launch(executable_path=_chromium(), args=args)
        try:
            yield found
        finally:
            await found.close()


async def _signed_in(browser: Browser, base: str, who: str) -> tuple[Page, Watch]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    watch = Watch(base)
    watch.attach(page)
    await page.goto(f"{base}/ui/login")
    await page.fill("input[name=username]", who)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/ui/queue**")
    return page, watch


def _row(page: Page, version: str):  # type: ignore[no-untyped-def]
    return page.locator("table.rulesets tbody tr", has_text=version)


async def test_upload_backtest_four_eyes_activate_and_the_charts(
    served: str, browser: Browser
) -> None:
    base = served
    ann, ann_watch = await _signed_in(browser, base, "ann")
    await ann.click("header a.nav[href='/ui/rules']")
    await ann.wait_for_url("**/ui/rules")
    assert "ACTIVE" in await _row(ann, "2026.12.2").inner_text()
    # Upload through the page: checked, golden-tested, stored as a draft by ann.
    await ann.fill("form.upload input[name=reason]", HOSTILE_REASON)
    await ann.fill("form.upload textarea[name=yaml]", _candidate())
    await ann.click("form.upload button[type=submit]")
    await ann.wait_for_url("**/ui/rules?done=uploaded")
    draft = _row(ann, "2026.12.60")
    assert "DRAFT" in await draft.inner_text()
    assert HOSTILE_REASON in await draft.inner_text()  # shown as text, never run
    # A backtest from the page: its result page refreshes until it is done.
    await draft.locator("form[action$='/backtest'] button").click()
    await ann.wait_for_url("**/ui/rules/backtests/**")
    await ann.wait_for_selector("text=DONE", timeout=60_000)
    await ann.wait_for_selector("svg.chart")
    report = await ann.inner_text("main")
    assert "3 items would change action" in report and "TSHIRT_SHOWCASE: a T-shirt" in report
    await ann.screenshot(path=str(SCREENSHOTS / "backtest.png"), full_page=True)
    # Her own draft: the approval is refused, with the reason on the page.
    await ann.goto(f"{base}/ui/rules")
    approve = _row(ann, "2026.12.60").locator("form[action$='/approve']")
    await approve.locator("input[name=confirm]").check()
    await approve.locator("button").click()
    assert "another supervisor approves it" in await ann.inner_text("p.message")
    assert "DRAFT" in await _row(ann, "2026.12.60").inner_text()

    ben, ben_watch = await _signed_in(browser, base, "ben")
    await ben.goto(f"{base}/ui/rules")
    approve = _row(ben, "2026.12.60").locator("form[action$='/approve']")
    await approve.locator("input[name=note]").fill("backtest read: 3 T-shirts more")
    await approve.locator("input[name=confirm]").check()
    await approve.locator("button").click()
    await ben.wait_for_url("**done=approved")
    activate = _row(ben, "2026.12.60").locator("form[action$='/activate']")
    await activate.locator("input[name=reason]").fill("approved change")
    await activate.locator("input[name=confirm]").check()
    await activate.locator("button").click()
    await ben.wait_for_url("**done=activated")
    assert "ACTIVE" in await _row(ben, "2026.12.60").inner_text()
    assert "RETIRED" in await _row(ben, "2026.12.2").inner_text()
    no_scroll = await ben.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    await ben.screenshot(path=str(SCREENSHOTS / "rulesets.png"), full_page=True)
    # The diff against the version it replaced.
    await ben.goto(f"{base}/ui/rules")
    await _row(ben, "2026.12.2").locator("a", has_text="diff against active").click()
    assert "-  - id: TSHIRT_SHOWCASE" in await ben.inner_text("pre.diff")  # it lacks the rule

    await ben.goto(f"{base}/ui/rules/performance?days=30")
    charts = ben.locator("svg.chart")
    assert await charts.count() == 2
    assert "BRAND_AT_LOW_UNIT_VALUE" in await charts.first.inner_html()
    table = await ben.inner_text("table.stats")
    assert "BRAND_AT_LOW_UNIT_VALUE" in table and "1.000" in table  # 2 of 2 confirmed
    await ben.screenshot(path=str(SCREENSHOTS / "rule-performance.png"), full_page=True)

    await ben.goto(f"{base}/ui/rules/shadow?days=7")
    shadow = await ben.inner_text("main")
    assert "default 2026.12.61" in shadow and "TS000000004CN" in shadow
    assert "RELEASE -> HOLD" in shadow
    assert "TSHIRT_HOLD" in await ben.locator("svg.chart").inner_html()
    await ben.screenshot(path=str(SCREENSHOTS / "shadow.png"), full_page=True)
    for watch in (ann_watch, ben_watch):
        assert watch.dialogs == [] and watch.strays == [], (watch.dialogs, watch.strays)
    assert no_scroll, "the rulesets page scrolls sideways at 1280 wide"


async def test_an_officer_reads_the_pages_and_changes_nothing(
    served: str, browser: Browser
) -> None:
    page, watch = await _signed_in(browser, served, "olga")
    await page.goto(f"{served}/ui/rules")
    assert "ACTIVE" in await _row(page, "2026.12.2").inner_text()
    assert await page.locator("form[action$='/approve'], form.upload").count() == 0
    # A forged change with her own CSRF token is refused by role, not just hidden.
    token = await page.evaluate(
        "document.querySelector('form.logout input[name=csrf_token]').value"
    )
    answer = await page.request.post(
        f"{served}/ui/rules", form={"csrf_token": token, "reason": "x", "yaml": _candidate()}
    )
    assert answer.status == 403
    for path in ("/ui/rules/performance", "/ui/rules/shadow"):
        assert (await page.goto(f"{served}{path}")).status == 200  # type: ignore[union-attr]
    assert watch.dialogs == [] and watch.strays == []
