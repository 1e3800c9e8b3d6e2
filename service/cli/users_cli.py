"""`aedex users …`: officers' accounts. Secrets are printed once, alone on the last line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts import (
    AccountError,
    create_user,
    disable_user,
    issue_token,
    new_password,
    reset_password,
)
from service.db.engine import create_engine, create_sessionmaker
from service.settings import Settings

users_app = typer.Typer(help="Officers', supervisors' and admins' accounts.", no_args_is_help=True)

#: Who the audit log names for a change made on this host's command line.
CLI_ACTOR = "cli"

T = TypeVar("T")

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]


def _in_transaction(work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_engine(Settings().database_url)
        try:
            async with create_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except AccountError as refused:
        typer.echo(f"aedex: {refused}", err=True)
        raise typer.Exit(1) from None


def _password(from_stdin: bool) -> tuple[str, bool]:
    """(password, generated): from stdin (first line), or a new one to print."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return new_password(), True


@users_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="user name (login)")],
    role: Annotated[str, typer.Option(help="officer, supervisor or admin")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Create a user; prints a generated password (once, last line) unless one is piped in."""
    password, generated = _password(password_stdin)
    _in_transaction(lambda s: create_user(s, name, role, password, actor=CLI_ACTOR))
    typer.echo(f"user {name} created ({role.lower()})", err=True)
    if generated:
        typer.echo("password (shown once; store it now):", err=True)
        typer.echo(password)


@users_app.command("disable")
def disable(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """Disable a user: no login, and every token of theirs stops working."""
    _in_transaction(lambda s: disable_user(s, name, actor=CLI_ACTOR))
    typer.echo(f"user {name} disabled", err=True)


@users_app.command("reset-password")
def reset(
    name: Annotated[str, typer.Argument(help="user name")],
    password_stdin: PasswordStdin = False,
) -> None:
    """Set a new password (and lift a lockout); prints a generated one unless piped in."""
    password, generated = _password(password_stdin)
    _in_transaction(lambda s: reset_password(s, name, password, actor=CLI_ACTOR))
    typer.echo(f"password of {name} reset", err=True)
    if generated:
        typer.echo("password (shown once; store it now):", err=True)
        typer.echo(password)


@users_app.command("token")
def token(name: Annotated[str, typer.Argument(help="user name")]) -> None:
    """A new bearer token for the officers' JSON API, printed once, alone, on the last line."""
    issued = _in_transaction(lambda s: issue_token(s, name, actor=CLI_ACTOR))
    typer.echo(f"API token for {name} (shown once; store it now):", err=True)
    typer.echo(issued)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
