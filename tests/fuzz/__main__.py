"""``python -m tests.fuzz --examples 100000``: the long differential run; new defects are saved shrunk."""
from __future__ import annotations

import argparse
import sys
import time

from hypothesis import HealthCheck, Phase, given, settings

from .graphs import graphs
from .known import is_known, kind_of, known_defects, save
from .known import run as run_graph


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=10_000, help="graphs to try (default 10000)")
    parser.add_argument("--max-ops", type=int, default=6, help="ops per graph (default 6)")
    parser.add_argument("--no-save", action="store_true", help="report new defects without saving reproducers")
    args = parser.parse_args(argv)
    defects = known_defects()
    state = {"tried": 0, "known": 0, "failing": None}
    found = []
    t0 = time.perf_counter()
    while state["tried"] < args.examples:
        budget = args.examples - state["tried"]

        @settings(max_examples=budget, deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate, Phase.shrink])
        @given(graphs(max_ops=args.max_ops))
        def prop(graph):
            state["tried"] += 1
            if state["tried"] % 1000 == 0:
                print(f"{state['tried']} graphs tried, {len(found)} new defect(s), {time.perf_counter() - t0:.0f} s",
                      flush=True)
            try:
                run_graph(graph)
            except Exception as e:
                if is_known(graph, e, defects):
                    state["known"] += 1
                    return
                state["failing"] = (graph, e)
                raise

        state["failing"] = None
        try:
            prop()
        except Exception:  # hypothesis re-raises the shrunk failure; the last failing call holds its graph
            if state["failing"] is None:
                raise
            graph, error = state["failing"]
            record = {**graph, "ops": sorted({v["op"] for v in graph["values"] if "op" in v}), "kind": kind_of(error)}
            defects.append(record)
            where = "(not saved)" if args.no_save else save(graph, error)
            found.append((kind_of(error), where))
            print(f"new defect {len(found)}: {kind_of(error)} -> {where}", flush=True)
        else:
            break
    print(f"{state['tried']} graphs tried in {time.perf_counter() - t0:.0f} s; {len(found)} new defect(s); "
          f"{state['known']} graphs hit known defects")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
