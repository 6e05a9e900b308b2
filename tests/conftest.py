"""Shared test configuration: hypothesis profiles and the shared data folder.

Profiles (pick one with ``HYPOTHESIS_PROFILE``; default ``ci``):

* ``ci``: few examples, derandomized (every run tries the same examples, so a
  failure is reproducible and the suite's time is stable), no deadline (the
  first example pays for imports and CP-SAT start-up), no example database.
* ``dev``: more examples, random, with the local example database, for
  hunting bugs: ``HYPOTHESIS_PROFILE=dev python -m pytest tests``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    max_examples=60,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (``../shared/data`` next to the checkout); skips when missing."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def sample_plan():
    """The packaged sample partitioned with default options, once per session.

    Tests must not change it (edits return new plans; tests of that rule check it)."""
    import warnings

    import gridpart as gp

    s = gp.datasets.load_sample()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return gp.partition(s.roads, s.households, study_area=s.study_area)
