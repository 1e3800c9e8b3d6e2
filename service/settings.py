"""All configuration in one class, read from `AEDEX_*` environment variables.

Defaults run the whole system on one laptop with nothing installed: a SQLite
file and the embedded Tansu broker (started when `kafka_bootstrap` is empty).
Production sets `AEDEX_DATABASE_URL` (PostgreSQL, asyncpg) and
`AEDEX_KAFKA_BOOTSTRAP` (Apache Kafka).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Stage names, in pipeline order; `aedex worker --stage NAME`.
STAGES = ("relay", "validate", "assess", "respond")
#: Every worker `aedex run` starts: the stages, and webhook delivery (it reads the database).
WORKERS = (*STAGES, "webhooks")


class Topics:
    """Topic names under one prefix (DESIGN.md §1)."""

    def __init__(self, prefix: str) -> None:
        self.inbound = f"{prefix}.inbound"
        self.validated = f"{prefix}.validated"
        self.rejected = f"{prefix}.rejected"
        self.assessed = f"{prefix}.assessed"
        self.responses = f"{prefix}.responses"
        self.deadletter = f"{prefix}.deadletter"
        self.control = f"{prefix}.control"

    def inputs(self, stage: str) -> tuple[str, ...]:
        """The topics a stage consumes (its group's lag is measured on these)."""
        return {
            "validate": (self.inbound,),
            "assess": (self.validated,),
            "respond": (self.assessed, self.rejected),
        }[stage]

    def all(self) -> tuple[str, ...]:
        return (
            self.inbound,
            self.validated,
            self.rejected,
            self.assessed,
            self.responses,
            self.deadletter,
            self.control,
        )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AEDEX_", extra="ignore")

    #: SQLAlchemy async URL; SQLite (aiosqlite) by default, PostgreSQL (asyncpg) in production.
    #: The one default of every command and of `make run`: out/ holds what a run makes.
    database_url: str = "sqlite+aiosqlite:///out/aedex.db"
    #: Kafka bootstrap servers; empty: start the embedded Tansu broker.
    kafka_bootstrap: str = ""
    topic_prefix: str = "aed"
    topic_partitions: int = Field(default=3, ge=1, le=1024)
    #: Idempotent producers need InitProducerId; Tansu fails aiokafka's v0 of it: off by default.
    kafka_idempotence: bool = False
    #: Consumer group timeouts (aiokafka defaults). `aedex run` lowers them for the embedded
    #: broker, which otherwise holds a group join until they pass; Apache Kafka refuses a
    #: session timeout below its group.min.session.timeout.ms (6 s by default).
    kafka_session_timeout_ms: int = Field(default=10_000, ge=100)
    kafka_heartbeat_interval_ms: int = Field(default=3_000, ge=10)
    kafka_rebalance_timeout_ms: int = Field(default=60_000, ge=100)
    #: Largest message body the API accepts (DESIGN.md §3: 50 MB).
    max_message_bytes: int = Field(default=50 * 1024 * 1024, ge=1024)
    #: A request body must arrive within this many seconds in all, with no pause longer than
    #: `body_idle_timeout_s` between chunks; otherwise 408 (a slow or never-ending upload).
    body_timeout_s: float = Field(default=120.0, gt=0)
    body_idle_timeout_s: float = Field(default=15.0, gt=0)
    #: Requests per second per API key (token bucket) and the burst it may spend at once;
    #: beyond either, 429 with Retry-After. Per API process.
    rate_limit_per_s: float = Field(default=100.0, gt=0)
    rate_limit_burst: int = Field(default=200, ge=1)
    #: Requests of one API key in flight at once, per API process.
    max_concurrent_per_key: int = Field(default=16, ge=1)
    #: Connections and requests the API serves at once (all keys); beyond, uvicorn answers 503
    #: at once, so a flood of idle or half-open connections cannot exhaust the process.
    max_connections: int = Field(default=2048, ge=1)
    #: uvicorn waits this long for requests in flight on SIGTERM, then closes them.
    shutdown_timeout_s: int = Field(default=10, ge=1)
    #: Records per stage batch (`getmany` max_records) and the wait for one.
    batch_max_records: int = Field(default=500, ge=1)
    batch_timeout_ms: int = Field(default=200, ge=1)
    #: How long the broker may hold a fetch that finds nothing new (Kafka's
    #: fetch.max.wait.ms). The embedded Tansu answers such a fetch only at this deadline,
    #: even when a record arrives meanwhile, so every hop of the pipeline waited up to
    #: Kafka's default 500 ms for a record that came just after its fetch went out: p50
    #: intake → CUSRSP at 500 items/s was 751 ms at 500, 171 ms at 20 (`make bench`), for
    #: about 10 % more CPU per item at that load (the idle fetches). Apache Kafka answers
    #: a fetch as soon as data arrives, whatever this is.
    kafka_fetch_max_wait_ms: int = Field(default=20, ge=1)
    #: A fetched batch is handled and committed in slices of at most this many bytes of
    #: record values: a batch of big messages (10,000 items each) never holds a worker
    #: for minutes, and an outage or a stop costs at most one slice.
    batch_max_bytes: int = Field(default=4 * 1024 * 1024, ge=1)
    #: The relay publishes a message the API has not published within this many seconds.
    relay_grace_s: float = Field(default=2.0, ge=0)
    #: A message not settled (every item answered) this long after publishing is published
    #: again; the delay doubles with each re-publish (service.publish.MAX_BACKOFF).
    reconcile_after_s: float = Field(default=30.0, gt=0)
    #: Webhook delivery (service.webhooks): an attempt not answered 2xx within
    #: `webhook_timeout_s` is retried after `webhook_backoff_s` * 2^(attempt-1), at most
    #: `webhook_backoff_max_s`, jittered into [d/2, d); after `webhook_max_attempts` it is
    #: FAILED (replayable).
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    webhook_max_attempts: int = Field(default=15, ge=1, le=100)
    webhook_backoff_s: float = Field(default=1.0, gt=0)
    webhook_backoff_max_s: float = Field(default=900.0, gt=0)
    #: Requests in flight per webhook, sent in response-id order (1: strictly in order),
    #: and webhooks one delivery worker serves at once.
    webhook_in_flight: int = Field(default=4, ge=1, le=64)
    webhook_parallel: int = Field(default=16, ge=1, le=1024)
    #: How often the delivery worker looks for new responses and due retries.
    webhook_poll_interval_s: float = Field(default=0.25, gt=0)
    #: Webhooks one operator may have at once (409 WEBHOOK_LIMIT beyond).
    webhooks_per_operator: int = Field(default=10, ge=1)
    #: GET /v1/responses?wait=S: the longest wait granted (a longer one is cut to it), and
    #: how often the database is asked for new responses meanwhile.
    long_poll_max_s: float = Field(default=30.0, ge=0, le=30)
    long_poll_interval_s: float = Field(default=0.25, gt=0)
    #: Customs office code written as SenderAuthority on every CUSRSP.
    customs_office: str = "AEDEX01"
    #: A ruleset file to score with instead of the database's active version (pins it:
    #: activations are not followed). Unset in production.
    ruleset_path: Path | None = None
    #: How often an assess worker asks the database which ruleset is active, besides
    #: the nudges on the control topic (a nudge lost to an outage costs at most this).
    ruleset_poll_s: float = 10.0
    log_level: str = "INFO"
    #: JSON logs (production) or coloured console lines (a terminal).
    log_json: bool = False
    #: Also append JSON log lines to this file (`{pid}` becomes the process id).
    log_file: str | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    #: `/readyz` is ready only while each of these stages has a live worker consuming
    #: (heartbeats in the database); empty for an API deployed and probed on its own.
    ready_stages: tuple[str, ...] = STAGES
    #: An officer's claim on a review task lapses after this many seconds.
    review_claim_s: float = Field(default=900.0, gt=0)
    #: Officers' web UI sessions (service.ui.sessions): a session ends after this many seconds
    #: without a request, and this long after sign-in whatever happens.
    ui_session_idle_s: float = Field(default=1800.0, gt=0)
    ui_session_max_s: float = Field(default=43200.0, gt=0)
    #: After this many failed logins in a row the account refuses logins for
    #: `ui_lockout_base_s`, doubled with each further failure, at most `ui_lockout_max_s`.
    ui_lockout_after: int = Field(default=5, ge=1)
    ui_lockout_base_s: float = Field(default=30.0, gt=0)
    ui_lockout_max_s: float = Field(default=900.0, gt=0)
    #: The session cookie's Secure flag; None: set when the request came over https (directly
    #: or per X-Forwarded-Proto from the TLS proxy).
    ui_secure_cookies: bool | None = None

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value or not all(c.isalnum() or c in "._-" for c in value):
            raise ValueError("topic prefix must be letters, digits, '.', '_' or '-'")
        return value

    @property
    def topics(self) -> Topics:
        return Topics(self.topic_prefix)

    @property
    def embedded_broker(self) -> bool:
        return not self.kafka_bootstrap.strip()
