"""Saved reproducers (regressions/*.json) and how a new failure is matched against known defects."""
from __future__ import annotations

import json
import re
from pathlib import Path

from .graphs import describe, run  # noqa: F401 (run is re-exported for __main__)

REGRESSIONS = Path(__file__).parent / "regressions"


def ops_of(graph: dict) -> set[str]:
    ops = {v["op"] for v in graph["values"] if "op" in v}
    if graph.get("loss"):
        ops.add(graph["loss"]["op"])
    return ops


def kind_of(error: BaseException) -> str:
    """The failure's class without its numbers: 'Mismatch: gradient of input: max difference'."""
    text = re.sub(r"[-+]?\d[\d.e+-]*|\(.*?\)|\[.*?\]|array\(.*", "", str(error).splitlines()[0] if str(error) else "")
    return f"{type(error).__name__}: {' '.join(text.split()[:6])}"


def saved() -> list[tuple[Path, dict]]:
    return [(p, json.loads(p.read_text())) for p in sorted(REGRESSIONS.glob("*.json"))]


def known_defects() -> list[dict]:
    """The saved reproducers still marked as open defects (they carry an ``xfail`` reason)."""
    return [g for _, g in saved() if g.get("xfail")]


def is_known(graph: dict, error: BaseException, defects: list[dict]) -> bool:
    """A failure of a graph that uses every op of a known defect's reproducer, failing the same way."""
    kind = kind_of(error)
    return any(d.get("kind") == kind and set(d["ops"]) <= ops_of(graph) for d in defects)


def save(graph: dict, error: BaseException, reason: str | None = None) -> Path:
    """Write a shrunk failure as a regression file (marked xfail until the defect is fixed)."""
    REGRESSIONS.mkdir(exist_ok=True)
    record = {**graph, "ops": sorted(ops_of(graph)), "kind": kind_of(error),
              "xfail": reason or f"open defect found by the fuzzer: {str(error).splitlines()[0][:200]}",
              "description": describe(graph)}
    name = "-".join(sorted(ops_of(graph)))[:60] or "graph"
    path = REGRESSIONS / f"{name}-{graph['dtype']}-o{graph['order']}-{graph['seed'] % 10_000:04d}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def check(graph: dict, defects: list[dict] | None = None) -> None:
    """Run a graph; a failure names the graph (as code and JSON) unless it is a known defect."""
    try:
        run(graph)
    except Exception as e:
        if defects is not None and is_known(graph, e, defects):
            return
        raise AssertionError(f"{type(e).__name__}: {e}\n{describe(graph)}\n{json.dumps(graph)}") from e
