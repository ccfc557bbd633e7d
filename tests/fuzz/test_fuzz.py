"""The bounded differential fuzz run of the normal test suite (a long run: ``python -m tests.fuzz``)."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from .graphs import graphs
from .known import check, known_defects, saved

DEFECTS = known_defects()


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(graphs())
def test_random_graphs_agree_with_torch(graph):
    check(graph, DEFECTS)


@pytest.mark.parametrize("path, graph", saved(), ids=[p.stem for p, _ in saved()])
def test_saved_reproducer(path, graph, request):
    """Every shrunk failure ever found; open defects are strict xfails (they fail once fixed: drop the mark)."""
    if graph.get("xfail"):
        request.applymarker(pytest.mark.xfail(strict=True, reason=graph["xfail"]))
    check(graph)
