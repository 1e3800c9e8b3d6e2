"""Schemathesis against the app's own OpenAPI: no 5xx, and every answer as the document says.

The app runs under a real uvicorn (lifespan included) on a migrated SQLite
database with real operator keys and no broker (the relay would publish).
Responses are judged exactly as the app documents them. The app documents
no request bodies (its routes read the raw body), so this module adds them —
ITMATT XML with real generated examples, and manifest JSON — or schemathesis
would only ever send empty bodies; it adds OpenAPI links too, which the app
does not declare, so the stateful run can chain POST → GET. Nothing else in
the document is touched.

Separate tests, so one class of defect cannot hide another (hypothesis stops
an operation at its first failure):
- `test_no_server_error`: never a 5xx, never a stack trace, whatever is sent
  (random bytes, real messages, XXE and other attacks, oversize bodies);
- `test_answers_conform_to_the_document`, `test_linked_calls_answer_as_documented`:
  status code, content type and body as documented, refusals `{"error", "detail"}`;
- `test_every_status_the_api_answers_is_documented`: one request per known
  refusal, so the failure lists every undocumented answer at once;
- `test_the_document_describes_what_clients_must_send`: request bodies, key scheme.
"""

from __future__ import annotations

import asyncio
import copy
import random
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import schemathesis
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, Response
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from adapters.generator import GeneratorOptions, generate
from adapters.generator.hostile import HOSTILE_CASES
from messages import s10
from messages.codec import encode_itmatt
from messages.models import MessageFunction
from service.api.app import create_app
from service.keys import create_keys
from service.settings import Settings
from tests import builders
from tests.api_clients import serve
from tests.unit.adapters.test_adapter_express_manifest import MANIFEST_JSON

pytestmark = [pytest.mark.timeout(300)]

#: Small, so an oversize body is cheap to send; large enough for every real example.
LIMIT = 256 * 1024
OPERATOR = "CNA"
OTHER = "DEA"
CARRIER = "DHL"  # the carrier of MANIFEST_JSON
XML_ROUTES = ("/v1/messages", "/v1/validate")
MANIFEST_ROUTE = "/v1/express/manifests"
#: Rate limits far above what one sequential client reaches: a 429 here would be the
#: limiter's timing, not the operation's behaviour (ignored by a Settings without them).
UNLIMITED = {"rate_limit_per_s": 1e6, "rate_limit_burst": 1_000_000}


