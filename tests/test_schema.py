"""Tests of gridpart.inputs.schema: the Target, reading layers and the input validators."""

from __future__ import annotations

import logging
import math
import warnings
from fractions import Fraction

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, MultiPoint, Point, Polygon, box

from gridpart.errors import CRSError, InputError, Problems
from gridpart.inputs.schema import (
    HIGHWAY_KIND,
    ROAD_KINDS,
    Target,
    coerce_target,
    read_layer,
    validate_barriers,
    validate_communities,
    validate_households,
    validate_parcels,
    validate_roads,
)

UTM50 = "EPSG:32650"


def run(validator, obj, **kwargs):
    """Run a validator with a fresh collector; return (result, problems)."""
    problems = Problems()
    result = validator(obj, problems=problems, **kwargs)
    return result, problems


def only_problem(problems: Problems, argument: str):
    """The single problem recorded, checked to name ``argument``."""
    assert len(problems.items) == 1, [str(p) for p in problems.items]
    problem = problems.items[0]
    assert problem.argument == argument, str(problem)
    assert problem.fix, "every problem must say how to fix it"
    return problem


def grid_lines(n: int = 3, step: float = 100.0) -> list[LineString]:
    lines = [LineString([(0, i * step), ((n - 1) * step, i * step)]) for i in range(n)]
    lines += [LineString([(i * step, 0), (i * step, (n - 1) * step)]) for i in range(n)]
    return lines


@pytest.fixture
def roads() -> gpd.GeoDataFrame:
    lines = grid_lines()
    highway = ["primary", "residential", "service", "footway", "secondary_link", "tertiary"]
    names = ["学院路", None, np.nan, "", "清华东路", "成府路"]
    return gpd.GeoDataFrame({"highway": highway, "name": names}, geometry=lines, crs=UTM50,
                            index=pd.Index([10, 11, 12, 13, 14, 15], name="way"))


@pytest.fixture
def households() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"households": [120, 80, 0], "persons": [300.0, 210.0, 0.0]},
        geometry=[Point(10, 10), Point(150, 20), Point(60, 170)], crs=UTM50,
        index=pd.Index(["a", "b", "c"], name="building"))


# --------------------------------------------------------------------------- Target


class TestTarget:
    def test_number_band(self):
        t = Target(300)
        assert t.band == (240.0, 360.0)
        assert t.centre == 300.0
        assert t.persons_band is None and t.persons_centre is None

    def test_band_is_exact_for_round_numbers(self):
        # 400 × 0.9 is 360.00000000000006 in floating point; 360 households must be in band.
        assert Target(400, tolerance=0.1).band == (360.0, 440.0)
        assert Target(300, tolerance=0.3).band == (210.0, 390.0)

    def test_explicit_band_and_persons(self):
        t = Target(households=(300, 500), persons=1000, tolerance=0.1, persons_hard=True)
        assert t.band == (300.0, 500.0)
        assert t.centre == 400.0
        assert t.persons_band == (900.0, 1100.0)
        assert t.persons_centre == 1000.0

    def test_explicit_persons_band(self):
        t = Target(households=300, persons=(800, 1200))
        assert t.persons_band == (800.0, 1200.0)
        assert t.persons_centre == 1000.0

    def test_list_becomes_hashable_tuple(self):
        t = Target(households=[300, 500])
        assert t.households == (300.0, 500.0)
        assert hash(t) == hash(Target(households=(300, 500)))

    def test_frozen(self):
        with pytest.raises(AttributeError):
            Target(300).households = 200  # type: ignore[misc]

    @pytest.mark.parametrize(
        "kwargs, argument",
        [
            ({"households": 0}, "Target.households"),
            ({"households": -300}, "Target.households"),
            ({"households": float("nan")}, "Target.households"),
            ({"households": float("inf")}, "Target.households"),
            ({"households": True}, "Target.households"),
            ({"households": "300"}, "Target.households"),
            ({"households": (500, 300)}, "Target.households"),
            ({"households": (0, 300)}, "Target.households"),
            ({"households": (300, float("nan"))}, "Target.households"),
            ({"persons": -1}, "Target.persons"),
            ({"tolerance": 0}, "Target.tolerance"),
            ({"tolerance": 1}, "Target.tolerance"),
            ({"tolerance": 1.5}, "Target.tolerance"),
            ({"tolerance": float("nan")}, "Target.tolerance"),
            ({"persons_hard": True}, "Target.persons_hard"),
            ({"persons_hard": "yes", "persons": 1000}, "Target.persons_hard"),
        ],
    )
    def test_errors_name_argument_and_fix(self, kwargs, argument):
        with pytest.raises(InputError) as info:
            Target(**kwargs)
        assert isinstance(info.value, ValueError)
        [problem] = info.value.problems
        assert problem.argument == argument
        assert "Fix:" in str(info.value)

    def test_reversed_band_fix_swaps(self):
        with pytest.raises(InputError, match=r"swap them: Target\(households=\(300, 500\)\)"):
            Target(households=(500, 300))

    def test_all_target_errors_at_once(self):
        with pytest.raises(InputError) as info:
            Target(households=-1, persons=0, tolerance=2)
        assert {p.argument for p in info.value.problems} == {
            "Target.households", "Target.persons", "Target.tolerance"}

    @given(households=st.floats(1, 1e6), tolerance=st.floats(0.001, 0.999))
    def test_band_contains_centre(self, households, tolerance):
        t = Target(households, tolerance=tolerance)
        lo, hi = t.band
        assert 0 < lo <= t.centre <= hi
        assert hi - lo == pytest.approx(2 * households * tolerance, rel=1e-6, abs=1e-6)

    @given(lo=st.floats(1, 1e6), width=st.floats(0, 1e6))
    def test_explicit_band_centre_is_midpoint(self, lo, width):
        t = Target(households=(lo, lo + width))
        assert t.band == (lo, lo + width)
        assert t.band[0] <= t.centre <= t.band[1]

    @given(households=st.integers(1, 10_000), percent=st.integers(1, 99))
    def test_band_of_round_numbers_is_exact(self, households, percent):
        lo, hi = Target(households, tolerance=percent / 100).band
        assert lo == float(Fraction(households * (100 - percent), 100))
        assert hi == float(Fraction(households * (100 + percent), 100))


