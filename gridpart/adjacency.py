"""The atom graph: which atoms touch, along what, and how long.

Edges are found by sampling every noded segment at regular spacing and
looking a little to its left and right: the atoms found on either side are
adjacent across that segment, which carries its road class and name.  Cells
cut from one big block are adjacent across ``non_road`` edges, measured from
their shared boundary.  Edges are aggregated per atom pair with the length
along each road class.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

__all__ = ["EDGE_KINDS", "atom_edges", "adjacency_graph"]

log = logging.getLogger(__name__)

#: Edge length columns: ``<kind>_m`` for each of these.
EDGE_KINDS = ("road", "street", "lane", "barrier", "non_road", "other")


def _side_samples(segments: gpd.GeoDataFrame, spacing_m: float, offset_m: float):
    geoms = segments.geometry.values
    length = shapely.length(geoms)
    n = np.maximum(1, np.ceil(length / spacing_m).astype(np.int64))
    seg = np.repeat(np.arange(len(geoms)), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(len(seg)) - start
    step = length[seg] / n[seg]
    d = (k + 0.5) * step
    eps = np.minimum(0.05, step / 4)
    g = geoms[seg]
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(g, d - eps))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(g, d + eps))
    pm = (p0 + p1) / 2
    t = p1 - p0
    norm = np.hypot(t[:, 0], t[:, 1])
    ok = norm > 0
    normal = np.zeros_like(t)
    normal[ok] = np.column_stack([-t[ok, 1], t[ok, 0]]) / norm[ok, None]
    left = shapely.points(pm + offset_m * normal)
    right = shapely.points(pm - offset_m * normal)
    return seg[ok], step[ok], left[ok], right[ok]


def _locate(tree: shapely.STRtree, pts: np.ndarray, ids: np.ndarray) -> np.ndarray:
    p, a = tree.query(pts, predicate="within")
    out = np.full(len(pts), -1, dtype=np.int64)
    out[p] = ids[a]
    return out


def atom_edges(
    atoms: gpd.GeoDataFrame,
    segments: gpd.GeoDataFrame,
    *,
    spacing_m: float = 10.0,
    offset_m: float = 0.5,
) -> pd.DataFrame:
    """Edges between atoms with the shared length along each road class.

    Parameters
    ----------
    atoms : GeoDataFrame
        ``atom_id``, ``block_id``, geometry (metric CRS).
    segments : GeoDataFrame
        Noded linework with ``kind`` and ``name`` (see :func:`gridpart.blocks.noded_segments`).
    spacing_m, offset_m : float
        Sampling step along segments, and how far to each side to look.

    Returns
    -------
    DataFrame
        One row per adjacent pair ``a < b``: ``length_m``, ``road_m``,
        ``street_m``, ``lane_m``, ``barrier_m``, ``non_road_m``, ``other_m``,
        ``kind`` (the class with most length) and ``name`` (the road name with
        most length, or None).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> from gridpart.blocks import blocks_from_roads
    >>> roads = gpd.GeoDataFrame({"kind": ["road"], "name": ["学院路"]},
    ...     geometry=[shapely.LineString([(50, 0), (50, 100)])], crs=32650)
    >>> b = blocks_from_roads(roads, limit=shapely.box(0, 0, 100, 100))
    >>> atoms = b.blocks.rename(columns={"block_id": "atom_id"}).assign(block_id=lambda d: d.atom_id)
    >>> atom_edges(atoms, b.segments)[["a", "b", "road_m", "name"]].to_dict("records")
    [{'a': 0, 'b': 1, 'road_m': 100.0, 'name': '学院路'}]
    """
    ids = atoms["atom_id"].to_numpy()
    geoms = atoms.geometry.values
    tree = shapely.STRtree(geoms)
    seg, w, left, right = _side_samples(segments, spacing_m, offset_m)
    la, ra = _locate(tree, left, ids), _locate(tree, right, ids)
    ok = (la >= 0) & (ra >= 0) & (la != ra)
    kinds = segments["kind"].to_numpy()[seg[ok]]
    kinds = np.where(np.isin(kinds, EDGE_KINDS), kinds, "other")
    road = pd.DataFrame(
        {
            "a": np.minimum(la[ok], ra[ok]),
            "b": np.maximum(la[ok], ra[ok]),
            "kind": kinds,
            "name": segments["name"].to_numpy()[seg[ok]],
            "len": w[ok],
        }
    )
    # cells of one block touch along non-road boundaries
    cells = np.flatnonzero(atoms["is_cell"].to_numpy()) if "is_cell" in atoms else np.array([], int)
    if len(cells):
        ctree = shapely.STRtree(geoms[cells])
        i, j = ctree.query(geoms[cells], predicate="intersects")
        i, j = cells[i], cells[j]
        block = atoms["block_id"].to_numpy()
        keep = (i < j) & (block[i] == block[j])
        i, j = i[keep], j[keep]
        length = shapely.length(shapely.intersection(shapely.boundary(geoms[i]), shapely.boundary(geoms[j])))
        pos = length > 0.01
        road = pd.concat(
            [road, pd.DataFrame({"a": ids[i[pos]], "b": ids[j[pos]], "kind": "non_road", "name": None,
                                 "len": length[pos]})],
            ignore_index=True,
        )
    if road.empty:
        cols = ["a", "b", "length_m"] + [f"{k}_m" for k in EDGE_KINDS] + ["kind", "name"]
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("kind", "name") else float) for c in cols})
    by_kind = road.pivot_table(index=["a", "b"], columns="kind", values="len", aggfunc="sum", fill_value=0.0)
    by_kind = by_kind.reindex(columns=list(EDGE_KINDS), fill_value=0.0)
    by_kind.columns = [f"{k}_m" for k in by_kind.columns]
    out = by_kind.reset_index()
    out.insert(2, "length_m", by_kind.sum(axis=1).to_numpy())
    out["kind"] = np.array(EDGE_KINDS)[np.argmax(by_kind.to_numpy(), axis=1)]
    named = road.dropna(subset=["name"])
    if len(named):
        nl = named.groupby(["a", "b", "name"], sort=True)["len"].sum().reset_index()
        nl = nl.sort_values(["a", "b", "len", "name"], ascending=[True, True, False, True]).drop_duplicates(["a", "b"])
        out = out.merge(nl[["a", "b", "name"]], on=["a", "b"], how="left")
    else:
        out["name"] = None
    out["name"] = out["name"].astype(object).where(out["name"].notna(), None)
    out[["a", "b"]] = out[["a", "b"]].astype(np.int64)
    return out.sort_values(["a", "b"]).reset_index(drop=True)


def adjacency_graph(atoms: gpd.GeoDataFrame, edges: pd.DataFrame) -> nx.Graph:
    """The atom graph as networkx: nodes carry the atom attributes, edges the lengths.

    The graph's CRS is stored in ``graph.graph["crs"]`` (as GerryChain does).

    Examples
    --------
    >>> import geopandas as gpd, pandas as pd, shapely
    >>> atoms = gpd.GeoDataFrame({"atom_id": [0, 1], "households": [10, 20]},
    ...     geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=32650)
    >>> edges = pd.DataFrame({"a": [0], "b": [1], "length_m": [1.0], "kind": ["lane"]})
    >>> adjacency_graph(atoms, edges).number_of_edges()
    1
    """
    g = nx.Graph(crs=atoms.crs)
    attrs = atoms.drop(columns="geometry").set_index("atom_id").to_dict("index")
    g.add_nodes_from(attrs.items())
    g.add_edges_from(
        (int(r["a"]), int(r["b"]), {k: v for k, v in r.items() if k not in ("a", "b")})
        for r in edges.to_dict("records")
    )
    return g
