"""Tests for gridpart.rules.four_limits: four-limit (四至) text, fallbacks, languages, geometry."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gridpart.errors import InputError
from gridpart.geometry.blocks import noded_segments
from gridpart.rules.four_limits import (
    FALLBACK_ZH,
    SIDES,
    check_limits,
    four_limits,
    is_fallback,
    limits_text,
    romanize,
)

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
NAMES = ["学院路", "清华东路", "学清路", "志新西路", "石板房南路", "双泉堡西路",
         "东畔北街", "科荟路", "成府路", "王庄路", "林大北路", "荷清路"]
ZH_PATTERN = re.compile(r"^东至[^，]+，南至[^，]+，西至[^，]+，北至[^，]+$")
EN_PATTERN = re.compile(r"^East: [^;]+; South: [^;]+; West: [^;]+; North: [^;]+$")


def line(x0, y0, x1, y1):
    return shapely.LineString([(X0 + x0, Y0 + y0), (X0 + x1, Y0 + y1)])


def segs(rows) -> gpd.GeoDataFrame:
    """Noded segments from (kind, name, name_en, geometry) rows."""
    df = gpd.GeoDataFrame(pd.DataFrame(rows, columns=["kind", "name", "name_en", "geometry"]),
                          geometry="geometry", crs=CRS)
    return noded_segments(df)


def grids(*geoms) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"grid_id": range(1, len(geoms) + 1)}, geometry=list(geoms), crs=CRS)


def box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def test_every_fallback_and_both_languages():
    s = segs([
        ("street", None, None, line(100, -50, 100, 150)),        # east: unnamed street
        ("community", None, None, line(-50, 0, 150, 0)),          # south: community boundary
        ("lane", None, None, line(0, -50, 0, 150)),               # west: unnamed lane
    ])  # north: nothing at all -> a cut between buildings
    out = four_limits(grids(box(0, 0, 100, 100)), s)
    assert out.loc[0, "limits"] == "东至无名街，南至社区边界，西至无名巷，北至楼栋间"
    assert out.loc[0, "limits_en"] == ("East: unnamed street; South: community boundary; "
                                       "West: unnamed lane; North: between buildings")


def test_unnamed_road_and_limit_fallbacks():
    s = segs([("road", None, None, line(100, -50, 100, 150)), ("limit", None, None, line(-50, 0, 150, 0)),
              ("barrier", None, None, line(0, -50, 0, 150))])
    out = four_limits(grids(box(0, 0, 100, 100)), s)
    assert (out.loc[0, "east"], out.loc[0, "south"], out.loc[0, "west"]) == ("无名路", "辖区边界", "无名界线")


def test_name_en_is_used_where_given_else_pinyin():
    s = segs([("road", "学院路", "Xueyuan Rd (OSM)", line(100, -50, 100, 150)),
              ("street", "清华东路", None, line(-50, 0, 150, 0)),
              ("street", "G6辅路", None, line(0, -50, 0, 150)),
              ("lane", "小月河东畔路", None, line(-50, 100, 150, 100))])
    out = four_limits(grids(box(0, 0, 100, 100)), s)
    assert out.loc[0, "limits"] == "东至学院路，南至清华东路，西至G6辅路，北至小月河东畔路"
    assert out.loc[0, "east_en"] == "Xueyuan Rd (OSM)"
    assert out.loc[0, "south_en"] == "Qinghua East Road"
    assert out.loc[0, "west_en"] == "G6 Side Road"
    assert out.loc[0, "north_en"] == "Xiaoyuehedongpan Road"


@pytest.mark.parametrize("name, en", [
    ("学院路", "Xueyuan Road"), ("清华东路", "Qinghua East Road"), ("东畔北街", "Dongpan North Street"),
    ("长安大街", "Changan Street"), ("京承高速", "Jingcheng Expressway"), ("科荟桥", "Kehui Bridge"),
    ("Main Street", "Main Street"), ("路", "Lu"), ("中国矿业大学（北京）", "Zhongguokuangyedaxue Beijing"),
])
def test_romanize(name, en):
    assert romanize(name) == en


def test_named_road_needs_a_share_of_the_side():
    # east side: 80 m of cut between buildings, 20 m along 学院路
    s = segs([("road", "学院路", None, line(100, 80, 100, 150)), ("lane", None, None, line(-50, 0, 150, 0))])
    # a grid boundary has a vertex where the road it follows ends (atoms are faces of the noded linework)
    g = grids(shapely.Polygon([(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 80), (X0 + 100, Y0 + 100), (X0, Y0 + 100)]))
    # 学院路 runs along 20 m of the side and lies within 15 m of 35 m of it: under half
    assert four_limits(g, s).loc[0, "east"] == "楼栋间"
    assert four_limits(g, s, min_named_share=0.4).loc[0, "east"] == "楼栋间"
    assert four_limits(g, s, min_named_share=0.1).loc[0, "east"] == "学院路"


def test_strips_between_carriageways_do_not_name_a_side():
    # a grid with a 200 m tail: the 8 m strip between two carriageways running north-east of it
    s = segs([("road", "学院路", None, line(100, -50, 100, 350)), ("road", "学院东路", None, line(108, -50, 108, 350))])
    g = grids(shapely.union_all([box(0, 0, 100, 100), box(100, 100, 108, 300)]))
    assert four_limits(g, s).loc[0, "east"] == "学院路"
    assert four_limits(g, s, min_width_m=0).loc[0, "east"] == "学院东路"


def test_triangle_gets_four_sides_and_pattern():
    s = segs([("road", "学院路", None, line(-10, -10, 110, 110))])
    out = four_limits(grids(shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0)])), s)
    assert ZH_PATTERN.match(out.loc[0, "limits"]) and EN_PATTERN.match(out.loc[0, "limits_en"])
    assert out.loc[0, "north"] == "学院路" and out.loc[0, "west"] == "学院路"


def test_index_is_kept_and_empty_input():
    g = grids(box(0, 0, 100, 100), box(100, 0, 200, 100))
    g.index = ["a", "b"]
    out = four_limits(g, segs([("road", "学院路", None, line(100, -50, 100, 150))]))
    assert list(out.index) == ["a", "b"]
    assert out.loc["a", "east"] == "学院路" and out.loc["b", "west"] == "学院路"
    assert len(four_limits(g.iloc[:0], segs([("road", "学院路", None, line(0, 0, 1, 1))]))) == 0


def test_bad_input_names_the_argument():
    g = grids(box(0, 0, 100, 100))
    s = segs([("road", "学院路", None, line(100, -50, 100, 150))])
    with pytest.raises(InputError, match=r"grids.crs.*geographic"):
        four_limits(g.to_crs(4326), s.to_crs(4326))
    with pytest.raises(InputError, match="segments.crs"):
        four_limits(g, s.set_crs(3857, allow_override=True))
    with pytest.raises(InputError) as err:
        four_limits(g, s.drop(columns="kind"), spacing_m=0, min_named_share=2)
    assert all(k in str(err.value) for k in ("segments['kind']", "spacing_m", "min_named_share"))
    with pytest.raises(InputError, match="language"):
        limits_text(pd.DataFrame({s: ["x"] for s in SIDES}), language="fr")


# ---------------------------------------------------------------- properties on road lattices

SIZE = 100.0


@st.composite
def lattice_case(draw):
    """A lattice of named (or unnamed) roads and a random connected set of its cells."""
    n = draw(st.integers(3, 5))
    # every line its own name (or none): a name shared with a line crossing the grid would cross it
    v = [NAMES[i] if draw(st.booleans()) else None for i in range(n + 1)]
    h = [NAMES[6 + j] if draw(st.booleans()) else None for j in range(n + 1)]
    cells = {(draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1)))}
    for _ in range(draw(st.integers(0, 6))):
        i, j = draw(st.sampled_from(sorted(cells)))
        di, dj = draw(st.sampled_from([(1, 0), (-1, 0), (0, 1), (0, -1)]))
        if 0 <= i + di < n and 0 <= j + dj < n:
            cells.add((i + di, j + dj))
    return n, v, h, sorted(cells)


def lattice_segments(n, v, h):
    rows = [("street", v[i], None, line(i * SIZE, -SIZE, i * SIZE, (n + 1) * SIZE)) for i in range(n + 1)]
    rows += [("street", h[j], None, line(-SIZE, j * SIZE, (n + 1) * SIZE, j * SIZE)) for j in range(n + 1)]
    return segs(rows)


@given(lattice_case())
def test_rectangles_name_the_road_on_each_side(case):
    n, v, h, _ = case
    i0, j0 = 0, 0
    i1, j1 = n - 1, n - 2
    out = four_limits(grids(box(i0 * SIZE, j0 * SIZE, i1 * SIZE, j1 * SIZE)), lattice_segments(n, v, h))
    expect = {"east": v[i1], "west": v[i0], "south": h[j0], "north": h[j1]}
    for side, name in expect.items():
        assert out.loc[0, side] == (name if name is not None else FALLBACK_ZH["street"])


@given(lattice_case())
def test_named_sides_run_along_that_side_of_the_grid(case):
    """Checked geometrically: the named road runs along the boundary on that side of the centroid."""
    n, v, h, cells = case
    geom = shapely.union_all([box(i * SIZE, j * SIZE, (i + 1) * SIZE, (j + 1) * SIZE) for i, j in cells])
    s = lattice_segments(n, v, h)
    out = four_limits(grids(geom), s)
    assert ZH_PATTERN.match(out.loc[0, "limits"])
    c = geom.centroid
    direction = {"east": (1, 0), "south": (0, -1), "west": (-1, 0), "north": (0, 1)}
    for side in SIDES:
        label = out.loc[0, side]
        if label in FALLBACK_ZH.values():
            assert label == FALLBACK_ZH["street"]  # every boundary piece is on an unnamed street here
            continue
        road = shapely.union_all(s.loc[s["name"] == label].geometry.values)
        near = shapely.get_parts(shapely.intersection(road, geom.boundary.buffer(0.5)))
        length = shapely.length(near)
        assert length.sum() >= SIZE - 1
        mid = shapely.line_interpolate_point(near, 0.5, normalized=True)
        dx, dy = direction[side]
        along = (shapely.get_x(mid) - c.x) * dx + (shapely.get_y(mid) - c.y) * dy
        assert (length * along).sum() > 0, (side, label)


# ---------------------------------------------------------------- issue 18: 四至 residents understand

def test_named_road_beside_the_side_beats_an_unnamed_line_on_it():
    # BJ 39: an unnamed sidewalk on the boundary, 清华东路 10 m beyond it; BJ 16: a dual
    # carriageway, one named line 12 m inside the street space and an unnamed one on the edge
    s = segs([("lane", None, None, line(-50, 0, 150, 0)), ("road", "清华东路", None, line(-50, -10, 150, -10)),
              ("street", None, None, line(-50, 100, 150, 100)),
              ("street", "石板房南路", None, line(-50, 112, 150, 112))])
    out = four_limits(grids(box(0, 0, 100, 100)), s)
    assert out.loc[0, "south"] == "清华东路" and out.loc[0, "north"] == "石板房南路"
    assert out.loc[0, "south_en"] == "Qinghua East Road"
    # 20 m away is too far: the line on the boundary names it
    s = segs([("lane", None, None, line(-50, 0, 150, 0)), ("road", "清华东路", None, line(-50, -20, 150, -20))])
    assert four_limits(grids(box(0, 0, 100, 100)), s).loc[0, "south"] == "无名巷"


def test_higher_class_then_nearer_named_road():
    # a named lane on the boundary and a named arterial 10 m beyond: the arterial
    s = segs([("lane", "东畔北街", None, line(100, -50, 100, 150)), ("road", "学院路", None, line(110, -50, 110, 150))])
    assert four_limits(grids(box(0, 0, 100, 100)), s).loc[0, "east"] == "学院路"
    # two roads of one class: the nearer
    s = segs([("road", "学院东路", None, line(108, -50, 108, 150)), ("road", "学院路", None, line(100, -50, 100, 150))])
    assert four_limits(grids(box(0, 0, 100, 100)), s).loc[0, "east"] == "学院路"


def test_cross_street_at_a_corner_does_not_name_a_short_side():
    # a 20 m east side on an unnamed street; 科荟路 crosses 5 m north of its end: within 15 m of
    # half the east side but along none of it (it runs along the north side)
    s = segs([("street", None, None, line(100, -50, 100, 150)), ("road", "科荟路", None, line(-50, 25, 150, 25))])
    out = four_limits(grids(box(0, 0, 100, 20)), s)
    assert out.loc[0, "east"] == "无名街"
    assert out.loc[0, "north"] == "科荟路"
    # by distance alone it would name the east side too
    assert four_limits(grids(box(0, 0, 100, 20)), s, max_angle_deg=90).loc[0, "east"] == "科荟路"


def test_a_road_crossing_the_grid_names_no_side():
    # BJ 12: 科荟桥 runs along the north edge for 100 m, then turns and runs 60 m through the grid
    bridge = shapely.LineString([(X0 - 50, Y0 + 100), (X0 + 50, Y0 + 100), (X0 + 50, Y0 + 40)])
    s = segs([("road", "科荟桥", None, bridge), ("street", None, None, line(-50, 100, 150, 100))])
    out = four_limits(grids(box(0, 0, 100, 100)), s)
    assert out.loc[0, "north"] == "无名街"
    assert four_limits(grids(box(0, 0, 100, 100)), s, max_inside_m=100).loc[0, "north"] == "科荟桥"
    # the check agrees: 科荟桥 lies inside the shrunk grid
    forced = out.assign(north="科荟桥")
    row = check_limits(grids(box(0, 0, 100, 100)), s, forced).set_index("side").loc["north"]
    assert not row["passes"] and row["inside_m"] >= 20


def test_community_boundary_names_the_neighbour_or_the_edge():
    s = segs([("community", None, None, line(100, -50, 100, 150)), ("limit", None, None, line(-50, 0, 150, 0))])
    g = gpd.GeoDataFrame({"community_id": ["a", "b"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS)
    comm = gpd.GeoDataFrame({"community_id": ["a", "b"], "name": ["荷清苑社区", "石板房"]},
                            geometry=[box(-50, -50, 100, 150), box(100, -50, 250, 150)], crs=CRS)
    out = four_limits(g, s, communities=comm)
    assert out.loc[0, "east"] == "与石板房社区交界" and out.loc[1, "west"] == "与荷清苑社区交界"
    assert out.loc[0, "south"] == "辖区边界" and out.loc[0, "south_en"] == "edge of the area"
    assert out.loc[0, "east_en"] == "border with Shibanfang Community"
    # without a layer, the grids' own communities (named by id)
    assert four_limits(g, s).loc[0, "east"] == "与b号社区交界"
    assert all(is_fallback(x) for x in ("与石板房社区交界", "辖区边界", "楼栋间（邻静淑苑）", "无名巷"))


def atoms_two_blocks():
    """Block 1 (0..100) is cut into two cells of compound 静淑苑 (x < 50) and 荷清苑 (x > 50);
    block 2 (100..200) is a plain block; a lane runs between them."""
    return gpd.GeoDataFrame({"atom_id": [0, 1, 2], "block_id": [1, 1, 2], "parcel_name": ["静淑苑", "荷清苑", None]},
                            geometry=[box(0, 0, 50, 100), box(50, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS)


def test_between_buildings_only_inside_a_block_and_with_a_landmark():
    s = segs([("street", None, None, line(-50, 0, 250, 0)), ("street", None, None, line(-50, 100, 250, 100)),
              ("street", None, None, line(0, -50, 0, 150))])
    g = grids(box(0, 0, 50, 100), box(50, 0, 200, 100))
    a = atoms_two_blocks()
    out = four_limits(g, s, atoms=a)
    assert out.loc[0, "east"] == "楼栋间（邻荷清苑）" and out.loc[1, "west"] == "楼栋间（邻静淑苑）"
    assert out.loc[0, "east_en"] == "between buildings (next to Heqingyuan)"
    # the east end of grid 1 (x = 200) is along no line and beyond it is nothing: the edge, not a cut
    assert out.loc[1, "east"] == "辖区边界"
    # a cut whose atoms have no name takes a named parcel's name
    parcels = gpd.GeoDataFrame({"name": ["中国农业大学东校区"]}, geometry=[box(40, -10, 110, 110)], crs=CRS)
    out = four_limits(g, s, atoms=a.assign(parcel_name=None), parcels=parcels)
    assert out.loc[0, "east"] == "楼栋间（邻中国农业大学东校区）"
    # without atoms: the old plain label
    assert four_limits(g, s).loc[0, "east"] == "楼栋间"


def test_limits_loose_flags_rings_and_snakes():
    s = segs([("street", NAMES[i], None, line(x, -50, x, 250)) for i, x in enumerate((0, 200))]
             + [("street", NAMES[2 + j], None, line(-50, y, 250, y)) for j, y in enumerate((0, 200))])
    ring = box(0, 0, 200, 200).difference(box(20, 20, 180, 180))
    out = four_limits(grids(box(0, 0, 200, 200), ring), s)
    assert out["limits"].iloc[0] == out["limits"].iloc[1]  # the same four roads ...
    assert out["limits_loose"].tolist() == [False, True]  # ... describe far more than the ring
    assert "times the grid's area" in out.loc[1, "limits_loose_reason"] and out.loc[0, "limits_loose_reason"] == ""
    assert out.loc[1, "limits_area_ratio"] == pytest.approx(1 - 160**2 / 200**2)


@st.composite
def offset_case(draw):
    """A 100 x 100 grid whose four sides are named roads lying 0-14 m beside the boundary (either
    way), each with an unnamed sidewalk line exactly on the boundary."""
    offsets = [draw(st.floats(-14, 14)) for _ in SIDES]
    return offsets


@given(offset_case())
def test_named_roads_within_15_m_name_every_side(offsets):
    e, s_, w, n = offsets
    rows = [("lane", None, None, line(100, -50, 100, 150)), ("lane", None, None, line(-50, 0, 150, 0)),
            ("lane", None, None, line(0, -50, 0, 150)), ("lane", None, None, line(-50, 100, 150, 100)),
            ("road", NAMES[0], None, line(100 + e, -50, 100 + e, 150)),
            ("street", NAMES[1], None, line(-50, s_, 150, s_)),
            ("street", NAMES[2], None, line(w, -50, w, 150)),
            ("road", NAMES[3], None, line(-50, 100 + n, 150, 100 + n))]
    g = grids(box(0, 0, 100, 100))
    s = segs(rows)
    out = four_limits(g, s)
    assert [out.loc[0, side] for side in SIDES] == NAMES[:4]
    checks = check_limits(g, s, out)
    assert checks["passes"].all() and not checks["misses"].any()


@given(lattice_case())
def test_named_sides_pass_the_geometric_check(case):
    n, v, h, cells = case
    geom = shapely.union_all([box(i * SIZE, j * SIZE, (i + 1) * SIZE, (j + 1) * SIZE) for i, j in cells])
    s = lattice_segments(n, v, h)
    out = four_limits(grids(geom), s)
    checks = check_limits(grids(geom), s, out)
    assert checks["passes"].all()


def test_a_line_of_unknown_kind_labels_nothing():
    # a centreline of street space with a kind of its own on the boundary; the street 8 m away names it
    s = segs([("median", None, None, line(-50, 0, 150, 0)), ("street", None, None, line(-50, -8, 150, -8))])
    assert four_limits(grids(box(0, 0, 100, 100)), s).loc[0, "south"] == "无名街"
