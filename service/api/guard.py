"""The outermost layer of every request: one log line per failure, never a stack trace out.

A pure ASGI middleware, inside Starlette's ServerErrorMiddleware, so an
unexpected error is logged here once (plain text, redacted, no locals) and
answered with a reference, instead of being logged again by the server. A
client that goes away mid-request is not an error: one info line, no 500.
It also stamps each response with its request id and the caller's rate-limit
headers (set by the `operator` dependency in `scope["state"]`).
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import structlog
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger(__name__)


class ClientGone(Exception):
    """The client closed the connection before its request was complete."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


#: Scope-state keys the dependencies set and this middleware reads.
ADMISSION = "aedex_admission"
REQUEST_ID = "aedex_request_id"
#: The operator code of the caller's key, once known (for logs and refusal metrics).
CALLER = "aedex_caller"
#: The MessageId of the upload, once its envelope is read.
MESSAGE_ID = "aedex_message_id"


class RequestGuard:
    def __init__(self, app: ASGIApp, *, on_disconnect: Any = None) -> None:
        self.app = app
        #: Called with no arguments for each client that went away (a metrics counter).
        self.on_disconnect = on_disconnect

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = uuid.uuid4().hex[:16]
        state[REQUEST_ID] = request_id
        started = False

        async def stamped(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
                admission = state.get(ADMISSION)
                if admission is not None:
                    headers += admission.headers()
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, stamped)
            except (ClientGone, ClientDisconnect) as gone:
                if self.on_disconnect is not None:
                    self.on_disconnect()
                log.info(
                    "client went away before the request was complete",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    detail=getattr(gone, "detail", None) or "disconnected",
                )
            except Exception:  # noqa: BLE001 - the one place unexpected errors are logged
                log.exception("unhandled error", method=scope.get("method"), path=scope.get("path"))
                if not started:
                    await _internal_error(send, request_id)


async def _internal_error(send: Send, reference: str) -> None:
    body = orjson.dumps({"error": "INTERNAL", "detail": f"internal error; reference {reference}"})
    try:
        await send(
            {
                "type": "http.response.start",
                "status": 500,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", reference.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
    except OSError:
        return  # the connection is gone too: nothing more to say
