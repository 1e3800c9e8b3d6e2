"""API shapes of webhooks and their delivery log (the OpenAPI document shows these)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

#: Response ids are 64-bit signed integers in every database we run on.
MAX_ID = 2**63 - 1
MAX_URL_LENGTH = 2048


class WebhookCreate(BaseModel):
    """POST /v1/webhooks: where to push, and the secret the pushes are signed with."""

    model_config = ConfigDict(extra="forbid")

    url: HttpUrl = Field(
        description="http or https URL that receives each CUSRSP as a POST (redirects are "
        "not followed; no user:password@ part: the signature authenticates the request)"
    )
    secret: str = Field(
        min_length=16,
        max_length=256,
        pattern=r"^[!-~]+$",
        description="HMAC-SHA256 key for Aedex-Signature: 16-256 visible ASCII characters; "
        "never shown again",
    )
    after: int | None = Field(
        default=None,
        ge=0,
        le=MAX_ID,
        description="push the responses after this id (a `next` cursor of GET /v1/responses); "
        "default: only responses stored from now on",
    )

    @field_validator("url")
    @classmethod
    def _plain_url(cls, url: HttpUrl) -> HttpUrl:
        if len(str(url)) > MAX_URL_LENGTH:
            raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
        if url.username is not None or url.password is not None:
            raise ValueError("the URL must not hold a user or password")
        return url


class WebhookOut(BaseModel):
    """A registered webhook (its secret is never shown)."""

    id: uuid.UUID
    url: str
    created_at: datetime
    last_response_id: int = Field(
        description="responses up to this id are queued for delivery (the worker's cursor)"
    )
    paused_until: datetime | None = Field(
        description="after a failed attempt, nothing is sent to this webhook before this time"
    )


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    """One CUSRSP to one webhook: an entry of the delivery log."""

    id: int = Field(description="the delivery id (Aedex-Delivery header)")
    response_id: int = Field(description="the response id (Aedex-Response-Id header)")
    item_id: str
    decision: str
    status: Literal["PENDING", "DELIVERED", "FAILED"]
    attempts: int = Field(description="attempts since queued or last replayed")
    replays: int
    last_status_code: int | None = Field(description="the receiver's last HTTP status")
    last_error: str | None = Field(description="why the last attempt failed, in words")
    created_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None = Field(description="when PENDING: the next attempt")
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    deliveries: list[DeliveryOut]
    next: int = Field(description="the `after` cursor of the next page")


class Replayed(BaseModel):
    replayed: int = Field(description="FAILED deliveries queued again")
