"""Compounds (小区) and work units (单位) in the solver: which atoms belong to which
parcel, which parcels are kept apart with dedicated grids, and the clean-up of
mixed grids after the solve.  (What a grid is *called* by its parcels, its kind,
is :mod:`gridpart.rules.kinds`.)

Rules (DESIGN §4, "Grid kinds")
-------------------------------
**Atom parcels.**  An atom (a street block or a building cell) belongs to a
parcel when the parcel covers at least ``min_share`` (half) of the atom's
area.  When several do (nested parcels), the smallest one decides, as in
:func:`gridpart.inputs.osm.estimate_households`: a staff housing compound
(家属区, ``landuse=residential``) drawn inside a campus is a compound, a
school drawn inside a compound is a unit.  Ties go to a unit, then to the
parcel that comes first in canonical order.

**Keeping parcels together** (before the solver runs; the atom graph the
solver sees loses the edges between a kept-apart parcel and the rest):

* ``units="own"``: every unit's atoms are cut off from the others, so each
  connected piece of a unit (per community) gets dedicated grids (专属网格)
  of its own whatever its size: one grid for a unit with few households, and
  as many as the band asks for a unit that houses more than the band's upper
  limit (a campus with staff housing is split like any other area rather
  than left as one grid of thousands of households).  A dedicated grid
  outside the band is forced out of it (DESIGN §3), with the reason
  :data:`DEDICATED_REASON`.  A piece of a unit that holds **nobody** (no
  households, no persons: a kiosk-sized amenity, a sports ground, an office
  block) gets no grid of its own: it folds into its surroundings
  (:func:`fold_empty_units`).  It opens to the solver, so it joins a
  neighbouring grid; when the open land it reaches holds nobody either
  (the piece is enclosed by a campus, say), it joins the kept-apart unit it
  shares the longest boundary with (the parent unit that contains it); and
  when no unit borders it, it keeps its own dedicated grid.
* ``units="own-all"``: the 专属网格 rule without exception: every unit piece
  gets dedicated grids, empty ones too (a grid of 0 households).
* ``units="merge"``: units are open blocks for the solver; the kind rule below
  still names the grids they dominate ``unit``.
* A compound whose households can fill whole grids inside the band on their
  own is cut off from the outside, so it is split only inside (along its
  internal lanes, which cost the solver least, else between its buildings)
  and never mixed with outside blocks.  "Can" is checked twice: by the
  total (some ``k >= 1`` with ``k × lo <= households <= k × hi``,
  :func:`separation_groups`), then by solving the compound alone
  (:func:`gridpart.pipeline.partition.partition` does it) and keeping it apart only when
  every grid it gets is inside the band or holds an indivisible building
  above it.  A compound that cannot (fewer households than the band's lower
  limit, an awkward total such as 1.2 × the upper limit, or buildings too
  lumpy to share out) stays connected: the band demands that it share a grid.
  One that fits in one grid is solved as one piece, so it stays whole.  After
  the solve, :func:`unmix_compounds` moves its atoms out of any grid another
  class dominates when that grid stays in the band without them, so what
  mixing is left is what the band demands (``compounds="share"``, the
  default).
* ``compounds="own"``: every compound holding at least the band's lower
  limit is kept apart whatever the band says, like a unit with
  ``units="own"``; its grids outside the band count as forced out, with the
  reason :data:`COMPOUND_REASON`.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems
from gridpart.geometry.blocks import canonical_order
from gridpart.model.problem import Band, SubProblem
from gridpart.model.result import ForcedReason, Note, NoteKind, has_note

__all__ = [
    "UNITS_OPTIONS",
    "COMPOUND_REASON",
    "DEDICATED_REASON",
    "atom_parcels",
    "canonical_parcels",
    "compound_subproblems",
    "dedicated_subproblems",
    "fold_empty_units",
    "is_dedicated",
    "labels_in_band",
    "separation_groups",
    "solver_edges",
    "unmix_compounds",
]

#: Accepted values of ``units`` (see the module rules).
UNITS_OPTIONS = ("own", "own-all", "merge")

#: Reason recorded on a unit's dedicated grid.
DEDICATED_REASON = ForcedReason.DEDICATED
#: Why a grid of a compound kept apart with ``compounds="own"`` may lie outside the band.
COMPOUND_REASON = ForcedReason.COMPOUND


def _check_gdf(gdf, argument: str, columns: tuple[str, ...], problems: Problems) -> bool:
    if not isinstance(gdf, gpd.GeoDataFrame):
        problems.add(argument, f"expected a GeoDataFrame, got {type(gdf).__name__}", fix="pass a GeoDataFrame")
        return False
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        problems.add(argument, f"missing columns {missing}", fix=f"add {missing}")
    if gdf.crs is not None and gdf.crs.is_geographic:
        problems.add(f"{argument}.crs", f"is geographic ({gdf.crs.to_string()}); areas need metres",
                     fix="project it, e.g. gdf.to_crs(gdf.estimate_utm_crs())")
    return not missing


def atom_parcels(atoms: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, *,
                 min_share: float = 0.5) -> pd.DataFrame:
    """The parcel each atom belongs to (see the module rules).

    Parameters
    ----------
    atoms : GeoDataFrame
        Atom polygons in a projected CRS.
    parcels : GeoDataFrame or None
        ``kind`` in {"compound", "unit"}, optional ``name``, same CRS.
    min_share : float
        Share of an atom's area a parcel must cover.

    Returns
    -------
    DataFrame
        Index of ``atoms``: ``parcel_id`` (int, -1 for none; ids follow the
        parcels' canonical order, so they do not depend on row order),
        ``parcel_kind`` ("unit", "compound" or None), ``parcel_name``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> atoms = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=32650)
    >>> parcels = gpd.GeoDataFrame({"kind": ["unit"], "name": ["某小学"]},
    ...     geometry=[shapely.box(-1, -1, 12, 11)], crs=32650)
    >>> atom_parcels(atoms, parcels)["parcel_kind"].tolist()
    ['unit', None]
    """
    problems = Problems()
    _check_gdf(atoms, "atoms", (), problems)
    if parcels is not None:
        _check_gdf(parcels, "parcels", ("kind",), problems)
        if isinstance(parcels, gpd.GeoDataFrame) and "kind" in parcels and len(parcels):
            bad = ~parcels["kind"].isin(["compound", "unit"])
            if bad.any():
                problems.add("parcels['kind']", "expected 'compound' or 'unit'", rows=parcels.index[bad],
                             fix="set kind to 'compound' (小区) or 'unit' (单位)")
        if isinstance(parcels, gpd.GeoDataFrame) and isinstance(atoms, gpd.GeoDataFrame) and parcels.crs != atoms.crs:
            problems.add("parcels.crs", f"{parcels.crs} differs from the atoms' {atoms.crs}",
                         fix="parcels = parcels.to_crs(atoms.crs)")
    if not (isinstance(min_share, (int, float)) and 0 < min_share <= 1):
        problems.add("min_share", f"must lie in (0, 1], got {min_share!r}", fix="e.g. min_share=0.5")
    problems.raise_if_any()
    out = pd.DataFrame({"parcel_id": np.full(len(atoms), -1, dtype=np.int64),
                        "parcel_kind": pd.Series([None] * len(atoms), dtype=object).to_numpy(),
                        "parcel_name": pd.Series([None] * len(atoms), dtype=object).to_numpy()},
                       index=atoms.index)
    if parcels is None or len(parcels) == 0 or len(atoms) == 0:
        return out
    p = canonical_parcels(parcels)
    pg = p.geometry.values
    ag = np.asarray(atoms.geometry.values, dtype=object)
    i, j = shapely.STRtree(pg).query(ag, predicate="intersects")
    if len(i) == 0:
        return out
    share = shapely.area(shapely.intersection(ag[i], pg[j])) / np.maximum(shapely.area(ag[i]), 1e-9)
    cand = pd.DataFrame({"atom": i, "parcel": j, "share": share,
                         "unit": (p["kind"].to_numpy()[j] == "unit"), "area": -shapely.area(pg[j])})
    cand = cand[cand["share"] >= min_share - 1e-9]
    best = cand.sort_values(["atom", "area", "unit", "parcel"], ascending=[True, False, False, True])
    best = best.drop_duplicates("atom")
    rows, pid = best["atom"].to_numpy(), best["parcel"].to_numpy()
    out.iloc[rows, 0] = pid
    out.iloc[rows, 1] = p["kind"].to_numpy()[pid]
    names = p["name"].to_numpy() if "name" in p else np.full(len(p), None)
    out.iloc[rows, 2] = names[pid]
    out["parcel_name"] = out["parcel_name"].astype(object).where(out["parcel_name"].notna(), None)
    return out


def canonical_parcels(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Parcels in canonical order (by interior point and area), with ``parcel_id`` 0..n-1."""
    p = canonical_order(parcels.reset_index(drop=True), [])
    p.insert(0, "parcel_id", np.arange(len(p)))
    return p


