"""Tables of the system of record (DESIGN.md §1: the database is the record, Kafka the transport).

Every row a stage writes has a natural unique key, so a redelivered Kafka
record finds its row already there and changes nothing:

- inbox message: sender operator + MessageId;
- item: inbox message + position in the message;
- assessment: item row (one per item version);
- response: `dedupe_key` (item row + what the response answers);
- window event: window key + item id.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, utcnow

#: Money: two decimals after conversion, never float.
Money = Numeric(18, 2)


class InboxStatus(enum.StrEnum):
    RECEIVED = "RECEIVED"  # committed, not yet on aed.inbound
    PUBLISHED = "PUBLISHED"  # on aed.inbound, not yet validated
    PROCESSED = "PROCESSED"  # the validate stage has stored its items
    REFUSED = "REFUSED"  # message-level error found by the validate stage


class ItemStatus(enum.StrEnum):
    ACCEPTED = "ACCEPTED"  # valid, waiting for assessment
    REJECTED = "REJECTED"  # error findings, answered with REJECTED
    ASSESSED = "ASSESSED"  # scored, answered
    CANCELLED = "CANCELLED"  # a cancellation (MessageFunction 1) acknowledged
    SUPERSEDED = "SUPERSEDED"  # a later version replaced it


class Role(enum.StrEnum):
    OPERATOR = "operator"
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


def _enum(kind: type[enum.StrEnum]) -> String:
    """Enums stored as plain strings: portable, and new members need no migration of a type."""
    return String(max(len(m.value) for m in kind))


class Operator(Base):
    """A postal operator or express carrier allowed to send data (its UPU/IATA code)."""

    __tablename__ = "operators"

    code: Mapped[str] = mapped_column(String(35), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """An operator's API key, stored as a SHA-256 digest (keys are random, 256-bit)."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator_code: Mapped[str] = mapped_column(ForeignKey("operators.code"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The key's first characters, shown in listings so a key can be told apart.
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class InboxMessage(Base):
    """A raw message exactly as received; `202` is answered only once this row is committed.

    The row is the pipeline's memory of the message: until `settled_at` is set
    (every item has its answer), the relay re-publishes it whenever
    `reconcile_at` passes, so a record lost anywhere downstream (a killed
    worker, a broker that lost its data) is processed again, idempotently.
    """

    __tablename__ = "inbox_messages"
    __table_args__ = (
        UniqueConstraint("sender_operator", "message_id"),
        # Only unsettled rows are ever due: a partial index stays as small as the backlog.
        Index(
            "ix_inbox_messages_unsettled",
            "reconcile_at",
            sqlite_where=text("settled_at IS NULL"),
            postgresql_where=text("settled_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    sender_operator: Mapped[str] = mapped_column(String(35))
    message_id: Mapped[str] = mapped_column(String(70))
    #: ITMATT or CUSITM.
    kind: Mapped[str] = mapped_column(String(10))
    #: How it came: API, EXPRESS (manifest converted by the API), KAFKA (produced straight).
    source: Mapped[str] = mapped_column(String(10))
    sha256: Mapped[str] = mapped_column(String(64))
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    item_count: Mapped[int] = mapped_column(Integer)
    #: An InboxStatus value (a StrEnum compares equal to its text).
    status: Mapped[str] = mapped_column(_enum(InboxStatus), index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    processed_at: Mapped[datetime | None]
    publish_count: Mapped[int] = mapped_column(Integer, default=0)
    #: When the relay re-publishes the row if it is still not settled (backs off per publish).
    reconcile_at: Mapped[datetime | None]
    #: When every item had its answer (or the message was refused with nothing to answer).
    settled_at: Mapped[datetime | None]
    #: Message-level refusal found downstream (code and text), when status is REFUSED.
    error: Mapped[dict[str, Any] | None]
    #: A converted manifest's map from item positions to shipments and CSV rows, so findings
    #: name the manifest's own places (adapters/express/locations.py); None for XML.
    locations: Mapped[dict[str, Any] | None]


class ItemRecord(Base):
    """One item of one message: its canonical data, status and findings."""

    __tablename__ = "items"
    __table_args__ = (
        UniqueConstraint("inbox_id", "position"),
        Index("ix_items_item_id_version", "item_id", "version"),
        # Versions are looked up by operator and item id (service.stages.versions); on an
        # index of the operator alone the planner walked every item of that operator, a
        # cost that grew with the table (one big post is most of it).
        Index("ix_items_sender_operator_item_id", "sender_operator", "item_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    inbox_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("inbox_messages.id"))
    #: 1-based position of the item in its message.
    position: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[str] = mapped_column(String(35))
    sender_operator: Mapped[str] = mapped_column(String(35))
    message_id: Mapped[str] = mapped_column(String(70))
    #: EDIFACT 1225: 9 original, 5 replacement, 1 cancellation.
    message_function: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(BigInteger)
    #: An ItemStatus value.
    status: Mapped[str] = mapped_column(_enum(ItemStatus))
    #: The canonical item (messages.Item as JSON); None when the item was rejected.
    canonical: Mapped[dict[str, Any] | None]
    #: Every finding: [{code, severity, path, message}].
    findings: Mapped[list[Any]] = mapped_column(default=list)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The canonical item's party keys (spelling-tolerant), so an officer's case view finds
    #: the same sender's and addressee's other items with an index, not a JSON scan.
    sender_key: Mapped[str | None] = mapped_column(String(200), index=True)
    addressee_key: Mapped[str | None] = mapped_column(String(200), index=True)


class Assessment(Base):
    """The risk engine's result for one item version, with every hit's reason."""

    __tablename__ = "assessments"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    item_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), unique=True)
    item_id: Mapped[str] = mapped_column(String(35), index=True)
    ruleset: Mapped[str] = mapped_column(String(100))
    ruleset_version: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    security_action: Mapped[str | None] = mapped_column(String(20))
    hits: Mapped[list[Any]] = mapped_column(default=list)
    skipped: Mapped[list[Any]] = mapped_column(default=list)
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Response(Base):
    """A CUSRSP sent (or to send) to an operator; `id` orders them for `?after=cursor`."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    #: What this answers, unique: "<item row>:fiscal", "<item row>:rejected", ...
    #: (rows before 2026-12 also have "<item row>:security": a separate security CUSRSP)
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    recipient_operator: Mapped[str] = mapped_column(String(35), index=True)
    item_row_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("items.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(35), index=True)
    in_reply_to: Mapped[str] = mapped_column(String(70))
    axis: Mapped[str | None] = mapped_column(String(10))
    decision: Mapped[str] = mapped_column(String(20))
    #: The SECURITY decision carried first in the same CUSRSP (DESIGN.md §3), if any.
    security_decision: Mapped[str | None] = mapped_column(String(20))
    xml: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StageHeartbeat(Base):
    """A stage worker's last sign of life: what `/readyz` reads (service.stages.heartbeat)."""

    __tablename__ = "stage_heartbeats"

    worker_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    stage: Mapped[str] = mapped_column(String(20), index=True)
    #: Partitions the worker's consumer holds (the relay holds none and reads the database).
    partitions: Mapped[int] = mapped_column(Integer)
    beat_at: Mapped[datetime]
    #: The ruleset an assess worker scores with ("default 2026.12.2"), for /metrics.
    ruleset: Mapped[str | None] = mapped_column(String(160))


class ReviewTask(Base):
    """An item at or above a band, waiting for an officer's decision."""

    __tablename__ = "review_queue"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    item_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), unique=True)
    item_id: Mapped[str] = mapped_column(String(35), index=True)
    sender_operator: Mapped[str] = mapped_column(String(35))
    score: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(20))
    #: SCREEN or DO_NOT_LOAD when a security rule hit: such tasks come first in the queue.
    security_action: Mapped[str | None] = mapped_column(String(20), index=True)
    #: The sender's country, the rule ids that hit and the item's event times, kept here so
    #: the queue filters and sorts with plain columns (no JSON queries).
    origin: Mapped[str | None] = mapped_column(String(2))
    rules: Mapped[list[Any]] = mapped_column(default=list)
    received_at: Mapped[datetime | None]
    expected_arrival: Mapped[datetime | None]
    #: The officer working it, until when (a claim lapses then and the task is free again).
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(10), default="OPEN", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(100))
    #: The latest decision (an amendment replaces it; every one is in review_decisions).
    decision: Mapped[str | None] = mapped_column(String(20))
    #: The infringement kind the officer recorded ("undervaluation", "counterfeit", ...).
    outcome: Mapped[str | None] = mapped_column(String(200))
    infringement: Mapped[bool | None] = mapped_column(Boolean)
    revenue_corrected_eur: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str | None] = mapped_column(Text)
    #: Optimistic concurrency: a decision names the version it was made on; every decision
    #: and amendment adds one, so a form opened before someone else's change gets 409.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class ReviewDecision(Base):
    """Every decision and amendment on a task, in order: the outcomes the feedback loop reads."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("review_queue.id"), index=True)
    item_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(35), index=True)
    decision: Mapped[str] = mapped_column(String(20))
    infringement: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str | None] = mapped_column(String(200))
    revenue_corrected_eur: Mapped[Decimal | None] = mapped_column(Money)
    note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Set on an amendment: the decision it replaces and the supervisor's reason.
    amends: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("review_decisions.id")
    )
    amend_reason: Mapped[str | None] = mapped_column(Text)
    #: Items decided together (one splitting window, a selection) share a group id.
    group_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    response_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("responses.id")
    )


class ResponseOutbox(Base):
    """Responses made outside a stage (officers' decisions) that the relay must publish.

    The decision, its CUSRSP row and this row commit together; the relay sends it
    to `aed.responses` and stamps `published_at`, so a broker that is down when the
    officer decides delays the CUSRSP on the topic but never loses it.
    """

    __tablename__ = "response_outbox"

    response_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("responses.id"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(index=True)


class WindowEvent(Base):
    """One item seen under one window key (addressee, sender, sender>addressee pair)."""

    __tablename__ = "window_events"
    __table_args__ = (
        UniqueConstraint("key", "item_id"),
        Index("ix_window_events_key_at", "key", "at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(200))
    item_id: Mapped[str] = mapped_column(String(35))
    #: Event time as POSIX seconds (windows compare many times; see risk.state).
    at: Mapped[float]
    value_eur: Mapped[Decimal] = mapped_column(Money)


class RulesetStatus(enum.StrEnum):
    """A ruleset version's place in its life: DESIGN.md §5 "Versions".

    DRAFT (uploaded, checked, golden tests passed) → APPROVED (by a supervisor who
    is not its author, with a backtest on record) → ACTIVE (scores live traffic;
    one at a time) → RETIRED (replaced; may be activated again: a rollback).
    SHADOW runs beside the active one; its results never leave the database.
    """

    DRAFT = "DRAFT"
    APPROVED = "APPROVED"
    ACTIVE = "ACTIVE"
    SHADOW = "SHADOW"
    RETIRED = "RETIRED"


class StoredRuleset(Base):
    """A ruleset version as uploaded, with who did what to it; the YAML is the version."""

    __tablename__ = "rulesets"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(50))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=RulesetStatus.DRAFT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None]
    #: SHA-256 of the YAML: the same text is never stored twice under two versions.
    sha256: Mapped[str | None] = mapped_column(String(64))
    author: Mapped[str | None] = mapped_column(String(100))
    #: Why the author made the change (shown to the approver).
    reason: Mapped[str | None] = mapped_column(Text)
    #: The golden-test result at upload: {"passed": n, "failed": 0, "rules": n}.
    golden: Mapped[dict[str, Any] | None]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[datetime | None]
    activated_by: Mapped[str | None] = mapped_column(String(100))
    retired_at: Mapped[datetime | None]


class AssessmentHit(Base):
    """One rule's hit on one item, as a row: per-rule statistics are queries, not JSON scans.

    Shadow hits are rows too, marked `shadow`, with the shadow version's name.
    """

    __tablename__ = "assessment_hits"
    __table_args__ = (
        Index("ix_assessment_hits_rule_at", "rule", "assessed_at"),
        Index("ix_assessment_hits_version_at", "ruleset_version", "assessed_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    item_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(35))
    ruleset: Mapped[str] = mapped_column(String(100))
    ruleset_version: Mapped[str] = mapped_column(String(50))
    rule: Mapped[str] = mapped_column(String(100))
    axis: Mapped[str] = mapped_column(String(10))
    score: Mapped[int] = mapped_column(Integer)
    action: Mapped[str | None] = mapped_column(String(20))
    shadow: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShadowAssessment(Base):
    """What the shadow version would have decided for an item: never sent anywhere."""

    __tablename__ = "shadow_assessments"
    __table_args__ = (UniqueConstraint("item_row_id", "ruleset", "ruleset_version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    item_row_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("items.id"))
    item_id: Mapped[str] = mapped_column(String(35))
    ruleset: Mapped[str] = mapped_column(String(100))
    ruleset_version: Mapped[str] = mapped_column(String(50))
    score: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(20))
    security_action: Mapped[str | None] = mapped_column(String(20))
    hits: Mapped[list[Any]] = mapped_column(default=list)
    assessed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Backtest(Base):
    """A candidate version run over stored items beside a baseline, against outcomes."""

    __tablename__ = "backtests"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ruleset_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("rulesets.id"), index=True)
    #: The candidate as "name version" (a file backtested from the CLI may not be stored).
    candidate: Mapped[str] = mapped_column(String(160))
    baseline: Mapped[str] = mapped_column(String(160))
    since: Mapped[datetime]
    until: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="QUEUED")
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    items_done: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class WatchlistEntry(Base):
    __tablename__ = "watchlist_entries"
    __table_args__ = (UniqueConstraint("list_name", "ref"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    list_name: Mapped[str] = mapped_column(String(100))
    ref: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """An officer, supervisor or admin of the UI (password hashed with Argon2)."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    #: A Role value.
    role: Mapped[str] = mapped_column(_enum(Role))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: A disabled user can neither log in nor use a token; the row stays for the audit log.
    disabled_at: Mapped[datetime | None]
    #: Failed logins in a row, and until when the account refuses logins (back-off).
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None]


