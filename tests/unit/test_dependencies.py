"""DESIGN.md §2: the pure packages import no framework and never `service`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"fastapi", "starlette", "sqlalchemy", "alembic", "aiokafka", "service", "uvicorn"}
ALLOWED_OURS = {"messages": set(), "adapters": {"messages"}, "risk": {"messages"}}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(ALLOWED_OURS))
def test_pure_package_imports(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files or package == "risk"
    ours = set(ALLOWED_OURS) | {"service"}
    for path in files:
        roots = imported_roots(path)
        assert not roots & FORBIDDEN, (path, roots & FORBIDDEN)
        assert roots & ours <= ALLOWED_OURS[package] | {package}, (path, roots & ours)
