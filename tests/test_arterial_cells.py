"""Grids stay between arterials where the households there make whole grids (issue 18).

Hand-built districts (blocks either side of one or two arterials, cells too
small for a grid of their own) and a small synthetic city checked against
arterial cells drawn from the geometry alone.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gridpart as gp
from gridpart.model.problem import Band, admits_whole_grids, arterial_cells, build_subproblems, cell_clusters

CRS = "EPSG:32650"
X0, Y0 = 440_000.0, 4_420_000.0


def _city(columns: int, rows: int, arterial_cols: tuple[int, ...], hh_per_block, *, size=100.0):
    """A street grid of ``columns`` × ``rows`` blocks; vertical lines at
    ``arterial_cols`` are arterials (kind ``road``), the others streets.  Each
    block holds a 3 × 3 lattice of buildings sharing its households
    (``hh_per_block(col, row)``)."""
    lines, kind, name = [], [], []
    for i in range(columns + 1):
        lines.append(shapely.LineString([(X0 + i * size, Y0), (X0 + i * size, Y0 + rows * size)]))
        art = i in arterial_cols
        kind.append("road" if art else "street")
        name.append(f"干道{i}路" if art else f"纵{i}街")
    for j in range(rows + 1):
        lines.append(shapely.LineString([(X0, Y0 + j * size), (X0 + columns * size, Y0 + j * size)]))
        kind.append("street")
        name.append(f"横{j}街")
    roads = gpd.GeoDataFrame({"kind": kind, "name": name}, geometry=lines, crs=CRS)
    pts, hh, col_of = [], [], []
    for i in range(columns):
        for j in range(rows):
            total = int(hh_per_block(i, j))
            share = np.full(9, total // 9)
            share[: total % 9] += 1
            for n, (a, b) in enumerate([(a, b) for a in (0.25, 0.5, 0.75) for b in (0.25, 0.5, 0.75)]):
                pts.append(shapely.Point(X0 + (i + a) * size, Y0 + (j + b) * size))
                hh.append(int(share[n]))
                col_of.append(i)
    households = gpd.GeoDataFrame({"households": hh, "col": col_of}, geometry=pts, crs=CRS)
    area = gpd.GeoSeries([shapely.box(X0, Y0, X0 + columns * size, Y0 + rows * size)], crs=CRS)
    return roads, households, area


def _grid_columns(plan, households) -> pd.Series:
    """The block columns of each grid's households."""
    hh = plan.households.assign(col=households["col"].to_numpy())
    return hh.groupby("grid_id")["col"].agg(lambda c: sorted(set(c)))


def test_admits_whole_grids():
    band = Band(lo=240, hi=360, centre=300)
    assert not admits_whole_grids(0, band)
    assert not admits_whole_grids(239, band)
    assert admits_whole_grids(240, band) and admits_whole_grids(360, band)
    assert not admits_whole_grids(361, band) and not admits_whole_grids(479, band)
    assert all(admits_whole_grids(h, band) for h in range(480, 5000, 7))
    inner = Band(lo=270, hi=330, centre=300)
    assert not admits_whole_grids(500, inner) and admits_whole_grids(600, inner)
    # an atom above the band takes a grid of its own; a few households join it
    assert admits_whole_grids(500 + 100, band, (1, 500.0))
    assert not admits_whole_grids(500 + 200, band, (1, 500.0))


def _sub_of(roads, households, area, band=(240, 360)):
    """The one sub-problem partition builds (atoms and edges captured on the way)."""
    seen = {}
    gp.partition(roads, households, study_area=area, target=gp.Target(households=band), strategy="seed",
                 on_atoms=lambda atoms, edges, hh: seen.update(atoms=atoms.copy(), edges=edges.copy()))
    b = Band(lo=band[0], hi=band[1], centre=sum(band) / 2)
    return build_subproblems(seen["atoms"], seen["edges"], b)[0], seen["atoms"]


def test_arterial_cells_follow_the_arterials():
    roads, hh, area = _city(6, 2, (3,), lambda i, j: 100)
    sub, atoms = _sub_of(roads, hh, area)
    cells = arterial_cells(sub)
    x = atoms["x"].to_numpy()[sub.atoms]
    assert cells.max() == 1
    west = cells[x < X0 + 300]
    east = cells[x > X0 + 300]
    assert len(set(west)) == 1 and len(set(east)) == 1 and west[0] != east[0]


