"""Tests of ``gridpart register`` and ``gridpart partition --units`` (run in-process)."""

from __future__ import annotations

import contextlib
import io

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridpart.cli import main

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0


def _run(argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def plan_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    n, size = 4, 100.0
    lines = [shapely.LineString([(X0 + i * size, Y0 - 50), (X0 + i * size, Y0 + n * size + 50)]) for i in range(n + 1)]
    lines += [shapely.LineString([(X0 - 50, Y0 + j * size), (X0 + n * size + 50, Y0 + j * size)]) for j in range(n + 1)]
    roads = gpd.GeoDataFrame({"kind": "street", "name": [f"经{i}路" for i in range(n + 1)] +
                              [f"纬{j}街" for j in range(n + 1)]}, geometry=lines, crs=CRS)
    pts = [shapely.Point(X0 + (i + 0.5) * size, Y0 + (j + 0.5) * size) for j in range(n) for i in range(n)]
    hh = gpd.GeoDataFrame({"households": np.full(n * n, 75)}, geometry=pts, crs=CRS)
    parcels = gpd.GeoDataFrame({"kind": ["unit"], "name": ["派出所"]},
                               geometry=[shapely.box(X0, Y0, X0 + 100, Y0 + 100)], crs=CRS)
    area = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + n * size, Y0 + n * size)], crs=CRS)
    paths = {}
    for name, gdf in (("roads", roads), ("households", hh), ("parcels", parcels), ("area", area)):
        paths[name] = folder / f"{name}.gpkg"
        gdf.to_file(paths[name])
    out = {}
    for units in ("own", "merge"):
        out[units] = folder / f"plan_{units}.gpkg"
        code, _, err = _run(["partition", paths["roads"], paths["households"], "-o", out[units], "--parcels",
                             paths["parcels"], "--study-area", paths["area"], "--time-limit", "2",
                             "--strategy", "lns", "--units", units])
        assert code == 0, err
    return out


def test_register_csv_and_recode(plan_file, tmp_path):
    out = tmp_path / "register.csv"
    code, stdout, err = _run(["register", plan_file["own"], "-o", out, "--code", "110108015001", "--width", "3"])
    assert code == 0, err
    table = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert table["网格编码"].str.fullmatch(r"110108015001\d{3}").all()
    assert "单位型" in set(table["网格类型"])
    assert "wrote" in stdout


def test_register_en_xlsx(plan_file, tmp_path):
    pytest.importorskip("openpyxl")
    out = tmp_path / "register.xlsx"
    assert _run(["register", plan_file["merge"], "-o", out, "--language", "en"])[0] == 0
    table = pd.read_excel(out, sheet_name="register", dtype=str)
    assert table["limits"].str.startswith("East: ").all()


def test_units_option_changes_the_plan(plan_file):
    import gridpart as gp

    own, merge = gp.read_plan(plan_file["own"]), gp.read_plan(plan_file["merge"])
    gid = own.blocks.loc[own.blocks["parcel_name"] == "派出所", "grid_id"].iloc[0]
    assert (own.blocks["grid_id"] == gid).sum() == 1
    assert own.params["units"] == "own" and merge.params["units"] == "merge"


def test_register_errors_exit_2(plan_file, tmp_path):
    code, _, err = _run(["register", plan_file["own"], "-o", tmp_path / "register.txt"])
    assert code == 2 and "path" in err
    code, _, err = _run(["register", plan_file["own"], "-o", tmp_path / "r.csv", "--code", "123"])
    assert code == 2 and "communities['code']" in err
