"""Tests for gridpart.rules.ledger: the register table and its CSV / Excel export."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridpart as gp
from gridpart.errors import InputError
from gridpart.rules.ledger import COLUMNS_ZH, register, write_register

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0


@pytest.fixture(scope="module")
def plan():
    n, size = 4, 100.0
    lines = [shapely.LineString([(X0 + i * size, Y0 - 50), (X0 + i * size, Y0 + n * size + 50)]) for i in range(n + 1)]
    lines += [shapely.LineString([(X0 - 50, Y0 + j * size), (X0 + n * size + 50, Y0 + j * size)]) for j in range(n + 1)]
    names = ["学院路", None, "学清路", None, "志新西路", "清华东路", None, "石板房南路", None, "林业大学北路"]
    roads = gpd.GeoDataFrame({"kind": ["road", "lane", "street", "lane", "road", "road", "lane", "street",
                                       "lane", "street"], "name": names}, geometry=lines, crs=CRS)
    pts = [shapely.Point(X0 + (i + 0.5) * size, Y0 + (j + 0.5) * size) for j in range(n) for i in range(n)]
    hh = gpd.GeoDataFrame({"households": np.full(n * n, 75), "persons": np.full(n * n, 195.0)},
                          geometry=pts, crs=CRS).to_crs(4326)
    parcels = gpd.GeoDataFrame({"kind": ["compound"], "name": ["静淑苑"]},
                               geometry=[shapely.box(X0, Y0, X0 + 200, Y0 + 200)], crs=CRS)
    communities = gpd.GeoDataFrame({"community_id": ["c1"], "name": ["学院路社区"], "code": ["110108015001"]},
                                   geometry=[shapely.box(X0 - 20, Y0 - 20, X0 + 420, Y0 + 420)], crs=CRS)
    return gp.partition(roads, hh, parcels=parcels, communities=communities, target=300, time_limit=2,
                        strategy="lns")


def test_register_zh_columns_order_and_values(plan):
    table = plan.register()
    assert list(table.columns) == list(COLUMNS_ZH.values())
    assert len(table) == len(plan.grids)
    assert table["网格编码"].is_monotonic_increasing and table["网格编码"].is_unique
    assert table["网格编码"].str.startswith("110108015001").all()
    assert set(table["所属社区"]) == {"学院路社区"}
    assert set(table["编码来源"]) == {"统计用区划代码"}
    assert set(table["网格类型"]) <= {"单位型", "小区型", "街巷型"}
    assert table["户数"].sum() == plan.households["households"].sum()
    assert table["人数"].sum() == pytest.approx(plan.households["persons"].sum())
    for _, row in table.iterrows():
        assert row["四至"] == f"东至{row['东至']}，南至{row['南至']}，西至{row['西至']}，北至{row['北至']}"
    assert (table["网格类型"] == "小区型").sum() >= 1
    assert table.loc[table["网格类型"] == "小区型", "辖区小区/单位"].str.contains("静淑苑").all()


def test_register_en(plan):
    table = register(plan, language="en")
    assert list(table.columns) == list(COLUMNS_ZH)
    assert set(table["kind"]) <= {"unit", "compound", "street"}
    assert table["limits"].str.match(r"^East: [^;]+; South: [^;]+; West: [^;]+; North: [^;]+$").all()
    zh = plan.register()
    # the same grids in the same order; English names are romanised Chinese ones
    assert table["code"].tolist() == zh["网格编码"].tolist()
    named = zh["东至"] == "学院路"
    assert (table.loc[named, "east"] == "Xueyuan Road").all()


def test_csv_has_a_bom_and_reads_back(plan, tmp_path):
    path = plan.to_register(tmp_path / "register.csv")
    raw = path.read_bytes()
    assert raw[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(path, encoding="utf-8-sig", dtype={"网格编码": str, "社区编码": str})
    assert back["网格编码"].tolist() == plan.register()["网格编码"].tolist()
    assert back["四至"].tolist() == plan.register()["四至"].tolist()


def test_xlsx_round_trip(plan, tmp_path):
    pytest.importorskip("openpyxl")
    path = write_register(plan, tmp_path / "register.xlsx", language="zh")
    back = pd.read_excel(path, sheet_name="网格登记表", dtype={"网格编码": str})
    assert back["网格编码"].tolist() == plan.register()["网格编码"].tolist()
    assert back["东至"].tolist() == plan.register()["东至"].tolist()


def test_bad_arguments(plan, tmp_path):
    with pytest.raises(InputError, match="path"):
        write_register(plan, tmp_path / "register.txt")
    with pytest.raises(InputError, match="folder"):
        write_register(plan, tmp_path / "missing" / "register.csv")
    with pytest.raises(InputError, match="language"):
        register(plan, language="fr")
    old = plan.grids.drop(columns=["code", "kind"])
    import dataclasses
    with pytest.raises(InputError, match="before grids were named"):
        register(dataclasses.replace(plan, grids=old))


def test_register_survives_a_geopackage_round_trip(plan, tmp_path):
    plan.to_file(tmp_path / "plan.gpkg")
    back = gp.read_plan(tmp_path / "plan.gpkg")
    pd.testing.assert_frame_equal(back.register(), plan.register(), check_dtype=False)
