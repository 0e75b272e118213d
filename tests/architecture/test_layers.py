"""The layering contracts (pyproject.toml, [tool.importlinter]) hold, and they bite.

Each planted case copies our packages and pyproject.toml into a temporary directory, adds
one module that breaks one rule, runs `lint-imports` there, and expects that contract to be
reported broken because of the planted module. The last test runs the checker on the real
tree, as scripts/test does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.architecture.codebase import PACKAGES, ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
CONTRACTS = {c["id"]: c["name"] for c in tomllib.loads(
    (ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]}

# (files to plant: path -> source, contracts that must then be broken by them)
PLANTED: dict[str, tuple[dict[str, str], set[str]]] = {
    "contract imports the till": (
        {"contract/planted.py": "import firmware\n"}, {"contract-bottom", "till-layers"}),
    "contract imports peewee": (
        {"contract/planted.py": "import peewee\n"}, {"contract-bottom"}),
    "contract imports paho": (
        {"contract/planted.py": "import paho.mqtt.client\n"}, {"contract-bottom"}),
    "firmware imports kivy": (
        {"firmware/planted.py": "import kivy\n"}, {"firmware-core"}),
    "firmware imports a driver": (
        {"firmware/planted.py": "import drivers\n"}, {"firmware-core"}),
    "firmware imports the UI": (
        {"firmware/planted.py": "import ui\n"}, {"firmware-core", "till-layers"}),
    "firmware outside its uplink imports paho": (
        {"firmware/planted.py": "import paho.mqtt.client\n"}, {"firmware-paho"}),
    "the till core reaches the uplink's MQTT client": (
        {"firmware/planted.py": "def start():\n    from firmware.uplink import client\n"},
        {"firmware-paho"}),
    "a driver imports the contract": (
        {"drivers/planted.py": "import contract\n"}, {"drivers-alone"}),
    "head office imports the till": (
        {"headoffice/planted.py": "import firmware\n"}, {"headoffice-contract-only"}),
    "provisioning imports head office": (
        {"provisioning/planted.py": "import headoffice\n"},
        {"provisioning-contract-only", "office-fleet-layers"}),
    "the updater imports head office": (
        {"updater/planted.py": "import headoffice\n"}, {"updater-terminal-side"}),
    "the UI imports a driver": (
        {"ui/planted.py": "import drivers\n"}, {"ui-through-till"}),
    "the UI imports sqlite3": (
        {"ui/planted.py": "import sqlite3\n"}, {"ui-no-sql"}),
    "the UI imports paho": (
        {"ui/planted.py": "import paho.mqtt.client\n"}, {"ui-through-till"}),
    "two modules import each other": (
        {"contract/planted_a.py": "from contract import planted_b\n",
         "contract/planted_b.py": "def f():\n    from contract import planted_a\n"},
        {"no-cycles"}),
}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1"}  # one line per contract name
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def broken_section(output: str, name: str) -> str:
    """The report of one broken contract: from its underlined name to the next one."""
    header = f"\n{name}\n{'-' * len(name)}\n"
    start = output.find(header)
    if start < 0:
        return ""
    rest = output[start + len(header):]
    ends = [rest.find(f"\n{other}\n{'-' * len(other)}\n") for other in CONTRACTS.values()]
    ends = [e for e in ends if e >= 0]
    return rest[:min(ends)] if ends else rest


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("tree")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_the_contracts_are_the_ones_this_test_plants_against() -> None:
    planted = set().union(*(ids for _, ids in PLANTED.values()))
    assert planted == set(CONTRACTS), "every contract has a planted violation, and no other"


@pytest.mark.parametrize("case", list(PLANTED))
def test_a_planted_violation_breaks_its_contract(case: str, pristine: Path,
                                                 tmp_path: Path) -> None:
    files, expected = PLANTED[case]
    tree = tmp_path / "tree"
    shutil.copytree(pristine, tree)
    for path, source in files.items():
        (tree / path).write_text(source)
    result = lint_imports(tree)
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    for contract_id in expected:
        name = CONTRACTS[contract_id]
        assert f"{name} BROKEN" in output, f"{contract_id} not broken:\n{output}"
        section = broken_section(output, name)
        assert "planted" in section, f"{contract_id} broken, but not by the plant:\n{output}"


def test_the_real_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
