"""Zero import cycles, at module level and between the sub-packages of every package.

grimp (import-linter's graph library) sees every import, including those inside functions,
so a cycle cannot hide behind a late import. A failure prints each cycle with the lines that
make it.
"""

from __future__ import annotations

import grimp
import pytest

from tests.architecture.codebase import PACKAGES, import_graph, strongly_connected

TOP = "<top level>"  # the parent of our root packages


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return import_graph()


def module_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    return strongly_connected(sorted(graph.modules),
                              lambda m: sorted(graph.find_modules_directly_imported_by(m)))


def package_cycles(graph: grimp.ImportGraph) -> dict[str, list[list[str]]]:
    """For the top level and every package: cycles among its children, where a child stands
    for itself and everything below it."""
    parents = {TOP: set(PACKAGES)}
    parents.update({m: graph.find_children(m) for m in graph.modules if graph.find_children(m)})
    found: dict[str, list[list[str]]] = {}
    for parent, children in sorted(parents.items()):
        def successors(child: str, children: set[str] = children) -> list[str]:
            return [other for other in sorted(children) if other != child
                    and graph.direct_import_exists(importer=child, imported=other,
                                                   as_packages=True)]
        cycles = strongly_connected(sorted(children), successors)
        if cycles:
            found[parent] = cycles
    return found


def _subtree(graph: grimp.ImportGraph, module: str, as_packages: bool) -> set[str]:
    return {module, *graph.find_descendants(module)} if as_packages else {module}


def describe(graph: grimp.ImportGraph, cycle: list[str], as_packages: bool) -> str:
    """The cycle's members, then each import between them with its file line."""
    lines = [" <-> ".join(cycle)]
    for importer in cycle:
        for imported in cycle:
            if importer == imported or not graph.direct_import_exists(
                    importer=importer, imported=imported, as_packages=as_packages):
                continue
            lines.append(f"  {importer} -> {imported}")
            targets = _subtree(graph, imported, as_packages)
            for source in sorted(_subtree(graph, importer, as_packages)):
                for target in sorted(targets & graph.find_modules_directly_imported_by(source)):
                    for detail in graph.get_import_details(importer=source, imported=target):
                        lines.append(f"    {source}:{detail['line_number']}:"
                                     f" {detail['line_contents']}")
    return "\n".join(lines)


def test_no_module_imports_itself_round_a_cycle(graph: grimp.ImportGraph) -> None:
    cycles = module_cycles(graph)
    report = "\n\n".join(describe(graph, c, as_packages=False) for c in cycles)
    assert not cycles, f"{len(cycles)} import cycle(s) between modules:\n\n{report}"


def test_no_cycles_between_packages(graph: grimp.ImportGraph) -> None:
    found = package_cycles(graph)
    report = "\n\n".join(f"in {parent}:\n" + "\n".join(describe(graph, c, as_packages=True)
                                                      for c in cycles)
                         for parent, cycles in found.items())
    count = sum(len(c) for c in found.values())
    assert not found, f"{count} import cycle(s) between sibling packages/modules:\n\n{report}"


def test_the_cycle_finder_finds_a_planted_cycle() -> None:
    """The checks above pass only if they can fail: a small graph with known cycles."""
    graph = grimp.ImportGraph()
    for module in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.sub", "pkg.sub.x", "pkg.d"):
        graph.add_module(module)
    graph.add_import(importer="pkg.a", imported="pkg.b")
    graph.add_import(importer="pkg.b", imported="pkg.c")
    graph.add_import(importer="pkg.c", imported="pkg.a")  # a -> b -> c -> a
    graph.add_import(importer="pkg.sub.x", imported="pkg.d")
    graph.add_import(importer="pkg.d", imported="pkg.sub")  # sub (as a package) <-> d
    assert module_cycles(graph) == [["pkg.a", "pkg.b", "pkg.c"]]
    children = {"pkg": {"pkg.a", "pkg.b", "pkg.c", "pkg.sub", "pkg.d"}}
    found = {}
    for parent, kids in children.items():
        def successors(child: str, kids: set[str] = kids) -> list[str]:
            return [o for o in sorted(kids) if o != child and graph.direct_import_exists(
                importer=child, imported=o, as_packages=True)]
        found[parent] = strongly_connected(sorted(kids), successors)
    assert sorted(found["pkg"]) == [["pkg.a", "pkg.b", "pkg.c"], ["pkg.d", "pkg.sub"]]
