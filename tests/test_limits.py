"""Tests for gridpart.limits: four-limit (四至) text, fallbacks, languages, geometry."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st

from gridpart.blocks import noded_segments
from gridpart.errors import InputError
from gridpart.limits import FALLBACK_ZH, SIDES, four_limits, limits_text, romanize

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
    assert four_limits(g, s).loc[0, "east"] == "楼栋间"  # 20 % < 25 %: the longest label wins
    assert four_limits(g, s, min_named_share=0.3).loc[0, "east"] == "楼栋间"
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