class TestCoerceTarget:
    def test_number(self):
        assert coerce_target(400, 0.1, Problems()) == Target(400, tolerance=0.1)

    def test_pair(self):
        t = coerce_target((300, 500), 0.2, Problems())
        assert t.band == (300.0, 500.0)

    def test_target_passes_through(self):
        t = Target(300, persons=1000)
        assert coerce_target(t, 0.2, Problems()) is t

    @pytest.mark.parametrize(
        "target, tolerance, arguments",
        [
            (-5, 0.2, {"target"}),
            ("300", 0.2, {"target"}),
            (None, 0.2, {"target"}),
            (300, 0, {"tolerance"}),
            ((500, 300), 1.2, {"target", "tolerance"}),
        ],
    )
    def test_problems_are_added_not_raised(self, target, tolerance, arguments):
        problems = Problems()
        assert coerce_target(target, tolerance, problems) is None
        assert {p.argument for p in problems.items} == arguments
        assert all(p.fix for p in problems.items)

    def test_without_collector_raises(self):
        with pytest.raises(InputError, match="target: must be a positive"):
            coerce_target(0)


# --------------------------------------------------------------------------- read_layer


class TestReadLayer:
    def test_none(self):
        problems = Problems()
        assert read_layer(None, argument="parcels", problems=problems) is None
        assert not problems

    def test_geodataframe_returned_as_is(self, households):
        problems = Problems()
        assert read_layer(households, argument="households", problems=problems) is households
        assert not problems

    @pytest.mark.parametrize("suffix, driver", [(".gpkg", "GPKG"), (".geojson", "GeoJSON"),
                                                (".shp", "ESRI Shapefile")])
    def test_reads_files(self, tmp_path, roads, suffix, driver):
        path = tmp_path / f"roads{suffix}"
        roads.reset_index().to_file(path, driver=driver, engine="pyogrio")
        for obj in (path, str(path)):
            problems = Problems()
            out = read_layer(obj, argument="roads", problems=problems)
            assert not problems
            assert len(out) == len(roads)
            assert out.crs == roads.crs
            assert list(out["highway"]) == list(roads["highway"])

    def test_multi_layer_file_picks_layer_named_like_argument(self, tmp_path, roads, households):
        path = tmp_path / "city.gpkg"
        roads.to_file(path, layer="roads", engine="pyogrio")
        households.to_file(path, layer="households", engine="pyogrio")
        problems = Problems()
        assert len(read_layer(path, argument="households", problems=problems)) == 3
        assert len(read_layer(path, argument="x", layer="roads", problems=problems)) == 6
        assert not problems
        assert read_layer(path, argument="parcels", problems=problems) is None
        problem = only_problem(problems, "parcels")
        assert "2 layers" in problem.message and "layer=" in problem.fix

    def test_missing_file(self, tmp_path):
        problems = Problems()
        path = tmp_path / "nope.gpkg"
        assert read_layer(path, argument="roads", problems=problems) is None
        problem = only_problem(problems, "roads")
        assert "not found" in problem.message and str(path) in problem.message

    def test_unreadable_file(self, tmp_path):
        path = tmp_path / "roads.gpkg"
        path.write_text("this is not a GeoPackage")
        problems = Problems()
        assert read_layer(path, argument="roads", problems=problems) is None
        problem = only_problem(problems, "roads")
        assert "could not read" in problem.message and str(path) in problem.message

    @pytest.mark.parametrize("obj", [pd.DataFrame({"x": [1]}), [Point(0, 0)], 42,
                                     gpd.GeoSeries([Point(0, 0)])])
    def test_wrong_type(self, obj):
        problems = Problems()
        assert read_layer(obj, argument="households", problems=problems) is None
        problem = only_problem(problems, "households")
        assert "expected a GeoDataFrame" in problem.message
        assert type(obj).__qualname__ in problem.message

    def test_plain_dataframe_fix_builds_points(self):
        problems = Problems()
        read_layer(pd.DataFrame({"lon": [1.0]}), argument="households", problems=problems)
        assert "points_from_xy" in problems.items[0].fix


