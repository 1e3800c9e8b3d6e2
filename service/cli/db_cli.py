"""`aedex db upgrade|current`: apply and inspect the schema migrations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

db_app = typer.Typer(help="Database schema: apply and inspect migrations.", no_args_is_help=True)
EXIT_FAILED, EXIT_USAGE = 1, 2

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url", help="SQLAlchemy async URL (default: AEDEX_DATABASE_URL, else the SQLite file)"
    ),
]


def _resolve(url: str | None) -> URL:
    """The URL to use, parsed; exits with a message if it is not a URL."""
    # Imported here: reading settings and loading SQLAlchemy is for `db` commands only.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from service.logs import redact_text
    from service.settings import Settings

    text = url or Settings().database_url
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        sys.stderr.write(f"not a database URL: {redact_text(str(exc))}\n")
        raise typer.Exit(EXIT_USAGE) from None


def _sqlite_file(url: URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _is_default(url: URL) -> bool:
    from sqlalchemy.engine import make_url

    from service.settings import Settings

    default = Settings.model_fields["database_url"].default
    return url == make_url(default)


def _fail(url: URL, problem: object) -> typer.Exit:
    sys.stderr.write(f"{url.render_as_string(hide_password=True)}: {problem}\n")
    return typer.Exit(EXIT_FAILED)


def _failed(url: URL, exc: BaseException) -> typer.Exit:
    """One line for a failed migration or query: SQLAlchemy's own text spans several."""
    from service.cli.failures import database_problem, describe

    problem = database_problem(exc, url.render_as_string(hide_password=False))
    sys.stderr.write(f"{problem or describe(exc)[0]}\n")
    return typer.Exit(EXIT_FAILED)


@db_app.command("upgrade")
def upgrade(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="target revision")] = "head",
) -> None:
    """Apply the migrations (to the newest by default); prints the revision reached."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrate import upgrade_sync

    target = _resolve(url)
    path = _sqlite_file(target)
    if path is not None and not path.parent.is_dir():
        if not _is_default(target):
            # Said plainly here (a typo, likely), before aiosqlite reports it from its thread.
            raise _fail(target, f"no such directory: {path.parent}")
        path.parent.mkdir(parents=True)  # the default file's directory (out/) is ours to make
    try:
        reached = upgrade_sync(target.render_as_string(hide_password=False), revision)
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise _failed(target, exc) from None
    typer.echo(f"{target.render_as_string(hide_password=True)}: at revision {reached or 'base'}")


@db_app.command("current")
def current(url: UrlOption = None) -> None:
    """Print the revision the database is at, and whether that is the newest."""
    import asyncio

    from sqlalchemy.exc import SQLAlchemyError

    from service.db.migrate import current_revision, head_revision

    target = _resolve(url)
    path = _sqlite_file(target)
    if path is not None and not path.exists():
        # Opening it would create an empty file and report "base" for a typo.
        raise _fail(target, f"no such database file: {path}")
    try:
        at = asyncio.run(current_revision(target.render_as_string(hide_password=False)))
    except (SQLAlchemyError, OSError) as exc:
        raise _failed(target, exc) from None
    head = head_revision()
    state = "head" if at == head else f"behind head {head}"
    shown = target.render_as_string(hide_password=True)
    typer.echo(f"{shown}: at revision {at or 'base'} ({state})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
