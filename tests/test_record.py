"""Tests for the run record (gridpart.record), the read-only plan.params view, and the
status / reason enums of gridpart.model.result."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyogrio
import pytest

import gridpart as gp
from gridpart.errors import CRSError, InputError, Problems
from gridpart.model.result import (
    CP_STATUS,
    SOLVED,
    ForcedReason,
    Note,
    NoteKind,
    Status,
    SubResult,
    UnplacedReason,
)
from gridpart.pipeline.repartition import _persons_band_of
from gridpart.record import ParamsView, RepartitionRecord, RunRecord

LEGACY = Path(__file__).parent / "data" / "plan-0.1.0.gpkg"


@pytest.fixture(scope="module")
def sample_plan():
    s = gp.datasets.load_sample()
    return gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", seed=3,
                        target=gp.Target(300, persons=800, tolerance=0.25))


# --------------------------------------------------------------------------- record


def test_the_record_is_typed(sample_plan):
    r = sample_plan.record
    assert isinstance(r, RunRecord)
    assert r.target == gp.Target(300, persons=800, tolerance=0.25)
    assert r.band == (225.0, 375.0) and r.persons_band == (600.0, 1000.0, False)
    assert r.seed == 3 and r.strategy == "seed" and r.version == gp.__version__
    assert r.work_crs == "EPSG:32650" and r.repairs == () and r.repartition is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.seed = 4  # type: ignore[misc]


def test_params_is_a_read_only_view_of_the_record(sample_plan):
    params = sample_plan.params
    assert isinstance(params, ParamsView)
    assert params["seed"] == 3 and params["band"] == [225.0, 375.0] and params["repairs"] == []
    assert params["target"] == {"households": 300, "persons": 800, "tolerance": 0.25, "persons_hard": False}
    assert "1" in params["community_codes"]
    with pytest.raises(TypeError):
        params["seed"] = 4
    with pytest.raises(TypeError):
        params.update(seed=4)
    with pytest.raises(TypeError):
        del params["seed"]
    with pytest.raises(TypeError):
        params.setdefault("attribution", "x")
    # a nested value handed out is a copy: changing it does not change the record
    params["community_codes"]["1"]["code"] = "x"
    assert sample_plan.params["community_codes"]["1"]["code"] != "x"
    assert sample_plan.record.seed == 3
    # the documented keys keep their JSON shape
    assert json.loads(json.dumps(dict(params))) == dict(params)


def test_a_new_record_is_built_with_replace(sample_plan):
    plan = dataclasses.replace(sample_plan, record=dataclasses.replace(sample_plan.record, attribution="© x"))
    assert plan.params["attribution"] == "© x" and "attribution" not in sample_plan.params
    # replace() on other fields keeps the record
    again = dataclasses.replace(plan, grids=plan.grids.copy())
    assert again.record is plan.record
    # params= (a dict) still builds a plan, read as a record
    from_dict = dataclasses.replace(plan, params={"band": [1.0, 2.0], "seed": 9})
    assert from_dict.record.band == (1.0, 2.0) and from_dict.record.seed == 9


def test_record_round_trip_through_the_file(sample_plan, tmp_path):
    plan = dataclasses.replace(sample_plan, record=dataclasses.replace(
        sample_plan.record, attribution="© OpenStreetMap contributors", retired_codes=("000000000009",),
        repartition=RepartitionRecord(rebalance=True, locked=(2, 5), old_band=(240.0, 360.0),
                                      old_persons_band=(None, None, False), old_grids=7, window_time=2.0,
                                      max_rings=3),
        persons_out_of_band=1, extra={"from_a_later_version": [1, 2]}))
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    assert back.record == plan.record
    assert back.params == plan.params
    assert back.params["old_persons_band"] == [None, None, False] and back.params["locked"] == [2, 5]
    assert back.record.target == gp.Target(300, persons=800, tolerance=0.25)
    # the file holds one JSON object, the target a dict (not a repr)
    meta = pyogrio.read_dataframe(path, layer="metadata", read_geometry=False).set_index("key")
    stored = json.loads(meta.loc["params", "value"])
    assert stored == dict(plan.params) and isinstance(stored["target"], dict)


def test_a_fresh_partition_has_no_repartition_keys(sample_plan):
    for key in ("rebalance", "old_band", "persons_out_of_band", "retired_codes", "recodes", "attribution"):
        assert key not in sample_plan.params


def test_a_plan_written_by_gridpart_010_reads(tmp_path):
    """tests/data/plan-0.1.0.gpkg: the packaged sample written by gridpart 0.1.0 (commit
    15f0df6), with Target(300, persons=800, tolerance=0.25), strategy="seed", seed=3."""
    old = gp.read_plan(LEGACY)
    meta = pyogrio.read_dataframe(LEGACY, layer="metadata", read_geometry=False).set_index("key")
    raw = json.loads(meta.loc["params", "value"])
    assert raw["version"] == "0.1.0"
    assert raw["target"] == "Target(households=300, persons=800, tolerance=0.25, persons_hard=False)"
    r = old.record
    assert r.version == "0.1.0" and r.seed == 3 and r.strategy == "seed"
    assert r.target == gp.Target(300, persons=800, tolerance=0.25)
    assert r.band == (225.0, 375.0) and r.persons_band == (600.0, 1000.0, False)
    assert r.work_crs == "EPSG:32650" and r.extra == {}
    # every key of the old file is still there, the target now as a dict
    assert set(raw) <= set(old.params)
    assert {k: v for k, v in raw.items() if k != "target"} == {k: old.params[k] for k in raw if k != "target"}
    assert _persons_band_of(r) == (600.0, 1000.0, False)
    # and it writes back in today's form
    old.to_file(tmp_path / "again.gpkg")
    assert gp.read_plan(tmp_path / "again.gpkg").record == r


def test_a_legacy_target_is_read_without_evaluating_it():
    assert RunRecord.from_dict({"target": "Target(households=(300, 500), persons=None, tolerance=0.1, "
                                          "persons_hard=False)"}).target == gp.Target((300, 500), tolerance=0.1)
    for text in ("__import__('os').system('true')", "Target(households=exit())", "Target(foo=1)", "Target(300)"):
        assert RunRecord.from_dict({"target": text}).target is None


def test_read_record_of_other_files(tmp_path):
    from gridpart.outputs.io import read_record

    assert read_record(tmp_path / "missing.gpkg") is None
    assert read_record(LEGACY).version == "0.1.0"


# --------------------------------------------------------------------------- enums


def test_statuses_are_the_enum(sample_plan):
    assert all(isinstance(s, Status) for s in sample_plan.status["status"])
    assert set(CP_STATUS.values()) == set(Status)
    assert SOLVED == {Status.OPTIMAL, Status.FEASIBLE}
    # a strategy may still hand over the text
    res = SubResult(np.zeros(3, np.int64), "OPTIMAL", "test", 0.0, 0.0, 0.0, 0, 0)
    assert res.status is Status.OPTIMAL and res.status == "OPTIMAL"
    # the column holds the same text as before, in files too
    assert sample_plan.status["status"].astype(str).isin([s.value for s in Status]).all()


def test_reasons_are_enums_with_the_old_texts():
    from gridpart.model.parcels import COMPOUND_REASON, DEDICATED_REASON

    assert DEDICATED_REASON is ForcedReason.DEDICATED and COMPOUND_REASON is ForcedReason.COMPOUND
    assert ForcedReason.INDIVISIBLE == "holds one indivisible place above the band"
    assert UnplacedReason.NOT_ATTACHED == "not attached to any atom"


def test_notes_carry_their_kind_through_pickle():
    import pickle

    note = Note("kept-apart compound parcel 3: dedicated grid(s)", NoteKind.DEDICATED_COMPOUND)
    back = pickle.loads(pickle.dumps(note))
    assert back == note and back.kind is NoteKind.DEDICATED_COMPOUND


def test_dedicated_grids_get_their_reason_from_the_note_kind():
    s = gp.datasets.load_sample()
    plan = gp.partition(s.roads, s.households, study_area=s.study_area, parcels=s.parcels, strategy="seed",
                        units="own", compounds="own")
    reasons = set(plan.grids["forced_reason"])
    assert ForcedReason.DEDICATED in reasons and ForcedReason.COMPOUND in reasons


def test_crs_problems_are_marked_not_found_in_text():
    p = Problems()
    p.add("stations", "has no CRS", crs=True)
    with pytest.raises(CRSError):
        p.raise_if_any()
    p = Problems()
    p.add("roads.crs", "has none")
    with pytest.raises(CRSError):
        p.raise_if_any()
    p = Problems()
    p.add("households", "mentions a CRS in passing")
    with pytest.raises(InputError) as err:
        p.raise_if_any()
    assert not isinstance(err.value, CRSError)