# --------------------------------------------------------------------------- roads


class TestValidateRoads:
    def test_highway_classes_and_new_frame(self, roads):
        roads = pd.concat([roads, gpd.GeoDataFrame(
            {"highway": ["bus_stop", None, "platform"]},
            geometry=[LineString([(0, 0), (5, 5)])] * 3, crs=UTM50,
            index=pd.Index([20, 21, 22], name="way"))])
        before = roads.copy()
        out, how = validate_roads(roads)
        assert how == "lines"
        assert list(out.columns) == ["kind", "name", "name_en", "geometry"]
        assert list(out.index) == [10, 11, 12, 13, 14, 15]
        assert out.index.name == "way"
        assert list(out["kind"]) == ["road", "street", "lane", "lane", "road", "street"]
        assert list(out["name"]) == ["学院路", None, None, None, "清华东路", "成府路"]
        assert out["name_en"].isna().all()
        assert out.crs == roads.crs
        assert set(out["kind"]) <= set(ROAD_KINDS)
        assert_geodataframe_equal(roads, before)

    def test_dropped_highway_rows_are_logged(self, roads, caplog):
        roads.loc[99] = ["platform", None, LineString([(0, 0), (1, 1)])]
        with caplog.at_level(logging.INFO, logger="gridpart.inputs.schema"):
            out, _ = validate_roads(roads)
        assert 99 not in out.index
        assert "dropped 1 of 7" in caplog.text and "platform" in caplog.text

    def test_osmnx_style_highway_lists(self):
        roads = gpd.GeoDataFrame({"highway": [["service", "primary"], "residential;footway"]},
                                 geometry=grid_lines(2)[:2], crs=UTM50)
        out, _ = validate_roads(roads)
        assert list(out["kind"]) == ["road", "street"]

    def test_kind_column_wins_and_chinese(self, roads):
        roads["kind"] = ["路", "街", "巷", "Road", " lane ", "street"]
        roads["name:en"] = ["Xueyuan Road"] + [None] * 5
        out, _ = validate_roads(roads)
        assert list(out["kind"]) == ["road", "street", "lane", "road", "lane", "street"]
        assert out["name_en"].iloc[0] == "Xueyuan Road"

    def test_unknown_kind_values_listed(self, roads):
        roads["kind"] = ["road", "avenue", "lane", "boulevard", None, "street"]
        (out, _), problems = run(validate_roads, roads)
        assert out is None
        problem = only_problem(problems, "roads['kind']")
        assert "'avenue'" in problem.message and "'boulevard'" in problem.message
        assert "missing values" in problem.message
        assert problem.rows == (11, 13, 14)

    def test_no_class_column_is_street_with_warning(self, roads, caplog):
        roads = roads.drop(columns=["highway"])
        with caplog.at_level(logging.WARNING, logger="gridpart.inputs.schema"):
            out, _ = validate_roads(roads)
        assert (out["kind"] == "street").all()
        assert "neither a 'kind' nor a 'highway'" in caplog.text

    def test_all_highway_values_dropped_is_a_problem(self):
        roads = gpd.GeoDataFrame({"highway": ["platform", "elevator"]},
                                 geometry=grid_lines(2)[:2], crs=UTM50)
        (out, _), problems = run(validate_roads, roads)
        assert out is None
        only_problem(problems, "roads['highway']")

    def test_z_dropped(self):
        roads = gpd.GeoDataFrame(geometry=[LineString([(0, 0, 5), (10, 0, 7)])], crs=UTM50)
        out, _ = validate_roads(roads)
        assert not out.has_z.any()

    def test_polygons_auto_are_blocks_without_columns(self):
        blocks = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=UTM50)
        out, how = validate_roads(blocks)
        assert how == "blocks"
        assert list(out["kind"]) == ["street", "street"]
        assert out["name"].isna().all()

    def test_surfaces_use_highway(self):
        surfaces = gpd.GeoDataFrame({"highway": ["primary", "footway"]},
                                    geometry=[box(0, 0, 10, 1), box(0, 5, 10, 6)], crs=UTM50)
        out, how = validate_roads(surfaces, roads_are="surfaces")
        assert how == "surfaces" and list(out["kind"]) == ["road", "lane"]

    def test_invalid_block_polygons_repaired_with_warning(self):
        bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
        blocks = gpd.GeoDataFrame(geometry=[box(20, 0, 30, 10), bowtie], crs=UTM50,
                                  index=["ok", "bowtie"])
        with pytest.warns(UserWarning, match="bowtie"):
            out, _ = validate_roads(blocks)
        assert out.is_valid.all()
        assert out.geometry["bowtie"].area == pytest.approx(50)

    def test_mixed_lines_and_polygons(self, roads):
        roads.loc[99] = ["primary", None, box(0, 0, 1, 1)]
        (out, how), problems = run(validate_roads, roads)
        assert how == "auto"
        assert out is None
        problem = only_problem(problems, "roads.geometry")
        assert problem.rows == (99,)
        assert "roads_are" in problem.fix

    @pytest.mark.parametrize("roads_are, geometry", [("lines", box(0, 0, 1, 1)),
                                                     ("blocks", LineString([(0, 0), (1, 1)])),
                                                     ("surfaces", Point(0, 0)),
                                                     ("auto", Point(0, 0))])
    def test_wrong_geometry_types(self, roads_are, geometry):
        ok = box(0, 0, 1, 1) if roads_are in ("blocks", "surfaces") else LineString([(0, 0), (1, 0)])
        layer = gpd.GeoDataFrame(geometry=[ok, geometry], crs=UTM50, index=["ok", "bad"])
        (out, _), problems = run(validate_roads, layer, roads_are=roads_are)
        assert out is None
        problem = only_problem(problems, "roads.geometry")
        assert problem.rows == ("bad",)
        assert geometry.geom_type in problem.message

    def test_invalid_roads_are(self, roads):
        (out, how), problems = run(validate_roads, roads, roads_are="centrelines")
        assert out is None and how == "centrelines"
        only_problem(problems, "roads_are")

    def test_missing_geometry_is_dropped_and_recorded_missing_crs_fails(self, roads):
        roads = roads.set_crs(None, allow_override=True)
        roads.loc[12, "geometry"] = None
        roads.loc[13, "geometry"] = LineString()
        with pytest.warns(UserWarning, match="without geometry"):
            (out, _), problems = run(validate_roads, roads)
        assert out is None
        assert {q.argument for q in problems.items} == {"roads.crs"}
        assert [r.rows for r in problems.repairs] == [(12, 13)]

    def test_all_geometries_missing_fails_naming_the_rows(self, roads):
        roads = roads.copy()
        roads["geometry"] = None
        (out, _), problems = run(validate_roads, roads)
        assert out is None
        geometry = next(q for q in problems.items if q.argument == "roads.geometry")
        assert geometry.n_rows == len(roads)

    def test_empty_and_wrong_type(self, roads):
        (out, _), problems = run(validate_roads, roads.iloc[:0])
        assert out is None
        only_problem(problems, "roads")
        assert "empty" in problems.items[0].message
        (out, how), problems = run(validate_roads, pd.DataFrame(roads))
        assert out is None and how == "auto"
        only_problem(problems, "roads")

    def test_highway_map_is_consistent(self):
        assert set(HIGHWAY_KIND.values()) == set(ROAD_KINDS)


