"""API shapes that the OpenAPI document shows: refusals, acceptances, request bodies.

The document is the contract a carrier's client is generated from and that
schemathesis checks the running app against, so every answer a route can give
is documented here with its shape: refusals are always `Problem`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from service.api.examples import manifest_csv_example, manifest_json_example, xml_examples


class Finding(BaseModel):
    """One data-element finding (DESIGN.md §4), in a report or as a cause of a refusal."""

    code: str = Field(description="stable code, e.g. HS_UNKNOWN, LATE_DATA")
    severity: Literal["error", "warning"]
    path: str = Field(description="e.g. Item[3]/ContentPiece[2]/HSCode")
    message: str


class Problem(BaseModel):
    """Every refusal: a stable code (DESIGN.md §4, §6) and a text for a person."""

    error: str = Field(description="stable code, e.g. XML_FORBIDDEN, RATE_LIMITED")
    detail: str = Field(description="what is wrong and how to fix it")
    findings: list[Finding] | None = Field(
        default=None, description="each data-element cause, when there are several"
    )


class StoredMessage(BaseModel):
    """One message an upload became (a manifest with several message functions)."""

    message_id: str
    inbox_id: str
    items: int
    status: Literal["ACCEPTED", "DUPLICATE_MESSAGE"]
    message_function: Literal["original", "replace", "cancel"] | None = None


class AcceptedMessage(BaseModel):
    """202: the message is durable; every item is answered later by a CUSRSP."""

    message_id: str
    inbox_id: str
    items: int = Field(description="items declared in the message (in the whole upload)")
    status: Literal["ACCEPTED", "DUPLICATE_MESSAGE"]
    messages: list[StoredMessage] | None = Field(
        default=None,
        description="each CUSITM message a manifest became, when it became several "
        "(one per message function: original, replace, cancel)",
    )


class MessageItem(BaseModel):
    position: int = Field(description="1-based position of the item in the message")
    item_id: str
    status: str = Field(description="ACCEPTED, ASSESSED, REJECTED, CANCELLED or SUPERSEDED")
    findings: list[Finding]


class MessageStatus(BaseModel):
    """GET /v1/messages/{message_id}: the message and each of its items."""

    message_id: str
    inbox_id: str
    kind: str = Field(description="ITMATT or CUSITM")
    status: str = Field(description="RECEIVED, PUBLISHED, PROCESSED or REFUSED")
    received_at: str = Field(description="ISO 8601, UTC")
    items_declared: int
    error: dict[str, Any] | None = Field(description="why a REFUSED message was refused")
    items: list[MessageItem]


class ItemVersion(BaseModel):
    message_id: str
    message_function: int = Field(description="9 original, 5 replace, 1 cancel (EDIFACT 1225)")
    version: int = Field(description="orders versions: microseconds of the message's PreparedAt")
    status: str
    findings: list[Finding]


class ItemDecision(BaseModel):
    response_id: int
    in_reply_to: str
    axis: Literal["FISCAL", "SECURITY"] | None
    decision: str = Field(description="DESIGN.md §3 decision table")
    security_decision: str | None = Field(description="SCREEN or DO_NOT_LOAD, sent first")
    created_at: str


class ItemHistory(BaseModel):
    """GET /v1/items/{item_id}: every version of the item and every answer sent for it."""

    item_id: str
    status: str = Field(description="the latest version's status")
    versions: list[ItemVersion]
    decisions: list[ItemDecision]


class ResponseOut(BaseModel):
    id: int = Field(description="cursor: pass the last one as `after` for the next page")
    item_id: str
    in_reply_to: str
    axis: Literal["FISCAL", "SECURITY"] | None
    decision: str
    security_decision: str | None
    cusrsp: str = Field(description="the CUSRSP message, XML")


class ResponsePage(BaseModel):
    """A page of CUSRSP answers, oldest first; follow `next` until `responses` is empty."""

    responses: list[ResponseOut]
    next: int = Field(description="the cursor for the next page (`after`)")


class ValidatedItem(BaseModel):
    index: int
    item_id: str | None
    accepted: bool
    findings: list[Finding]


class ValidationReport(BaseModel):
    """POST /v1/validate: what the validate stage would report; nothing is stored."""

    kind: str | None = Field(description="ITMATT or CUSITM; null when not readable as either")
    refused: bool = Field(description="a message-level error refuses the whole message")
    findings: list[Finding] = Field(description="message-level findings")
    items: list[ValidatedItem]


_WHY: dict[int, str] = {
    400: "not XML, unsafe XML (DOCTYPE, entities) or not an aedex message",
    401: "no API key, or an unknown or revoked one",
    403: "the message's sender or carrier is not the operator of this key",
    404: "not found (also another operator's data: its existence does not leak)",
    405: "the route does not take this method",
    408: "the body did not arrive within the body deadlines",
    409: "this MessageId was already used for a different message",
    413: "the body is over the size, depth or item-count limits",
    415: "wrong Content-Type for this route",
    422: "a parameter or a manifest is not what the route takes (the detail names it)",
    429: "over this key's rate or concurrency limit; see Retry-After and RateLimit-*",
    503: "the database (or, for /readyz, the broker) is unavailable: retry after Retry-After",
}


def refusals(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for these refusal statuses, each a `Problem`."""
    return {status: {"model": Problem, "description": _WHY[status]} for status in statuses}


#: Every route that takes an API key can be refused for these.
KEYED = (401, 422, 429, 503)
#: Routes that read a body can also be refused for these.
UPLOAD = (*KEYED, 408, 413, 415)

#: Bodies read raw (XML, CSV): bytes as sent.
RAW = {"schema": {"type": "string", "format": "binary"}}
#: An XML message (ITMATT or CUSITM) with a real example of each.
XML_BODY = {**RAW, "examples": xml_examples()}
#: A JSON manifest (DESIGN.md §3, "Express manifest"); its fields are checked by the adapter.
MANIFEST_JSON = {
    "schema": {"type": "object", "description": "express manifest (DESIGN.md §3)"},
    "examples": manifest_json_example(),
}
#: A CSV manifest: header row, one row per line (DESIGN.md §3).
MANIFEST_CSV = {**RAW, "examples": manifest_csv_example()}


def body(content: dict[str, dict[str, Any]], *, description: str) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its raw body, so the document shows it."""
    return {"requestBody": {"required": True, "description": description, "content": content}}


#: OpenAPI links: how a client (or schemathesis's stateful run) follows one answer to the next.
READ_MESSAGE_LINK = {
    "GetMessage": {
        "operationId": "get_message_v1_messages__message_id__get",
        "parameters": {"message_id": "$response.body#/message_id"},
        "description": "the message's status and each item's findings",
    }
}
READ_ITEM_LINK = {
    "GetItem": {
        "operationId": "get_item_v1_items__item_id__get",
        "parameters": {"item_id": "$response.body#/items/0/item_id"},
        "description": "every version of the message's first item and its decisions",
    }
}
NEXT_PAGE_LINK = {
    "NextPage": {
        "operationId": "get_responses_v1_responses_get",
        "parameters": {"after": "$response.body#/next"},
        "description": "the next page of CUSRSP answers",
    }
}