class UserToken(Base):
    """A bearer token for the officers' JSON API: stored as a SHA-256 digest, shown once."""

    __tablename__ = "user_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    #: The first characters, so a person can tell tokens apart without the secret.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class UiSession(Base):
    """A signed-in browser: the cookie holds a random token, the table its digest.

    Server-side, so logout and disabling a user end the session at once, and idle
    and absolute expiry are checked on every request.
    """

    __tablename__ = "ui_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the cookie
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]


class AuditEntry(Base):
    """Append-only: who did what to which subject, and when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    subject: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DeliveryStatus(enum.StrEnum):
    PENDING = "PENDING"  # not yet answered 2xx; tried again at next_attempt_at
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # every attempt failed; the operator may replay it


class Webhook(Base):
    """An operator's push endpoint: every CUSRSP for the operator is POSTed to `url`, signed.

    `last_response_id` is the delivery worker's cursor: responses up to it have
    their delivery row. Response ids are in commit order (service.db.ordering),
    so a cursor never passes a response that commits later.
    """

    __tablename__ = "webhooks"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    operator: Mapped[str] = mapped_column(ForeignKey("operators.code"), index=True)
    url: Mapped[str] = mapped_column(String(2048))
    #: The HMAC key; kept as given because signing needs it, and never shown or logged.
    secret: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: DELETE sets it: no more deliveries, and the API no longer shows the webhook.
    deleted_at: Mapped[datetime | None]
    last_response_id: Mapped[int] = mapped_column(BigInteger, default=0)
    #: A delivery worker holds the webhook until then (one worker per webhook at a time).
    leased_until: Mapped[datetime | None]
    #: After a failed attempt nothing is sent until then: a receiver that is down gets one
    #: request per back-off interval, not one per pending delivery.
    paused_until: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One response to one webhook: the delivery log the operator reads and replays from."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("webhook_id", "response_id"),
        # The worker reads only pending rows: a partial index stays as small as the backlog.
        Index(
            "ix_webhook_deliveries_pending",
            "webhook_id",
            "response_id",
            sqlite_where=text("status = 'PENDING'"),
            postgresql_where=text("status = 'PENDING'"),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    webhook_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhooks.id"))
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id"))
    #: A DeliveryStatus value.
    status: Mapped[str] = mapped_column(_enum(DeliveryStatus))
    #: Attempts since the delivery was queued or last replayed.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    #: The receiver's last HTTP status, or None when it gave none (timeout, refused...).
    last_status_code: Mapped[int | None]
    #: What went wrong last, in words (never a secret, never the URL).
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_attempt_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
