"""Tests of gridpart.inputs.crs: choosing the working CRS, checking and reprojecting layers."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, box

from gridpart.errors import CRSError, InputError, Problems
from gridpart.inputs.crs import check_crs, is_web_mercator, prepare_crs, to_working, working_crs

BEIJING = (116.30, 39.95, 116.40, 40.02)  # Haidian, lon/lat
HELSINKI = (24.90, 60.15, 24.98, 60.19)


def to(crs: str, bounds: tuple[float, float, float, float]) -> tuple[float, ...]:
    """``bounds`` given in lon/lat, expressed in ``crs``."""
    return pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform_bounds(*bounds)


# --------------------------------------------------------------------------- working_crs


@pytest.mark.parametrize(
    "crs, bounds, expected",
    [
        ("EPSG:4326", BEIJING, 32650),
        ("EPSG:4326", HELSINKI, 32635),
        ("EPSG:4326", (151.1, -33.95, 151.3, -33.8), 32756),  # Sydney: southern hemisphere
        ("EPSG:4490", BEIJING, 4548),  # CGCS2000 → Gauss–Krüger CM 117°E
        ("EPSG:4490", (116.35, 39.95, 116.35, 39.95), 4548),
        ("EPSG:4490", (121.40, 31.15, 121.55, 31.30), 4549),  # Shanghai → CM 120°E
        ("EPSG:4490", (87.55, 43.75, 87.65, 43.85), 4538),  # Ürümqi → CM 87°E
        ("EPSG:4490", (75.9, 39.4, 76.0, 39.5), 4534),  # Kashgar → CM 75°E, the first zone
        ("EPSG:4490", (134.1, 47.6, 134.2, 47.7), 4554),  # far north-east → CM 135°E, the last
        ("EPSG:3857", to("EPSG:3857", BEIJING), 32650),
        ("EPSG:3857", to("EPSG:3857", HELSINKI), 32635),
        ("ESRI:102100", to("ESRI:102100", BEIJING), 32650),
        ("EPSG:3395", to("EPSG:3395", BEIJING), 32650),  # world Mercator: 30 % off in Beijing
        ("EPSG:2263", to("EPSG:2263", (-74.0, 40.7, -73.9, 40.8)), 32618),  # US feet
        ("EPSG:32650", to("EPSG:32650", BEIJING), 32650),  # metric: unchanged
        ("EPSG:4548", to("EPSG:4548", BEIJING), 4548),
        ("EPSG:3067", to("EPSG:3067", HELSINKI), 3067),  # Finnish national TM35FIN
    ],
)
def test_working_crs(crs, bounds, expected):
    work = working_crs(crs, bounds)
    assert isinstance(work, pyproj.CRS)
    assert work.to_epsg() == expected
    assert work.is_projected


def test_metric_projected_crs_is_returned_unchanged():
    crs = pyproj.CRS("EPSG:32650")
    assert working_crs(crs, to("EPSG:32650", BEIJING)) is crs
    custom = pyproj.CRS("+proj=tmerc +lon_0=116.4 +lat_0=0 +k=1 +x_0=500000 +ellps=GRS80 +units=m")
    assert working_crs(custom, to(custom.to_wkt(), BEIJING)) is custom


def test_gauss_kruger_zone_follows_centre_longitude():
    # The zone boundary between CM 114°E (EPSG:4547) and CM 117°E (EPSG:4548) is 115.5°E.
    assert working_crs("EPSG:4490", (115.40, 40, 115.45, 40.1)).to_epsg() == 4547
    assert working_crs("EPSG:4490", (115.55, 40, 115.60, 40.1)).to_epsg() == 4548
    # The centre decides, not the western edge.
    assert working_crs("EPSG:4490", (115.0, 40, 116.4, 40.1)).to_epsg() == 4548


def test_cgcs2000_outside_china_falls_back_to_utm():
    assert working_crs("EPSG:4490", (-70.0, 30, -69.5, 30.1)).to_epsg() == 32619


def test_working_crs_is_logged(caplog):
    with caplog.at_level(logging.INFO, logger="gridpart.inputs.crs"):
        working_crs("EPSG:3857", to("EPSG:3857", BEIJING))
    assert "EPSG:32650" in caplog.text and "Web Mercator" in caplog.text


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:900913", "EPSG:3785", "ESRI:102100",
                                 "ESRI:102113",
                                 "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 "
                                 "+y_0=0 +k=1 +units=m +nadgrids=@null +wktext +no_defs"])
def test_web_mercators_are_recognised(crs):
    assert is_web_mercator(crs)


@pytest.mark.parametrize("crs", ["EPSG:4326", "EPSG:32650", "EPSG:4548", "EPSG:3395"])
def test_other_crs_are_not_web_mercator(crs):
    assert not is_web_mercator(crs)


@pytest.mark.parametrize("bounds", [(np.nan, 0, 1, 1), (1, 0, 0, 1), (0, 0, 1), "abcd"])
def test_bad_bounds(bounds):
    with pytest.raises(CRSError, match="bounds"):
        working_crs("EPSG:4326", bounds)


def test_bounds_off_the_earth():
    with pytest.raises(CRSError, match="cannot be placed"):
        working_crs("EPSG:4326", (441000, 4420000, 442000, 4421000))


def test_missing_or_unknown_crs():
    with pytest.raises(CRSError, match="no CRS"):
        working_crs(None, BEIJING)
    with pytest.raises(CRSError, match="not a CRS"):
        working_crs("EPSG:999999", BEIJING)


@settings(max_examples=60, deadline=None)
@given(lon=st.floats(-179.9, 179.9), lat=st.floats(-79.9, 83.9).filter(lambda v: abs(v) > 1e-6))
def test_utm_zone_contains_the_centre(lon, lat):
    work = working_crs("EPSG:4326", (lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01))
    code = work.to_epsg()
    zone = code % 100
    cm = -183 + 6 * zone
    assert code // 100 == (326 if lat >= 0 else 327)
    assert abs(((lon - cm + 180) % 360) - 180) <= 3.0 + 1e-6


# --------------------------------------------------------------------------- check_crs


def layer(crs, geometry=None):
    return gpd.GeoDataFrame(geometry=[geometry or Point(116.35, 39.98)], crs=crs)


def test_check_crs_prefers_households():
    layers = {"roads": layer("EPSG:4326"), "households": layer("EPSG:4490"), "parcels": None}
    assert check_crs(layers, problems=Problems()) == pyproj.CRS("EPSG:4490")


def test_check_crs_first_layer_when_no_households():
    layers = {"communities": None, "roads": layer("EPSG:32650", Point(441000, 4420000))}
    assert check_crs(layers, problems=Problems()).to_epsg() == 32650


def test_check_crs_reports_every_layer_without_crs():
    problems = Problems()
    layers = {"roads": layer(None), "households": layer(None), "communities": layer("EPSG:4326")}
    assert check_crs(layers, problems=problems).to_epsg() == 4326
    assert [p.argument for p in problems.items] == ["roads.crs", "households.crs"]
    assert "roads = roads.set_crs(" in problems.items[0].fix
    with pytest.raises(CRSError) as info:
        problems.raise_if_any()
    assert isinstance(info.value, InputError) and len(info.value.problems) == 2


def test_check_crs_none_at_all():
    problems = Problems()
    assert check_crs({"roads": None}, problems=problems) is None
    assert not problems


# --------------------------------------------------------------------------- to_working


def test_to_working_reprojects_each_layer_from_its_own_crs(caplog):
    lon, lat = 116.35, 39.98
    utm = pyproj.CRS("EPSG:32650")
    x, y = pyproj.Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(lon, lat)
    mx, my = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True).transform(lon,
                                                                                           lat)
    layers = {
        "households": layer("EPSG:4326", Point(lon, lat)),
        "roads": layer("EPSG:3857", Point(mx, my)),
        "communities": layer(utm, Point(x, y)),
        "parcels": None,
    }
    with caplog.at_level(logging.INFO, logger="gridpart.inputs.crs"):
        out = to_working(layers, utm)
    assert list(out) == list(layers)
    assert out["parcels"] is None
    assert out["communities"] is layers["communities"]
    for name in ("households", "roads", "communities"):
        assert out[name].crs == utm
        point = out[name].geometry.iloc[0]
        assert point.x == pytest.approx(x, abs=1e-3) and point.y == pytest.approx(y, abs=1e-3)
    assert layers["households"].crs.to_epsg() == 4326  # inputs untouched
    assert "reprojecting roads" in caplog.text and "reprojecting households" in caplog.text


def test_to_working_refuses_layer_without_crs():
    with pytest.raises(CRSError, match="roads.crs"):
        to_working({"roads": layer(None)}, "EPSG:32650")


@settings(max_examples=30, deadline=None)
@given(lon=st.floats(115.5, 118.5), lat=st.floats(39.0, 41.0),
       source=st.sampled_from(["EPSG:4326", "EPSG:4490"]))
def test_round_trip(lon, lat, source):
    original = gpd.GeoDataFrame({"households": [3.0]},
                                geometry=[Point(lon, lat)], crs=source, index=["h1"])
    work = working_crs(source, original.total_bounds)
    there = to_working({"households": original}, work)["households"]
    back = there.to_crs(original.crs)
    assert back.index.equals(original.index)
    assert back.geometry.iloc[0].distance(original.geometry.iloc[0]) < 1e-8
    # Working coordinates are metres: 0.001° of latitude is about 111 m.
    moved = to_working({"h": gpd.GeoDataFrame(geometry=[Point(lon, lat + 0.001)], crs=source)},
                       work)["h"]
    assert moved.distance(there.geometry.iloc[0]).iloc[0] == pytest.approx(111, abs=1)


# --------------------------------------------------------------------------- prepare_crs


def test_prepare_crs_cgcs2000():
    hh = gpd.GeoDataFrame(geometry=[Point(116.30, 39.95), Point(116.40, 40.0)], crs="EPSG:4490")
    roads = gpd.GeoDataFrame(geometry=[LineString([(116.29, 39.94), (116.41, 40.01)])],
                             crs="EPSG:4490")
    user, work = prepare_crs({"roads": roads, "households": hh}, problems=Problems())
    assert user.to_epsg() == 4490 and work.to_epsg() == 4548


def test_prepare_crs_mixed_sources_use_union_in_lon_lat():
    # households in web mercator, roads in lon/lat: the union is Helsinki → UTM 35N.
    hh = gpd.GeoDataFrame(geometry=[Point(*to("EPSG:3857", HELSINKI)[:2])], crs="EPSG:3857")
    roads = gpd.GeoDataFrame(geometry=[box(*HELSINKI)], crs="EPSG:4326")
    user, work = prepare_crs({"roads": roads, "households": hh})
    assert user.to_epsg() == 3857 and work.to_epsg() == 32635


def test_prepare_crs_keeps_metric_user_crs():
    x0, y0 = to("EPSG:32650", BEIJING)[:2]
    hh = gpd.GeoDataFrame(geometry=[Point(x0, y0)], crs="EPSG:32650")
    roads = gpd.GeoDataFrame(geometry=[box(*BEIJING)], crs="EPSG:4326")
    user, work = prepare_crs({"roads": roads, "households": hh})
    assert user == work == pyproj.CRS("EPSG:32650")


def test_prepare_crs_reports_layers_that_do_not_overlap():
    hh = gpd.GeoDataFrame(geometry=[Point(116.35, 39.98)], crs="EPSG:4326")
    # Helsinki coordinates declared as Beijing UTM: a wrong CRS.
    roads = gpd.GeoDataFrame(geometry=[box(*to("EPSG:32635", HELSINKI))], crs="EPSG:32650")
    problems = Problems()
    user, work = prepare_crs({"roads": roads, "households": hh}, problems=problems)
    assert user.to_epsg() == 4326 and work is not None
    [problem] = problems.items
    assert problem.argument == "roads.crs" and "do not overlap" in problem.message
    with pytest.raises(CRSError):
        problems.raise_if_any()


def test_prepare_crs_without_any_crs():
    problems = Problems()
    user, work = prepare_crs({"roads": layer(None), "households": None}, problems=problems)
    assert (user, work) == (None, None)
    assert [p.argument for p in problems.items] == ["roads.crs"]
