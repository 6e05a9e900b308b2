"""Tests for gridpart.geometry.blocks: faces of the road network, attaching households, building cells."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms_and_edges, cities, community_strip_case, study_box

from gridpart.datasets.synthetic import synthetic_city
from gridpart.geometry.blocks import attach_households, blocks_from_roads, close_undershoots, split_big_blocks

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0


def _roads(lines, kinds=None, names=None) -> gpd.GeoDataFrame:
    n = len(lines)
    return gpd.GeoDataFrame(
        {"kind": kinds or ["street"] * n, "name": pd.Series(names or [None] * n, dtype=object)},
        geometry=[shapely.LineString(np.asarray(c, dtype=float) + (X0, Y0)) for c in lines],
        crs=CRS,
    )


def _box(x0, y0, x1, y1):
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def _points(xy, counts=None) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float) + (X0, Y0)
    return gpd.GeoDataFrame({"households": counts or [1] * len(xy)}, geometry=shapely.points(xy), crs=CRS)


def assert_tiles(polys, area_of, *, rel=1e-6, snap_m=0.01):
    """``polys`` cover ``area_of`` exactly once: the areas add up and nothing overlaps.

    Street space shared between blocks is dissolved on a ``snap_m`` grid, so
    the sums may differ by up to half the snap along every boundary.
    """
    polys = np.asarray(polys, dtype=object)
    assert shapely.is_valid(polys).all()
    total = shapely.area(polys).sum()
    union = shapely.union_all(polys).area
    slack = snap_m / 2 * shapely.length(polys).sum()
    assert total == pytest.approx(area_of, rel=rel, abs=slack), "pieces do not add up to the whole"
    assert union == pytest.approx(total, rel=rel, abs=slack), "pieces overlap"


# --------------------------------------------------------------------------- faces


@given(cities(communities=st.just(0)))
def test_faces_tile_the_limit(city):
    limit = study_box(city.roads)
    b = blocks_from_roads(city.roads, limit=limit)
    assert len(b.blocks) >= 1
    assert_tiles(b.blocks.geometry.values, limit.area)
    assert b.blocks["block_id"].tolist() == list(range(len(b.blocks)))
    assert b.blocks["area_m2"].to_numpy() == pytest.approx(b.blocks.area.to_numpy())
    assert b.blocks.crs == city.roads.crs
    # every noded piece keeps a class
    assert set(b.segments["kind"]) <= {"road", "street", "lane", "limit"}


def test_faces_tile_a_synthetic_district():
    roads, _, comm = synthetic_city(8_000, seed=9, communities=3)
    limit = shapely.union_all(comm.geometry.values)
    b = blocks_from_roads(roads, limit=limit, communities=comm)
    assert len(b.blocks) > 100
    assert_tiles(b.blocks.geometry.values, limit.area)


def test_slivers_between_carriageways_are_merged():
    # a dual carriageway: two lines 3 m apart, crossed by a street
    roads = _roads([[(0, 98.5), (300, 98.5)], [(0, 101.5), (300, 101.5)], [(150, 0), (150, 200)]],
                   kinds=["road", "road", "street"], names=["学院路", "学院路", "成府街"])
    limit = _box(0, 0, 300, 200)
    b = blocks_from_roads(roads, limit=limit, min_width_m=4.0, min_area_m2=150.0)
    assert len(b.blocks) == 4
    assert_tiles(b.blocks.geometry.values, limit.area)
    area = b.blocks.area.to_numpy()
    width = 2 * area / b.blocks.geometry.exterior.length.to_numpy()
    assert (area >= 150).all() and (width >= 4).all()


def test_a_chain_of_slivers_ends_in_a_big_block():
    # three parallel lines 2 m apart: two slivers side by side
    roads = _roads([[(0, 98), (200, 98)], [(0, 100), (200, 100)], [(0, 102), (200, 102)]])
    limit = _box(0, 0, 200, 200)
    b = blocks_from_roads(roads, limit=limit)
    assert len(b.blocks) == 2
    assert_tiles(b.blocks.geometry.values, limit.area)


@given(cities(communities=st.integers(1, 3)))
def test_blocks_nest_in_communities(city):
    comm = city.communities
    limit = shapely.union_all(comm.geometry.values)
    b = blocks_from_roads(city.roads, limit=limit, communities=comm)
    assert_tiles(b.blocks.geometry.values, limit.area)
    assert set(b.blocks["community_id"]) <= set(comm["community_id"])
    geom_of = dict(zip(comm["community_id"], comm.geometry.values))
    for cid, group in b.blocks.groupby("community_id"):
        community = geom_of[cid]
        inside = shapely.area(shapely.intersection(group.geometry.values, community))
        # (blocks grown over street space are snapped to a 1 cm grid)
        slack = np.maximum(1e-3, 0.005 * shapely.length(group.geometry.values))
        assert (np.abs(inside - shapely.area(group.geometry.values)) <= slack + 1e-6 * inside).all()
        # the blocks of a community cover it (street space is dissolved on a 1 cm grid)
        assert group.area.sum() == pytest.approx(community.area, rel=1e-6, abs=0.005 * group.length.sum())
    # canonical order: by community, ids 0..n-1
    assert b.blocks["community_id"].is_monotonic_increasing
    assert b.blocks["block_id"].tolist() == list(range(len(b.blocks)))


def test_slivers_do_not_cross_community_boundaries():
    roads, comm = community_strip_case()
    limit = shapely.union_all(comm.geometry.values)
    blocks = blocks_from_roads(roads, limit=limit, communities=comm).blocks
    assert_tiles(blocks.geometry.values, limit.area)
    geom_of = dict(zip(comm["community_id"], comm.geometry.values))
    for cid, geom in zip(blocks["community_id"], blocks.geometry.values):
        assert geom.area - shapely.intersection(geom, geom_of[cid]).area < 1e-6


def test_block_order_does_not_depend_on_road_order():
    roads, _, _ = synthetic_city(3_000, seed=12)
    limit = shapely.box(*roads.total_bounds)
    a = blocks_from_roads(roads, limit=limit).blocks
    b = blocks_from_roads(roads.sample(frac=1.0, random_state=3), limit=limit).blocks
    assert len(a) == len(b)
    assert np.allclose(a["area_m2"], b["area_m2"])
    assert shapely.equals_exact(shapely.normalize(a.geometry.values), shapely.normalize(b.geometry.values),
                                tolerance=1e-6).all()


@pytest.mark.parametrize("shape", ["circle", "rotated_square"])
def test_roads_crossing_a_round_limit_still_bound_blocks(shape):
    import shapely.affinity

    centre = shapely.Point(X0, Y0)
    limit = (shapely.buffer(centre, 100) if shape == "circle"
             else shapely.affinity.rotate(_box(-100, -100, 100, 100), 17, origin=centre))
    counts = []
    for t in range(1, 11):  # a few positions of the cross
        dx, dy = 0.53 * t, 0.37 * t
        roads = _roads([[(-500, 3.3 + dy), (500, 13.7 + dy)], [(2.1 + dx, -500), (-7.9 + dx, 500)]])
        b = blocks_from_roads(roads, limit=limit)
        assert_tiles(b.blocks.geometry.values, limit.area)
        counts.append(len(b.blocks))
    assert counts == [4] * 10


# --------------------------------------------------------------------------- attaching households


@pytest.fixture
def cross():
    """A cross of two roads in a 100 m box: four blocks 0..3."""
    roads = _roads([[(50, 0), (50, 100)], [(0, 50), (100, 50)]], kinds=["road", "street"], names=["学院路", "成府街"])
    limit = _box(0, 0, 100, 100)
    return roads, limit, blocks_from_roads(roads, limit=limit).blocks


def test_points_on_a_centreline_attach_to_one_block(cross):
    _, _, blocks = cross
    hh = _points([(50, 25), (50, 75), (25, 50), (50, 50), (30, 30)])
    hh.index = pd.Index([10, 20, 30, 40, 50])
    ids, reasons = attach_households(hh, blocks, id_col="block_id")
    assert ids.index.equals(hh.index) and ids.notna().all()
    assert (reasons == "").all()
    for label, pt in zip(hh.index, hh.geometry):
        touching = blocks.loc[blocks.intersects(pt), "block_id"]
        assert len(touching) >= 2 or label == 50
        # the smallest id among the blocks the point touches
        assert ids[label] == touching.min()


def test_points_far_outside_are_left_with_a_reason(cross):
    _, _, blocks = cross
    hh = _points([(25, 25), (110, 50), (5_000, 5_000)])
    ids, reasons = attach_households(hh, blocks, id_col="block_id", snap_m=30.0)
    assert ids.iloc[0] is not pd.NA and ids.iloc[1] is not pd.NA  # inside, and 10 m outside: snapped
    assert ids.isna().tolist() == [False, False, True]
    assert reasons.iloc[2] != "" and "outside" in reasons.iloc[2]
    assert (reasons.iloc[:2] == "").all()


def test_dead_end_streets_do_not_lose_houses():
    # a box with a middle street, and a dead-end lane into the west half
    roads = _roads([[(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)], [(100, 0), (100, 100)],
                    [(50, 0), (50, 60)]], kinds=["street", "street", "lane"])
    limit = _box(0, 0, 200, 100)
    b = blocks_from_roads(roads, limit=limit)
    assert len(b.blocks) == 2  # the dead end splits nothing
    assert_tiles(b.blocks.geometry.values, limit.area)
    # houses on both sides of the dead end, at its tip and on it
    hh = _points([(45, 30), (55, 30), (50, 61), (50, 40), (150, 50)], counts=[5, 6, 7, 8, 9])
    ids, _ = attach_households(hh, b.blocks, id_col="block_id")
    assert ids.notna().all()
    west = ids.iloc[:4].unique()
    assert len(west) == 1 and west[0] != ids.iloc[4]


# --------------------------------------------------------------------------- building cells


def _big_block_case(roads, households, limit, target):
    blocks, _, hh, atoms, _ = atoms_and_edges(roads, households, limit=limit, target=target)
    return blocks, hh, atoms


def _check_cells(blocks, hh, atoms, hi):
    big = blocks[blocks["households"] > hi]
    geom_of = dict(zip(blocks["block_id"], blocks.geometry.values))
    # atoms tile the blocks: whole blocks stay, big blocks are cut into cells
    assert_tiles(atoms.geometry.values, blocks.area.sum())
    assert atoms["atom_id"].tolist() == list(range(len(atoms)))
    for bid, cells in atoms.groupby("block_id"):
        is_big = bid in set(big["block_id"])
        assert (cells["is_cell"] == is_big).all()
        assert_tiles(cells.geometry.values, geom_of[bid].area)
        # every cell is one piece
        assert (shapely.get_num_geometries(shapely.make_valid(cells.geometry.values)) == 1).all()
        assert set(cells.geom_type) == {"Polygon"}
    placed = hh[hh["block_id"].notna()]
    assert placed["atom_id"].notna().all()
    # the cell of a household lies in the household's block
    atom_block = dict(zip(atoms["atom_id"], atoms["block_id"]))
    assert (placed["atom_id"].astype(int).map(atom_block) == placed["block_id"].astype(int)).all()
    # a household lies in its cell (one snapped into its block from outside: a cell of that block, above)
    geo = atoms.set_index("atom_id").geometry
    pts = placed.geometry.values
    own = shapely.distance(pts, geo.reindex(placed["atom_id"].astype(int)).values)
    in_block = shapely.intersects(pts, np.array([geom_of[b] for b in placed["block_id"].astype(int)]))
    assert (own[in_block] < 1e-6).all()
    # households at one point share a cell
    xy = shapely.get_coordinates(placed.geometry.values).round(3)
    per_point = pd.Series(placed["atom_id"].to_numpy()).groupby([xy[:, 0], xy[:, 1]]).nunique()
    assert (per_point == 1).all()
    # conserved: per block, per atom
    assert atoms["households"].sum() == pytest.approx(placed["households"].sum())
    per_block = atoms.groupby("block_id")["households"].sum()
    assert per_block.reindex(blocks["block_id"]).to_numpy() == pytest.approx(blocks["households"].to_numpy())


def test_split_big_blocks_on_a_synthetic_district():
    roads, households, _ = synthetic_city(6_000, seed=21)
    blocks, hh, atoms = _big_block_case(roads, households, shapely.box(*roads.total_bounds), 300)
    assert (blocks["households"] > 360).sum() >= 3
    assert atoms["is_cell"].sum() > (blocks["households"] > 360).sum()
    _check_cells(blocks, hh, atoms, 360)


@given(cities(communities=st.just(0), target=st.integers(30, 60), max_points=30))
def test_split_big_blocks_properties(city):
    _, hi = city.band
    blocks, hh, atoms = _big_block_case(city.roads, city.households, study_box(city.roads), city.target)
    _check_cells(blocks, hh, atoms, hi)


def test_households_at_one_point_stay_in_one_cell():
    roads = _roads([[(0, 0), (300, 0), (300, 200), (0, 200), (0, 0)]])
    limit = _box(0, 0, 300, 200)
    # 12 buildings, two rows at the same spot for each, 40 households a row
    xy = [(20 + 25 * i, 50 + 100 * (i % 2)) for i in range(12)]
    hh = _points(xy + xy, counts=[40] * 24)
    blocks, hh2, atoms = _big_block_case(roads, hh, limit, 300)
    assert len(blocks) == 1 and atoms["is_cell"].all() and len(atoms) > 1
    _check_cells(blocks, hh2, atoms, 360)
    first, second = hh2["atom_id"].iloc[:12].to_numpy(), hh2["atom_id"].iloc[12:].to_numpy()
    assert (first == second).all()


def test_a_household_snapped_into_a_big_block_from_outside_is_kept():
    # one 200 x 100 m block; a row of buildings along its south edge and one 12 m outside it
    roads = _roads([[(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)]])
    limit = _box(0, 0, 200, 100)
    hh = _points([(10, 3), (50, 3), (90, 3), (50, 40), (50, -12), (150, 75)], counts=[150, 150, 150, 150, 5, 100])
    blocks, hh2, atoms = _big_block_case(roads, hh, limit, 300)
    assert len(blocks) == 1 and atoms["is_cell"].all()
    _check_cells(blocks, hh2, atoms, 360)
    assert hh2["atom_id"].notna().all()
    # the building outside keeps the piece of the block nearest to it
    outside = hh2.geometry.values[4]
    cell = atoms.set_index("atom_id").geometry.loc[int(hh2["atom_id"].iloc[4])]
    assert cell.distance(outside) == pytest.approx(min(g.distance(outside) for g in atoms.geometry), abs=1e-6)


def test_split_big_blocks_returns_the_households_index():
    roads, households, _ = synthetic_city(2_000, seed=2)
    households.index = households.index * 3 + 5
    blocks, _, _ = _big_block_case(roads, households, shapely.box(*roads.total_bounds), 100)
    ids, _ = attach_households(households, blocks, id_col="block_id")
    hh = households.assign(block_id=ids)
    atoms, hh_atom = split_big_blocks(blocks, hh, max_households=120, target=100)
    assert hh_atom.index.equals(hh.index)
    assert hh_atom.notna().all()


# --------------------------------------------------------------------------- undershoots


@pytest.mark.parametrize("gap", [1e-8, 1e-4, 0.3])
def test_a_t_junction_a_hair_short_still_closes_its_blocks(gap):
    # reprojection and GCJ-02 round trips leave T-junctions a hair short of the
    # crossing road; before the fix the stem was a dangle and two blocks were one
    roads = _roads([[(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)], [(100, 0), (100, 100 - gap)]])
    b = blocks_from_roads(roads, limit=_box(0, 0, 200, 100))
    assert len(b.blocks) == 2
    assert b.blocks["area_m2"].sum() == pytest.approx(20_000)


def test_a_reprojected_network_keeps_its_blocks():
    lines = [[(0, 0), (450, 0), (450, 200), (0, 200), (0, 0)], [(150, 0), (150, 200)], [(300, 0), (300, 200)],
             [(0, 100), (450, 100)]]
    roads = _roads(lines)
    from gridpart.inputs.coords import from_wgs84, to_wgs84

    ll = roads.to_crs("EPSG:4326")
    round_trip = ll.set_geometry(to_wgs84(from_wgs84(ll.geometry.values, "bd09"), "bd09"), crs=ll.crs)
    for layer in (ll, round_trip):
        # six blocks; the 10 m ring between the network and the limit is street space, shared among them
        assert len(blocks_from_roads(layer.to_crs(CRS), limit=_box(-10, -10, 460, 210)).blocks) == 6
        # kept as a block of its own when street space is not shared
        assert len(blocks_from_roads(layer.to_crs(CRS), limit=_box(-10, -10, 460, 210),
                                     street_width_m=0).blocks) == 6 + 1


RING = [(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)]


def test_a_real_dead_end_stays_a_dead_end():
    # (issue 18 item 5 changed this rule: a dead end 5 m short of a road in its direction is
    # now joined, unless a household stands in the way; one farther than GAP_M stays)
    cul_de_sac = _roads([RING, [(100, 0), (100, 95)]])
    assert len(close_undershoots(cul_de_sac, households=_points([(100, 97)]))) == 2
    far = _roads([RING, [(100, 0), (100, 60)]])  # 40 m short
    assert len(blocks_from_roads(far, limit=_box(0, 0, 200, 100)).blocks) == 1
    assert len(close_undershoots(far)) == 2


def test_a_t_that_stops_20_m_short_closes_its_block():
    # issue 18 item 5: gaps in the road file left superblocks cut between buildings
    roads = _roads([RING, [(100, 0), (100, 80)]])
    b = blocks_from_roads(roads, limit=_box(0, 0, 200, 100))
    assert len(b.blocks) == 2
    assert b.blocks["area_m2"].to_numpy() == pytest.approx([10_000, 10_000])


def test_close_gaps_joins_in_the_line_s_direction_and_reports_the_rest():
    from gridpart.geometry.blocks import close_gaps

    lines = _roads([
        RING,
        [(40, 0), (40, 80)],                 # in line with the ring's top, 20 m short: joined straight
        [(100, 0), (100, 50), (130, 79)],    # turns 45° off the top, 21 m from it: left open
        [(160, 100), (160, 40)],             # 40 m short of the bottom: left open
        [(10, 30), (10, 50)],                # 10 m beside the left side, which is not ahead: left open
    ])
    joined, dead = close_gaps(lines, households=_points([(150, 6)]))
    dead = dead.set_index(["line", dead.geometry.x.round() - X0])
    assert dead.loc[(1, 40), "closed"] and dead.loc[(1, 40), "gap_m"] == pytest.approx(20)
    assert not dead.loc[(3, 160), "closed"] and dead.loc[(3, 160), "reason"] == "farther than max_gap_m"
    assert dead.loc[(2, 130), "reason"] == "not in the line's direction"
    assert (dead.loc[4, "reason"] == "not in the line's direction").all()
    assert dead["closed"].sum() == 1
    assert len(joined) == len(lines) + int(dead["closed"].sum())
    # a join is a straight piece from the end to the line it meets, with its line's attributes
    extra = joined.iloc[len(lines):]
    assert extra.geometry.length.max() <= 25.1
    # a household in the way keeps a cul-de-sac open
    _, dead2 = close_gaps(_roads([RING, [(150, 100), (150, 20)]]), households=_points([(150, 10)]))
    assert dead2["reason"].tolist() == ["a household in the way"]
    # the same without households: joined
    _, dead3 = close_gaps(_roads([RING, [(150, 100), (150, 20)]]))
    assert dead3["closed"].tolist() == [True]


def _lattice_with_margin(households_in_margin=0, communities=("1",)):
    cells = [shapely.box(100 * i, 100 * j, 100 * i + 100, 100 * j + 100) for i in range(4) for j in range(4)]
    ring = shapely.box(-50, -50, 450, 450).difference(shapely.box(0, 0, 400, 400))
    comm = [communities[0] if i < 2 or len(communities) == 1 else communities[1] for i in range(4) for _ in range(4)]
    return gpd.GeoDataFrame({"block_id": range(17), "community_id": comm + [communities[0]],
                             "households": [10] * 16 + [households_in_margin], "area_m2": 0.0},
                            geometry=cells + [ring], crs=32650)


def test_an_empty_margin_touching_many_blocks_is_shared_out_among_them():
    from gridpart.geometry.blocks import absorb_hubs

    blocks = _lattice_with_margin()
    out = absorb_hubs(blocks)
    assert 16 not in set(out["block_id"]) and len(out) == 16
    assert out.area.sum() == pytest.approx(blocks.area.sum())
    assert out.geometry.union_all().equals_exact(shapely.box(-50, -50, 450, 450), 1e-6) or \
        out.geometry.union_all().symmetric_difference(shapely.box(-50, -50, 450, 450)).area < 1e-6
    assert (out.geom_type == "Polygon").all() and out.is_valid.all()
    # every edge block grew to the edge of the area; the inner four did not change
    grown = out.area.to_numpy() > 10_000 + 1e-6
    edge = np.array([i in (0, 3) or j in (0, 3) for i in range(4) for j in range(4)])
    assert (grown == edge).all()
    assert (out["area_m2"] == out.area).all()


def test_a_margin_with_households_or_few_neighbours_stays():
    from gridpart.geometry.blocks import absorb_hubs

    assert len(absorb_hubs(_lattice_with_margin(households_in_margin=5))) == 17
    assert len(absorb_hubs(_lattice_with_margin(), min_neighbours=13)) == 17


def test_a_margin_is_shared_only_within_its_community():
    from gridpart.geometry.blocks import absorb_hubs

    # the margin belongs to A and touches six of A's blocks (and six of B's)
    out = absorb_hubs(_lattice_with_margin(communities=("A", "B")), min_neighbours=6)
    assert 16 not in set(out["block_id"])
    grown = (out.set_index("block_id").area > 10_000 + 1e-6).reindex(range(16))
    assert grown[[0, 1, 2, 3, 4, 7]].all() and not grown[[b for b in range(16) if b >= 8]].any()
    assert out.area.sum() == pytest.approx(_lattice_with_margin().area.sum())


# --------------------------------------------------------------------------- street space


def _dual_carriageway(width):
    """学院路 as two carriageways ``width`` m apart (y = 100 ± width/2), a lane
    crossing it, households in the four land blocks."""
    roads = _roads([[(0, 100 - width / 2), (300, 100 - width / 2)], [(0, 100 + width / 2), (300, 100 + width / 2)],
                    [(150, 0), (150, 200)]],
                   kinds=["road", "road", "lane"], names=["学院路", "学院路", None])
    hh = _points([(75, 40), (225, 40), (75, 160), (225, 160)])
    return roads, hh


@pytest.mark.parametrize("width", [6.0, 12.0, 18.0])
def test_a_median_is_street_space_shared_by_the_blocks_beside_it(width):
    roads, hh = _dual_carriageway(width)
    limit = _box(0, 0, 300, 200)
    b = blocks_from_roads(roads, limit=limit, households=hh.geometry.values)
    # four land blocks, no median strip of their own: before, the median (wider than a
    # sliver) was a block joining all four
    assert len(b.blocks) == 4
    assert_tiles(b.blocks.geometry.values, limit.area)
    # they meet along the middle of the road
    north = b.blocks[b.blocks.geometry.centroid.y > Y0 + 100]
    assert shapely.area(north.geometry.values).sum() == pytest.approx(300 * 100, rel=1e-3)
    # and that boundary is 学院路, a road, for the adjacency and the four limits
    from gridpart.geometry.adjacency import atom_edges

    atoms = b.blocks.rename(columns={"block_id": "atom_id"}).assign(block_id=lambda d: d["atom_id"])
    edges = atom_edges(atoms, b.segments)
    across = edges[edges["kind"] == "road"]
    assert len(across) == 2
    assert set(across["name"]) == {"学院路"}
    assert across["road_m"].to_numpy() == pytest.approx([150, 150], abs=10.0)  # corners: seeds every 5 m
    # the lane between west and east stays a lane (a metre or two where it crosses a carriageway aside)
    along_lane = edges[edges["kind"] == "lane"]
    assert len(along_lane) == 2 and (along_lane["road_m"] < 5).all()


def test_a_narrow_face_with_households_is_land():
    roads, hh = _dual_carriageway(12.0)
    hh = pd.concat([hh, _points([(75, 100)])], ignore_index=True)  # someone lives on the west median
    b = blocks_from_roads(roads, limit=_box(0, 0, 300, 200), households=hh.geometry.values)
    # four blocks and the west median; the empty east median is shared out
    assert len(b.blocks) == 5
    assert shapely.box(X0 + 1, Y0 + 95, X0 + 149, Y0 + 105).within(shapely.union_all(
        b.blocks.geometry.values[shapely.contains(b.blocks.geometry.values, shapely.Point(X0 + 75, Y0 + 100))]))


def test_a_wide_empty_park_is_not_street_space():
    from gridpart.geometry.blocks import street_space

    faces = np.array([shapely.box(0, 0, 120, 90), shapely.box(0, 0, 400, 10)])
    assert street_space(faces).tolist() == [False, True]


def test_street_space_can_be_kept():
    roads, hh = _dual_carriageway(12.0)
    b = blocks_from_roads(roads, limit=_box(0, 0, 300, 200), households=hh.geometry.values, street_width_m=0)
    assert len(b.blocks) == 6


# --------------------------------------------------------------------------- sharing out gaps


def _cores_with_gaps(seed: int, n: int = 30, road_m: float = 6.0):
    rng = np.random.default_rng(seed)
    box = shapely.box(0, 0, 1_000, 1_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, 1_000, (n, 2))),
                                                       extend_to=box, ordered=True))
    cells = shapely.intersection(cells, box)
    shrink = rng.choice([0.0, road_m, 4 * road_m], size=n)
    cores = shapely.buffer(cells, -shrink, join_style="mitre")
    cores = cores[~shapely.is_empty(cores) & (rng.uniform(size=n) > 0.15)]  # a few missing: wide gaps
    return cores, shapely.buffer(box, 50.0)  # and a margin round them


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_share_out_gaps_tiles_the_limit_and_gives_each_gap_to_the_nearest_core(seed):
    from gridpart.geometry.blocks import share_out_gaps

    cores, limit = _cores_with_gaps(seed)
    grown = share_out_gaps(cores, limit=limit)
    assert len(grown) == len(cores)
    assert_tiles(grown, limit.area, rel=1e-5)
    assert (shapely.get_type_id(grown) == 3).all(), "a core's share is in one piece"
    # each core keeps its own shape
    assert shapely.area(shapely.intersection(grown, cores)) == pytest.approx(shapely.area(cores), rel=1e-4)  # (to 1 cm)
    # a point of the gap lies in the grown polygon of (about) its nearest core
    rng = np.random.default_rng(seed)
    pts = shapely.points(rng.uniform(-50, 1_050, (2_000, 2)))
    gap = shapely.difference(limit, shapely.union_all(cores))
    pts = pts[shapely.contains(gap, pts)]
    p, g = shapely.STRtree(grown).query(pts, predicate="intersects")
    d_own = shapely.distance(pts[p], cores[g])
    d_min = np.array([shapely.distance(pt, cores).min() for pt in pts])[p]
    assert (d_own <= d_min + np.maximum(5.0, 0.25 * d_min)).all()


def test_share_out_gaps_seeds_follow_the_gaps_not_the_cores(monkeypatch):
    # two 20 km blocks side by side and a 100 m margin: the seeds go along the margin,
    # spaced by its width, not every 5 m along 80 km of block boundaries
    from gridpart.geometry.blocks import share_out_gaps

    cores = np.array([shapely.box(0, 0, 20_000, 20_000), shapely.box(20_000, 0, 40_000, 20_000)])
    limit = shapely.box(-100, -100, 40_100, 20_100)
    seeds = []
    voronoi = shapely.voronoi_polygons
    monkeypatch.setattr(shapely, "voronoi_polygons",
                        lambda g, *a, **k: seeds.append(shapely.get_num_geometries(g)) or voronoi(g, *a, **k))
    grown = share_out_gaps(cores, limit=limit)
    assert_tiles(grown, limit.area)
    assert shapely.area(grown) == pytest.approx([20_100 * 20_200] * 2, rel=1e-5)
    assert sum(seeds) < 120_000 / 25


def test_a_big_block_is_cut_along_its_dead_end_street_before_between_buildings():
    # issue 18 item 5: a 200 x 100 m block whose street stops 40 m short (a real gap, not joined):
    # the block holds more than the band allows; the cut follows the street and its straight
    # extension (x = 100), not the line between the buildings (x = 107.5 for these two)
    from gridpart.errors import BigBlockWarning
    from gridpart.geometry.adjacency import atom_edges

    roads = _roads([RING, [(100, 0), (100, 60)]])
    b = blocks_from_roads(roads, limit=_box(0, 0, 200, 100))
    assert len(b.blocks) == 1
    hh = _points([(30, 50), (185, 50)], counts=[200, 200])
    ids, _ = attach_households(hh, b.blocks, id_col="block_id")
    hh = hh.assign(block_id=ids)
    # the district's other blocks are dense (10 m² a household): this one, 50 m² a household, is
    # unusually large for its households
    dense = gpd.GeoDataFrame({"block_id": [1, 2, 3], "community_id": "1", "households": [300.0] * 3,
                              "area_m2": [3000.0] * 3},
                             geometry=[_box(300 + 100 * i, 0, 330 + 100 * i, 100) for i in range(3)], crs=CRS)
    blocks = pd.concat([b.blocks.assign(households=[400]), dense], ignore_index=True)
    with pytest.warns(BigBlockWarning, match="block_id 0"):
        atoms, hh_atom = split_big_blocks(blocks, hh, max_households=360, target=300, roads=b.segments)
    atoms = atoms[atoms["block_id"] == 0]
    assert len(atoms) == 2
    assert sorted(np.round(atoms.geometry.area)) == [10_000, 10_000]
    assert atoms.geometry.intersection(shapely.LineString([(X0 + 100, Y0), (X0 + 100, Y0 + 100)])).length.min() \
        == pytest.approx(100)
    assert hh_atom.nunique() == 2
    edges = atom_edges(atoms, b.segments)
    assert edges["street_m"].sum() == pytest.approx(60) and edges["non_road_m"].sum() == pytest.approx(40)
    # without the roads: building cells, cut between the buildings
    plain, _ = split_big_blocks(blocks, hh, max_households=360, target=300)
    assert not np.allclose(np.round(plain[plain["block_id"] == 0].geometry.area), 10_000)
    # a block as dense as the rest (a compound of towers) is not cut along its dead ends
    dense_only = blocks.assign(households=[2000.0, 300.0, 300.0, 300.0])
    hh_dense = _points([(30, 50), (185, 50)], counts=[1000, 1000]).assign(block_id=0)
    plain2, _ = split_big_blocks(dense_only, hh_dense, max_households=360, target=300, roads=b.segments)
    assert not np.allclose(np.round(plain2[plain2["block_id"] == 0].geometry.area), 10_000)
    # a piece still above the band is cut into building cells; the other stays whole
    hh3 = _points([(30, 50), (150, 30), (170, 80)], counts=[200, 200, 200]).assign(block_id=0)
    with pytest.warns(BigBlockWarning):
        atoms3, hh_atom3 = split_big_blocks(blocks.assign(households=[600.0, 300.0, 300.0, 300.0]), hh3,
                                            max_households=360, target=300, roads=b.segments)
    atoms3, hh_atom3 = atoms3[atoms3["block_id"] == 0], hh_atom3
    assert len(atoms3) == 3 and hh_atom3.nunique() == 3
    assert (np.round(atoms3.geometry.area) == 10_000).sum() == 1


def test_street_space_never_crosses_land_outside_the_area():
    # a study area in two pieces: the 12 m strip of the second holds nobody; it stays a
    # block of its own instead of joining a block of the first piece across the gap
    limit = shapely.MultiPolygon([_box(0, 0, 200, 200), _box(300, 0, 312, 200)])
    roads = _roads([[(0, 100), (200, 100)], [(100, 0), (100, 200)]])
    hh = _points([(50, 50), (150, 50), (50, 150), (150, 150)])
    b = blocks_from_roads(roads, limit=limit, households=hh.geometry.values)
    assert (b.blocks.geom_type == "Polygon").all()
    assert sorted(b.blocks.area.round()) == [2400, 10000, 10000, 10000, 10000]