# --------------------------------------------------------------------------- households


class TestValidateHouseholds:
    def test_columns_and_index(self, households):
        out = validate_households(households)
        assert list(out.columns) == ["households", "persons", "geometry"]
        assert out.index.equals(households.index)
        assert out["households"].dtype == float and out["persons"].dtype == float
        assert list(out["households"]) == [120.0, 80.0, 0.0]
        assert out.crs == households.crs

    def test_defaults(self):
        pts = gpd.GeoDataFrame({"other": [1, 2]}, geometry=[Point(0, 0), Point(1, 1)], crs=UTM50)
        out = validate_households(pts)
        assert list(out["households"]) == [1.0, 1.0]
        assert out["persons"].isna().all()
        assert "other" not in out.columns

    def test_repairs_single_multipoint_and_z(self):
        pts = gpd.GeoDataFrame(geometry=[MultiPoint([(1, 2)]), Point(3, 4, 5)], crs=UTM50)
        out = validate_households(pts)
        assert list(out.geom_type) == ["Point", "Point"]
        assert not out.has_z.any()
        assert out.geometry.iloc[0].equals(Point(1, 2))

    def test_numbers_as_text_are_converted_with_warning(self):
        pts = gpd.GeoDataFrame({"households": ["12", "3.5"]}, geometry=[Point(0, 0)] * 2,
                               crs=UTM50)
        with pytest.warns(UserWarning, match="text"):
            out = validate_households(pts)
        assert list(out["households"]) == [12.0, 3.5]

    def test_every_problem_kind(self):
        pts = gpd.GeoDataFrame(
            {"households": [1, -2, np.nan, np.inf, 1, 1, 1, 1],
             "persons": ["3", "x", 1, 1, 1, None, 1, 1]},
            geometry=[Point(0, 0), Point(0, 0), Point(0, 0), Point(0, 0),
                      MultiPoint([(0, 0), (1, 1)]), box(0, 0, 1, 1), None, Point()],
            crs=UTM50, index=[0, 1, 2, 3, 4, 5, 6, 6])
        out, problems = run(validate_households, pts)
        assert out is None
        by = {}
        for p in problems.items:
            by.setdefault(p.argument, []).append(p)
        assert set(by) == {"households.geometry", "households.index",
                           "households['households']", "households['persons']"}
        rows = [(p.message, p.rows) for p in by["households['households']"]]
        assert [r for _, r in rows] == [(2,), (3,), (1,)]
        assert "missing" in rows[0][0] and "infinite" in rows[1][0] and "negative" in rows[2][0]
        assert [p.rows for p in by["households['persons']"]] == [(1,), (5,)]
        geometry = {p.rows for p in by["households.geometry"]}
        assert geometry == {(6, 6), (4, 5)}
        non_point = next(p for p in by["households.geometry"] if p.rows == (4, 5))
        assert "MultiPoint" in non_point.message and "Polygon" in non_point.message
        [dup] = by["households.index"]
        assert dup.rows == (6,) and dup.fix == "households = households.reset_index(drop=True)"

    def test_all_zero(self):
        pts = gpd.GeoDataFrame({"households": [0, 0]}, geometry=[Point(0, 0)] * 2, crs=UTM50)
        _, problems = run(validate_households, pts)
        assert "all 2 rows are 0" in only_problem(problems, "households['households']").message

    def test_boolean_column(self):
        pts = gpd.GeoDataFrame({"households": [True, False]}, geometry=[Point(0, 0)] * 2,
                               crs=UTM50)
        _, problems = run(validate_households, pts)
        only_problem(problems, "households['households']")

    def test_swapped_lat_lon(self):
        pts = gpd.GeoDataFrame(geometry=[Point(116.3, 39.9), Point(39.9, 116.3)],
                               crs="EPSG:4326", index=["ok", "swapped"])
        _, problems = run(validate_households, pts)
        problem = only_problem(problems, "households.geometry")
        assert problem.rows == ("swapped",) and "swapped" in problem.message

    def test_metres_declared_as_degrees(self):
        pts = gpd.GeoDataFrame(geometry=[Point(441000, 4420000)], crs="EPSG:4326")
        _, problems = run(validate_households, pts)
        only_problem(problems, "households.crs")
        with pytest.raises(CRSError):
            problems.raise_if_any()

    def test_no_crs_empty_and_type(self, households):
        _, problems = run(validate_households, households.set_crs(None, allow_override=True))
        only_problem(problems, "households.crs")
        _, problems = run(validate_households, households.iloc[:0])
        only_problem(problems, "households")
        _, problems = run(validate_households, pd.DataFrame({"x": [1]}))
        only_problem(problems, "households")

    @settings(max_examples=50, deadline=None)
    @given(data=st.data())
    def test_never_mutates_input(self, data):
        n = data.draw(st.integers(1, 12))
        xs = data.draw(st.lists(st.floats(-1e5, 1e5), min_size=n, max_size=n))
        counts = data.draw(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                              st.integers(-3, 500)), min_size=n, max_size=n))
        multi = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
        geoms = [MultiPoint([(x, x)]) if m else Point(x, -x, 1.0) for x, m in zip(xs, multi)]
        labels = data.draw(st.lists(st.integers(0, 20), min_size=n, max_size=n))
        pts = gpd.GeoDataFrame({"households": counts}, geometry=geoms, crs=UTM50, index=labels)
        before = pts.copy(deep=True)
        problems = Problems()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = validate_households(pts, problems=problems)
        assert_geodataframe_equal(pts, before)
        assert list(pts.geom_type) == list(before.geom_type)
        if out is not None:
            assert out is not pts and out.index.equals(pts.index)
            assert np.isfinite(out["households"]).all() and (out["households"] >= 0).all()
            assert (out.geom_type == "Point").all()
        else:
            assert problems