def separation_groups(atoms: pd.DataFrame, band: Band, *, units: str = "own",
                      compounds: str = "share", edges: pd.DataFrame | None = None) -> np.ndarray:
    """Which atoms the solver keeps apart from the rest: a group id per atom, -1 for open atoms.

    Parameters
    ----------
    atoms : DataFrame
        ``community_id``, ``households``, ``parcel_id``, ``parcel_kind`` (from
        :func:`atom_parcels`).
    band : Band
    units : {"own", "own-all", "merge"}
        ``"own"``: units are kept apart, except pieces that hold nobody
        (:func:`fold_empty_units`); ``"own-all"``: every unit piece, empty
        or not; ``"merge"``: none.
    compounds : {"share", "own"}
        ``"share"``: a compound is a candidate when its total allows in-band
        grids (``k × lo <= households <= k × hi`` for some k); ``"own"``: when
        it holds at least ``lo`` households.
    edges : DataFrame, optional
        The atom graph (``a``, ``b`` atom ids, optional ``length_m``): with
        ``units="own"``, empty unit pieces are then found per connected piece
        and folded where they touch; without it, per unit and community.

    Returns
    -------
    ndarray of int
        The parcel id for atoms of a kept-apart unit or compound, else -1.

    Examples
    --------
    >>> import pandas as pd
    >>> from gridpart.model.problem import Band
    >>> atoms = pd.DataFrame({"community_id": "1", "households": [300, 0, 100],
    ...     "parcel_id": [0, 1, -1], "parcel_kind": ["compound", "unit", None]})
    >>> separation_groups(atoms, Band(240, 360, 300)).tolist()   # the unit holds nobody: it folds
    [0, -1, -1]
    >>> separation_groups(atoms, Band(240, 360, 300), units="own-all").tolist()
    [0, 1, -1]
    >>> separation_groups(atoms.assign(households=[300, 5, 100]), Band(240, 360, 300)).tolist()
    [0, 1, -1]
    >>> separation_groups(atoms, Band(240, 360, 300), units="merge").tolist()
    [0, -1, -1]
    >>> lumpy = atoms.assign(households=[400, 0, 100])   # 400: neither one grid nor two
    >>> lumpy = lumpy.assign(households=[400, 5, 100])
    >>> (separation_groups(lumpy, Band(240, 360, 300)).tolist(),
    ...  separation_groups(lumpy, Band(240, 360, 300), compounds="own").tolist())
    ([-1, 1, -1], [0, 1, -1])
    """
    if units not in UNITS_OPTIONS:
        problems = Problems()
        problems.add("units", f"must be one of {', '.join(map(repr, UNITS_OPTIONS))}, got {units!r}",
                     fix="units='own'")
        problems.raise_if_any()
    pid = atoms["parcel_id"].to_numpy()
    kind = atoms["parcel_kind"].to_numpy()
    group = np.full(len(atoms), -1, dtype=np.int64)
    if units in ("own", "own-all"):
        unit = kind == "unit"
        group[unit] = pid[unit]
    comp = kind == "compound"
    if comp.any():
        df = pd.DataFrame({"pid": pid[comp], "comm": atoms["community_id"].astype(str).to_numpy()[comp],
                           "hh": np.round(atoms["households"].to_numpy(dtype=float)[comp])})
        total = df.groupby(["pid", "comm"])["hh"].transform("sum").to_numpy()
        lo, hi = float(band.lo), float(band.hi)
        fits = total >= np.ceil(lo - 1e-9)
        if compounds != "own":
            fits &= np.ceil(total / hi - 1e-9) <= np.floor(total / lo + 1e-9)
        idx = np.flatnonzero(comp)
        group[idx[fits]] = pid[idx[fits]]
    if units == "own":
        group = fold_empty_units(atoms, group, edges)
    return group


