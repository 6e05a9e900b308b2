"""Hypothesis strategies for random road networks, households and communities.

:func:`cities` draws a small district: a jittered grid of street lines (some
arterials, some unnamed), a few missing links, lanes through blocks and dead
ends into them, household points with random counts (some buildings above
the band, some blocks empty) and optionally 1–3 communities splitting the
area.  Examples stay small (at most 4 × 4 blocks and a few dozen points) so a
whole partition runs in well under a second.

Everything is drawn in EPSG:32650 near Beijing; ``crs="EPSG:4326"`` gives the
same city in longitude/latitude.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from hypothesis import strategies as st

__all__ = ["City", "cities", "lattice_weights", "atoms_and_edges", "study_box", "community_strip_case",
           "band_partition_exists", "ORIGIN"]

ORIGIN = (441_000.0, 4_427_000.0)

ROAD_NAMES = ["学院路", "成府路", "知春路", "志新街", "花园北街", "双清路", "林业大学北街", "展春街", None, None]
LANE_NAMES = ["一号巷", "二号巷", None, None]


@dataclass(frozen=True)
class City:
    """A drawn district: layers and the target they were drawn for."""

    roads: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame | None
    target: int
    heavy: int  # buildings drawn above the band

    @property
    def band(self) -> tuple[float, float]:
        return 0.8 * self.target, 1.2 * self.target

    def __repr__(self) -> str:  # short, for pytest reports (hypothesis prints the fields)
        comm = 0 if self.communities is None else len(self.communities)
        return (f"City(roads={len(self.roads)}, households={len(self.households)} points / "
                f"{int(self.households['households'].sum())}, communities={comm}, "
                f"target={self.target}, heavy={self.heavy}, crs={self.roads.crs.to_string()})")


def _positions(draw, n: int) -> np.ndarray:
    gaps = draw(st.lists(st.integers(60, 160), min_size=n, max_size=n))
    return np.r_[0.0, np.cumsum(gaps, dtype=float)]


@st.composite
def cities(
    draw,
    *,
    max_cells: int = 4,
    max_points: int = 24,
    communities: st.SearchStrategy[int] | None = None,
    crs: str = "EPSG:32650",
    heavy: bool = True,
    target: st.SearchStrategy[int] | None = None,
    fill: bool = False,
) -> City:
    """A random small district.

    Parameters
    ----------
    max_cells : int
        At most this many blocks along each side (before lanes and missing links).
    max_points : int
        At most this many ordinary household points.
    communities : strategy of int, optional
        How many communities (0 = none); default ``st.integers(0, 3)``.
    crs : str
        CRS of the layers (drawn in EPSG:32650 and reprojected).
    heavy : bool
        Whether up to two buildings above the band may be drawn.
    target : strategy of int, optional
        Households per grid; default ``st.integers(60, 150)``.
    fill : bool
        Fine-grained households instead: every block holds 1–4 points of
        1–12 households (no heavy buildings) and the target is set so the area
        needs 2–4 grids; the band is then often reachable (``target`` is
        ignored).
    """
    nx = draw(st.integers(2, max_cells), label="nx")
    ny = draw(st.integers(2, max_cells), label="ny")
    xs, ys = _positions(draw, nx), _positions(draw, ny)
    gx, gy = np.meshgrid(xs, ys)  # node (j, i)
    jit = np.array(draw(st.lists(st.integers(-10, 10), min_size=2 * gx.size, max_size=2 * gx.size)),
                   dtype=float).reshape(2, ny + 1, nx + 1)
    jit[0][:, [0, -1]] = 0.0
    jit[1][[0, -1], :] = 0.0
    nodes = np.stack([ORIGIN[0] + gx + jit[0], ORIGIN[1] + gy + jit[1]], axis=-1)

    # street lines: class and name per line
    line_kinds = st.sampled_from(["road", "street", "street", "street"])
    row_kind = draw(st.lists(line_kinds, min_size=ny + 1, max_size=ny + 1))
    col_kind = draw(st.lists(line_kinds, min_size=nx + 1, max_size=nx + 1))
    row_name = draw(st.lists(st.sampled_from(ROAD_NAMES), min_size=ny + 1, max_size=ny + 1))
    col_name = draw(st.lists(st.sampled_from(ROAD_NAMES), min_size=nx + 1, max_size=nx + 1))
    geoms, kinds, names, interior = [], [], [], []
    for j in range(ny + 1):
        for i in range(nx):
            geoms.append(shapely.LineString([nodes[j, i], nodes[j, i + 1]]))
            kinds.append(row_kind[j])
            names.append(None if row_name[j] is None else f"东西{row_name[j]}")
            interior.append(0 < j < ny)
    for i in range(nx + 1):
        for j in range(ny):
            geoms.append(shapely.LineString([nodes[j, i], nodes[j + 1, i]]))
            kinds.append(col_kind[i])
            names.append(None if col_name[i] is None else f"南北{col_name[i]}")
            interior.append(0 < i < nx)
    interior_idx = [k for k, inner in enumerate(interior) if inner]
    missing = set(draw(st.lists(st.sampled_from(interior_idx), max_size=2, unique=True), label="missing"))

    def corners(cj: int, ci: int) -> tuple[np.ndarray, ...]:
        return nodes[cj, ci], nodes[cj, ci + 1], nodes[cj + 1, ci + 1], nodes[cj + 1, ci]

    cell = st.tuples(st.integers(0, ny - 1), st.integers(0, nx - 1))
    frac = st.integers(30, 70).map(lambda v: v / 100)
    # lanes through a block (splitting it) and dead ends into it
    for (cj, ci), t, vertical in draw(st.lists(st.tuples(cell, frac, st.booleans()), max_size=2), label="lanes"):
        sw, se, ne, nw = corners(cj, ci)
        p0, p1 = (sw + t * (se - sw), nw + t * (ne - nw)) if vertical else (sw + t * (nw - sw), se + t * (ne - se))
        geoms.append(shapely.LineString([p0, p1]))
        kinds.append("lane")
        names.append(draw(st.sampled_from(LANE_NAMES)))
    for (cj, ci), t, depth in draw(st.lists(st.tuples(cell, frac, frac), max_size=2), label="dead_ends"):
        sw, se, ne, nw = corners(cj, ci)
        start = sw + t * (se - sw)
        end = start + depth * 0.6 * ((nw + t * (ne - nw)) - start)
        geoms.append(shapely.LineString([start, end]))
        kinds.append("lane")
        names.append(None)
    keep = [k for k in range(len(geoms)) if k not in missing]
    roads = gpd.GeoDataFrame(
        {"kind": [kinds[k] for k in keep], "name": pd.Series([names[k] for k in keep], dtype=object)},
        geometry=[geoms[k] for k in keep],
        crs="EPSG:32650",
    )

    # households: points inside blocks (away from the edges)
    uv = st.integers(12, 88).map(lambda v: v / 100)
    if fill:
        # every block holds 1-4 small points; the target is set from the total
        # so that the area needs 2-4 grids
        pts = []
        for cj in range(ny):
            for ci in range(nx):
                pts += [((cj, ci), u, v, c) for u, v, c in
                        draw(st.lists(st.tuples(uv, uv, st.integers(1, 12)), min_size=1, max_size=4))]
        total = sum(p[-1] for p in pts)
        tgt = max(10, round(total / draw(st.integers(2, 4), label="grids")))
        n_heavy = 0
    else:
        tgt = draw(target if target is not None else st.integers(60, 150), label="target")
        small = st.integers(1, max(1, tgt // 3))
        pts = draw(st.lists(st.tuples(cell, uv, uv, small), min_size=1, max_size=max_points), label="points")
        n_heavy = draw(st.integers(0, 2), label="heavy") if heavy else 0
        big = st.integers(int(1.2 * tgt) + 1, int(2.5 * tgt))
        pts += draw(st.lists(st.tuples(cell, uv, uv, big), min_size=n_heavy, max_size=n_heavy))
    xy, counts = [], []
    for (cj, ci), u, v, count in pts:
        sw, se, ne, nw = corners(cj, ci)
        xy.append((1 - u) * (1 - v) * sw + u * (1 - v) * se + u * v * ne + (1 - u) * v * nw)
        counts.append(count)
    households = gpd.GeoDataFrame(
        {"households": np.array(counts, dtype=np.int64)}, geometry=shapely.points(np.array(xy)), crs="EPSG:32650"
    )
    # an index that is not 0..n-1, so tests can check it survives
    households.index = pd.Index(np.arange(len(households)) * 7 + 100, name="hh")

    # communities: vertical strips with slanted boundaries across the whole area
    n_comm = draw(communities if communities is not None else st.integers(0, 3), label="communities")
    comm = None
    if n_comm:
        x0, y0 = nodes[..., 0].min() - 20, nodes[..., 1].min() - 20
        x1, y1 = nodes[..., 0].max() + 20, nodes[..., 1].max() + 20
        cuts = sorted(draw(st.lists(st.integers(15, 85), min_size=n_comm - 1, max_size=n_comm - 1, unique=True)))
        cuts = [c for k, c in enumerate(cuts) if k == 0 or c - cuts[k - 1] >= 15]
        tilt = draw(st.integers(-15, 15), label="tilt")
        xb = [x0] + [x0 + c / 100 * (x1 - x0) for c in cuts] + [x1]
        polys = []
        for k in range(len(xb) - 1):
            lo_b, hi_b = xb[k], xb[k + 1]
            lo_t = lo_b if k == 0 else lo_b + tilt
            hi_t = hi_b if k == len(xb) - 2 else hi_b + tilt
            polys.append(shapely.Polygon([(lo_b, y0), (hi_b, y0), (hi_t, y1), (lo_t, y1)]))
        comm = gpd.GeoDataFrame(
            {"community_id": [f"C{k + 1}" for k in range(len(polys))],
             "name": [f"第{k + 1}社区" for k in range(len(polys))]},
            geometry=polys, crs="EPSG:32650",
        )
    if crs != "EPSG:32650":
        roads, households = roads.to_crs(crs), households.to_crs(crs)
        comm = None if comm is None else comm.to_crs(crs)
    return City(roads=roads, households=households, communities=comm, target=tgt, heavy=n_heavy)


@st.composite
def lattice_weights(draw, *, max_side: int = 6, max_k: int = 5):
    """(rows, cols, k, weights) for :func:`gridpart.testing.grid_subproblem`."""
    rows = draw(st.integers(2, max_side))
    cols = draw(st.integers(2, max_side))
    k = draw(st.integers(1, min(max_k, rows * cols)))
    w = draw(st.lists(st.integers(1, 50), min_size=rows * cols, max_size=rows * cols))
    return rows, cols, k, np.array(w, dtype=np.int64)


# --------------------------------------------------------------------------- helpers


def atoms_and_edges(roads, households, *, limit, communities=None, target: float = 300.0, tolerance: float = 0.2):
    """Run the pipeline up to the atom graph, as :func:`gridpart.partition` does (metric CRS).

    Returns ``(blocks, segments, households, atoms, edges)``: households gain
    ``block_id`` and ``atom_id``; blocks and atoms gain ``households``.
    """
    from gridpart.geometry.adjacency import atom_edges
    from gridpart.geometry.blocks import attach_households, blocks_from_roads, split_big_blocks

    b = blocks_from_roads(roads, limit=limit, communities=communities)
    blocks = b.blocks.copy()
    block_of, _ = attach_households(households, blocks, id_col="block_id")
    hh = households.assign(block_id=block_of)
    placed = hh["block_id"].notna()
    blocks["households"] = (
        hh.loc[placed].groupby(hh.loc[placed, "block_id"].astype(np.int64))["households"].sum()
        .reindex(blocks["block_id"], fill_value=0).to_numpy(dtype=float)
    )
    atoms, hh_atom = split_big_blocks(blocks, hh.loc[placed], max_households=target * (1 + tolerance), target=target)
    hh["atom_id"] = pd.Series(hh_atom, dtype="Int64").reindex(hh.index)
    atoms["households"] = (
        hh.loc[placed].groupby(hh.loc[placed, "atom_id"].astype(np.int64))["households"].sum()
        .reindex(atoms["atom_id"], fill_value=0).to_numpy(dtype=float)
    )
    cen = shapely.point_on_surface(atoms.geometry.values)
    atoms["x"], atoms["y"] = shapely.get_x(cen), shapely.get_y(cen)
    edges = atom_edges(atoms, b.segments)
    return blocks, b.segments, hh, atoms, edges


def community_strip_case():
    """Roads and two communities whose boundary runs 3-4 m west of a street (EPSG:32650).

    A 200 x 100 m box with a ring road, a street at x=100 and an unnamed street at
    x=50; the boundary between communities A and B runs from x=97 through x=96
    (a kink, so it is the longer side of the strip) to x=97.
    """
    x0, y0 = ORIGIN

    def line(coords):
        return shapely.LineString(np.asarray(coords, float) + (x0, y0))

    roads = gpd.GeoDataFrame(
        {"kind": ["street"] * 3, "name": pd.Series(["环路", "学院路", None], dtype=object)},
        geometry=[line([(0, 0), (200, 0), (200, 100), (0, 100), (0, 0)]), line([(100, 0), (100, 100)]),
                  line([(50, 0), (50, 100)])],
        crs="EPSG:32650",
    )
    a = shapely.Polygon(np.array([(0, 0), (97, 0), (96, 50), (97, 100), (0, 100)], float) + (x0, y0))
    b = shapely.Polygon(np.array([(97, 0), (200, 0), (200, 100), (97, 100), (96, 50)], float) + (x0, y0))
    return roads, gpd.GeoDataFrame({"community_id": ["A", "B"]}, geometry=[a, b], crs="EPSG:32650")


def study_box(gdf, margin: float = 30.0):
    """An axis-aligned box around ``gdf`` with ``margin`` (in its CRS units)."""
    return shapely.box(*gdf.total_bounds).buffer(margin, join_style="mitre")


def band_partition_exists(weights, edges, k: int, lo: float, hi: float, *, max_nodes: int = 16):
    """Whether a graph splits into ``k`` connected parts, each weighing within ``[lo, hi]``.

    An exhaustive oracle for small graphs (``None`` when there are more than
    ``max_nodes`` nodes): the part holding the lowest free node is one of its
    connected sets within the band, and the rest is split recursively.
    """
    n = len(weights)
    if n > max_nodes:
        return None
    w = [int(v) for v in weights]
    nbr = [set() for _ in range(n)]
    for a, b in np.asarray(edges, dtype=np.int64).reshape(-1, 2):
        nbr[a].add(int(b))
        nbr[b].add(int(a))

    def connected(nodes: frozenset) -> bool:
        start = min(nodes)
        seen, stack = {start}, [start]
        while stack:
            u = stack.pop()
            for v in nbr[u] & nodes:
                if v not in seen:
                    seen.add(v)
                    stack.append(v)
        return len(seen) == len(nodes)

    def sets_with(root: int, free: frozenset):
        """Connected subsets of ``free`` holding ``root``, weighing at most ``hi`` (each once)."""
        out = []

        def grow(current: frozenset, weight: int, frontier: list, banned: frozenset):
            out.append((current, weight))
            for i, v in enumerate(frontier):
                if weight + w[v] > hi:
                    continue
                ban = banned | frozenset(frontier[:i])
                nxt = frontier[i + 1:] + sorted((nbr[v] & free) - current - ban - set(frontier))
                grow(current | {v}, weight + w[v], nxt, ban)

        if w[root] <= hi:
            grow(frozenset([root]), w[root], sorted(nbr[root] & free), frozenset())
        return out

    memo: dict = {}

    def split(free: frozenset, parts: int) -> bool:
        key = (free, parts)
        if key not in memo:
            if parts == 1:
                memo[key] = lo <= sum(w[v] for v in free) <= hi and connected(free)
            else:
                memo[key] = any(
                    weight >= lo and len(part) < len(free) and split(free - part, parts - 1)
                    for part, weight in sets_with(min(free), free)
                )
        return memo[key]

    return split(frozenset(range(n)), k) if n else False
