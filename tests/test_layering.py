"""Data flows one way: no stage package imports a later stage, and shared modules import no stage.

Read from the source with ``ast`` (imports inside functions count too), so the check needs no import
of the package and holds for code paths the other tests never reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "vid2skill"

# The stage packages in data-flow order (dataset: the episodes policies learn from, built from demos).
STAGES = ["ingest", "extract", "skills", "retarget", "dataset", "policy", "sim"]
# Read every stage's output; no stage imports them.
CONSUMERS = {"report", "export"}
# The command line and the stage runner: they drive everything.
DRIVERS = {"cli", "pipeline"}

# Known exceptions, each a (package, package it imports) pair with its reason. Remove a pair when the
# import goes; the test fails on any new one, and on a listed one that is gone.
# (None now: sim/evaluate.py and skills/show.py once imported report/stats.py, now the shared stats.py.)
KNOWN: set[tuple[str, str]] = set()


def _unit(module: str) -> str | None:
    """The package or top-level module of ``vid2skill`` that ``module`` names (None: not ours)."""
    parts = module.split(".")
    return parts[1] if parts[0] == "vid2skill" and len(parts) > 1 else None


def imports_by_unit() -> dict[str, set[str]]:
    """Per unit of vid2skill (a subpackage or a top-level module), the other units it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).with_suffix("")
        unit = rel.parts[0]
        package = ["vid2skill", *rel.parts[:-1]]  # the file's package (an __init__'s own)
        mine = found.setdefault(unit, set())
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the file's own package up
                    base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
                # `from vid2skill import x` imports the unit x
                names = [f"{base}.{a.name}" for a in node.names] if base == "vid2skill" else [base]
            else:
                continue
            mine |= {u for u in map(_unit, names) if u is not None and u != unit}
    return found


def violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    later = {s: set(STAGES[i + 1 :]) for i, s in enumerate(STAGES)}
    bad = set()
    for unit, deps in graph.items():
        if unit in DRIVERS:
            continue
        if unit in CONSUMERS:
            forbidden = DRIVERS
        elif unit in STAGES:
            forbidden = later[unit] | CONSUMERS | DRIVERS
        else:  # shared: geometry, artifacts, stats, errors, parallel, registry, workspace, scenes, physics
            forbidden = set(STAGES) | CONSUMERS | DRIVERS
        bad |= {(unit, d) for d in deps & forbidden}
    return bad


def test_the_walk_sees_the_imports_it_should():
    graph = imports_by_unit()
    assert set(STAGES) | CONSUMERS | DRIVERS <= set(graph)
    assert {"ingest", "extract", "skills", "retarget", "policy", "sim", "export", "workspace"} <= graph[
        "pipeline"
    ]
    assert "retarget" in graph["policy"] and "registry" in graph["scenes"]
    # the success-rate helpers are shared (stats.py), not report's: sim and skills use them
    assert "stats" in graph["sim"] and "stats" in graph["skills"] and "stats" in graph["report"]
    assert not graph["stats"] & (set(STAGES) | CONSUMERS | DRIVERS)
    # a stage importing a later one is caught (here made up)
    assert violations({"extract": {"skills"}, "workspace": {"ingest"}, "pipeline": {"sim"}}) == {
        ("extract", "skills"),
        ("workspace", "ingest"),
    }


def test_no_stage_imports_a_later_stage_and_shared_modules_import_no_stage():
    found = violations(imports_by_unit())
    assert found - KNOWN == set(), f"imports against the data flow: {sorted(found - KNOWN)}"
    assert KNOWN - found == set(), f"fixed, remove from KNOWN: {sorted(KNOWN - found)}"
