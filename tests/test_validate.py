"""plan.validate(): one row per finding; every check of CHECKS on a hand-built case whose answer is known."""

from __future__ import annotations

import dataclasses
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from strategies import cities, study_box

import gridpart as gp
from gridpart.outputs.validate import (
    BAND,
    CHECKS,
    COMPOUND_SPLIT,
    DUPLICATE_CODE,
    EMPTY,
    ENCLAVE,
    FINDING_COLUMNS,
    HOUSEHOLDS_LOST,
    HOUSEHOLDS_TWICE,
    OUTSIDE_COMMUNITY,
    PIECES,
    UNIT_MIXED,
    validate,
)

CRS = "EPSG:32650"


@pytest.fixture(scope="module")
def plan(sample_plan):
    return sample_plan


def _checks(findings) -> set:
    return set(findings["check"])


def _neighbours(plan) -> pd.DataFrame:
    """Pairs of atoms that touch, with their grids."""
    g = plan.blocks.set_index("atom_id")["grid_id"]
    e = plan.edges[["a", "b"]].copy()
    e["ga"], e["gb"] = g.reindex(e["a"]).to_numpy(), g.reindex(e["b"]).to_numpy()
    return e


def test_the_checks_table_names_every_check_once_with_a_severity():
    assert set(CHECKS) == {PIECES, OUTSIDE_COMMUNITY, HOUSEHOLDS_LOST, HOUSEHOLDS_TWICE, DUPLICATE_CODE, EMPTY,
                           BAND, ENCLAVE, COMPOUND_SPLIT, UNIT_MIXED}
    assert {sev for sev, _ in CHECKS.values()} == {"error", "warning"}


def test_the_readme_lists_every_check():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for check, (severity, _) in CHECKS.items():
        assert f"| `{check}` | {severity} |" in text


def test_a_fresh_plan_has_no_errors_and_the_table_has_its_columns(plan):
    f = plan.validate()
    assert isinstance(f, gpd.GeoDataFrame)
    assert tuple(f.columns) == FINDING_COLUMNS
    assert f.crs == plan.crs
    assert not (f["severity"] == "error").any()
    assert f["message"].str.len().gt(20).all()


def test_the_sample_has_its_enclave_and_band_warnings_with_the_grid_and_code(plan):
    f = plan.validate()
    enclave = f[f["check"] == ENCLAVE]
    assert len(enclave) >= 1
    row = enclave.iloc[0]
    assert row["code"] == plan.grids.set_index("grid_id").loc[row["grid_id"], "code"]
    assert not row.geometry.is_empty
    forced = set(plan.grids.loc[plan.grids["forced"], "grid_id"])
    assert not forced & set(f.loc[f["check"] == BAND, "grid_id"])


def test_a_grid_in_two_pieces_is_an_error_naming_the_stray_atoms(plan):
    e = _neighbours(plan)
    grid_of = plan.blocks.set_index("atom_id")["grid_id"]
    # an atom moved into a grid it does not touch
    for a, g in grid_of.items():
        near = set(e.loc[e["a"] == a, "gb"]) | set(e.loc[e["b"] == a, "ga"])
        far = [x for x in plan.grids["grid_id"] if x not in near and x != g]
        if far:
            break
    moved = plan.move(atoms=[a], to=far[0])
    f = moved.validate()
    pieces = f[(f["check"] == PIECES) & (f["grid_id"] == far[0])]
    assert len(pieces) == 1 and pieces.iloc[0]["severity"] == "error"
    stray = set(pieces.iloc[0]["atom_ids"])
    assert stray and stray < set(moved.blocks.loc[moved.blocks["grid_id"] == far[0], "atom_id"])
    assert stray == {a} or a not in stray  # the piece with fewer households is named


def test_an_atom_of_another_community_is_an_error(plan):
    atoms = plan.blocks.copy()
    atoms["community_id"] = atoms["community_id"].astype(object)
    atoms.loc[atoms.index[0], "community_id"] = "other"
    f = validate(dataclasses.replace(plan, blocks=atoms))
    row = f[f["check"] == OUTSIDE_COMMUNITY]
    assert len(row) == 1 and int(atoms["atom_id"].iloc[0]) in row.iloc[0]["atom_ids"]


def test_households_lost_or_listed_twice_are_errors(plan):
    hh = plan.households.copy()
    hh["grid_id"] = hh["grid_id"].astype("Int64")
    hh.loc[hh.index[0], "grid_id"] = pd.NA
    f = validate(dataclasses.replace(plan, households=hh))
    assert HOUSEHOLDS_LOST in _checks(f)
    hh = plan.households.copy()
    other = int(plan.grids["grid_id"][plan.grids["grid_id"] != hh["grid_id"].iloc[1]].iloc[0])
    hh.loc[hh.index[1], "grid_id"] = other
    assert HOUSEHOLDS_LOST in _checks(validate(dataclasses.replace(plan, households=hh)))
    twice = pd.concat([plan.households, plan.households.iloc[:2]])
    f = validate(dataclasses.replace(plan, households=twice))
    assert HOUSEHOLDS_TWICE in _checks(f) and HOUSEHOLDS_LOST not in _checks(f)


def test_a_duplicate_code_is_an_error_on_both_grids(plan):
    grids = plan.grids.copy()
    grids.loc[grids.index[1], "code"] = grids["code"].iloc[0]
    f = validate(dataclasses.replace(plan, grids=grids))
    assert sorted(f.loc[f["check"] == DUPLICATE_CODE, "grid_id"]) == sorted(grids["grid_id"].iloc[:2])


