"""Roads given as block polygons or as road surfaces (``roads_are``), end to end."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

import gridpart as gp
from gridpart.datasets.synthetic import synthetic_city
from gridpart.testing import assert_valid_plan


@pytest.fixture(scope="module")
def city():
    roads, households, _ = synthetic_city(4_000, seed=5)
    return roads, households


def _user_blocks(roads) -> gpd.GeoDataFrame:
    """The faces of the road lines: a blocks layer whose neighbours share edges."""
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(roads.geometry.values))))
    return gpd.GeoDataFrame({"name": [f"block {i}" for i in range(len(faces))]}, geometry=faces, crs=roads.crs)


@pytest.mark.parametrize("gap_m", [0.0, 3.0])
def test_each_given_block_stays_a_block(city, gap_m):
    roads, households = city
    blocks = _user_blocks(roads)
    if gap_m:  # road space between the blocks, shared out among them
        blocks = blocks.set_geometry(blocks.buffer(-gap_m))
    area = shapely.union_all(_user_blocks(roads).geometry.values)
    inside = households[households.within(area)]
    plan = gp.partition(blocks, inside, roads_are="blocks", study_area=area, time_limit=5)
    assert_valid_plan(plan, inside)
    atoms = plan.blocks.to_crs(blocks.crs)
    assert atoms["block_id"].nunique() == len(blocks)
    # a block that is not cut into building cells is the given polygon (plus its share of the gap)
    # (the gap is shared along its middle: the original face again)
    whole = atoms[~atoms["is_cell"]]
    faces = _user_blocks(roads).geometry.values
    i, j = shapely.STRtree(faces).query(shapely.point_on_surface(whole.geometry.values), predicate="within")
    assert len(np.unique(i)) == len(whole)
    got, face = shapely.area(whole.geometry.values[i]), shapely.area(faces[j])
    assert got == pytest.approx(face, rel=0.02 if gap_m else 1e-6)


def test_road_surfaces_give_the_blocks_between_them(city):
    roads, households = city
    faces = _user_blocks(roads)
    surfaces = gpd.GeoDataFrame({"kind": roads["kind"], "name": roads["name"]},
                                geometry=roads.buffer(4.0), crs=roads.crs)
    area = shapely.union_all(faces.geometry.values)
    inside = households[households.within(area)]
    plan = gp.partition(surfaces, inside, roads_are="surfaces", study_area=area, time_limit=5)
    assert_valid_plan(plan, inside)
    # one block per block the centrelines give (lanes a hair short of a road close, as for lines)
    lines = gp.partition(roads, inside, study_area=area, time_limit=5)
    assert plan.blocks["block_id"].nunique() == lines.blocks["block_id"].nunique()
    # the blocks meet along the middle of the roads: about the same blocks as the centrelines give
    a = plan.blocks.dissolve("block_id").area.sort_values().to_numpy()
    b = lines.blocks.dissolve("block_id").area.sort_values().to_numpy()
    assert a == pytest.approx(b, rel=0.1)
    named = plan.grids["limits"].str.contains("|".join(roads["name"].dropna().unique()[:50]))
    assert named.any()  # boundaries are named by the road surface they run in


def _big_blocks(*, n_cells=40, keep=16, road_m=0.0, seed=3):
    """``keep`` random Voronoi cells of a 100 km square (10-50 km across), one household point in each."""
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, 100_000, 100_000)
    seeds = shapely.multipoints(rng.uniform(0, 100_000, size=(n_cells, 2)))
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds, extend_to=box, ordered=True)), box)
    cells = shapely.segmentize(cells, 200.0)  # long boundaries with many vertices, like drawn ones
    cells = cells[np.sort(rng.choice(len(cells), size=keep, replace=False))]
    if road_m:
        cells = shapely.buffer(cells, -road_m)
    blocks = gpd.GeoDataFrame({"name": [f"b{i}" for i in range(keep)]}, geometry=cells, crs=32650)
    households = gpd.GeoDataFrame({"households": rng.integers(2_000, 6_000, size=keep)},
                                  geometry=shapely.point_on_surface(cells), crs=32650)
    return blocks, households


@pytest.mark.parametrize("road_m", [0.0, 20.0])
def test_large_block_polygons_without_a_study_area(monkeypatch, road_m):
    # issue 17 item 3: the gaps between large blocks and the default study area were
    # shared out by a Voronoi diagram of points every 5 m along every block boundary
    # (millions of points, > 10 min, 3 GB).  The seeds must follow the gaps instead.
    blocks, households = _big_blocks(road_m=road_m)
    assert (blocks.bounds["maxx"] - blocks.bounds["minx"]).between(9_000, 50_000).all()
    seeds = []
    voronoi = shapely.voronoi_polygons

    def counting(geometry, *args, **kwargs):
        seeds.append(int(shapely.get_num_geometries(geometry)))
        return voronoi(geometry, *args, **kwargs)

    monkeypatch.setattr(shapely, "voronoi_polygons", counting)
    plan = gp.partition(blocks, households, roads_are="blocks", target=(20_000, 40_000), time_limit=5)
    assert_valid_plan(plan, households)
    assert plan.blocks["block_id"].nunique() == len(blocks)
    perimeter = blocks.boundary.length.sum()
    assert sum(seeds) < perimeter / 5.0 / 4, "seeds every 5 m along the block boundaries"
