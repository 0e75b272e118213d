"""No module reaches into another module's or another class's private (_underscore) members.

`x._name` is fine when x is `self`, `cls` or `super()`, or when the access sits in the class
that defines `_name` (a classmethod building an instance, `__eq__` reading `other`).
Everything else is a finding: an attribute private to our code read from elsewhere, a
private name imported from another module, or a library's private, unless that library
private is listed in LIBRARY_PRIVATES with the reason it cannot be avoided.
`getattr`/`setattr`/`hasattr` with a literal private name count as the access they spell.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.architecture.codebase import PACKAGES, ROOT, module_name, python_files

# (where, name) -> why. `where` is a module or package prefix of ours where the access is
# allowed. Each is a library's private that the library gives no public way around.
LIBRARY_PRIVATES: dict[tuple[str, str], str] = {
    ("cli", "_SubParsersAction"):
        "argparse: the type add_subparsers() returns; the stdlib has no public name for it",
    ("drivers.printer", "_raw"):
        "python-escpos: the one output primitive of every transport (Escpos._raw), which the"
        " library's docs use for raw commands and drivers/printer/lp.py implements",
    ("drivers.printer", "_read"):
        "python-escpos: the transport's input primitive; the status query has no public one",
    ("drivers.printer", "_device"):
        "python-escpos: False until a transport is opened; there is no public 'opened' flag",
    ("drivers.printer", "_get_codepage_char_map"):
        "python-escpos: the only source of the characters a code page can print",
    ("firmware.db", "_meta"):
        "peewee: Model._meta is peewee's documented metadata API (columns added to old files)",
    ("headoffice", "_meta"):
        "peewee: Model._meta is peewee's documented metadata API (fields, table name)",
    ("headoffice.exports", "_Element"):
        "lxml: etree._Element is lxml's element type, used in annotations",
    ("headoffice.ingest.fast_properties", "_packet"):
        "paho-mqtt: the decoder module patched (guarded, with fallback) for ingest speed",
}
GETTEXT = "_"  # ui.i18n's gettext, by convention; not a private name


def is_private(name: str) -> bool:
    if name == GETTEXT or (name.startswith("__") and name.endswith("__")):
        return False
    return name.startswith("_")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}"


@dataclass
class Definitions:
    """Private names defined in our code: at module level, and per class."""

    anywhere: set[str]
    by_class: dict[tuple[str, str], set[str]]  # (module, class) -> names


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), str(path))


def _class_names(cls: ast.ClassDef) -> set[str]:
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        for target in targets:
            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                    and target.value.id in ("self", "cls")):
                names.add(target.attr)
    return {n for n in names if is_private(n)}


def definitions(paths: list[Path]) -> Definitions:
    anywhere: set[str] = set()
    by_class: dict[tuple[str, str], set[str]] = defaultdict(set)
    for path in paths:
        tree = _parse(path)
        module = module_name(path)
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if is_private(node.name):
                    anywhere.add(node.name)
            elif isinstance(node, ast.Assign):
                anywhere |= {t.id for t in node.targets
                             if isinstance(t, ast.Name) and is_private(t.id)}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = _class_names(node)
                by_class[(module, node.name)] |= names
                anywhere |= names
    return Definitions(anywhere, dict(by_class))


def _allowed_library_private(module: str, name: str) -> bool:
    return any(name == allowed and (module == where or module.startswith(where + "."))
               for where, allowed in LIBRARY_PRIVATES)


class _Visitor(ast.NodeVisitor):
    def __init__(self, path: str, module: str, defs: Definitions) -> None:
        self.path, self.module, self.defs = path, module, defs
        self.classes: list[str] = []
        self.findings: list[Finding] = []

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def _own_class_defines(self, name: str) -> bool:
        return any(name in self.defs.by_class.get((self.module, cls), set())
                   for cls in self.classes)

    def _check(self, node: ast.AST, owner: ast.expr, name: str, text: str) -> None:
        if not is_private(name):
            return
        if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
            return
        if (isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name)
                and owner.func.id == "super"):
            return
        if _allowed_library_private(self.module, name):
            return
        if name in self.defs.anywhere and self._own_class_defines(name):
            return
        self.findings.append(Finding(self.path, node.lineno, text))  # type: ignore[attr-defined]

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self._check(node, node.value, node.attr, ast.unparse(node))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Name) and func.id in ("getattr", "setattr", "hasattr")
                and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)):
            self._check(node, node.args[0], node.args[1].value, ast.unparse(node))
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        source = "." * node.level + (node.module or "")
        for alias in node.names:
            if is_private(alias.name) and not _allowed_library_private(self.module, alias.name):
                self.findings.append(Finding(self.path, node.lineno,
                                             f"from {source} import {alias.name}"))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            parts = alias.name.split(".")
            private = [p for p in parts if is_private(p)]
            if private and not any(_allowed_library_private(self.module, p) for p in private):
                self.findings.append(Finding(self.path, node.lineno, f"import {alias.name}"))


def find_private_access(paths: list[Path]) -> list[Finding]:
    defs = definitions(paths)
    findings: list[Finding] = []
    for path in paths:
        visitor = _Visitor(str(path.relative_to(ROOT)), module_name(path), defs)
        visitor.visit(_parse(path))
        findings += visitor.findings
    return sorted(findings, key=lambda f: (f.path, f.line, f.text))


def test_no_module_touches_another_modules_private_members() -> None:
    findings = find_private_access(list(python_files()))
    report = "\n".join(str(f) for f in findings)
    assert not findings, f"{len(findings)} access(es) to another module's private member:\n{report}"


def test_every_listed_library_private_is_still_used() -> None:
    """An exception nobody needs any more is removed, so the list stays honest."""
    used: set[tuple[str, str]] = set()
    for path in python_files():
        module = module_name(path)
        for node in ast.walk(_parse(path)):
            names: list[str] = []
            if isinstance(node, ast.Attribute):
                names = [node.attr]
            elif isinstance(node, ast.ImportFrom | ast.Import):
                names = [part for alias in node.names for part in alias.name.split(".")]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names = [node.value]
            for where, name in LIBRARY_PRIVATES:
                if name in names and (module == where or module.startswith(where + ".")):
                    used.add((where, name))
    assert set(LIBRARY_PRIVATES) - used == set()
    assert all(where.split(".")[0] in PACKAGES for where, _ in LIBRARY_PRIVATES)


def test_the_check_finds_planted_private_calls(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The check only counts if it can fail: a small package with every kind of finding."""
    pkg = tmp_path / "firmware"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "till.py").write_text(
        "class Till:\n"
        "    def __init__(self):\n"
        "        self._lock = None\n"
        "    def _commit(self):\n"
        "        return self._lock\n"
        "    @classmethod\n"
        "    def make(cls):\n"
        "        till = cls()\n"
        "        till._commit()\n"  # same class: fine
        "        return till\n"
        "def _helper():\n"
        "    return 1\n"
    )
    (pkg / "stock.py").write_text(
        "import sys\n"
        "from firmware.till import _helper\n"  # finding 1
        "def book(till):\n"
        "    till._commit()\n"  # finding 2
        "    getattr(till, '_lock')\n"  # finding 3
        "    sys._getframe()\n"  # finding 4: a library private nobody listed
        "    return super().__init__, _helper\n"
    )
    monkeypatch.setattr("tests.architecture.test_private_access.ROOT", tmp_path)
    monkeypatch.setattr("tests.architecture.codebase.ROOT", tmp_path)
    paths = sorted(pkg.glob("*.py"))
    assert definitions(paths).by_class[("firmware.till", "Till")] == {"_lock", "_commit"}
    found = [(f.path, f.line, f.text) for f in find_private_access(paths)]
    assert found == [
        ("firmware/stock.py", 2, "from firmware.till import _helper"),
        ("firmware/stock.py", 4, "till._commit"),
        ("firmware/stock.py", 5, "getattr(till, '_lock')"),
        ("firmware/stock.py", 6, "sys._getframe"),
    ]
