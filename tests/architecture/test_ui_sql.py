"""No SQL in ui/: the UI reads the till's state through the till service, never a table.

import-linter (pyproject.toml, contract ui-no-sql) keeps peewee and sqlite3 out of ui's
imports; this catches what an import check cannot see: SQL run through an object the UI was
handed (`till.db.execute_sql(...)`), and SQL text in ui's source.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.architecture.codebase import ROOT

SQL_TEXT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|PRAGMA|WITH)\s", re.I)
SQL_CALLS = frozenset({"execute_sql", "execute", "executemany", "executescript", "raw"})


def sql_in(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr in SQL_CALLS):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node.func)}(...)")
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and SQL_TEXT.match(node.value)):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    return found


def test_ui_runs_no_sql() -> None:
    found = [hit for path in sorted((ROOT / "ui").rglob("*.py")) for hit in sql_in(path)]
    assert not found, "SQL in ui/ (ask the till service instead):\n" + "\n".join(found)


def test_the_sql_check_finds_planted_sql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tests.architecture.test_ui_sql.ROOT", tmp_path)
    path = tmp_path / "status.py"
    path.write_text('def head(till):\n    return till.db.execute_sql("SELECT MAX(seq) FROM journal")\n')
    assert sql_in(path) == ["status.py:2: till.db.execute_sql(...)",
                            "status.py:2: 'SELECT MAX(seq) FROM journal'"]
