"""Shared pytest setup: a small, repeatable hypothesis profile (the suite must stay fast on 2 cores)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "chainrule",
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("thorough", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))


@pytest.fixture(autouse=True)
def _grad_mode_reset():
    """A test that fails inside no_grad must not leave recording off for the next one."""
    import chainrule as cr

    yield
    cr.set_grad_enabled(True).__enter__()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
