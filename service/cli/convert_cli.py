"""`aedex convert cn23 FILE`: a CN 23 CSV export to the ITMATT 1.2 message it stands for.

A CN 23 export holds items but no envelope (message id, the two operators,
preparation time), so `aedex validate` cannot check it as it is. The caller
gives the envelope; the post adapter does the rest, exactly as it does at
intake. The ITMATT goes to `--out` or stdout, ready for `aedex validate` and
`aedex ingest`.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from adapters.errors import AdapterError
from adapters.post import cn23_csv_to_itmatt
from messages.codec import encode_itmatt
from messages.models import MessageFunction
from service.cli.event_time import now, parse_time
from service.cli.failures import EXIT_FAILED, EXIT_USAGE, CliFailure

convert_app = typer.Typer(help="Convert exports to aedex messages.", no_args_is_help=True)


def cn23_instruction(file: str) -> str:
    """How to turn a CN 23 CSV export into a message: said by `aedex validate` too."""
    itmatt = Path(file).with_suffix(".xml")
    return (
        f"convert it with `aedex convert cn23 {file} --message-id ID --sender CODE "
        f"--recipient CODE --out {itmatt}`, then validate the ITMATT it writes"
    )


@convert_app.command("cn23")
def cn23(
    file: Annotated[Path, typer.Argument(help="CN 23 CSV export (one row per content piece)")],
    message_id: Annotated[str, typer.Option(help="MessageId, unique per sender (an..35)")],
    sender: Annotated[str, typer.Option(help="SenderOperator: your UPU operator code")],
    recipient: Annotated[str, typer.Option(help="RecipientOperator: the destination post")],
    prepared_at: Annotated[
        str | None, typer.Option(help="PreparedAt, ISO 8601 with offset (default: now, UTC)")
    ] = None,
    function: Annotated[
        int, typer.Option(help="MessageFunction: 9 original, 5 replace, 1 cancel")
    ] = 9,
    out: Annotated[Path | None, typer.Option(help="file to write (default: stdout)")] = None,
) -> None:
    """Write the ITMATT 1.2 message for a CN 23 CSV export, with the envelope given here."""
    try:
        message_function = MessageFunction(function)
    except ValueError:
        raise typer.BadParameter(f"{function} is not 9, 5 or 1", param_hint="--function") from None
    moment = now() if prepared_at is None else parse_time(prepared_at, "--prepared-at")
    try:
        text = file.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CliFailure(f"{file}: cannot read: {exc.strerror or exc}", EXIT_USAGE) from None
    except UnicodeDecodeError as exc:
        raise CliFailure(f"{file}: not UTF-8 text (byte {exc.start})", EXIT_FAILED) from None
    try:
        message = cn23_csv_to_itmatt(
            text,
            message_id=message_id,
            sender_operator=sender,
            recipient_operator=recipient,
            prepared_at=moment,
            message_function=message_function,
        )
    except AdapterError as exc:
        raise CliFailure(f"{file}: not a CN 23 CSV export: {exc}", EXIT_FAILED) from None
    data = encode_itmatt(message)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        out.write_bytes(data)
    where = "stdout" if out is None else str(out)
    typer.echo(f"{file}: {len(message.items)} items as ITMATT {message_id} to {where}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(convert_app, name="convert")