# --------------------------------------------------------------------------- communities


class TestValidateCommunities:
    def test_columns(self):
        c = gpd.GeoDataFrame({"community_id": [7, 8], "name": ["清华园", None],
                              "code": [110108001001.0, np.nan], "extra": [1, 2]},
                             geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)], crs=UTM50)
        out = validate_communities(c)
        assert list(out.columns) == ["community_id", "name", "code", "geometry"]
        assert list(out["community_id"]) == [7, 8]
        assert list(out["code"]) == ["110108001001", None]
        assert list(out["name"]) == ["清华园", None]

    def test_single_community_gets_id_one(self, caplog):
        c = gpd.GeoDataFrame(geometry=[box(0, 0, 10, 10)], crs=UTM50)
        with caplog.at_level(logging.WARNING, logger="gridpart.inputs.schema"):
            out = validate_communities(c)
        assert list(out["community_id"]) == ["1"]
        assert "community_id" in caplog.text

    def test_missing_id_column(self):
        c = gpd.GeoDataFrame({"id": [1, 2]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
                             crs=UTM50)
        _, problems = run(validate_communities, c)
        problem = only_problem(problems, "communities['community_id']")
        assert "'id'" in problem.message and "rename" in problem.fix

    def test_duplicate_and_null_ids(self):
        c = gpd.GeoDataFrame({"community_id": ["A", "A", None, "B"]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(4)], crs=UTM50)
        _, problems = run(validate_communities, c)
        assert [p.rows for p in problems.items] == [(2,), (0, 1)]
        assert "dissolve" in problems.items[1].fix

    def test_repairs_invalid_polygons_naming_ids(self):
        bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
        c = gpd.GeoDataFrame({"community_id": ["ok", "twisted"]},
                             geometry=[box(20, 0, 30, 10), bowtie], crs=UTM50)
        before = c.copy()
        with pytest.warns(UserWarning, match="'twisted'"):
            out = validate_communities(c)
        assert out.is_valid.all() and out.area.iloc[1] == pytest.approx(50)
        assert_geodataframe_equal(c, before)

    def test_wrong_geometry(self):
        c = gpd.GeoDataFrame({"community_id": [1, 2]},
                             geometry=[box(0, 0, 1, 1), LineString([(0, 0), (1, 1)])], crs=UTM50)
        _, problems = run(validate_communities, c)
        assert only_problem(problems, "communities.geometry").rows == (1,)


# --------------------------------------------------------------------------- parcels, barriers


class TestValidateParcels:
    def test_kinds(self):
        p = gpd.GeoDataFrame({"kind": ["小区", "单位", "Compound"], "name": ["荷清苑", None, "x"]},
                             geometry=[box(i, 0, i + 1, 1) for i in range(3)], crs=UTM50)
        out = validate_parcels(p)
        assert list(out["kind"]) == ["compound", "unit", "compound"]
        assert list(out.columns) == ["kind", "name", "geometry"]

    def test_bad_kind_and_missing_column(self):
        p = gpd.GeoDataFrame({"kind": ["compound", "school"]},
                             geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=UTM50)
        _, problems = run(validate_parcels, p)
        problem = only_problem(problems, "parcels['kind']")
        assert "'school'" in problem.message and problem.rows == (1,)
        _, problems = run(validate_parcels, p.drop(columns="kind"))
        only_problem(problems, "parcels['kind']")

    def test_empty_is_fine(self):
        p = gpd.GeoDataFrame({"kind": []}, geometry=[], crs=UTM50)
        out, problems = run(validate_parcels, p)
        assert len(out) == 0 and not problems

    def test_lines_rejected(self):
        p = gpd.GeoDataFrame({"kind": ["unit"]}, geometry=[LineString([(0, 0), (1, 1)])],
                             crs=UTM50)
        _, problems = run(validate_parcels, p)
        only_problem(problems, "parcels.geometry")


class TestValidateBarriers:
    def test_lines_and_polygon_boundaries(self):
        b = gpd.GeoDataFrame({"name": ["京密引水渠", None], "waterway": ["canal", None]},
                             geometry=[LineString([(0, 0), (10, 0)]), box(0, 0, 10, 2)],
                             crs=UTM50)
        out = validate_barriers(b)
        assert list(out.columns) == ["kind", "name", "geometry"]
        assert (out["kind"] == "barrier").all()
        assert set(out.geom_type) <= {"LineString", "MultiLineString"}
        assert out.length.iloc[1] == pytest.approx(24)

    def test_points_rejected(self):
        b = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=UTM50)
        _, problems = run(validate_barriers, b)
        only_problem(problems, "barriers.geometry")


