"""Sub-problems: one per community and connected component of the atom graph.

A :class:`SubProblem` is immutable and holds everything a solver needs, in
local indices: atom weights, centroids, edges with their cut cost, the band
and the number of grids.  Cheap checks find what no plan can fix (an
indivisible atom above the band, a component below it) before any solver runs.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridpart.errors import GridCountWarning

__all__ = ["ARTERIAL_SHARE", "COMPACTNESS_WEIGHT", "CORNER_COST", "CUT_COST_PER_M", "INSIDE_COST_PER_M", "INNER_COST",
           "MAX_BAND_HOUSEHOLDS", "MAX_BAND_PERSONS", "Band",
           "SubProblem", "admits_whole_grids", "arterial_cells", "build_subproblems", "cell_clusters", "grid_count",
           "share_grids"]

#: Objective cost per metre of grid boundary along each edge class.  Cutting
#: between buildings of one block (``non_road``) is dear, so it happens only
#: when the band demands it.
CUT_COST_PER_M: dict[str, float] = {
    "road": 1.0, "street": 1.0, "lane": 1.0, "barrier": 1.0, "non_road": 25.0, "other": 1.0,
}
#: Objective cost per metre of edge of each class left *inside* a grid: a grid
#: should not straddle an arterial or a barrier; a lane inside costs nothing.
INSIDE_COST_PER_M: dict[str, float] = {
    "road": 4.0, "street": 0.5, "lane": 0.0, "barrier": 4.0, "non_road": 0.0, "other": 0.0,
}
#: Objective cost of keeping a corner contact (atoms touching diagonally across a
#: crossing, :func:`gridpart.geometry.adjacency.mark_corner_contacts`) inside a grid: as much
#: as ten households beyond ±10 % of the target, so only the band overrides it.
CORNER_COST = 2000.0
#: Default weight of the compactness term (:attr:`SubProblem.compactness`).
COMPACTNESS_WEIGHT = 4.0
#: Objective cost per household (person) of deviation from the target, in the
#: same unit as the metre costs above.
DEVIATION_COST = 10.0
PERSONS_DEVIATION_COST = 3.0
#: Extra cost per household beyond ±10 % of the target (inside the band): the
#: usual quality bar asks most grids to be that close, so a grid just inside a
#: ±20 % band pays to come nearer where roads allow it.
INNER_COST = 200.0
#: The inner band's half-width, as a share of the target.
INNER_SHARE = 0.10
#: Largest households band (upper limit) a grid may have, and the persons one.
#: The solvers' integer objective weighs a grid out of the band above
#: everything else, with weights that grow with the square of the band; past
#: these limits they would overflow CP-SAT's 64-bit integers (a million
#: households is a district, not a grid).
MAX_BAND_HOUSEHOLDS = 1_000_000
MAX_BAND_PERSONS = 10_000_000
#: An edge whose shared boundary runs along an arterial (road class ``road``)
#: for at least this share of its length separates two arterial cells.
ARTERIAL_SHARE = 0.5


@dataclass(frozen=True)
class Band:
    """Households band (hard where feasible) and optional persons band."""

    lo: float
    hi: float
    centre: float
    persons_lo: float | None = None
    persons_hi: float | None = None
    persons_centre: float | None = None
    persons_hard: bool = False

    @classmethod
    def from_target(cls, target) -> "Band":
        lo, hi = target.band
        pb = target.persons_band
        return cls(
            lo=float(lo), hi=float(hi), centre=float(target.centre),
            persons_lo=None if pb is None else float(pb[0]),
            persons_hi=None if pb is None else float(pb[1]),
            persons_centre=None if pb is None else float(target.persons_centre),
            persons_hard=bool(getattr(target, "persons_hard", False)),
        )


@dataclass(frozen=True)
class SubProblem:
    """One community's connected component, in local indices 0..n-1.

    Attributes
    ----------
    community_id, component : identify the sub-problem.
    atoms : global atom ids, ascending.
    weight : households per atom (int).
    persons : persons per atom (float), NaN-free (0 where unknown).
    xy : atom centroids in metres.
    edges : (m, 2) local endpoints, ``edges[:, 0] < edges[:, 1]``.
    cut_cost : objective change (int) when the edge becomes a grid boundary;
        negative along arterials (cutting there is preferred).
    length : edge lengths in metres.
    band : the size band.
    k : number of grids.
    forced : atoms (local) that must head a grid of their own because they
        exceed the band on their own.
    notes : why the band cannot hold everywhere, if it cannot.
    area : atom areas in m² (optional).
    compactness : weight of the compactness term of the objective: each atom
        pays ``compactness × area × distance to its grid's root / mean grid
        area`` (metres, like the cut costs), so land, and empty land most,
        goes to the nearest grid and grids stay round.
    arterial_m : metres of arterial (road class ``road``) along each edge
        (optional).
    cell_edge : whether each edge joins two atoms of one arterial cell (land
        not separated by an arterial; corner contacts never join cells);
        optional, see :func:`arterial_cells`.
    """

    community_id: str
    component: int
    atoms: np.ndarray
    weight: np.ndarray
    persons: np.ndarray
    xy: np.ndarray
    edges: np.ndarray
    cut_cost: np.ndarray
    length: np.ndarray
    band: Band
    k: int
    forced: np.ndarray
    notes: tuple[str, ...] = field(default=())
    #: atom areas in m² (``None``: unknown, no compactness term)
    area: np.ndarray | None = None
    #: weight of the compactness term (see :data:`COMPACTNESS_WEIGHT`)
    compactness: float = 0.0
    #: metres of arterial along each edge (``None``: unknown)
    arterial_m: np.ndarray | None = None
    #: each edge joins two atoms of one arterial cell (``None``: unknown, every edge does)
    cell_edge: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.atoms)

    @property
    def total(self) -> int:
        return int(self.weight.sum())

    @property
    def has_persons(self) -> bool:
        return self.band.persons_lo is not None

    def inner_band(self) -> tuple[int, int]:
        """Whole households within ``INNER_SHARE`` of the target (inside the band)."""
        b = self.band
        lo = max(math.ceil(b.centre * (1 - INNER_SHARE) - 1e-9), math.ceil(b.lo - 1e-9))
        hi = min(math.floor(b.centre * (1 + INNER_SHARE) + 1e-9), math.floor(b.hi + 1e-9))
        return lo, max(lo, hi)

    def restrict(self, atoms: np.ndarray, k: int) -> "SubProblem":
        """The sub-problem on ``atoms`` (local ids, ascending) with ``k`` grids.

        Edges with both ends inside are kept (renumbered); the band is the same.
        """
        atoms = np.asarray(atoms, dtype=np.int64)
        local = np.full(self.n, -1, dtype=np.int64)
        local[atoms] = np.arange(len(atoms))
        inside = (local[self.edges[:, 0]] >= 0) & (local[self.edges[:, 1]] >= 0)
        forced = local[self.forced]
        return SubProblem(
            community_id=self.community_id, component=self.component, atoms=self.atoms[atoms],
            weight=self.weight[atoms], persons=self.persons[atoms], xy=self.xy[atoms],
            edges=local[self.edges[inside]], cut_cost=self.cut_cost[inside], length=self.length[inside],
            band=self.band, k=int(k), forced=np.sort(forced[forced >= 0]), notes=self.notes,
            area=None if self.area is None else self.area[atoms], compactness=self.compactness,
            arterial_m=None if self.arterial_m is None else self.arterial_m[inside],
            cell_edge=None if self.cell_edge is None else self.cell_edge[inside],
        )

    def contract(self, glue: np.ndarray) -> tuple["SubProblem", np.ndarray]:
        """Merge atoms that must stay together into one atom each.

        ``glue`` holds a group id per atom (-1: alone); atoms of one group
        should be connected.  Returns the contracted sub-problem and, for each
        atom, its index in it (labels expand with ``labels[index]``).

        Examples
        --------
        >>> from gridpart.testing import grid_subproblem
        >>> sub = grid_subproblem(2, 3, k=2)
        >>> small, index = sub.contract(np.array([0, 0, -1, -1, -1, -1]))
        >>> small.n, index.tolist()
        (5, [0, 0, 1, 2, 3, 4])
        """
        glue = np.asarray(glue)
        key = np.where(glue >= 0, glue, -1 - np.arange(self.n))
        _, first, index = np.unique(key, return_index=True, return_inverse=True)
        # number the merged atoms by their first member, so the order follows the atoms
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        index = rank[index]
        m = len(first)
        weight = np.bincount(index, weights=self.weight, minlength=m).round().astype(self.weight.dtype)
        persons = np.bincount(index, weights=self.persons, minlength=m)
        w = self.weight.astype(float) + 1e-6
        xy = np.column_stack([np.bincount(index, weights=self.xy[:, d] * w, minlength=m)
                              for d in range(2)]) / np.bincount(index, weights=w, minlength=m)[:, None]
        a, b = index[self.edges[:, 0]], index[self.edges[:, 1]]
        keep = a != b
        lo, hi = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
        pair, inv = np.unique(lo * m + hi, return_inverse=True)
        edges = np.column_stack([pair // m, pair % m]).astype(np.int64)
        cut = np.bincount(inv, weights=self.cut_cost[keep], minlength=len(pair)).round().astype(np.int64)
        length = np.bincount(inv, weights=self.length[keep], minlength=len(pair))
        forced = np.unique(index[self.forced])
        first_atom = np.sort(first)
        return SubProblem(
            community_id=self.community_id, component=self.component, atoms=self.atoms[first_atom],
            weight=weight, persons=persons, xy=xy, edges=edges, cut_cost=cut, length=length,
            band=self.band, k=self.k, forced=forced, notes=self.notes,
            area=None if self.area is None else np.bincount(index, weights=self.area, minlength=m),
            compactness=self.compactness,
            arterial_m=None if self.arterial_m is None else np.bincount(
                inv, weights=self.arterial_m[keep], minlength=len(pair)),
            cell_edge=None if self.cell_edge is None else np.bincount(
                inv, weights=self.cell_edge[keep].astype(float), minlength=len(pair)) > 0,
        ), index

    def neighbours(self) -> list[np.ndarray]:
        """Adjacency lists (local indices), sorted."""
        adj = sp.coo_matrix(
            (np.ones(2 * len(self.edges)), (np.r_[self.edges[:, 0], self.edges[:, 1]],
                                              np.r_[self.edges[:, 1], self.edges[:, 0]])),
            shape=(self.n, self.n),
        ).tocsr()
        adj.sort_indices()
        return [adj.indices[adj.indptr[i]:adj.indptr[i + 1]] for i in range(self.n)]


def grid_count(total: float, band: Band, n_forced_weight: tuple[int, float] = (0, 0.0)) -> int:
    """Number of grids for ``total`` households.

    The count closest to ``total / centre`` among those that can put every
    grid inside the band; atoms above the band each take a grid of their own
    (``n_forced_weight`` = their count and their households).
    """
    n_forced, forced_w = n_forced_weight
    rest = total - forced_w
    if rest <= 0:
        return max(1, n_forced)
    lo_k = math.ceil(rest / band.hi)
    hi_k = math.floor(rest / band.lo)
    ideal = rest / band.centre
    if lo_k <= hi_k:
        k = min(max(round(ideal), lo_k), hi_k)
    else:  # no count fits: the nearest to the ideal
        k = max(1, round(ideal))
    if n_forced and rest < band.lo / 2:
        k = 0  # the few leftover households join the forced grids
    return max(1, n_forced + k)


def admits_whole_grids(total: float, band: Band, n_forced_weight: tuple[int, float] = (0, 0.0)) -> bool:
    """Whether ``total`` households can be cut into whole grids inside the band.

    True when some count ``k`` has ``k·lo ≤ total ≤ k·hi`` (whole households,
    the band's limits rounded inwards), after the atoms above the band
    (``n_forced_weight``: their count and households) take a grid each; the
    few households that :func:`grid_count` lets join those grids count as
    fitting.  A total of 0 holds no grid.

    Examples
    --------
    >>> band = Band(lo=240, hi=360, centre=300)
    >>> [admits_whole_grids(h, band) for h in (0, 200, 300, 400, 480, 1000)]
    [False, False, True, False, True, True]
    """
    n_forced, forced_w = n_forced_weight
    rest = float(total) - float(forced_w)
    if n_forced and rest < band.lo / 2:
        return True
    if rest <= 0:
        return False
    lo, hi = math.ceil(band.lo - 1e-9), math.floor(band.hi + 1e-9)
    if hi < lo:
        return False
    return math.ceil(rest / hi - 1e-9) <= math.floor(rest / lo + 1e-9)


def arterial_cells(sub: SubProblem) -> np.ndarray:
    """Arterial cell of each atom: the connected pieces of the atom graph left
    when the edges along arterials (and corner contacts) are taken out.

    Numbered 0.. in the order of their first atom.  Without ``sub.cell_edge``
    every atom is in cell 0's component (no arterial is known).
    """
    n = sub.n
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keep = np.ones(len(sub.edges), bool) if sub.cell_edge is None else np.asarray(sub.cell_edge, bool)
    e = sub.edges[keep]
    graph = sp.coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    return _first_order(label)


def _first_order(label: np.ndarray) -> np.ndarray:
    """Labels renumbered 0.. in the order of their first atom."""
    _, first, inv = np.unique(label, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inv.ravel()]


def cell_clusters(sub: SubProblem, cells: np.ndarray | None = None, *,
                  unfit: tuple[int, ...] = (), fit: Band | None = None) -> tuple[np.ndarray, dict[int, str]]:
    """Arterial cells merged until each can hold whole grids in the band.

    The rule of county clustering (a district plan keeps counties whole where
    their population admits whole districts): a cell whose households admit
    whole in-band grids (:func:`admits_whole_grids`) keeps its grids inside
    it; one that does not — a park, a few blocks between two arterials, a
    total between one grid's upper limit and two grids' lower limit — merges
    with a neighbouring cluster: the merger that can hold whole grids first,
    then the most metres of arterial between them (a cell one block wide
    between two arterials merges across its long side, so the cluster stays
    compact: merged end-on it would make long strips; on the synthetic city
    this gave 10 long thin grids instead of 19, and 95 % of grids within
    ±10 % instead of 90 %), then the neighbour with the fewest households.  The smallest unfit
    cluster merges first, one merger at a time, until every cluster fits or
    has no neighbour left.

    Parameters
    ----------
    sub : SubProblem
    cells : ndarray, optional
        A cluster per atom to start from (default :func:`arterial_cells`).
    unfit : tuple of int
        Clusters (ids of ``cells``) that must merge although their total fits
        (e.g. their atoms could not be cut into in-band grids).
    fit : Band, optional
        The band whole grids must fit in (default ``sub.band``).

    Returns
    -------
    clusters : ndarray
        A cluster per atom, numbered 0.. in the order of their first atom.
    why : dict
        For each starting cell (an id of ``cells``) that had to merge, the
        reason, in words.
    """
    label = arterial_cells(sub) if cells is None else np.asarray(cells, dtype=np.int64).copy()
    n = sub.n
    if n == 0:
        return label, {}
    start = label.copy()
    band = sub.band if fit is None else fit
    forced = np.zeros(n, bool)
    forced[sub.forced] = True
    w = sub.weight.astype(float)
    e = sub.edges
    # cells may merge through any edge but a corner contact (a grid must not hang on a corner)
    if sub.cell_edge is not None and sub.arterial_m is not None:
        through = np.asarray(sub.cell_edge, bool) | (np.asarray(sub.arterial_m) > 0)
    else:
        through = np.ones(len(e), bool)
    e = e[through]
    metres = (np.asarray(sub.arterial_m)[through] if sub.arterial_m is not None
              else np.ones(len(e)))
    why: dict[int, str] = {}
    must = {int(c) for c in unfit}
    gave_up: set[int] = set()
    while True:
        m = int(label.max()) + 1
        total = np.bincount(label, weights=w, minlength=m)
        n_forced = np.bincount(label, weights=forced, minlength=m)
        forced_w = np.bincount(label, weights=w * forced, minlength=m)
        fits = np.array([admits_whole_grids(total[c], band, (int(n_forced[c]), forced_w[c])) for c in range(m)])
        bad = [c for c in range(m) if (not fits[c] or c in must) and c not in gave_up]
        if not bad or m == 1:
            break
        c = min(bad, key=lambda c: (total[c], c))
        la, lb = label[e[:, 0]], label[e[:, 1]]
        side = ((la == c) ^ (lb == c))
        other = np.where(la[side] == c, lb[side], la[side])
        if not len(other):
            gave_up.add(c)
            continue
        shared = np.bincount(other, weights=metres[side], minlength=m)
        cand = np.unique(other)
        best = min(cand, key=lambda d: (
            not admits_whole_grids(total[c] + total[d], band, (int(n_forced[c] + n_forced[d]),
                                                               forced_w[c] + forced_w[d])),
            -round(float(shared[d]), 6), total[d], d))
        if c in must and fits[c]:
            reason = (f"its blocks ({total[c]:.0f} households between arterials) could not be cut into grids of "
                      f"{band.lo:g}–{band.hi:g} households")
        else:
            reason = (f"{total[c]:.0f} households between arterials cannot make whole grids of "
                      f"{band.lo:g}–{band.hi:g}")
        for s0 in np.unique(start[label == c]):  # the starting clusters merged for the first time
            why.setdefault(int(s0), reason)
        keep, gone = min(c, best), max(c, best)
        label[label == gone] = keep
        label[label > gone] -= 1

        def shift(d, gone=gone):  # ids above the merged one shift down by one
            return d - 1 if d > gone else d

        must = {shift(d) for d in must if d not in (c, best)}
        gave_up = {shift(d) for d in gave_up if d != gone}
    return _first_order(label), why

def share_grids(requested: int, households: np.ndarray, n_atoms: np.ndarray) -> np.ndarray:
    """Share a community's requested grid count over its components (largest remainder).

    Every component gets at least one grid (a grid is contiguous, so a
    component, even one without households, cannot share a grid with
    another) and at most one per atom; the rest follow each component's share
    of the households (of the atoms when the community holds none): each
    first gets the whole part of its quota, and the grids left over go to the
    largest remainders (ties to the earlier component).  The counts add up to
    ``requested`` whenever it lies between the number of components and the
    number of atoms, else to the nearer of those two.

    Parameters
    ----------
    requested : int
    households : ndarray
        Households per component.
    n_atoms : ndarray
        Atoms per component (each at least 1).

    Returns
    -------
    ndarray of int
        Grids per component.

    Examples
    --------
    >>> share_grids(10, np.array([2_700, 0, 300]), np.array([40, 3, 5])).tolist()
    [8, 1, 1]
    >>> share_grids(2, np.array([500, 0, 300]), np.array([40, 3, 5])).tolist()  # one per component at least
    [1, 1, 1]
    """
    households = np.asarray(households, dtype=float)
    n_atoms = np.asarray(n_atoms, dtype=np.int64)
    c = len(n_atoms)
    total = int(np.clip(requested, c, n_atoms.sum()))
    weight = households if households.sum() > 0 else n_atoms.astype(float)
    quota = total * weight / weight.sum()
    k = np.clip(np.floor(quota + 1e-9).astype(np.int64), 1, n_atoms)
    order = np.arange(c)
    while k.sum() < total:  # the largest remainder among components with atoms to spare
        room = k < n_atoms
        rem = np.where(room, quota - k, -np.inf)
        k[np.lexsort((order, -rem))[0]] += 1
    while k.sum() > total:  # minimums pushed the sum up: take from the most over-served
        spare = k > 1
        rem = np.where(spare, quota - k, np.inf)
        k[np.lexsort((-order, rem))[0]] -= 1
    return k


def edge_costs(edges: pd.DataFrame) -> np.ndarray:
    """Integer objective change for cutting each edge (cut cost − inside cost);
    a corner contact (``corner`` column) saves :data:`CORNER_COST` when cut."""
    cost = np.zeros(len(edges))
    for kind in CUT_COST_PER_M:
        col = f"{kind}_m"
        if col in edges:
            cost += edges[col].to_numpy() * (CUT_COST_PER_M[kind] - INSIDE_COST_PER_M[kind])
    if "corner" in edges:
        cost -= CORNER_COST * edges["corner"].to_numpy(dtype=bool)
    return np.round(cost).astype(np.int64)


def build_subproblems(
    atoms: pd.DataFrame,
    edges: pd.DataFrame,
    band: Band,
    *,
    n_grids: int | dict | None = None,
    warn: bool = True,
    compactness: float = 0.0,
) -> list[SubProblem]:
    """Split the atom graph into independent sub-problems.

    Parameters
    ----------
    atoms : DataFrame
        ``atom_id`` (0..n-1), ``community_id``, ``households``, ``persons``,
        ``x``, ``y``.
    edges : DataFrame
        From :func:`gridpart.geometry.adjacency.atom_edges`.
    band : Band
    n_grids : int or dict, optional
        Override the grid count per community (a dict maps community ids):
        the community's count is shared over its components by
        :func:`share_grids` (each needs at least one grid).
    warn : bool
        Warn (:class:`~gridpart.errors.GridCountWarning`) when an ``n_grids``
        count cannot be met; the sub-problems' notes say so either way.
    compactness : float
        Weight of the compactness term (:attr:`SubProblem.compactness`); it
        needs an ``area_m2`` column on ``atoms``.

    Returns
    -------
    list of SubProblem, in (community_id, component) order.
    """
    n = len(atoms)
    comm = atoms["community_id"].astype(str).to_numpy()
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    same = comm[a] == comm[b]
    edges = edges[same].reset_index(drop=True)
    a, b = edges["a"].to_numpy(), edges["b"].to_numpy()
    graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    cost = edge_costs(edges)
    length_m = edges["length_m"].to_numpy(dtype=float)
    art_m = edges["road_m"].to_numpy(dtype=float) if "road_m" in edges else np.zeros(len(edges))
    corner = edges["corner"].to_numpy(dtype=bool) if "corner" in edges else np.zeros(len(edges), bool)
    cell_edge = (art_m < ARTERIAL_SHARE * length_m) & ~corner
    weight = np.round(atoms["households"].to_numpy()).astype(np.int64)
    persons = np.nan_to_num(atoms["persons"].to_numpy(dtype=float)) if "persons" in atoms else np.zeros(n)
    xy = atoms[["x", "y"]].to_numpy(dtype=float)
    area = atoms["area_m2"].to_numpy(dtype=float) if "area_m2" in atoms else None
    # components in order of (community, smallest atom id)
    order = pd.DataFrame({"comm": comm, "label": label, "atom": np.arange(n)})
    firsts = order.groupby(["comm", "label"], sort=False)["atom"].min().reset_index()
    firsts = firsts.sort_values(["comm", "atom"]).reset_index(drop=True)
    firsts["component"] = firsts.groupby("comm").cumcount()
    edge_label = label[a]
    edges_by_label = pd.Series(np.arange(len(a))).groupby(edge_label).apply(np.asarray).to_dict()
    atoms_by_label = pd.Series(np.arange(n)).groupby(label).apply(np.asarray).to_dict()
    subs: list[SubProblem] = []
    override_k, override_notes = _override_counts(firsts, label, weight, n_grids, warn)
    for _, row in firsts.iterrows():
        idx = atoms_by_label[row["label"]]
        local = np.full(n, -1)
        local[idx] = np.arange(len(idx))
        eidx = edges_by_label.get(row["label"], np.array([], dtype=np.int64))
        e = np.column_stack([local[a[eidx]], local[b[eidx]]]) if len(eidx) else np.zeros((0, 2), np.int64)
        w = weight[idx]
        forced = np.flatnonzero(w > band.hi)
        total = int(w.sum())
        notes: list[str] = []
        for f in forced:
            notes.append(
                f"atom {int(idx[f])} holds {int(w[f])} households at one place, above the band's "
                f"upper limit {band.hi:g}: it heads a grid of its own that is out of the band"
            )
        if total < band.lo:
            notes.append(
                f"component total {total} households is below the band's lower limit {band.lo:g}: "
                "one grid, out of the band"
            )
        k = grid_count(total, band, (len(forced), float(w[forced].sum())))
        k = min(k, len(idx))
        if (row["comm"], row["label"]) in override_k:
            k = override_k[row["comm"], row["label"]]
            notes += override_notes.get(row["comm"], [])
        subs.append(
            SubProblem(
                community_id=row["comm"], component=int(row["component"]), atoms=idx,
                weight=w, persons=persons[idx], xy=xy[idx], edges=e.astype(np.int64),
                cut_cost=cost[eidx], length=edges["length_m"].to_numpy()[eidx],
                band=band, k=int(k), forced=forced, notes=tuple(notes),
                area=None if area is None else area[idx], compactness=float(compactness) if area is not None else 0.0,
                arterial_m=art_m[eidx], cell_edge=cell_edge[eidx],
            )
        )
    return subs


def _override_counts(firsts: pd.DataFrame, label: np.ndarray, weight: np.ndarray, n_grids, warn: bool):
    """Grids per (community, component label) where ``n_grids`` sets the count, and
    per community the note saying when the requested count could not be met."""
    if n_grids is None:
        return {}, {}
    comp_households = np.bincount(label, weights=weight)
    comp_atoms = np.bincount(label)
    out: dict[tuple, int] = {}
    notes: dict[str, list[str]] = {}
    for comm, rows in firsts.groupby("comm", sort=True):
        requested = n_grids.get(comm) if isinstance(n_grids, dict) else n_grids
        if requested is None:
            continue
        labels = rows["label"].to_numpy()  # in component order
        k = share_grids(int(requested), comp_households[labels], comp_atoms[labels])
        out.update({(comm, int(lab)): int(n) for lab, n in zip(labels, k)})
        got = int(k.sum())
        if got != int(requested):
            if got > int(requested):
                why = (f"its {len(labels)} separate components (parts of the atom graph that no grid can join) "
                       f"need a grid each, so {got} is the fewest possible")
                fix = f"ask for at least {got}, or leave n_grids out for this community"
            else:
                why = f"it has only {got} atoms (blocks and building cells), at most one grid each"
                fix = f"ask for at most {got}"
            text = f"n_grids asks for {int(requested)} grids in community {comm!r}, but {why}; it gets {got}."
            notes[comm] = [text]
            if warn:
                warnings.warn(f"{text} Fix: {fix}.", GridCountWarning, stacklevel=4)
    return out, notes
