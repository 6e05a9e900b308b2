"""Run the edge-case catalogue (``tests/edge_cases.py``) against ``gp.partition``.

Every case ends in one of three ways and nothing else: a ``GridpartError``
that names the argument, the rows and a fix; a plan with a ``UserWarning``
and the repair recorded in ``plan.params["repairs"]``; or a valid plan that
loses no household.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from edge_cases import CASES, Case

import gridpart as gp
from gridpart.errors import GridpartError, RepairWarning
from gridpart.testing import assert_valid_plan

BY_NAME = {case.name: case for case in CASES}

# some cases build NaN geometries on purpose
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")


def test_catalogue_is_broad():
    assert len(BY_NAME) == len(CASES), "case names must be unique"
    outcomes = pd.Series([c.expect for c in CASES]).value_counts()
    assert len(CASES) >= 40 and outcomes.get("error", 0) >= 20 and outcomes.get("repair", 0) >= 5
    assert set(outcomes.index) <= {"error", "repair", "ok"}


def _run(case: Case):
    kwargs = case.make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = gp.partition(**kwargs)
        except GridpartError as exc:
            result = exc
    return kwargs, result, [w for w in caught if issubclass(w.category, UserWarning)]


def _check_lossless(plan, households) -> None:
    assert_valid_plan(plan, households)
    assert plan.households.index.equals(households.index)
    total = pd.to_numeric(households["households"]).sum() if "households" in households else len(households)
    assert plan.grids["households"].sum() + plan.unplaced["households"].sum() == pytest.approx(total)
    if len(plan.unplaced):
        assert plan.unplaced["reason"].str.len().gt(0).all()


@pytest.mark.parametrize("name", list(BY_NAME))
def test_case(name):
    case = BY_NAME[name]
    kwargs, result, caught = _run(case)
    if case.expect == "error":
        assert isinstance(result, GridpartError), f"expected a GridpartError, got a plan: {result!r}"
        text = str(result)
        problems = getattr(result, "problems", [])
        assert any(p.argument.startswith(case.argument) for p in problems), \
            f"no problem names {case.argument!r}: {[p.argument for p in problems]}"
        assert "Fix:" in text, f"the message gives no fix: {text}"
        if case.rows:
            assert any(p.rows for p in problems if p.argument.startswith(case.argument)), \
                f"the message names no rows: {text}"
        if case.match:
            assert case.match in text, f"{case.match!r} not in {text!r}"
        return
    assert not isinstance(result, Exception), f"expected a plan, got {type(result).__name__}: {result}"
    plan = result
    households = kwargs["households"]
    if not isinstance(households, gpd.GeoDataFrame):
        households = gpd.read_file(households)
    _check_lossless(plan, households)
    repairs = plan.params["repairs"]
    if case.expect == "repair":
        recorded = [r for r in repairs if r["argument"].startswith(case.argument)]
        assert recorded, f"no repair of {case.argument!r} recorded: {repairs}"
        assert all(r["rows"] for r in recorded), "a repair records no ids"
        assert any(issubclass(w.category, RepairWarning) for w in caught)
        assert any(pd.Series([str(w.message) for w in caught]).str.contains(case.warns)), \
            f"no warning matches {case.warns!r}: {[str(w.message) for w in caught]}"
    else:
        if case.unplaced is not None:
            assert len(plan.unplaced) == case.unplaced
        if case.match:
            said = [str(w.message) for w in caught] + plan.unplaced["reason"].tolist()
            assert any(case.match in s for s in said), f"{case.match!r} not in {said}"


def test_repairs_survive_the_file(tmp_path):
    kwargs, plan, _ = _run(BY_NAME["roads with a zero-length line"])
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    assert back.params["repairs"] == plan.params["repairs"]
    assert back.params["repairs"][0]["rows"] == ["x0"]


def test_repairs_can_be_refused():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RepairWarning)
        with pytest.raises(RepairWarning, match="zero-length"):
            gp.partition(**BY_NAME["roads with a zero-length line"].make())


def test_an_error_lists_every_problem_of_a_hostile_input():
    case = BY_NAME["households negative"]
    kwargs = case.make()
    kwargs.update(target=-1, tolerance=2, seed=-3, coords="mars-2000")
    with pytest.raises(gp.InputError) as info:
        gp.partition(**kwargs)
    arguments = {p.argument for p in info.value.problems}
    assert {"households['households']", "target", "tolerance", "seed", "coords"} <= arguments


def test_gcj_offset_error_names_the_fix():
    kwargs, err, _ = _run(BY_NAME["households in GCJ-02 labelled WGS 84"])
    assert "coords={'households': 'gcj02'}" in str(err)
    # and the fix it names works
    kwargs["coords"] = {"households": "gcj02"}
    plan = gp.partition(**kwargs)
    _check_lossless(plan, kwargs["households"])
    assert len(plan.unplaced) == 0 and plan.params["coords"] == {"households": "gcj02"}


def test_repairs_are_empty_for_clean_input():
    kwargs, plan, caught = _run(BY_NAME["communities"])
    assert plan.params["repairs"] == [] and not [w for w in caught if issubclass(w.category, RepairWarning)]
    assert np.isclose(plan.grids["households"].sum(), 300)