def test_a_cell_too_small_for_a_grid_merges_with_a_neighbour():
    # three cells: 2 columns | 1 column | 3 columns; the middle one (2 blocks of 60) holds no grid
    roads, hh, area = _city(6, 2, (2, 3), lambda i, j: 60 if i == 2 else 150)
    sub, atoms = _sub_of(roads, hh, area)
    cells = arterial_cells(sub)
    assert cells.max() == 2
    clusters, why = cell_clusters(sub, cells)
    assert clusters.max() == 1  # the middle cell merged with one neighbour
    x = atoms["x"].to_numpy()[sub.atoms]
    middle = cells[(x > X0 + 200) & (x < X0 + 300)][0]
    assert middle in why and "120 households" in why[middle]


def test_grids_stay_between_arterials_where_the_households_make_whole_grids():
    # west of the arterial 6 blocks of 92 households (552: two grids of 276), east 6 of 108
    # (648: two of 324): each side is solved on its own (grids of 292 and 308 would span it)
    roads, hh, area = _city(6, 2, (3,), lambda i, j: 92 if i < 3 else 108)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, study_area=area, time_limit=20, arterial_cells=True)
    cols = _grid_columns(plan, hh)
    assert len(cols) == 4
    for c in cols:
        assert max(c) < 3 or min(c) >= 3, f"a grid spans the arterial: columns {c}"
    assert not plan.grids["flags"].str.contains("arterial crossed").any()
    assert plan.status["proof"].str.contains("arterial cells").all()


def test_a_grid_that_must_cross_says_why():
    # the middle cell (2 blocks of 60) cannot hold a grid: its grid crosses an arterial, flagged
    roads, hh, area = _city(6, 2, (2, 3), lambda i, j: 60 if i == 2 else 150)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, study_area=area, time_limit=20, arterial_cells=True)
    cols = _grid_columns(plan, hh)
    crossing = [g for g, c in cols.items() if len({0 if x < 2 else 1 if x == 2 else 2 for x in c}) > 1]
    assert crossing
    flags = plan.grids.set_index("grid_id")["flags"]
    for g in crossing:
        assert "arterial crossed: " in flags[g]
        assert "households between arterials cannot make whole grids of 270–330" in flags[g]
    assert any("120 households between arterials" in flags[g] for g in crossing)
    # the other grids stay inside their cells and carry no such flag
    for g in set(cols.index) - set(crossing):
        assert "arterial crossed" not in flags[g]


def test_peers_and_given_counts_solve_whole_components():
    roads, hh, area = _city(6, 2, (3,), lambda i, j: 92 if i < 3 else 108)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, study_area=area, time_limit=20, n_grids=4, arterial_cells=True)
    assert not plan.status["proof"].str.contains("arterial cells").any()


def _household_cells(roads, households) -> np.ndarray:
    """The arterial cell of each household, from the geometry alone: the faces of
    the arterial lines and a frame around the roads."""
    art = roads[roads["kind"] == "road"].geometry.values
    frame = shapely.box(*roads.total_bounds).buffer(50.0).exterior
    noded = shapely.node(shapely.union_all(np.r_[art, [frame]]))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    p, c = shapely.STRtree(faces).query(households.geometry.values, predicate="within")
    cell = np.full(len(households), -1)
    cell[p] = c
    return cell


def test_synthetic_city_grids_span_arterial_cells_only_with_a_reason():
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, _ = synthetic_city(4000, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, time_limit=30, arterial_cells=True)
    cell = _household_cells(roads, plan.households)
    span = pd.Series(cell).groupby(plan.households["grid_id"].to_numpy()).nunique()
    spanning = span.index[span > 1]
    flags = plan.grids.set_index("grid_id")["flags"]
    assert flags.reindex(spanning).str.contains("arterial crossed: ").all()
    # before arterial cells: 7 of its 13 grids spanned arterial cells, none flagged
    assert len(spanning) < len(plan.grids)
    assert plan.score().summary["share_in_band"] == 1.0


def test_arterial_cells_are_off_by_default_and_checked():
    # off by default (on synthetic cities of 100k+ households they cost balance and time): the
    # component is solved whole, as before the option existed
    roads, hh, area = _city(6, 2, (3,), lambda i, j: 92 if i < 3 else 108)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(roads, hh, study_area=area, time_limit=20)
    assert not plan.status["proof"].str.contains("arterial cells").any()
    with pytest.raises(gp.InputError, match="arterial_cells"):
        gp.partition(roads, hh, study_area=area, arterial_cells="yes")