def _people(atoms: pd.DataFrame) -> np.ndarray:
    """Households plus persons per atom (NaN counts as none): zero means nobody lives there."""
    total = np.nan_to_num(atoms["households"].to_numpy(dtype=float))
    if "persons" in atoms:
        total = total + np.nan_to_num(atoms["persons"].to_numpy(dtype=float))
    return total


def fold_empty_units(atoms: pd.DataFrame, group: np.ndarray, edges: pd.DataFrame | None = None) -> np.ndarray:
    """Give up the dedicated grid of every unit piece that holds nobody (``units="own"``).

    A piece is a connected part of one unit's atoms in one community (with
    ``edges``; without them, all of the unit's atoms in the community).  A
    piece without households or persons is opened (group -1), so the solver
    gives it to a neighbouring grid.  With ``edges``, an opened piece whose
    open surroundings hold nobody either (it is enclosed by kept-apart
    parcels) joins instead the kept-apart unit it shares the longest
    boundary with (``length_m``; ties to the lower parcel id), which is its
    parent unit when one contains it; with no unit next to it, it keeps its
    own group (a dedicated grid of 0 households, as with ``units="own-all"``).

    Parameters
    ----------
    atoms : DataFrame
        ``community_id``, ``households`` (optional ``persons``),
        ``parcel_kind``, optional ``atom_id`` (default: the row position).
    group : ndarray of int
        Group per atom (a parcel id, -1 for open atoms).
    edges : DataFrame, optional
        ``a``, ``b`` atom ids, optional ``length_m``.

    Returns
    -------
    ndarray of int
        The new groups (a copy); deterministic.

    Examples
    --------
    >>> import pandas as pd
    >>> # a row: an open block, an empty kiosk (unit 7), a campus with housing (unit 3)
    >>> atoms = pd.DataFrame({"community_id": "1", "households": [50, 0, 200],
    ...                       "parcel_kind": [None, "unit", "unit"]})
    >>> e = pd.DataFrame({"a": [0, 1], "b": [1, 2], "length_m": [10.0, 90.0]})
    >>> fold_empty_units(atoms, np.array([-1, 7, 3]), e).tolist()   # opens: it joins the block's grid
    [-1, -1, 3]
    >>> enclosed = pd.DataFrame({"a": [1], "b": [2], "length_m": [90.0]})
    >>> fold_empty_units(atoms, np.array([-1, 7, 3]), enclosed).tolist()   # inside the campus: joins it
    [-1, 3, 3]
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    group = np.asarray(group, dtype=np.int64).copy()
    n = len(atoms)
    is_unit = (atoms["parcel_kind"].to_numpy() == "unit") & (group >= 0)
    if not is_unit.any():
        return group
    people = _people(atoms)
    comm = pd.factorize(atoms["community_id"].astype(str))[0]
    if edges is not None and len(edges):
        pos = (pd.Series(np.arange(n), index=atoms["atom_id"].to_numpy()) if "atom_id" in atoms
               else pd.Series(np.arange(n)))
        a = pos.reindex(edges["a"].to_numpy()).to_numpy()
        b = pos.reindex(edges["b"].to_numpy()).to_numpy()
        ok = ~(np.isnan(a) | np.isnan(b))
        a, b = a[ok].astype(np.int64), b[ok].astype(np.int64)
        length = (edges["length_m"].to_numpy(dtype=float)[ok] if "length_m" in edges
                  else np.ones(len(a)))
    else:
        a = b = np.zeros(0, dtype=np.int64)
        length = np.zeros(0)
    # pieces: unit atoms of one group and community, connected through edges inside them
    same = is_unit[a] & is_unit[b] & (group[a] == group[b]) & (comm[a] == comm[b])
    if edges is None:  # no graph: the whole unit in the community is one piece
        key = pd.factorize(pd.Series(list(zip(group, comm))))[0]
        piece = np.where(is_unit, key, -1)
    else:
        graph = sp.coo_matrix((np.ones(int(same.sum())), (a[same], b[same])), shape=(n, n))
        piece = np.where(is_unit, connected_components(graph, directed=False)[1], -1)
    held = np.bincount(piece[is_unit], weights=people[is_unit], minlength=n)
    empty = is_unit & (held[np.maximum(piece, 0)] <= 0)
    if not empty.any():
        return group
    own = group.copy()  # the groups before folding: a piece with nowhere to go keeps its own
    group[empty] = -1
    if edges is None:
        return group
    # open components (edges between open atoms) that hold nobody: the empty pieces in them
    # have no grid to join but their own, so they join the unit next door
    open_ = group < 0
    inside = open_[a] & open_[b]
    graph = sp.coo_matrix((np.ones(int(inside.sum())), (a[inside], b[inside])), shape=(n, n))
    comp = connected_components(graph, directed=False)[1]
    comp_people = np.bincount(comp[open_], weights=people[open_], minlength=n)
    stranded = empty & (comp_people[comp] <= 0)
    if not stranded.any():
        return group
    both_a = np.concatenate([a, b])
    both_b = np.concatenate([b, a])
    both_len = np.concatenate([length, length])
    for p in np.unique(piece[stranded]).tolist():
        members = np.flatnonzero(piece == p)
        into = (np.isin(both_a, members) & (group[both_b] >= 0) & is_unit[both_b]
                & (held[np.maximum(piece[both_b], 0)] > 0) & (comm[both_b] == comm[members[0]]))
        if into.any():
            shared = pd.Series(both_len[into]).groupby(group[both_b[into]]).sum()
            best = shared[shared == shared.max()].index.min()
            group[members] = int(best)
        else:
            group[members] = own[members]
    return group


def solver_edges(edges: pd.DataFrame, group: np.ndarray, atom_ids: np.ndarray) -> pd.DataFrame:
    """The edges the solver sees: those between atoms of the same group.

    Parameters
    ----------
    edges : DataFrame
        ``a``, ``b`` atom ids.
    group : ndarray
        Group per atom (from :func:`separation_groups`), aligned with ``atom_ids``.
    atom_ids : ndarray
        The atom id of each row of ``group``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> e = pd.DataFrame({"a": [0, 1], "b": [1, 2]})
    >>> solver_edges(e, np.array([-1, -1, 4]), np.array([0, 1, 2]))["b"].tolist()
    [1]
    """
    g = pd.Series(group, index=atom_ids)
    keep = g.reindex(edges["a"]).to_numpy() == g.reindex(edges["b"]).to_numpy()
    return edges[keep].reset_index(drop=True)


def dedicated_subproblems(subs: list[SubProblem], group: np.ndarray, kinds: np.ndarray, *,
                          compounds: str = "share") -> list[SubProblem]:
    """Note on every sub-problem made only of one unit's atoms that its grids are
    dedicated; with ``compounds="own"``, likewise for one compound's atoms.

    Parameters
    ----------
    subs : list of SubProblem
    group : ndarray
        Group per atom id (from :func:`separation_groups`).
    kinds : ndarray
        ``parcel_kind`` per atom id.
    compounds : {"share", "own"}

    Returns
    -------
    list of SubProblem
        The same sub-problems; dedicated ones carry a note (read by
        :func:`is_dedicated`).
    """
    out = []
    for sub in subs:
        g = group[sub.atoms]
        if len(g) and g[0] >= 0 and (g == g[0]).all():
            kind = kinds[sub.atoms]
            note = None
            if (kind == "unit").all():
                note = Note(f"work unit parcel {int(g[0])}: dedicated grid(s), shared with no other block "
                            "(units='own')", NoteKind.DEDICATED_UNIT)
            elif compounds == "own" and (kind == "compound").all():
                note = Note(f"kept-apart compound parcel {int(g[0])}: dedicated grid(s), shared with no other "
                            "block (compounds='own')", NoteKind.DEDICATED_COMPOUND)
            if note is not None:
                sub = dataclasses.replace(sub, notes=sub.notes + (note,))
        out.append(sub)
    return out


def compound_subproblems(subs: list[SubProblem], group: np.ndarray, kinds: np.ndarray) -> list[int]:
    """Positions of the sub-problems made only of one kept-apart compound's atoms."""
    out = []
    for i, sub in enumerate(subs):
        g = group[sub.atoms]
        if len(g) and g[0] >= 0 and (g == g[0]).all() and (kinds[sub.atoms] == "compound").all():
            out.append(i)
    return out


