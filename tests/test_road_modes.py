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
