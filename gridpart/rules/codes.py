"""Community and grid codes (DESIGN §4, "Codes").

A community code is the 12-digit statistical area code (6 digits county,
3 street/township, 3 community).  Where a community has none, a placeholder
is built from a user ``prefix`` and the community's rank in reading order,
and flagged (``code_source == "generated"``).

A grid code is its community's code followed by a sequence number of
``width`` digits (2 or 3).  Grids are numbered in reading order within their
community: rows from north to south, west to east within a row.  Rows are
bands of northing ``row_height_m`` high, counted down from the northernmost
grid of the community; a grid's position is the centroid of its geometry
(rounded to the centimetre).  The numbering depends only on the geometry:
never on the seed, the row order of the input or the grid ids.

All measures are in metres: pass geometries in a projected CRS (geographic
input is projected to its UTM zone first).

Codes are stable (DESIGN §4): they are given in reading order when a plan is
first drawn; afterwards :func:`carry_community_codes` and
:func:`carry_grid_codes` keep every community's and grid's code through
repairs and mergers, whether it was given or generated, give a new community
or grid the next free number, and never reuse a code (``used``: the codes of
the old plan and the ones it had retired).  Only an explicit
:func:`gridpart.recode` renumbers.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems
from gridpart.inputs.crs import metric_crs

__all__ = [
    "CODE_DIGITS",
    "DEFAULT_PREFIX",
    "reading_order",
    "community_codes",
    "grid_codes",
    "carry_community_codes",
    "carry_grid_codes",
]

#: Digits of a statistical area code (6 county + 3 street/township + 3 community).
CODE_DIGITS = 12
#: Prefix of generated community codes: nine zeros (no county, no street) and
#: a 3-digit rank, so a placeholder can never be mistaken for a real code
#: (real county codes start with a province code 11-82).
DEFAULT_PREFIX = "000000000"

_DIGITS = re.compile(r"^\d+$")


def _metric(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is not None and gdf.crs.is_geographic and len(gdf):
        return gdf.to_crs(metric_crs(gdf))
    return gdf


def reading_order(geometries, *, row_height_m: float | None = None,
                  groups=None) -> np.ndarray:
    """Positions of ``geometries`` in reading order: rows north to south, west to east.

    Parameters
    ----------
    geometries : array-like of shapely geometries
        In a projected CRS (metres).
    row_height_m : float, optional
        Height of a row band.  Default: the square root of the median area
        (about one grid's height).
    groups : array-like, optional
        Order within each group (e.g. community), groups in sorted order;
        rows are counted from each group's northernmost geometry.

    Returns
    -------
    ndarray of int
        Indices into ``geometries``, first to last.

    Examples
    --------
    >>> import shapely
    >>> boxes = [shapely.box(100, 0, 200, 100), shapely.box(0, 0, 100, 100),
    ...          shapely.box(0, 100, 200, 200)]
    >>> reading_order(boxes, row_height_m=100).tolist()  # north row first, then west to east
    [2, 1, 0]
    """
    geoms = np.asarray(geometries, dtype=object)
    n = len(geoms)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    cen = shapely.centroid(geoms)
    x = np.round(shapely.get_x(cen), 2)
    y = np.round(shapely.get_y(cen), 2)
    area = np.round(shapely.area(geoms), 2)
    if row_height_m is None:
        row_height_m = math.sqrt(max(float(np.median(area)), 1.0))
    g = np.zeros(n, dtype=np.int64) if groups is None else pd.factorize(
        pd.Series(np.asarray(groups)).astype(str), sort=True)[0]
    top = pd.Series(y).groupby(g).transform("max").to_numpy()
    row = np.floor((top - y) / float(row_height_m) + 1e-9).astype(np.int64)
    return np.lexsort((area, -y, x, row, g))


def _code_text(value) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _check_prefix(prefix: str, problems: Problems) -> None:
    if not isinstance(prefix, str) or not _DIGITS.match(prefix) or not 1 <= len(prefix) <= CODE_DIGITS - 1:
        problems.add("prefix", f"must be a string of 1 to {CODE_DIGITS - 1} digits, got {prefix!r}",
                     fix=f"e.g. prefix='110108001' (county + street code), or the default {DEFAULT_PREFIX!r}")


def community_codes(communities: gpd.GeoDataFrame, *, prefix: str = DEFAULT_PREFIX,
                    row_height_m: float | None = None) -> pd.DataFrame:
    """The 12-digit code of every community: given, or generated from ``prefix`` and rank.

    Parameters
    ----------
    communities : GeoDataFrame
        ``community_id``, optional ``code`` (12 digits; None/NaN where unknown)
        and geometry.
    prefix : str
        Digits that start a generated code; the rest (``12 - len(prefix)``
        digits) is the community's rank, from 1, in reading order among the
        communities without a code.
    row_height_m : float, optional
        Row band height for ranking the communities (default: about one
        community's height).

    Returns
    -------
    DataFrame
        Indexed by ``community_id`` (str): ``code`` (str) and ``code_source``
        ("given" or "generated").

    Raises
    ------
    InputError
        A given code that is not 12 digits, a code given twice, a bad prefix,
        or more communities without a code than the rank digits can number.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> c = gpd.GeoDataFrame({"community_id": ["a", "b"], "code": ["110108001001", None]},
    ...     geometry=[shapely.box(0, 0, 10, 10), shapely.box(20, 0, 30, 10)], crs=32650)
    >>> community_codes(c).to_dict("index")
    {'a': {'code': '110108001001', 'code_source': 'given'}, 'b': {'code': '000000000001', 'code_source': 'generated'}}
    """
    problems = Problems()
    _check_prefix(prefix, problems)
    ids = communities["community_id"].astype(str).to_numpy()
    raw = communities["code"] if "code" in communities.columns else pd.Series(None, index=communities.index)
    given = raw.notna().to_numpy()
    text = np.array([_code_text(v) if g else None for v, g in zip(raw.tolist(), given)], dtype=object)
    bad = given & np.array([v is None or len(v) != CODE_DIGITS or not _DIGITS.match(v) for v in text])
    if bad.any():
        problems.add("communities['code']", f"codes must be {CODE_DIGITS} digits (6 county + 3 street + "
                     f"3 community); found {list(text[bad][:3])}", rows=communities.index[bad],
                     fix="correct them, or set them to None to have placeholder codes generated")
    dup = given & ~bad & pd.Series(text).duplicated(keep=False).to_numpy()
    if dup.any():
        problems.add("communities['code']", "a code is given to more than one community",
                     rows=communities.index[dup], fix="give every community its own code")
    problems.raise_if_any()
    out = pd.DataFrame({"code": text, "code_source": np.where(given, "given", "generated")},
                       index=pd.Index(ids, name="community_id"))
    missing = np.flatnonzero(~given)
    if len(missing):
        rank_digits = CODE_DIGITS - len(prefix)
        if len(missing) > 10 ** rank_digits - 1:
            problems.add("prefix", f"{len(missing)} communities have no code but a prefix of {len(prefix)} "
                         f"digits leaves {rank_digits} digits for their rank", fix="pass a shorter prefix")
            problems.raise_if_any()
        geoms = _metric(communities).geometry.values[missing]
        order = reading_order(geoms, row_height_m=row_height_m)
        rank = np.empty(len(missing), dtype=np.int64)
        rank[order] = np.arange(1, len(missing) + 1)
        out.iloc[missing, 0] = [f"{prefix}{r:0{rank_digits}d}" for r in rank]
    return out


def grid_codes(grids: gpd.GeoDataFrame, codes: Mapping[str, str] | pd.Series, *,
               width: int | None = None, row_height_m: float | None = None) -> pd.DataFrame:
    """Grid codes: community code + sequence number in reading order.

    Parameters
    ----------
    grids : GeoDataFrame
        ``community_id`` and geometry (projected; geographic input is
        projected to its UTM zone).
    codes : mapping or Series
        Community id (str) -> 12-digit community code.
    width : {2, 3}, optional
        Digits of the sequence number.  Default: 2, or 3 when a community has
        more than 99 grids (more digits, with a warning, beyond 999: a city
        partitioned without community boundaries).
    row_height_m : float, optional
        Height of a row band; default about one grid's height (square root of
        the median grid area).

    Returns
    -------
    DataFrame
        Index of ``grids``: ``code`` (str, ``12 + width`` digits) and
        ``sequence`` (int, from 1 within each community).

    Raises
    ------
    InputError
        A width other than 2 or 3, a community with more grids than the width
        can number (the message names the width to use), a community without
        a code.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> g = gpd.GeoDataFrame({"community_id": ["a", "a", "a"]},
    ...     geometry=[shapely.box(100, 0, 200, 100), shapely.box(0, 0, 100, 100),
    ...               shapely.box(0, 100, 200, 200)], crs=32650)
    >>> grid_codes(g, {"a": "110108001001"})["code"].tolist()
    ['11010800100103', '11010800100102', '11010800100101']
    """
    problems = Problems()
    comm = grids["community_id"].astype(str).to_numpy()
    codes = pd.Series(codes, dtype=object)
    codes.index = codes.index.astype(str)
    counts = pd.Series(comm).value_counts()
    if width is not None and width not in (2, 3):
        problems.add("width", f"must be 2 or 3 digits, got {width!r}", fix="width=2 (up to 99 grids) or width=3")
    elif width is None:
        most = int(counts.max()) if len(counts) else 0
        width = 2 if most <= 99 else 3 if most <= 999 else len(str(most))
        if width > 3:  # a whole city given as one community: no standard width numbers it
            warnings.warn(f"community {counts.index[0]!r} has {most} grids: their codes use {width} digits; "
                          "give the community boundaries (communities=) for standard 2- or 3-digit codes",
                          UserWarning, stacklevel=2)
    if width in (2, 3):
        over = counts[counts > 10 ** width - 1]
        if len(over):
            need = next((w for w in (2, 3) if over.max() <= 10 ** w - 1), None)
            fix = f"use width={need}" if need else "split the community: no width (2 or 3) numbers that many grids"
            problems.add("width", f"community {over.index[0]!r} has {int(over.iloc[0])} grids; width={width} "
                         f"numbers at most {10 ** width - 1}", fix=fix)
    missing = sorted(set(comm) - set(codes.dropna().index))
    if missing:
        problems.add("codes", f"no code for communities {missing[:5]}",
                     fix="pass a code for every community_id (see community_codes)")
    if row_height_m is not None and not (isinstance(row_height_m, (int, float)) and row_height_m > 0):
        problems.add("row_height_m", f"must be a positive number of metres, got {row_height_m!r}",
                     fix="e.g. row_height_m=200")
    problems.raise_if_any()
    order = reading_order(_metric(grids).geometry.values, row_height_m=row_height_m, groups=comm)
    seq = np.empty(len(grids), dtype=np.int64)
    seq[order] = pd.Series(comm[order]).groupby(comm[order]).cumcount().to_numpy() + 1
    code = [f"{codes[c]}{s:0{width}d}" for c, s in zip(comm, seq)]
    return pd.DataFrame({"code": code, "sequence": seq}, index=grids.index)


def _rank_of(code, prefix: str) -> int | None:
    """The number after ``prefix`` in a community code of that prefix, else None."""
    if (isinstance(code, str) and len(code) == CODE_DIGITS and code.startswith(prefix)
            and _DIGITS.match(code[len(prefix):])):
        return int(code[len(prefix):])
    return None


def carry_community_codes(communities: gpd.GeoDataFrame, old_codes: Mapping[str, str], *,
                          old_sources: Mapping[str, str] | None = None, used=(),
                          prefix: str = DEFAULT_PREFIX, row_height_m: float | None = None) -> pd.DataFrame:
    """Community codes after a change: kept where the community carries on, new ones after the highest.

    A code given in ``communities['code']`` wins.  Otherwise a community whose
    id was in the old plan keeps its old code (given or generated), and a new
    community (a merger, a split-off part under a new id) gets a generated
    code numbered after every code of ``prefix`` ever used (``old_codes`` and
    ``used``), in reading order among the new ones: a code is never reused.

    Parameters
    ----------
    communities : GeoDataFrame
        The communities now: ``community_id``, optional ``code``, geometry.
    old_codes : mapping
        Old community id (str) -> its code.
    old_sources : mapping, optional
        Old community id -> "given" or "generated" (default "given").
    used : iterable of str
        Codes retired earlier (never to be given again).
    prefix, row_height_m
        As for :func:`community_codes`.

    Returns
    -------
    DataFrame
        Indexed by ``community_id`` (str): ``code``, ``code_source``
        ("given"/"generated") and ``carried`` (the code is the old one).

    Raises
    ------
    InputError
        As :func:`community_codes`, and when a given code is already another
        community's (kept) code.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> now = gpd.GeoDataFrame({"community_id": ["AB", "C", "D"]},
    ...     geometry=[shapely.box(0, 0, 20, 10), shapely.box(30, 0, 40, 10), shapely.box(50, 0, 60, 10)], crs=32650)
    >>> old = {"A": "000000000001", "B": "000000000002", "C": "000000000003", "D": "000000000004"}
    >>> carry_community_codes(now, old)["code"].to_dict()
    {'AB': '000000000005', 'C': '000000000003', 'D': '000000000004'}
    """
    problems = Problems()
    _check_prefix(prefix, problems)
    problems.raise_if_any()
    old_codes = {str(k): str(v) for k, v in dict(old_codes).items() if isinstance(v, str) or pd.notna(v)}
    old_sources = {str(k): str(v) for k, v in dict(old_sources or {}).items()}
    ids = communities["community_id"].astype(str).to_numpy()
    raw = communities["code"] if "code" in communities.columns else pd.Series(None, index=communities.index)
    given = raw.notna().to_numpy()
    # validate the given codes (and their duplicates) as community_codes does
    if given.any():
        community_codes(communities.iloc[np.flatnonzero(given)], prefix=prefix)
    code = np.array([_code_text(v) if g else old_codes.get(i) for v, g, i in zip(raw.tolist(), given, ids)],
                    dtype=object)
    source = np.array(["given" if g else old_sources.get(i, "given") if c is not None else "generated"
                       for g, c, i in zip(given, code, ids)], dtype=object)
    carried = np.array([c is not None and old_codes.get(i) == c for c, i in zip(code, ids)])
    new = np.flatnonzero(pd.isna(pd.Series(code)).to_numpy())
    if len(new):
        taken = [*old_codes.values(), *[str(u) for u in used], *[c for c in code if c is not None]]
        ranks = [r for r in (_rank_of(c, prefix) for c in taken) if r is not None]
        start = max(ranks, default=0) + 1
        rank_digits = CODE_DIGITS - len(prefix)
        if start + len(new) - 1 > 10 ** rank_digits - 1:
            problems.add("prefix", f"{len(new)} new communities need numbers from {start} but a prefix of "
                         f"{len(prefix)} digits leaves {rank_digits} digits for them", fix="pass a shorter prefix")
            problems.raise_if_any()
        order = reading_order(_metric(communities).geometry.values[new], row_height_m=row_height_m)
        rank = np.empty(len(new), dtype=np.int64)
        rank[order] = np.arange(start, start + len(new))
        code[new] = [f"{prefix}{r:0{rank_digits}d}" for r in rank]
    dup = pd.Series(code).duplicated(keep=False).to_numpy()
    if dup.any():
        problems.add("communities['code']", f"a code is given that another community keeps from the old plan: "
                     f"{sorted(set(code[dup]))[:3]}", rows=communities.index[dup],
                     fix="give the community a code no other community has, or leave it out to keep the old one")
        problems.raise_if_any()
    return pd.DataFrame({"code": code, "code_source": source, "carried": carried},
                        index=pd.Index(ids, name="community_id"))


def carry_grid_codes(grids: pd.DataFrame, community_codes: Mapping[str, str] | pd.Series, *, width: int,
                     used=()) -> pd.Series:
    """Grid codes after a change: a grid keeps its code while it stays in its community.

    A grid whose ``previous`` code is its community's code plus a
    ``width``-digit number keeps it.  Every other grid of the community (a
    new grid, a grid moved in from another community, every grid of a
    community with a new code) takes the next free number: after the highest
    number of that community among all ``previous`` codes and ``used``, in
    the order of the rows (pass them in reading order).  A code is never
    reused.

    Parameters
    ----------
    grids : DataFrame
        ``community_id`` and ``previous`` (old code or None), in reading order.
    community_codes : mapping or Series
        Community id (str) -> code; a community without one keeps the
        previous codes (new grids get none).
    width : int
        Digits of the sequence number.
    used : iterable of str
        Grid codes used before (retired ones too): their numbers are taken.

    Returns
    -------
    Series of str (``None`` where nothing codes a grid), aligned with ``grids``.

    Raises
    ------
    InputError
        When the numbers of a community run past ``width`` digits.

    Examples
    --------
    >>> g = pd.DataFrame({"community_id": ["C", "C", "C"],
    ...                   "previous": ["00000000000301", None, "00000000000401"]})
    >>> carry_grid_codes(g, {"C": "000000000003"}, width=2, used=["00000000000302"]).tolist()
    ['00000000000301', '00000000000303', '00000000000304']
    """
    problems = Problems()
    codes = pd.Series(community_codes, dtype=object)
    codes.index = codes.index.astype(str)
    comm = grids["community_id"].astype(str).to_numpy()
    prev = np.array([c if isinstance(c, str) else None for c in grids["previous"].tolist()], dtype=object)
    used = [str(u) for u in used]
    out = np.full(len(grids), None, dtype=object)
    for cid in sorted(set(comm)):
        rows = np.flatnonzero(comm == cid)
        cc = codes.get(cid)
        if cc is None or pd.isna(cc):
            out[rows] = prev[rows]
            continue
        cc = str(cc)

        def seq(c, cc=cc):
            tail = c[len(cc):] if isinstance(c, str) and c.startswith(cc) else ""
            return int(tail) if len(tail) == width and _DIGITS.match(tail) else None

        mine = [seq(c) for c in prev[rows]]
        keep = np.array([m is not None for m in mine]) & ~pd.Series(prev[rows]).duplicated().to_numpy()
        # numbers of this community held by any grid (one moved out keeps its old code elsewhere) or used before
        taken = [m for m in map(seq, [*prev, *used]) if m is not None]
        nxt = max(taken, default=0) + 1
        out[rows[keep]] = prev[rows[keep]]
        fresh = rows[~keep]
        out[fresh] = [f"{cc}{n:0{width}d}" for n in range(nxt, nxt + len(fresh))]
        if nxt + len(fresh) - 1 >= 10 ** width:
            problems.add("code_width", f"community {cid!r} needs grid numbers up to {nxt + len(fresh) - 1}, "
                         f"more than {width} digits number", fix=f"pass code_width={width + 1}")
    problems.raise_if_any()
    return pd.Series(out, index=grids.index, dtype=object)