def labels_in_band(sub: SubProblem, labels: np.ndarray) -> bool:
    """Whether every grid of ``labels`` is inside the band or holds an atom above it.

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> sub = grid_subproblem(1, 4, k=2, households=150)
    >>> labels_in_band(sub, np.array([0, 0, 1, 1])), labels_in_band(sub, np.array([0, 1, 1, 1]))
    (True, False)
    """
    labels = np.asarray(labels)
    size = np.bincount(labels, weights=sub.weight.astype(float))
    ok = (size >= np.ceil(sub.band.lo - 1e-9)) & (size <= np.floor(sub.band.hi + 1e-9))
    if len(sub.forced):
        ok[np.unique(labels[sub.forced])] = True
    return bool(ok.all())


def is_dedicated(subs: list[SubProblem]) -> np.ndarray:
    """Whether each sub-problem is a unit's (or an owned compound's) dedicated grid
    (see :func:`dedicated_subproblems`)."""
    return np.array([has_note(s.notes, NoteKind.DEDICATED_UNIT, NoteKind.DEDICATED_COMPOUND) for s in subs],
                    dtype=bool)


def unmix_compounds(sub: SubProblem, labels: np.ndarray, kind: np.ndarray, parcel: np.ndarray, *,
                    keep_whole: np.ndarray | None = None) -> np.ndarray:
    """Move compound atoms out of grids that another class dominates, where the band allows.

    A solver that balances households and road costs may hand a few atoms of a
    compound to a street grid next door although the street grid would be in
    the band without them.  This pass moves such atoms into a neighbouring
    grid that the compound class dominates, when neither grid ends up further
    outside the band than it was (in households, and in persons when the
    persons band is hard) and both stay contiguous.  It first tries all
    the atoms of one compound in the grid at once, then (unless
    ``keep_whole`` marks the compound's atoms) one atom at a time.  Mixing the
    band does demand (the street grid would fall out of the band) stays.

    Parameters
    ----------
    sub : SubProblem
    labels : ndarray of int
        A grid label per atom of ``sub``.
    kind : ndarray of str
        ``"unit"``, ``"compound"`` or ``"street"`` per atom of ``sub``.
    parcel : ndarray of int
        Parcel id per atom of ``sub`` (-1 outside parcels).
    keep_whole : ndarray of bool, optional
        Atoms whose compound must move as one piece.

    Returns
    -------
    ndarray of int
        The new labels (a copy); deterministic.

    Examples
    --------
    >>> from gridpart.testing import grid_subproblem
    >>> kind = np.array(["compound"] * 4 + ["street"])
    >>> parcel = np.array([5, 5, 5, 5, -1])
    >>> # a row of five atoms; the street atom's grid holds one compound atom
    >>> sub = grid_subproblem(1, 5, k=2, households=np.array([100, 100, 60, 30, 250]))
    >>> unmix_compounds(sub, np.array([0, 0, 0, 1, 1]), kind, parcel).tolist()
    [0, 0, 0, 0, 1]
    >>> # the band demands the mix: without its 60 the street grid would hold 200 < 240
    >>> sub = grid_subproblem(1, 5, k=2, households=np.array([100, 100, 60, 60, 200]))
    >>> unmix_compounds(sub, np.array([0, 0, 0, 1, 1]), kind, parcel).tolist()
    [0, 0, 0, 1, 1]
    """
    labels = np.asarray(labels).copy()
    if sub.n == 0 or not (kind == "compound").any():
        return labels
    is_comp = kind == "compound"
    whole = np.zeros(sub.n, bool) if keep_whole is None else np.asarray(keep_whole, bool)
    grids = _ClassTally(sub, labels, np.select([kind == "unit", is_comp], [0, 1], 2))
    w = grids.w
    # each move takes compound atoms into a grid the compound class leads, which it
    # keeps leading, so no atom moves twice and the loop ends
    moved = True
    while moved:
        moved = False
        for g in range(grids.k):
            if grids.compound_led(g) or grids.by_class[g, 1] == 0:
                continue
            members = np.flatnonzero(labels == g)
            for p in np.unique(parcel[members[is_comp[members]]]).tolist():
                piece = members[is_comp[members] & (parcel[members] == p)]
                singles = ([] if whole[piece].any()
                           else [np.array([i]) for i in piece[np.argsort(-w[piece], kind="stable")]])
                for move in [piece, *singles]:
                    if not (labels[move] == g).all():
                        continue
                    h = grids.destination(g, move)
                    if h is None:
                        continue
                    grids.move(move, g, h)
                    moved = True
                    if len(move) == len(piece):
                        break
    return labels


