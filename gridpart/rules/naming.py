"""What a street office publishes about each grid: kind, code, four limits, places.

:func:`name_grids` is what :func:`gridpart.partition` calls once the grids are
drawn; it gathers :mod:`gridpart.rules.kinds`, :mod:`gridpart.rules.codes` and
:mod:`gridpart.rules.four_limits`.  :func:`recode` re-numbers a finished plan with other
community codes, a prefix, a code width or a row height.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd

from gridpart.rules.codes import DEFAULT_PREFIX, community_codes, grid_codes
from gridpart.rules.four_limits import SIDES, four_limits
from gridpart.rules.kinds import grid_kinds, grid_places

__all__ = ["LIMITS_FLAG_COLUMNS", "NAMING_COLUMNS", "name_grids", "recode"]

#: Columns :func:`name_grids` adds to the grids.
NAMING_COLUMNS = ("code", "kind", "limits", "limits_en", "places") + tuple(f"limit_{s}" for s in SIDES)
#: Further columns :func:`name_grids` returns, for flags: the four limits describe a larger
#: area than the grid (see :func:`gridpart.rules.four_limits.four_limits`).
LIMITS_FLAG_COLUMNS = ("limits_loose", "limits_loose_reason")


def name_grids(
    grids: gpd.GeoDataFrame,
    atoms: pd.DataFrame,
    segments: gpd.GeoDataFrame,
    *,
    parcels: gpd.GeoDataFrame | None = None,
    communities: gpd.GeoDataFrame | None = None,
    prefix: str = DEFAULT_PREFIX,
    width: int | None = None,
    row_height_m: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kind, code, four limits and places of every grid.

    Parameters
    ----------
    grids : GeoDataFrame
        ``grid_id``, ``community_id`` and geometry, in the metric working CRS.
    atoms : DataFrame
        ``grid_id``, ``households``, ``area_m2``, ``parcel_kind``.
    segments : GeoDataFrame
        The noded linework (``kind``, ``name``, ``name_en``), working CRS.
    parcels, communities : GeoDataFrame, optional
        Working CRS.  Communities give ``code`` (12 digits) where known.
    prefix, width, row_height_m
        See :func:`gridpart.rules.codes.community_codes` and :func:`gridpart.rules.codes.grid_codes`.

    Returns
    -------
    columns : DataFrame
        Index of ``grids``: the :data:`NAMING_COLUMNS`, then the :data:`LIMITS_FLAG_COLUMNS`.
    community : DataFrame
        Per community id: ``code``, ``code_source`` ("given"/"generated") and ``name``.
    """
    comm = _communities(grids, communities)
    ccodes = community_codes(comm, prefix=prefix)
    ccodes["name"] = comm.set_index(comm["community_id"].astype(str))["name"].reindex(ccodes.index).to_numpy()
    out = pd.DataFrame(index=grids.index)
    out["code"] = grid_codes(grids, ccodes["code"], width=width, row_height_m=row_height_m)["code"]
    kinds = grid_kinds(atoms)
    out["kind"] = kinds.reindex(grids["grid_id"].to_numpy()).fillna("street").to_numpy()
    geo_atoms = atoms if isinstance(atoms, gpd.GeoDataFrame) and atoms.crs == grids.crs else None
    lim = four_limits(grids, segments, atoms=geo_atoms,
                      parcels=parcels if parcels is not None and parcels.crs == grids.crs else None,
                      communities=communities if communities is not None and communities.crs == grids.crs else None)
    out["limits"] = lim["limits"]
    out["limits_en"] = lim["limits_en"]
    out["places"] = _places(grids, atoms, parcels)
    for s in SIDES:
        out[f"limit_{s}"] = lim[s]
    for col in LIMITS_FLAG_COLUMNS:
        out[col] = lim[col]
    return out[list(NAMING_COLUMNS) + list(LIMITS_FLAG_COLUMNS)], ccodes


