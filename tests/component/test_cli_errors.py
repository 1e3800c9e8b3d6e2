"""Every `aedex` command fails with one clear line and a non-zero exit, never a traceback.

Through the installed console script in a subprocess, as an operator meets it:
an unmigrated or unreachable database, an API that is down or refuses the key,
a missing file, an invalid setting, a CN 23 export given to `validate`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.generator import GeneratorOptions, write_traffic
from service.api.app import create_app
from service.cli.failures import DEBUG_HINT, describe
from service.settings import Settings
from tests.api_clients import serve

AEDEX = shutil.which("aedex") or str(Path(sys.executable).with_name("aedex"))
WRONG_KEY = "aedex_" + "w" * 43


def run(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")}
    return subprocess.run(
        [AEDEX, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**environment, **env},
        cwd=cwd,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's single stderr line; nothing on stdout, no traceback anywhere."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert result.stdout == "", result.stdout
    return lines[0]


def closed_port() -> int:
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unmigrated_database_says_run_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = run("keys", "create", "--operator", "CNA", AEDEX_DATABASE_URL=url)
    assert result.returncode == 1
    line = one_line(result)
    assert "is not migrated" in line and "run `aedex db upgrade`" in line
    assert str(tmp_path / "fresh.db") in line


def test_every_command_shares_the_default_database(tmp_path: Path) -> None:
    # No AEDEX_DATABASE_URL: the default (out/aedex.db, as `make run` uses) for each command.
    before = run("keys", "create", "--operator", "CNA", cwd=tmp_path)
    assert before.returncode == 1
    assert "no such directory out; run `aedex db upgrade`" in one_line(before)
    upgraded = run("db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("sqlite+aiosqlite:///out/aedex.db: at revision")
    created = run("keys", "create", "--operator", "CNA", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "out" / "aedex.db").is_file()


def test_debug_lets_the_traceback_through(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    result = run("keys", "create", "--operator", "CNA", AEDEX_DATABASE_URL=url, AEDEX_DEBUG="1")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "no such table" in result.stderr


def test_a_database_in_a_missing_directory_is_named(tmp_path: Path) -> None:
    # aiosqlite's worker thread used to add a traceback of its own after the line.
    url = f"sqlite+aiosqlite:///{tmp_path / 'no' / 'such' / 'x.db'}"
    result = run("keys", "create", "--operator", "CNA", AEDEX_DATABASE_URL=url)
    assert result.returncode == 1
    assert f"no such directory {tmp_path / 'no' / 'such'}" in one_line(result)


def test_an_unreachable_database_hides_its_password() -> None:
    url = f"postgresql+asyncpg://clerk:s3cret-pw@127.0.0.1:{closed_port()}/aedex"
    result = run("keys", "create", "--operator", "CNA", AEDEX_DATABASE_URL=url)
    assert result.returncode == 1
    line = one_line(result)
    assert "is unreachable" in line and "clerk" in line and "s3cret-pw" not in line


def test_an_unreachable_api_is_named(tmp_path: Path) -> None:
    message = tmp_path / "m.xml"
    message.write_bytes(b"<ITMATT/>")
    url = f"http://127.0.0.1:{closed_port()}"
    result = run("ingest", str(message), "--url", url, "--key", WRONG_KEY)
    assert result.returncode == 1
    line = one_line(result)
    assert line.startswith(f"aedex: the API at {url} is unreachable")
    assert WRONG_KEY not in line


def test_a_wrong_key_is_refused_in_one_line(tmp_path: Path, sqlite_migrated_url: str) -> None:
    message = tmp_path / "m.xml"
    message.write_bytes(b"<ITMATT/>")
    settings = Settings(database_url=sqlite_migrated_url, kafka_bootstrap="")
    with serve(create_app(settings)) as url:
        result = run("ingest", str(message), "--url", url, "--key", WRONG_KEY)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    output = (result.stdout + result.stderr).splitlines()
    assert len(output) == 1 and "401" in output[0], output
    assert WRONG_KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["rules", "check", "{missing}"],
        ["assess", "{missing}"],
        ["ingest", "{missing}", "--key", WRONG_KEY, "--url", "http://127.0.0.1:9"],
        [
            "convert",
            "cn23",
            "{missing}",
            "--message-id",
            "M",
            "--sender",
            "CNA",
            "--recipient",
            "DEA",
        ],
        ["evaluate", "{missing}"],
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_a_missing_file_exits_2_in_one_line(tmp_path: Path, command: list[str]) -> None:
    missing = str(tmp_path / "missing.file")
    result = run(*(part.replace("{missing}", missing) for part in command))
    assert result.returncode == 2, result.stderr
    assert missing in one_line(result)


def test_an_invalid_setting_names_the_variable_not_the_value() -> None:
    result = run("keys", "create", "--operator", "CNA", AEDEX_TOPIC_PARTITIONS="hunter2-secret")
    assert result.returncode == 2
    line = one_line(result)
    assert "AEDEX_TOPIC_PARTITIONS" in line and "hunter2" not in line


def test_usage_errors_stay_typers() -> None:
    result = run("no-such-command")
    assert result.returncode == 2
    assert "No such command" in result.stderr and "aedex: " not in result.stderr


def test_validate_says_what_a_cn23_export_is_and_convert_makes_it_a_message(
    tmp_path: Path,
) -> None:
    write_traffic(tmp_path, GeneratorOptions(items=40, seed=3))
    export = sorted((tmp_path / "cn23").glob("*.csv"))[0]
    result = run("validate", str(export))
    assert result.returncode == 1  # the file was read: 2 is for unreadable files (DESIGN §3)
    assert "CN23_CSV" in result.stdout and "CN 23 CSV export" in result.stdout
    assert f"aedex convert cn23 {export}" in result.stdout

    itmatt = tmp_path / "converted.xml"
    converted = run(
        "convert", "cn23", str(export), "--message-id", "CNA-X-1", "--sender", "CNA",
        "--recipient", "DEA", "--prepared-at", "2026-12-01T10:00:00+00:00", "--out", str(itmatt),
    )  # fmt: skip
    assert converted.returncode == 0, converted.stderr
    checked = run("validate", "--json", str(itmatt))
    assert checked.returncode == 0, checked.stdout
    assert '"type":"ITMATT"' in checked.stdout


def test_an_unknown_failure_names_its_type_and_the_debug_switch() -> None:
    line, code = describe(ValueError("the frobnicator broke\nsecond line"))
    assert (line, code) == (f"ValueError: the frobnicator broke ({DEBUG_HINT})", 1)
    key_in_message = describe(RuntimeError(f"bad Authorization: Bearer {WRONG_KEY}"))[0]
    assert WRONG_KEY not in key_in_message