class _ClassTally:
    """The households of each grid by class (unit, compound, street) and its persons, as atoms move (in place)."""

    def __init__(self, sub: SubProblem, labels: np.ndarray, code: np.ndarray):
        self.sub, self.labels, self.code = sub, labels, code
        self.w = w = sub.weight.astype(float)
        b = self.band = sub.band
        self.lo, self.hi = np.ceil(b.lo - 1e-9), np.floor(b.hi + 1e-9)
        self.hard_persons = hard_persons = bool(sub.has_persons and b.persons_hard)
        self.pw = pw = np.round(sub.persons) if hard_persons else np.zeros(sub.n)
        self.plo, self.phi = (np.ceil(b.persons_lo), np.floor(b.persons_hi)) if hard_persons else (0.0, np.inf)
        self.nbrs = sub.neighbours()
        self.movable = np.ones(sub.n, bool)
        self.movable[sub.forced] = False
        self.k = k = int(labels.max()) + 1
        self.by_class = np.zeros((k, 3))
        np.add.at(self.by_class, (labels, code), w)
        self.psize = np.bincount(labels, weights=pw, minlength=k)

    def excess(self, g: int, gain: float = 0.0, pgain: float = 0.0) -> float:
        """How far grid ``g`` (after gaining ``gain`` households, ``pgain`` persons) lies outside the band."""
        size, persons = self.by_class[g].sum() + gain, self.psize[g] + pgain
        out = max(0.0, self.lo - size, size - self.hi)
        return out + (max(0.0, self.plo - persons, persons - self.phi) if self.hard_persons else 0.0)

    def compound_led(self, g: int) -> bool:
        """Whether the compound class leads grid ``g``."""
        # the grid kind rule: most households, ties to unit, then compound
        return int(np.argmax(self.by_class[g])) == 1

    def connected(self, members: np.ndarray) -> bool:
        """Whether ``members`` (atoms, at least one) form one connected piece."""
        inside = np.zeros(self.sub.n, bool)
        inside[members] = True
        seen, stack = {int(members[0])}, [int(members[0])]
        while stack:
            for j in self.nbrs[stack.pop()].tolist():
                if inside[j] and j not in seen:
                    seen.add(j)
                    stack.append(j)
        return len(seen) == len(members)

    def destination(self, g: int, move: np.ndarray) -> int | None:
        """The grid ``move`` (atoms of grid ``g``) may join, or None."""
        labels, excess = self.labels, self.excess
        members = np.flatnonzero(labels == g)
        if not self.movable[move].all() or len(move) == len(members):
            return None
        gain, pgain = self.w[move].sum(), self.pw[move].sum()
        if excess(g, -gain, -pgain) > excess(g) or not self.connected(np.setdiff1d(members, move)):
            return None
        near = np.unique(labels[np.concatenate([self.nbrs[i] for i in move])])
        fits = [h for h in near.tolist() if h != g and self.compound_led(h) and excess(h, gain, pgain) <= excess(h)]
        for h in sorted(fits, key=lambda h: (excess(h, gain, pgain) - excess(h),
                                             abs(self.by_class[h].sum() + gain - self.band.centre), h)):
            if self.connected(np.concatenate([np.flatnonzero(labels == h), move])):
                return h
        return None

    def move(self, move: np.ndarray, g: int, h: int) -> None:
        """Move the atoms ``move`` from grid ``g`` to grid ``h``."""
        w, pw, code = self.w, self.pw, self.code
        self.labels[move] = h
        np.add.at(self.by_class, (np.full(len(move), g), code[move]), -w[move])
        np.add.at(self.by_class, (np.full(len(move), h), code[move]), w[move])
        self.psize[g] -= pw[move].sum()
        self.psize[h] += pw[move].sum()