def no_stack_trace(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """STYLE.md: no stack traces to clients, whatever the status."""
    assert "Traceback (most recent call last)" not in response.text, (
        "a stack trace reached the client"
    )
    return None


def refusals_are_plain(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """DESIGN.md §6, STYLE.md: every refusal is `{"error": CODE, "detail": text}`.

    Not judged for a method the operation lacks (schemathesis's coverage probes):
    Starlette's own 405 is `test_every_status_the_api_answers_is_documented`'s to report.
    """
    if response.status_code < 400 or case.method.upper() != case.operation.method.upper():
        return None
    _plain(response)
    return None


def _plain(response: Response | httpx.Response) -> None:
    body = orjson.loads(response.content)
    assert isinstance(body, dict), f"refusal body is not an object: {response.text[:200]}"
    assert isinstance(body.get("error"), str), f"refusal without an error code: {body}"
    assert body["error"].isupper(), f"error code is not a CODE: {body['error']!r}"
    assert isinstance(body.get("detail"), str), f"refusal without a detail text: {body}"


NO_SERVER_ERROR = [not_a_server_error, no_stack_trace]
AS_DOCUMENTED = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    refusals_are_plain,
]
HYPOTHESIS = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


# --- The document ------------------------------------------------------------------------------


def _generated_itmatts() -> list[bytes]:
    """Real generated traffic of one operator, some with item-level defects (still 202)."""
    files = generate(
        GeneratorOptions(
            items=40, seed=7, defects=True, defect_rate=0.3, items_per_message=3,
            share_cusitm=0.0, share_manifest_json=0.0, share_manifest_csv=0.0, share_cn23_csv=0.0,
        )
    )  # fmt: skip
    ours = [f.data for f in files if f.kind.startswith("itmatt")]
    mine = [f for f in ours if f"<SenderOperator>{OPERATOR}<".encode() in f]
    return mine[:4]


@st.composite
def fresh_itmatts(draw: st.DrawFn) -> bytes:
    """A well-formed ITMATT of 1-3 items and any MessageFunction; ids drawn from a small
    range, so some messages repeat (202 DUPLICATE_MESSAGE) or reuse an id (409)."""
    serial = draw(st.integers(min_value=0, max_value=999))
    count = draw(st.integers(min_value=1, max_value=3))
    function = draw(st.sampled_from(list(MessageFunction)))
    items = [
        builders.item(item_id=s10.make("RR", 10_000_000 + serial * 10 + i, "CN"))
        for i in range(count)
    ]
    message = builders.itmatt(*items, message_id=f"CNA-ST-{serial:04d}", message_function=function)
    return encode_itmatt(message)


@st.composite
def hostile_itmatts(draw: st.DrawFn) -> bytes:
    """A message-level attack or breakage (XXE, billion laughs, nesting, huge text, cut short,
    Latin-1) on a real message, or a body over the size limit: each must be refused whole."""
    case = draw(st.sampled_from([*HOSTILE_CASES, None]))
    if case is None:
        return b"<a>" + b"x" * LIMIT + b"</a>"
    seed = draw(st.integers(min_value=0, max_value=2**16))
    return case.make(draw(fresh_itmatts()), random.Random(seed))


def _examples(bodies: list[bytes]) -> dict[str, Any]:
    return {f"generated-{i}": {"value": body.decode("utf-8")} for i, body in enumerate(bodies, 1)}


def document_bodies(raw: dict[str, Any], itmatts: list[bytes]) -> dict[str, list[str]]:
    """Add the request bodies and links the app's OpenAPI lacks; returns what was added where."""
    added: dict[str, list[str]] = {}
    binary = {"type": "string", "format": "binary"}  # sent as is, not wrapped in XML
    xml = {"schema": binary, "examples": _examples(itmatts)}
    bodies = {
        "/v1/messages": {"application/xml": xml, "text/xml": {"schema": binary}},
        "/v1/validate": {"application/xml": xml},
        MANIFEST_ROUTE: {
            "application/json": {
                "schema": {"type": "object"},
                "examples": {"manifest": {"value": orjson.loads(MANIFEST_JSON)}},
            }
        },
    }
    for path, content in bodies.items():
        operation = raw["paths"][path]["post"]
        if "requestBody" not in operation:
            operation["requestBody"] = {"required": True, "content": content}
            added.setdefault(f"POST {path}", []).append("requestBody")
    links = {
        ("/v1/messages", "post", "202"): {
            "GetMessage": {
                "operationId": "get_message_v1_messages__message_id__get",
                "parameters": {"message_id": "$response.body#/message_id"},
            }
        },
        ("/v1/messages/{message_id}", "get", "200"): {
            "GetItem": {
                "operationId": "get_item_v1_items__item_id__get",
                "parameters": {"item_id": "$response.body#/items/0/item_id"},
            }
        },
        ("/v1/responses", "get", "200"): {
            "NextPage": {
                "operationId": "get_responses_v1_responses_get",
                "parameters": {"after": "$response.body#/next"},
            }
        },
    }
    for (path, method, status), link in links.items():
        response = raw["paths"][path][method]["responses"].get(status)
        if response is not None and "links" not in response:
            response["links"] = link
            added.setdefault(f"{method.upper()} {path}", []).append(f"links on {status}")
    return added


def _openapi() -> dict[str, Any]:
    """The app's OpenAPI document, as `/openapi.json` serves it (`app.openapi()` needs no lifespan).

    Read at import because schemathesis parametrizes at collection
    (`schemathesis.pytest.from_fixture`, which would load it from the live app,
    fails on pytest 9: `Function._nodeid` is gone); `test_the_live_app_serves_this_document`
    checks the running app serves the very same document.
    """
    app = create_app(Settings(database_url="sqlite+aiosqlite:///:memory:", kafka_bootstrap=""))
    return app.openapi()


# UUIDs (webhook and delivery ids) drawn from hypothesis's own choices: `st.uuids()` draws
# from a shared true-random generator, which the stateful run cannot replay
# (FlakyStrategyDefinition "while drawing from randoms(use_true_random=True)").
schemathesis.openapi.format(
    "uuid", st.integers(0, 2**128 - 1).map(lambda n: str(uuid.UUID(int=n, version=4)))
)


@schemathesis.serializer("text/csv", "application/csv")
def csv_body(ctx: Any, value: Any) -> bytes:
    """CSV manifests are sent as the documented examples give them (text), or as drawn bytes."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


OPENAPI = _openapi()
DOCUMENT = copy.deepcopy(OPENAPI)
ADDED = document_bodies(DOCUMENT, _generated_itmatts())
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(modes=["positive", "negative"])


@schema.hook
def before_generate_body(context: Any, strategy: st.SearchStrategy[Any]) -> Any:
    # Bytes nobody would send, real messages and real attacks: refusals and acceptances.
    if context.operation is not None and context.operation.path in XML_ROUTES:
        return st.one_of(strategy, fresh_itmatts(), hostile_itmatts())
    return strategy


# --- The running app ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveApi:
    base_url: str
    database_url: str
    keys: dict[str, str]

    def headers(self, path: str, operator: str | None = None) -> dict[str, str]:
        operator = operator or (CARRIER if path == MANIFEST_ROUTE else OPERATOR)
        return {"Authorization": f"Bearer {self.keys[operator]}"}


@contextmanager
def _running_api(template: Path, directory: Path) -> Iterator[LiveApi]:
    """The app under uvicorn on its own copy of the migrated template, with real operator keys."""
    path = directory / "aedex.db"
    shutil.copyfile(template, path)
    url = f"sqlite+aiosqlite:///{path}"
    keys = asyncio.run(create_keys(url, [OPERATOR, OTHER, CARRIER]))
    # long_poll_max_s: a generated `wait=` of up to 30 s on an empty page would wait it out;
    # webhooks_per_operator: registrations accumulate, and a 201 turning into 409 WEBHOOK_LIMIT
    # between hypothesis's replays makes the stateful run's data generation inconsistent;
    # ready_stages: no stage worker runs here (readiness with workers: tests/e2e/test_readiness.py).
    settings = Settings(
        database_url=url, kafka_bootstrap="", max_message_bytes=LIMIT, long_poll_max_s=0.05,
        webhooks_per_operator=1_000_000, ready_stages=(), **UNLIMITED,
    )  # fmt: skip
    with serve(create_app(settings)) as base_url:
        yield LiveApi(base_url, url, keys)


@pytest.fixture(scope="module")
def live_api(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """One app for every schemathesis test of the module: what they post accumulates."""
    with _running_api(_sqlite_template, tmp_path_factory.mktemp("schemathesis")) as api:
        yield api


@pytest.fixture
def fresh_api(_sqlite_template: Path, tmp_path: Path) -> Iterator[LiveApi]:
    """An app of the test's own, so its answers do not depend on what other tests posted."""
    with _running_api(_sqlite_template, tmp_path) as api:
        yield api


def test_the_live_app_serves_this_document(live_api: LiveApi) -> None:
    served = httpx.get(f"{live_api.base_url}/openapi.json").raise_for_status().json()
    assert served == OPENAPI


@schema.parametrize()
@HYPOTHESIS
def test_no_server_error(case: Case, live_api: LiveApi) -> None:
    case.call_and_validate(
        base_url=live_api.base_url, headers=live_api.headers(case.path), checks=NO_SERVER_ERROR
    )


@schema.parametrize()
@HYPOTHESIS
def test_answers_conform_to_the_document(case: Case, live_api: LiveApi) -> None:
    case.call_and_validate(
        base_url=live_api.base_url, headers=live_api.headers(case.path), checks=AS_DOCUMENTED
    )


def test_linked_calls_answer_as_documented(live_api: LiveApi) -> None:
    """POST a message, read it back, read one of its items, page the responses."""
    checks = NO_SERVER_ERROR + AS_DOCUMENTED

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"base_url": live_api.base_url, "headers": live_api.headers(case.path)}

        def validate_response(
            self, response: Response, case: Case, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=checks, transport_kwargs=kwargs)

    Workflow.run(
        settings=settings(
            max_examples=15,
            stateful_step_count=6,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )


# --- Every refusal the API is known to give, against what the document says -------------------


@dataclass(frozen=True)
class Probe:
    """One request whose answer is checked against its operation's documented responses."""

    why: str
    method: str
    #: The operation's path template in the document (None: a route the app does not have).
    operation: str | None
    url: str
    operator: str | None = OPERATOR
    body: bytes | None = None
    media: str | None = None
    key: str | None = None

    @property
    def label(self) -> str:
        return f"{self.method} {self.operation or self.url}"

    def headers(self, api: LiveApi) -> dict[str, str]:
        headers = {"Content-Type": self.media} if self.media else {}
        if self.key:
            headers["Authorization"] = f"Bearer {self.key}"
        elif self.operator:
            headers |= api.headers(self.url, self.operator)
        return headers


def _itmatt(message_id: str, serial: int = 0) -> bytes:
    item = builders.item(item_id=s10.make("RR", 20_000_000 + serial, "CN"))
    return encode_itmatt(builders.itmatt(item, message_id=message_id))


def _probes() -> list[Probe]:
    xml, json = "application/xml", "application/json"
    valid = _itmatt("CNA-PROBE-0001")
    doctype = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><ITMATT>&e;</ITMATT>'
    bare = b"<ITMATT xmlns='urn:aedex:msg:itmatt:1' version='1.2'><Header/></ITMATT>"
    oversize = b"<a>" + b"x" * LIMIT + b"</a>"
    post, dry, manifest = "/v1/messages", "/v1/validate", MANIFEST_ROUTE
    message, item = "/v1/messages/{message_id}", "/v1/items/{item_id}"
    ours, unknown_item = "/v1/messages/CNA-PROBE-0001", "/v1/items/RR000000000CN"
    return [
        Probe("valid message", "POST", post, post, body=valid, media=xml),
        Probe("the same message again", "POST", post, post, body=valid, media=xml),
        Probe("MessageId reused", "POST", post, post, body=_itmatt("CNA-PROBE-0001", 1), media=xml),
        Probe("no key", "POST", post, post, operator=None, body=valid, media=xml),
        Probe("unknown key", "POST", post, post, key="aedex_nonsense", body=valid, media=xml),
        Probe("another operator's message", "POST", post, post, OTHER, valid, xml),
        Probe("not XML", "POST", post, post, body=b"this is not xml", media=xml),
        Probe("DOCTYPE", "POST", post, post, body=doctype, media=xml),
        Probe("no MessageId", "POST", post, post, body=bare, media=xml),
        Probe("oversize", "POST", post, post, body=oversize, media=xml),
        Probe("JSON to the XML route", "POST", post, post, body=valid, media=json),
        Probe("dry run", "POST", dry, dry, body=valid, media=xml),
        Probe("dry run, JSON", "POST", dry, dry, body=valid, media=json),
        Probe("dry run, oversize", "POST", dry, dry, body=oversize, media=xml),
        Probe("dry run, no key", "POST", dry, dry, None, valid, xml),
        Probe("manifest", "POST", manifest, manifest, CARRIER, MANIFEST_JSON, json),
        Probe("manifest, bad JSON", "POST", manifest, manifest, CARRIER, b"{", json),
        Probe("manifest, other carrier", "POST", manifest, manifest, OPERATOR, MANIFEST_JSON, json),
        Probe("manifest, XML", "POST", manifest, manifest, CARRIER, valid, xml),
        Probe("manifest, no key", "POST", manifest, manifest, None, MANIFEST_JSON, json),
        Probe("own message", "GET", message, ours),
        Probe("unknown message", "GET", message, "/v1/messages/CNA-NEVER"),
        Probe("another operator's message", "GET", message, ours, OTHER),
        Probe("message, no key", "GET", message, ours, None),
        Probe("unknown item", "GET", item, unknown_item),
        Probe("item, no key", "GET", item, unknown_item, None),
        Probe("responses", "GET", "/v1/responses", "/v1/responses?after=0"),
        Probe("negative cursor", "GET", "/v1/responses", "/v1/responses?after=-1"),
        Probe("responses, no key", "GET", "/v1/responses", "/v1/responses", None),
        Probe("metrics", "GET", "/metrics", "/metrics", None),
        Probe("readiness", "GET", "/readyz", "/readyz", None),
        Probe("a method the route lacks", "GET", None, post),
        Probe("a route the app lacks", "GET", None, "/v1/nothing"),
    ]


def _problems(probe: Probe, answer: httpx.Response) -> list[str]:
    status, found = answer.status_code, []
    if status >= 400:
        try:
            _plain(answer)
        except (AssertionError, ValueError) as error:
            reason = str(error).splitlines()[0]
            found.append(f"{status} is not {{error, detail}}: {answer.text[:60]} ({reason})")
    if probe.operation is None:
        return found
    responses: dict[str, Any] = OPENAPI["paths"][probe.operation][probe.method.lower()]["responses"]
    documented = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    documented = documented or responses.get("default")
    if documented is None:
        return [
            *found,
            f"status {status} undocumented (documented: {', '.join(sorted(responses))})",
        ]
    media = answer.headers.get("content-type", "").split(";", 1)[0].strip()
    kinds = documented.get("content", {})
    if kinds and media not in kinds:
        found.append(f"{status} as {media!r}, documented as {', '.join(kinds)}")
    return found


async def _rate_limited(api: LiveApi) -> tuple[Probe, httpx.Response]:
    """A key over its rate limit, on an app of its own that admits one request only."""
    settings = Settings(
        database_url=api.database_url, kafka_bootstrap="", rate_limit_per_s=0.001,
        rate_limit_burst=1,
    )  # fmt: skip
    probe = Probe("over the rate limit", "GET", "/v1/responses", "/v1/responses")
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://aedex") as client:
            answers = [await client.get(probe.url, headers=probe.headers(api)) for _ in range(3)]
    return probe, answers[-1]


def test_every_status_the_api_answers_is_documented(fresh_api: LiveApi) -> None:
    """DESIGN.md §6 names the refusals (400/401/403/404/409/413/415/422, and 429 for rate
    limits); each one the API gives must be documented for its operation, with its content
    type, and be `{"error", "detail"}`. All are listed at once, not just the first."""
    with httpx.Client(base_url=fresh_api.base_url, timeout=30) as client:
        seen = [
            (p, client.request(p.method, p.url, content=p.body, headers=p.headers(fresh_api)))
            for p in _probes()
        ]
    seen.append(asyncio.run(_rate_limited(fresh_api)))
    server_errors = [f"{p.label} ({p.why}): {r.status_code}" for p, r in seen if r.is_server_error]
    assert not server_errors, server_errors
    problems = sorted(
        {f"{probe.label}: {problem}  [{probe.why}]" for probe, answer in seen
         for problem in _problems(probe, answer)}
    )  # fmt: skip
    assert not problems, "answers the OpenAPI does not document:\n" + "\n".join(problems)


def test_the_document_describes_what_clients_must_send() -> None:
    """A client (or schemathesis) learns request bodies and the key scheme only from here."""
    missing = [f"{label}: {thing}" for label, what in sorted(ADDED.items()) for thing in what]
    if not OPENAPI.get("components", {}).get("securitySchemes"):
        missing.append("components.securitySchemes: no API-key scheme (Authorization: Bearer)")
    assert not missing, "the OpenAPI does not document:\n" + "\n".join(missing)
