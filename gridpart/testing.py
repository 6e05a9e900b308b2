"""Public test helpers: check a plan's invariants, and tiny synthetic problems.

Use :func:`assert_valid_plan` in your own tests to check that a plan loses
nothing, that every grid is one connected piece inside one community, that
grids do not overlap and that the CRS and index came back unchanged.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from gridpart.geometry.graph import labels_contiguous
from gridpart.model.problem import Band, SubProblem, edge_costs

__all__ = ["assert_valid_plan", "grid_subproblem", "labels_contiguous"]


def grid_subproblem(rows: int, cols: int, *, k: int, households: int | np.ndarray = 100,
                    target: float | None = None, tolerance: float = 0.2) -> SubProblem:
    """A lattice of ``rows × cols`` atoms as a :class:`SubProblem` (for tests and examples).

    Examples
    --------
    >>> grid_subproblem(3, 3, k=2).n
    9
    """
    n = rows * cols
    w = np.broadcast_to(np.asarray(households), (n,)).astype(np.int64)
    idx = np.arange(n).reshape(rows, cols)
    e = np.vstack([
        np.column_stack([idx[:, :-1].ravel(), idx[:, 1:].ravel()]),
        np.column_stack([idx[:-1, :].ravel(), idx[1:, :].ravel()]),
    ])
    centre = target if target is not None else w.sum() / k
    band = Band(lo=centre * (1 - tolerance), hi=centre * (1 + tolerance), centre=centre)
    xy = np.column_stack([np.tile(np.arange(cols), rows), np.repeat(np.arange(rows), cols)]) * 100.0
    edges = pd.DataFrame({"street_m": np.full(len(e), 100.0)})
    return SubProblem(
        community_id="1", component=0, atoms=np.arange(n), weight=w, persons=np.zeros(n),
        xy=xy, edges=e, cut_cost=edge_costs(edges), length=np.full(len(e), 100.0),
        band=band, k=k, forced=np.flatnonzero(w > band.hi),
    )


def assert_valid_plan(plan, households: gpd.GeoDataFrame | None = None, *, area_tol: float = 1e-6,
                      snap_m: float = 0.01) -> None:
    """Assert the invariants every gridpart plan must hold.

    * every household is in exactly one grid, or in ``plan.unplaced`` with a reason;
    * household and persons totals are conserved, and the households' counts
      are the input's;
    * every grid is one connected piece of the atom graph, inside one community;
    * grids do not overlap (beyond ``area_tol`` of their area, or half of
      ``snap_m`` along their boundaries: blocks grown over street space are
      snapped to a 1 cm grid);
    * the plan's outputs are in the households' CRS and keep their index.

    Raises
    ------
    AssertionError
        Naming the first invariant that fails.
    """
    hh = plan.households
    if households is not None:
        assert hh.index.equals(households.index), "plan.households lost or reordered the input index"
        assert hh.crs == households.crs, f"plan.households CRS {hh.crs} != input CRS {households.crs}"
        assert plan.grids.crs == households.crs, "plan.grids is not in the households' CRS"
    placed = hh["grid_id"].notna()
    unplaced_ids = set(plan.unplaced.index)
    assert unplaced_ids == set(hh.index[~placed]), "unplaced households and grid_id NA disagree"
    if len(plan.unplaced):
        assert plan.unplaced["reason"].astype(str).str.len().gt(0).all(), "an unplaced household has no reason"
    # conservation
    per_grid = hh.loc[placed].groupby("grid_id")["households"].sum()
    grids = plan.grids.set_index("grid_id")
    assert np.allclose(per_grid.reindex(grids.index, fill_value=0).to_numpy(), grids["households"].to_numpy()), \
        "grid household counts do not add up to their households"
    total = hh["households"].sum()
    assert np.isclose(grids["households"].sum() + plan.unplaced["households"].sum(), total), \
        "households were lost or counted twice"
    if households is not None and "households" in households:
        given = pd.to_numeric(households["households"], errors="coerce").to_numpy(dtype=float)
        assert np.allclose(hh["households"].to_numpy(dtype=float), given), \
            "plan.households['households'] differs from the input's counts"
    if "persons" in hh and hh["persons"].notna().any():
        persons = hh["persons"].sum()
        unplaced = plan.unplaced["persons"].sum() if len(plan.unplaced) else 0.0
        assert np.isclose(grids["persons"].sum() + unplaced, persons), "persons were lost or counted twice"
    # nesting and contiguity on the atom graph
    atoms = plan.blocks
    assert atoms["grid_id"].notna().all(), "an atom has no grid"
    comm = atoms.groupby("grid_id")["community_id"].nunique()
    assert (comm == 1).all(), f"grids {list(comm.index[comm > 1])[:5]} span several communities"
    lab, uniq = pd.factorize(atoms["grid_id"], sort=True)
    pos = pd.Series(np.arange(len(atoms)), index=atoms["atom_id"].to_numpy())
    e = plan.edges
    edges = np.column_stack([pos.reindex(e["a"]).to_numpy(), pos.reindex(e["b"]).to_numpy()]).astype(np.int64)
    ok = labels_contiguous(len(atoms), edges, lab)
    assert ok.all(), f"grids {list(uniq[~ok])[:5]} are not contiguous"
    # no overlap: the grid areas add up to the union's area (measured in metres)
    geoms = plan.grids.geometry
    if geoms.crs is not None and not geoms.crs.is_projected:
        geoms = geoms.to_crs(plan.metric_crs)
    union = geoms.union_all().area
    slack = max(area_tol * max(union, 1.0), snap_m / 2 * float(geoms.length.sum()))
    assert abs(geoms.area.sum() - union) <= slack + 1e-6, "grids overlap"
