"""Tests for gridpart.geometry.adjacency: the atom graph and what its edges run along."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given
from hypothesis import strategies as st
from strategies import atoms_and_edges, cities, study_box

from gridpart.datasets.synthetic import synthetic_city
from gridpart.geometry.adjacency import EDGE_KINDS, adjacency_graph, atom_edges
from gridpart.geometry.blocks import blocks_from_roads
from gridpart.model.problem import Band, build_subproblems

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
KIND_COLS = [f"{k}_m" for k in EDGE_KINDS]


def _whole_blocks_as_atoms(blocks: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return blocks.rename(columns={"block_id": "atom_id"}).assign(block_id=lambda d: d["atom_id"], is_cell=False)


@pytest.fixture
def cross():
    roads = gpd.GeoDataFrame(
        {"kind": ["road", "street"], "name": ["学院路", "成府街"]},
        geometry=[shapely.LineString([(X0 + 50, Y0), (X0 + 50, Y0 + 100)]),
                  shapely.LineString([(X0, Y0 + 50), (X0 + 100, Y0 + 50)])],
        crs=CRS,
    )
    b = blocks_from_roads(roads, limit=shapely.box(X0, Y0, X0 + 100, Y0 + 100))
    return b, _whole_blocks_as_atoms(b.blocks)


def _quadrant(atoms, pt):
    return int(atoms.loc[atoms.contains(shapely.Point(X0 + pt[0], Y0 + pt[1])), "atom_id"].iloc[0])


def test_a_cross_gives_four_blocks_and_four_edges(cross):
    b, atoms = cross
    assert len(atoms) == 4
    edges = atom_edges(atoms, b.segments)
    sw, se, nw, ne = (_quadrant(atoms, p) for p in [(25, 25), (75, 25), (25, 75), (75, 75)])
    pairs = {(min(x, y), max(x, y)) for x, y in [(sw, se), (nw, ne), (sw, nw), (se, ne)]}
    assert set(zip(edges["a"], edges["b"])) == pairs  # diagonal blocks touch at a point only
    assert (edges["a"] < edges["b"]).all()
    by_pair = edges.set_index(["a", "b"])
    for x, y in [(sw, se), (nw, ne)]:  # across the north-south arterial
        e = by_pair.loc[(min(x, y), max(x, y))]
        assert e["kind"] == "road" and e["name"] == "学院路"
        assert e["road_m"] == pytest.approx(50.0, abs=1e-6)
        assert e["length_m"] == pytest.approx(50.0, abs=1e-6)
    for x, y in [(sw, nw), (se, ne)]:  # across the east-west street
        e = by_pair.loc[(min(x, y), max(x, y))]
        assert e["kind"] == "street" and e["name"] == "成府街"
        assert e["street_m"] == pytest.approx(50.0, abs=1e-6)
        assert e["road_m"] == 0
    # the lengths by class add up to the length
    assert edges[KIND_COLS].sum(axis=1).to_numpy() == pytest.approx(edges["length_m"].to_numpy())


def test_adjacency_graph_carries_lengths_and_crs(cross):
    b, atoms = cross
    edges = atom_edges(atoms, b.segments)
    g = adjacency_graph(atoms, edges)
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 4
    assert g.graph["crs"] == atoms.crs
    for _u, _v, data in g.edges(data=True):
        assert data["length_m"] == pytest.approx(50.0, abs=1e-6)
        assert data["name"] in ("学院路", "成府街")


@given(cities(communities=st.just(0)))
def test_edges_are_shared_boundaries(city):
    _, segments, _, atoms, edges = atoms_and_edges(city.roads, city.households, limit=study_box(city.roads),
                                                   target=city.target)
    assert (edges["a"] < edges["b"]).all()
    assert not edges.duplicated(["a", "b"]).any()
    assert set(edges["kind"]) <= set(EDGE_KINDS)
    assert edges[KIND_COLS].sum(axis=1).to_numpy() == pytest.approx(edges["length_m"].to_numpy(), rel=1e-9)
    geom = dict(zip(atoms["atom_id"], atoms.geometry.values))
    shared = shapely.length(shapely.intersection(
        shapely.boundary(np.array([geom[a] for a in edges["a"]], dtype=object)),
        shapely.boundary(np.array([geom[b] for b in edges["b"]], dtype=object))))
    assert edges["length_m"].to_numpy() == pytest.approx(shared, rel=1e-6, abs=1e-6)
    # every pair of atoms sharing a line of boundary has an edge
    i, j = shapely.STRtree(atoms.geometry.values).query(atoms.geometry.values, predicate="intersects")
    keep = i < j
    length = shapely.length(shapely.intersection(shapely.boundary(atoms.geometry.values[i[keep]]),
                                                 shapely.boundary(atoms.geometry.values[j[keep]])))
    ids = atoms["atom_id"].to_numpy()
    touching = {(ids[a], ids[b]) for a, b, n in zip(i[keep], j[keep], length) if n > 0.1}
    assert touching <= set(zip(edges["a"], edges["b"]))


@given(cities(communities=st.just(0), target=st.integers(30, 60), max_points=30))
def test_non_road_edges_join_cells_of_one_block(city):
    _, _, _, atoms, edges = atoms_and_edges(city.roads, city.households, limit=study_box(city.roads),
                                            target=city.target)
    block = dict(zip(atoms["atom_id"], atoms["block_id"]))
    cell = dict(zip(atoms["atom_id"], atoms["is_cell"]))
    nr = edges[edges["non_road_m"] > 0]
    for a, b in zip(nr["a"], nr["b"]):
        assert block[a] == block[b] and cell[a] and cell[b]
    # atoms of different blocks only meet along roads, lanes or the limit
    other_block = edges[[block[a] != block[b] for a, b in zip(edges["a"], edges["b"])]]
    assert (other_block["non_road_m"] == 0).all()
    # touching cells of one block do have a non_road edge
    same = edges[[block[a] == block[b] for a, b in zip(edges["a"], edges["b"])]]
    assert (same["non_road_m"] + same["lane_m"] > 0).all()


def test_non_road_edges_in_a_big_compound():
    # one walled block with 16 buildings of 60 households: cut into cells
    ring = shapely.LineString([(X0, Y0), (X0 + 300, Y0), (X0 + 300, Y0 + 200), (X0, Y0 + 200), (X0, Y0)])
    roads = gpd.GeoDataFrame({"kind": ["street"], "name": ["花园北街"]}, geometry=[ring], crs=CRS)
    xy = [(X0 + 30 + 70 * (i % 4), Y0 + 25 + 50 * (i // 4)) for i in range(16)]
    hh = gpd.GeoDataFrame({"households": [60] * 16}, geometry=shapely.points(xy), crs=CRS)
    _, _, _, atoms, edges = atoms_and_edges(roads, hh, limit=shapely.box(X0, Y0, X0 + 300, Y0 + 200))
    assert atoms["is_cell"].all() and len(atoms) > 4
    assert len(edges) > 0 and (edges["kind"] == "non_road").all()
    assert (edges[["road_m", "street_m", "lane_m"]].to_numpy() == 0).all()
    assert edges["non_road_m"].to_numpy() == pytest.approx(edges["length_m"].to_numpy())


@given(cities(communities=st.integers(2, 3)))
def test_no_edge_across_a_community_boundary_in_subproblems(city):
    comm = city.communities
    limit = shapely.union_all(comm.geometry.values)
    _, _, _, atoms, edges = atoms_and_edges(city.roads, city.households, limit=limit, communities=comm,
                                            target=city.target)
    atoms = atoms.assign(persons=np.nan)
    band = Band(lo=0.8 * city.target, hi=1.2 * city.target, centre=float(city.target))
    subs = build_subproblems(atoms, edges, band)
    community = atoms["community_id"].to_numpy()
    seen = np.zeros(len(atoms), dtype=int)
    sub_pairs = set()
    for sub in subs:
        seen[sub.atoms] += 1
        assert set(community[sub.atoms]) == {sub.community_id}
        for a, b in sub.edges:
            sub_pairs.add((int(sub.atoms[a]), int(sub.atoms[b])))
    assert (seen == 1).all()  # every atom in exactly one sub-problem
    across = {(a, b) for a, b in zip(edges["a"], edges["b"]) if community[a] != community[b]}
    within = {(a, b) for a, b in zip(edges["a"], edges["b"]) if community[a] == community[b]}
    assert not (sub_pairs & across)
    assert sub_pairs == within
    if len(set(community)) > 1:
        assert across, "neighbouring communities should touch in the atom graph"


def test_synthetic_district_graph_is_mostly_road_bounded():
    roads, hh, comm = synthetic_city(5_000, seed=8, communities=2)
    limit = shapely.union_all(comm.geometry.values)
    _, _, _, atoms, edges = atoms_and_edges(roads, hh, limit=limit, communities=comm)
    on_road = edges[["road_m", "street_m", "lane_m"]].sum().sum()
    assert on_road / edges["length_m"].sum() > 0.5
    assert set(edges["name"].dropna()) <= set(roads["name"].dropna())


def test_a_single_atom_has_an_empty_integer_edge_table():
    ring = shapely.LineString([(X0, Y0), (X0 + 200, Y0), (X0 + 200, Y0 + 150), (X0, Y0 + 150), (X0, Y0)])
    roads = gpd.GeoDataFrame({"kind": ["street"], "name": ["环路"]}, geometry=[ring], crs=CRS)
    b = blocks_from_roads(roads, limit=shapely.box(X0, Y0, X0 + 200, Y0 + 150))
    atoms = _whole_blocks_as_atoms(b.blocks)
    edges = atom_edges(atoms, b.segments)
    assert len(edges) == 0
    assert edges["a"].dtype.kind == "i" and edges["b"].dtype.kind == "i"
    atoms = atoms.assign(households=50.0, persons=np.nan, x=X0 + 100, y=Y0 + 75)
    subs = build_subproblems(atoms, edges, Band(lo=240, hi=360, centre=300))
    assert len(subs) == 1 and subs[0].n == 1


# --------------------------------------------------------------------------- corner contacts


def test_corner_contacts_are_marked_only_where_another_link_exists():

    from gridpart.geometry.adjacency import mark_corner_contacts
    from gridpart.model.problem import CORNER_COST, edge_costs

    # a 2 x 2 lattice of blocks round a crossing: 0-1, 1-3, 3-2, 2-0 along streets, and the
    # diagonals 0-3 and 1-2 touching for 2 m where the crossing's street space was shared out
    e = pd.DataFrame({"a": [0, 1, 2, 0, 0, 1, 4], "b": [1, 3, 3, 2, 3, 2, 5],
                      "length_m": [100.0, 100.0, 100.0, 100.0, 2.0, 2.0, 3.0],
                      "street_m": [100.0] * 4 + [2.0, 2.0, 3.0]})
    out = mark_corner_contacts(e)
    assert out["corner"].tolist() == [False, False, False, False, True, True, False]  # 4-5: their only link

    cost = edge_costs(out)
    plain = edge_costs(e)
    assert (cost[out["corner"].to_numpy()] == plain[out["corner"].to_numpy()] - CORNER_COST).all()
    assert (cost[~out["corner"].to_numpy()] == plain[~out["corner"].to_numpy()]).all()
