"""Head office's structure: it imports nothing of the till, has no import cycles (module or
package level), builds MQTT clients in one place and creates tables in one place."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import grimp

from headoffice import schema
from headoffice.db import database_proxy
from headoffice.orm import OfficeModel

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "headoffice"


def _sources() -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text() for p in PACKAGE.rglob("*.py")}


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("headoffice", "firmware", "cli", "provisioning", cache_dir=None)


def _cycles(edges: dict[str, set[str]]) -> list[tuple[str, str]]:
    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen
    return sorted((a, b) for a in edges for b in reach(a) if a < b and a in reach(b))


def test_head_office_imports_nothing_of_the_till_or_the_command_line():
    graph = _graph()
    for other in ("firmware", "cli", "provisioning"):
        chains = graph.find_shortest_chains(importer="headoffice", imported=other)
        assert not chains, f"headoffice imports {other}: {sorted(chains)[:3]}"


def test_no_import_cycles_between_modules_or_packages():
    graph = _graph()
    modules = {m for m in graph.modules if m.startswith("headoffice")}
    module_edges = {m: {i for i in graph.find_modules_directly_imported_by(m) if i in modules}
                    for m in modules}
    assert _cycles(module_edges) == []

    def package(module: str) -> str:  # headoffice.X: a subpackage or a top-level module
        return ".".join(module.split(".")[:2])
    package_edges: dict[str, set[str]] = {}
    for module, imported in module_edges.items():
        for other in imported:
            if package(other) != package(module):
                package_edges.setdefault(package(module), set()).add(package(other))
    assert _cycles(package_edges) == []


def test_one_place_builds_mqtt_clients_and_one_creates_tables():
    sources = _sources()
    assert [p for p, text in sources.items() if "mqtt.Client(" in text] == ["headoffice/broker.py"]
    assert [p for p, text in sources.items() if "tls_set(" in text] == ["headoffice/broker.py"]
    assert [p for p, text in sources.items()
            if re.search(r"\.create_tables?\(", text)] == ["headoffice/schema.py"]


def _subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _subclasses(sub)
    return found


def test_every_table_is_in_the_schema_and_exists_once_the_database_is_open(office_db_url):
    for info in pkgutil.walk_packages([str(PACKAGE)], "headoffice."):
        importlib.import_module(info.name)  # every table class head office defines
    assert _subclasses(OfficeModel) == set(schema.TABLES)
    db = database_proxy.obj
    for model in schema.TABLES:
        assert db.table_exists(model._meta.table_name), model.__name__
