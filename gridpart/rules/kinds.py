"""Grid kinds: 单位型 (unit), 小区型 (compound), 街巷型 (street), and the places in a grid.

Which atoms belong to which parcel, and how compounds and units are kept
together in the solver, is :mod:`gridpart.model.parcels`.

Rules (DESIGN §4, "Grid kinds")
-------------------------------
**Grid kind.**  The class (unit, compound, or street for atoms in no parcel)
holding most of a grid's households; for a grid without households, most of
its area.  Ties go to unit, then compound, then street.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.model.parcels import canonical_parcels

__all__ = ["GRID_KINDS", "KIND_ZH", "grid_kinds", "grid_places"]

#: Grid kinds in order of precedence.
GRID_KINDS = ("unit", "compound", "street")
#: Chinese names of the grid kinds.
KIND_ZH = {"unit": "单位型", "compound": "小区型", "street": "街巷型"}


def grid_kinds(atoms: pd.DataFrame) -> pd.Series:
    """The kind of every grid (see the module rules).

    Parameters
    ----------
    atoms : DataFrame
        ``grid_id``, ``households``, ``area_m2`` and ``parcel_kind``.

    Returns
    -------
    Series
        Indexed by ``grid_id`` (sorted): "unit", "compound" or "street".

    Examples
    --------
    >>> import pandas as pd
    >>> atoms = pd.DataFrame({"grid_id": [1, 1, 2], "households": [100, 200, 0],
    ...     "area_m2": [1.0, 1.0, 5.0], "parcel_kind": ["compound", None, "unit"]})
    >>> grid_kinds(atoms).to_dict()
    {1: 'street', 2: 'unit'}
    """
    kind = pd.Series(atoms["parcel_kind"].to_numpy(), dtype=object).fillna("street").to_numpy()
    df = pd.DataFrame({"grid": atoms["grid_id"].to_numpy(), "kind": kind,
                       "hh": atoms["households"].to_numpy(dtype=float),
                       "area": atoms["area_m2"].to_numpy(dtype=float)})
    by = df.pivot_table(index="grid", columns="kind", values=["hh", "area"], aggfunc="sum", fill_value=0.0)
    hh = by["hh"].reindex(columns=list(GRID_KINDS), fill_value=0.0) if "hh" in by else None
    area = by["area"].reindex(columns=list(GRID_KINDS), fill_value=0.0)
    hh = hh if hh is not None else area * 0
    use = np.where(hh.sum(axis=1).to_numpy()[:, None] > 0, hh.to_numpy(), area.to_numpy())
    # argmax takes the first maximum: unit, then compound, then street
    return pd.Series(np.array(GRID_KINDS, dtype=object)[np.argmax(use, axis=1)], index=hh.index.rename("grid_id"))


def grid_places(grids: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, *,
                min_share: float = 0.25, sep: str = "、") -> pd.Series:
    """Names of the compounds and units inside each grid.

    A named parcel is listed in a grid holding at least ``min_share`` of the
    parcel's area inside the plan (parcels reaching out of the area count
    by their part inside), largest overlap first.

    Parameters
    ----------
    grids : GeoDataFrame
        Grid polygons, projected CRS.
    parcels : GeoDataFrame or None
        ``kind``, ``name``; same CRS.
    min_share : float
    sep : str
        Separator of the names.

    Returns
    -------
    Series of str (empty string where none), index of ``grids``.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)], crs=32650)
    >>> p = gpd.GeoDataFrame({"kind": ["compound", "unit"], "name": ["静淑苑", "某小学"]},
    ...     geometry=[shapely.box(1, 1, 9, 9), shapely.box(8, 1, 19, 9)], crs=32650)
    >>> grid_places(g, p).tolist()
    ['静淑苑', '某小学']
    """
    out = pd.Series("", index=grids.index, dtype=object)
    if parcels is None or len(parcels) == 0 or len(grids) == 0 or "name" not in parcels:
        return out
    p = canonical_parcels(parcels)
    p = p[p["name"].notna() & (p["name"].astype(str).str.strip() != "")]
    if len(p) == 0:
        return out
    gg = np.asarray(grids.geometry.values, dtype=object)
    pg = p.geometry.values
    inside = shapely.area(shapely.intersection(pg, shapely.union_all(gg)))
    i, j = shapely.STRtree(gg).query(pg, predicate="intersects")
    if len(i) == 0:
        return out
    a = shapely.area(shapely.intersection(pg[i], gg[j]))
    df = pd.DataFrame({"grid": j, "name": p["name"].astype(str).str.strip().to_numpy()[i], "a": a,
                       "share": a / np.maximum(inside[i], 1e-9)})
    df = df[(df["share"] >= min_share) & (df["a"] > 0)]
    df = df.sort_values(["grid", "a", "name"], ascending=[True, False, True]).drop_duplicates(["grid", "name"])
    joined = df.groupby("grid")["name"].agg(sep.join)
    out.iloc[joined.index.to_numpy()] = joined.to_numpy()
    return out