def _places(grids: gpd.GeoDataFrame, atoms: pd.DataFrame, parcels, sep: str = "、") -> pd.Series:
    """Names of the parcels the grid's atoms belong to (largest area first), then the other
    named parcels it holds much of (:func:`gridpart.rules.kinds.grid_places`)."""
    overlap = grid_places(grids, parcels, sep=sep)
    if "parcel_name" not in atoms:
        return overlap
    named = atoms[atoms["parcel_name"].notna()]
    own = (named.groupby(["grid_id", "parcel_name"])["area_m2"].sum().reset_index()
           .sort_values(["grid_id", "area_m2", "parcel_name"], ascending=[True, False, True])
           .groupby("grid_id")["parcel_name"].agg(list))
    first = own.reindex(grids["grid_id"].to_numpy())
    out = [sep.join(dict.fromkeys((a if isinstance(a, list) else []) + [n for n in b.split(sep) if n]))
           for a, b in zip(first.to_numpy(), overlap.to_numpy())]
    return pd.Series(out, index=grids.index, dtype=object)


def _communities(grids: gpd.GeoDataFrame, communities: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Communities with ``community_id``, ``code``, ``name``; without a layer, the grids' dissolve."""
    if communities is not None and len(communities):
        c = communities.copy()
        for col in ("code", "name"):
            if col not in c:
                c[col] = None
        ids = set(grids["community_id"].astype(str))
        return c[c["community_id"].astype(str).isin(ids)]
    d = grids[["community_id", "geometry"]].dissolve("community_id").reset_index()
    d["code"] = None
    d["name"] = None
    return d


def recode(plan, *, codes: dict | None = None, prefix: str = DEFAULT_PREFIX, width: int | None = None,
           row_height_m: float | None = None):
    """The plan with its grids re-coded (community codes, prefix, width or row height changed).

    Parameters
    ----------
    plan : GridPlan
    codes : dict, optional
        Community id -> 12-digit code; communities left out keep a given code
        or get a generated one.
    prefix, width, row_height_m
        See :func:`gridpart.rules.codes.community_codes` and :func:`gridpart.rules.codes.grid_codes`.

    Returns
    -------
    GridPlan
        A new plan; ``grids["code"]`` and ``params["community_codes"]`` changed.
        This is the only call that renumbers codes (DESIGN §4): it appends
        what it did to ``params["recodes"]`` (community and grid codes
        ``[old, new]``, prefix, width, row height) and adds the codes it
        dropped to ``params["retired_codes"]``, which a later
        :func:`gridpart.repartition` never gives again.

    Raises
    ------
    InputError
        Bad codes, prefix, width or row height (see :mod:`gridpart.rules.codes`).

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> recode(plan, codes={"1": "110108015001"}, width=3).grids["code"].str.len().unique().tolist()
    [15]
    """

    record = plan.record
    metric = plan.metric_crs
    g = plan.grids.to_crs(metric)
    known = dict(record.community_codes or {})
    ids = sorted(g["community_id"].astype(str).unique())
    given = {cid: v["code"] for cid, v in known.items() if v.get("code_source") == "given"}
    given.update({str(k): str(v) for k, v in (codes or {}).items()})
    comm = g[["community_id", "geometry"]].assign(community_id=g["community_id"].astype(str))
    comm = comm.dissolve("community_id").reset_index()
    comm["code"] = comm["community_id"].map(given)
    comm["name"] = comm["community_id"].map({cid: v.get("name") for cid, v in known.items()})
    cc = community_codes(comm, prefix=prefix)
    grids = plan.grids.copy()
    grids["code"] = grid_codes(g, cc["code"], width=width, row_height_m=row_height_m)["code"].to_numpy()
    community = {cid: {"code": cc.loc[cid, "code"], "code_source": cc.loc[cid, "code_source"],
                                       "name": comm.set_index("community_id")["name"].get(cid)} for cid in ids}
    # the one explicit renumbering (DESIGN §4): recorded, and the codes it dropped stay retired
    before = {cid: v.get("code") for cid, v in known.items() if isinstance(v, dict)}
    changed = {str(g): [a, b] for g, a, b in zip(plan.grids["grid_id"], plan.grids["code"], grids["code"]) if a != b}
    recodes = (*(record.recodes or ()), {
        "communities": {cid: [before.get(cid), cc.loc[cid, "code"]] for cid in ids
                        if before.get(cid) != cc.loc[cid, "code"]},
        "grids": changed, "prefix": prefix, "width": width, "row_height_m": row_height_m})
    live = set(grids["code"]) | set(cc["code"])
    dropped = {c for c in [*before.values(), *plan.grids["code"]] if isinstance(c, str)} - live
    retired = tuple(sorted(set(record.retired_codes or ()) | dropped))
    record = dataclasses.replace(record, community_codes=community, recodes=recodes, retired_codes=retired)
    return dataclasses.replace(plan, grids=grids, record=record)