# --------------------------------------------------------------------------- all at once


def test_all_problems_of_all_arguments_in_one_error(roads, households):
    problems = Problems()
    bad_roads = roads.copy()
    bad_roads["kind"] = "avenue"
    bad_households = households.copy()
    bad_households.loc["b", "households"] = -1
    communities = gpd.GeoDataFrame(geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)], crs=UTM50)
    coerce_target(-300, 0.2, problems)
    validate_roads(bad_roads, problems=problems)
    validate_households(bad_households, problems=problems)
    validate_communities(communities, problems=problems)
    validate_parcels(gpd.GeoDataFrame({"kind": ["x"]}, geometry=[box(0, 0, 1, 1)]),
                     problems=problems)
    with pytest.raises(InputError) as info:
        problems.raise_if_any()
    arguments = [p.argument for p in info.value.problems]
    assert arguments == ["target", "roads['kind']", "households['households']",
                         "communities['community_id']", "parcels.crs", "parcels['kind']"]
    text = str(info.value)
    assert text.startswith("6 problems with the input:")
    assert text.count("Fix:") == 6
    assert not isinstance(info.value, CRSError)


def test_validators_raise_at_once_without_collector(roads):
    with pytest.raises(InputError, match="roads\\['kind'\\]"):
        validate_roads(roads.assign(kind="avenue"))


def test_problem_rows_are_capped_but_counted():
    pts = gpd.GeoDataFrame({"households": [-1] * 9}, geometry=[Point(0, 0)] * 9, crs=UTM50)
    _, problems = run(validate_households, pts)
    problem = only_problem(problems, "households['households']")
    assert len(problem.rows) == 5 and problem.n_rows == 9
    assert "(and 4 more)" in str(problem)
    assert math.isclose(len(pts), 9)
    assert shapely.is_valid(pts.geometry.iloc[0])