def test_an_emptied_grid_is_a_warning_and_keeps_its_code(plan):
    g = int(plan.grids["grid_id"].iloc[5])
    atoms = plan.blocks.loc[plan.blocks["grid_id"] == g, "atom_id"].tolist()
    e = _neighbours(plan)
    to = int(e.loc[e["ga"].eq(g) & e["gb"].ne(g), "gb"].iloc[0])
    moved = plan.move(atoms=atoms, to=to)
    row = moved.grids.set_index("grid_id").loc[g]
    assert row["households"] == 0 and row["code"] == plan.grids.set_index("grid_id").loc[g, "code"]
    f = moved.validate()
    assert g in set(f.loc[f["check"] == EMPTY, "grid_id"])
    assert not (f["severity"] == "error").any() or set(f.loc[f["severity"] == "error", "check"]) <= {PIECES}


def test_a_grid_pushed_out_of_the_band_is_a_warning_with_the_reason(plan):
    f = plan.move(atoms=[int(plan.blocks["atom_id"].iloc[0])], to="new").validate()
    band = f[f["check"] == BAND]
    new_id = int(plan.grids["grid_id"].max()) + 1
    assert new_id in set(band["grid_id"])
    assert "below the band" in band.set_index("grid_id").loc[new_id, "message"]


def test_a_forced_grid_out_of_the_band_gives_no_band_warning(plan):
    grids = plan.grids.copy()
    grids["forced"] = True
    assert BAND not in _checks(validate(dataclasses.replace(plan, grids=grids)))


def _with_parcels(plan, atom_ids, kind, pid=900):
    atoms = plan.blocks.copy()
    hit = atoms["atom_id"].isin(atom_ids)
    atoms["parcel_kind"] = atoms["parcel_kind"].astype(object)
    atoms.loc[hit, "parcel_kind"] = kind
    atoms.loc[hit, "parcel_id"] = pid
    atoms["parcel_name"] = atoms["parcel_name"].astype(object)
    atoms.loc[hit, "parcel_name"] = "清华园小区" if kind == "compound" else "某研究所"
    return dataclasses.replace(plan, blocks=atoms)


def test_a_compound_that_fits_one_grid_split_over_two_is_a_warning(plan):
    e = _neighbours(plan)
    hh = plan.blocks.set_index("atom_id")["households"]
    pair = e[(e["ga"] != e["gb"]) & (hh.reindex(e["a"]).to_numpy() > 0) & (hh.reindex(e["b"]).to_numpy() > 0)].iloc[0]
    total = float(hh[pair["a"]] + hh[pair["b"]])
    edited = _with_parcels(plan, [pair["a"], pair["b"]], "compound")
    # a band the compound's households fit in one grid
    edited = dataclasses.replace(edited, record=dataclasses.replace(plan.record, band=(total - 1, total + 1)))
    f = validate(edited)
    row = f[f["check"] == COMPOUND_SPLIT]
    assert len(row) == 1 and set(row.iloc[0]["atom_ids"]) == {pair["a"], pair["b"]}
    assert "清华园小区" in row.iloc[0]["message"]
    together = edited.move(atoms=[pair["a"]], to=int(pair["gb"]))
    assert COMPOUND_SPLIT not in _checks(validate(together))


def test_a_unit_sharing_a_grid_with_open_atoms_is_a_warning_under_units_own(plan):
    counts = plan.blocks[plan.blocks["households"] > 0].groupby("grid_id")["atom_id"].agg(list)
    atoms = counts[counts.map(len) >= 2].iloc[0]
    edited = _with_parcels(plan, [atoms[0]], "unit")
    f = validate(edited)
    assert UNIT_MIXED in _checks(f)
    record = dataclasses.replace(plan.record, units="merge")
    assert UNIT_MIXED not in _checks(validate(dataclasses.replace(edited, record=record)))


@settings(max_examples=8)
@given(city=cities(max_cells=3))
def test_a_fresh_plan_of_a_random_city_has_no_errors(city):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = gp.partition(city.roads, city.households, communities=city.communities, target=city.target,
                         strategy="seed", time_limit=2.0,
                         **({} if city.communities is not None else
                            {"study_area": gpd.GeoSeries([study_box(city.roads.to_crs(CRS))], crs=CRS)}))
    f = validate(p)
    assert not (f["severity"] == "error").any(), f[["check", "message"]].to_string()
    assert np.isin(f["check"], list(CHECKS)).all()


def test_a_dedicated_grid_inside_another_is_no_enclave(plan):
    f = plan.validate()
    grid = int(f.loc[f["check"] == ENCLAVE, "grid_id"].iloc[0])
    atoms = plan.blocks.loc[plan.blocks["grid_id"] == grid, "atom_id"].tolist()
    total = float(plan.blocks.loc[plan.blocks["grid_id"] == grid, "households"].sum())
    unit = _with_parcels(plan, atoms, "unit")
    assert grid not in set(validate(unit).query("check == @ENCLAVE")["grid_id"])
    compound = _with_parcels(plan, atoms, "compound")
    compound = dataclasses.replace(compound, record=dataclasses.replace(plan.record, band=(total - 1, total + 1)))
    assert grid not in set(validate(compound).query("check == @ENCLAVE")["grid_id"])
