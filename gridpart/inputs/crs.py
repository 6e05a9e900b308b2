"""Coordinate reference systems: check them, pick a metric one, reproject.

gridpart measures areas, lengths and distances, so it works in a projected CRS
whose units are true metres near the data (DESIGN §4):

* a projected CRS in metres that the user already uses is kept, unless it is a
  Web Mercator (its "metres" are off by a factor 1/cos(latitude), 1.3 in
  Beijing) or distorts lengths by more than 5 % at the data;
* data in geographic CGCS2000 (EPSG:4490) goes to the CGCS2000 3-degree
  Gauss–Krüger zone (EPSG:4534–4554, central meridians 75°E–135°E);
* anything else goes to the WGS 84 UTM zone of the data's centre.

Results go back in the households' CRS (``user_crs``).

Examples
--------
>>> working_crs("EPSG:4326", (116.30, 39.95, 116.40, 40.00)).to_epsg()
32650
>>> working_crs("EPSG:4490", (116.30, 39.95, 116.40, 40.00)).to_epsg()
4548
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as _ProjCRSError

from gridpart.errors import CRSError, Problems

__all__ = ["working_crs", "metric_crs", "check_crs", "to_working", "prepare_crs", "is_web_mercator"]

logger = logging.getLogger(__name__)

#: Codes of Web Mercator CRSs (EPSG, the old Google code, ESRI).
_WEB_MERCATOR_CODES = frozenset({"3857", "900913", "3785", "102100", "102113"})

#: CGCS2000 3-degree Gauss–Krüger CM zones: EPSG:4534 is CM 75°E, +1 per 3°, EPSG:4554 CM 135°E.
_GK_FIRST_EPSG, _GK_FIRST_CM, _GK_LAST_CM = 4534, 75, 135

#: Largest length distortion (|scale − 1|) at the data for which a user's projected CRS is kept.
_MAX_SCALE_ERROR = 0.05

_WGS84 = pyproj.CRS.from_epsg(4326)


def _as_crs(crs: Any) -> pyproj.CRS:
    if crs is None:
        raise CRSError("crs: no CRS was given. Fix: set one on the layer, e.g. "
                       "gdf.set_crs('EPSG:4326')")
    try:
        return pyproj.CRS.from_user_input(crs)
    except _ProjCRSError as exc:
        raise CRSError(f"crs: {crs!r} is not a CRS pyproj understands ({exc}). Fix: pass e.g. "
                       "'EPSG:4326' or a pyproj.CRS") from exc


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    """The horizontal part of a bound or compound CRS."""
    if crs.is_bound and crs.source_crs is not None:
        crs = crs.source_crs
    if crs.is_compound and crs.sub_crs_list:
        crs = crs.sub_crs_list[0]
    return crs


def is_web_mercator(crs: Any) -> bool:
    """Whether ``crs`` is a Web Mercator ("Popular Visualisation Pseudo Mercator") CRS.

    Its coordinates are labelled metres but are stretched by 1/cos(latitude),
    so gridpart never measures in it.

    Examples
    --------
    >>> is_web_mercator("EPSG:3857"), is_web_mercator("EPSG:32650")
    (True, False)
    """
    crs = _horizontal(_as_crs(crs))
    if not crs.is_projected:
        return False
    codes = {match.code for match in (crs.list_authority(min_confidence=90) or [])}
    authority = crs.to_authority(min_confidence=90)
    if authority is not None:
        codes.add(authority[1])
    if codes & _WEB_MERCATOR_CODES:
        return True
    operation = crs.coordinate_operation
    method = (operation.method_name if operation is not None else "") or ""
    if "pseudo mercator" in method.lower() or "auxiliary sphere" in method.lower():
        return True
    # A Mercator on a sphere of the WGS 84 major axis is the web map projection too.
    ellipsoid = crs.ellipsoid
    return ("mercator" in method.lower() and "transverse" not in method.lower()
            and ellipsoid is not None and ellipsoid.semi_major_metre == 6378137.0
            and ellipsoid.semi_minor_metre == ellipsoid.semi_major_metre)


def _in_metres(crs: pyproj.CRS) -> bool:
    axes = crs.axis_info[:2]
    return len(axes) == 2 and all(
        a.unit_name in ("metre", "meter", "m") and a.unit_conversion_factor == 1.0 for a in axes)


def _is_cgcs2000_geographic(crs: pyproj.CRS) -> bool:
    return crs.is_geographic and (crs.to_epsg() == 4490 or
                                  (crs.datum is not None and crs.datum.name == "China 2000"))


def _lonlat_bounds(crs: pyproj.CRS, bounds: Sequence[float]) -> tuple[float, float, float, float]:
    """``bounds`` in ``crs`` as (west, south, east, north) degrees; inf when untransformable."""
    transformer = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)
    return tuple(transformer.transform_bounds(*bounds, densify_pts=21))


def _check_bounds(bounds: Sequence[float]) -> tuple[float, float, float, float]:
    try:
        b = tuple(float(v) for v in bounds)
    except (TypeError, ValueError) as exc:
        raise CRSError(f"bounds: expected (minx, miny, maxx, maxy); found {bounds!r}.") from exc
    if len(b) != 4 or not all(math.isfinite(v) for v in b) or b[0] > b[2] or b[1] > b[3]:
        raise CRSError(f"bounds: expected four finite numbers (minx, miny, maxx, maxy) with "
                       f"min ≤ max; found {bounds!r}. Fix: pass gdf.total_bounds of a "
                       "non-empty layer")
    return b  # type: ignore[return-value]


def _centre(west: float, south: float, east: float, north: float) -> tuple[float, float]:
    if west > east:  # across the antimeridian
        east += 360.0
    lon = (west + east) / 2.0
    lon = (lon + 180.0) % 360.0 - 180.0
    return lon, (south + north) / 2.0


def working_crs(crs: Any, bounds: Sequence[float]) -> pyproj.CRS:
    """The metric projected CRS gridpart works in for data in ``crs`` within ``bounds``.

    Parameters
    ----------
    crs : pyproj.CRS or anything ``pyproj.CRS.from_user_input`` accepts
        The data's CRS.
    bounds : (minx, miny, maxx, maxy)
        The data's extent, in ``crs``.

    Returns
    -------
    pyproj.CRS
        ``crs`` itself when it is projected in metres, not a Web Mercator and
        true to within 5 % at the data; the CGCS2000 Gauss–Krüger 3-degree
        zone (EPSG:4534–4554) for geographic CGCS2000 (EPSG:4490) in China;
        else the WGS 84 UTM zone (UPS beyond 84°N/80°S) of the centre.

    Raises
    ------
    CRSError
        For a missing CRS, bounds that are not four finite numbers, or bounds
        that cannot be placed on the earth in ``crs``.

    Examples
    --------
    >>> working_crs("EPSG:4326", (24.90, 60.15, 24.98, 60.19)).to_epsg()  # Helsinki
    32635
    >>> working_crs("EPSG:32650", (440000, 4420000, 450000, 4430000)).to_epsg()
    32650
    """
    crs = _as_crs(crs)
    bounds = _check_bounds(bounds)
    horizontal = _horizontal(crs)
    west, south, east, north = _lonlat_bounds(horizontal, bounds)
    if not all(math.isfinite(v) for v in (west, south, east, north)) or \
            abs(south) > 90 or abs(north) > 90:
        raise CRSError(f"crs: the bounds {bounds} cannot be placed on the earth in "
                       f"{crs.to_string()}. Fix: check that the layer's CRS is the one its "
                       "coordinates are in (gdf.set_crs(..., allow_override=True))")
    lon, lat = _centre(west, south, east, north)
    return _working_crs_at(crs, lon, lat)


def metric_crs(gdf: gpd.GeoDataFrame | gpd.GeoSeries, *, work_crs: Any = None) -> pyproj.CRS | None:
    """The metric CRS to measure ``gdf`` in: the one function every module asks.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
        The geometries to measure (a plan's grids, atoms or households).
    work_crs : CRS-like, optional
        The working CRS a plan was solved in (``plan.record.work_crs``); used
        when given, so that everything about one plan is measured in one CRS.

    Returns
    -------
    pyproj.CRS or None
        ``work_crs``; else :func:`working_crs` of ``gdf``'s CRS and extent;
        ``None`` when ``gdf`` has no CRS (its coordinates are taken as metres)
        or is empty (nothing to measure; its own CRS is returned then).

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoSeries([shapely.Point(24.94, 60.17)], crs="EPSG:4326")
    >>> metric_crs(pts).to_epsg()
    32635
    >>> metric_crs(pts, work_crs="EPSG:3067").to_epsg()
    3067
    """
    if work_crs is not None:
        return _as_crs(work_crs)
    if gdf.crs is None or len(gdf) == 0:
        return gdf.crs
    return working_crs(gdf.crs, gdf.total_bounds)


def _working_crs_at(crs: pyproj.CRS, lon: float, lat: float) -> pyproj.CRS:
    horizontal = _horizontal(crs)
    name = crs.to_string()
    if horizontal.is_projected and _in_metres(horizontal):
        if is_web_mercator(horizontal):
            reason = "it is a Web Mercator, whose metres are not metres"
        else:
            scale = _scale_error(horizontal, lon, lat)
            if scale is None or scale <= _MAX_SCALE_ERROR:
                logger.debug("working in the data's own CRS %s", name)
                return crs
            reason = f"it distorts lengths by {scale:.0%} at the data"
    elif horizontal.is_projected:
        reason = "its units are not metres"
    else:
        reason = "it is geographic (degrees)"
    if _is_cgcs2000_geographic(horizontal):
        if 73.5 <= lon <= 136.5:
            cm = int(_GK_FIRST_CM + 3 * round((lon - _GK_FIRST_CM) / 3.0))
            cm = min(max(cm, _GK_FIRST_CM), _GK_LAST_CM)
            work = pyproj.CRS.from_epsg(_GK_FIRST_EPSG + (cm - _GK_FIRST_CM) // 3)
            logger.info("working CRS: %s (CGCS2000 Gauss-Kruger, CM %d°E) for data in %s "
                        "centred at %.4f°E %.4f°N, because %s", work.to_string(), cm, name,
                        lon, lat, reason)
            return work
        logger.warning("data in CGCS2000 (%s) centred at %.4f°E lie outside the Gauss-Kruger "
                       "zones for China (73.5°E-136.5°E); using UTM", name, lon)
    work = _utm_crs(lon, lat)
    logger.info("working CRS: %s (%s) for data in %s centred at %.4f°E %.4f°N, because %s",
                work.to_string(), work.name, name, lon, lat, reason)
    return work


def _scale_error(crs: pyproj.CRS, lon: float, lat: float) -> float | None:
    """Largest |scale − 1| of ``crs`` at (lon, lat), or None when PROJ cannot tell."""
    try:
        factors = pyproj.Proj(crs).get_factors(lon, lat)
    except (_ProjCRSError, RuntimeError, ValueError):
        return None
    scales = [factors.meridional_scale, factors.parallel_scale]
    if not all(math.isfinite(s) for s in scales):
        return None
    return max(abs(s - 1.0) for s in scales)


def _utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The WGS 84 UTM zone containing (lon, lat); UPS in the polar caps."""
    if lat > 84.0:
        return pyproj.CRS.from_epsg(32661)
    if lat < -80.0:
        return pyproj.CRS.from_epsg(32761)
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def check_crs(layers: Mapping[str, gpd.GeoDataFrame | None], *,
              problems: Problems | None = None) -> pyproj.CRS | None:
    """Check that every layer has a CRS and return the CRS results are given in.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or None
        The input layers by argument name (``{"roads": ..., "households": ...}``);
        ``None`` values (layers not given) are skipped.
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    pyproj.CRS or None
        The CRS of ``layers["households"]`` when it has one, else the first
        layer's CRS; ``None`` when no layer has a CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> hh = gpd.GeoDataFrame(geometry=[Point(116.3, 39.9)], crs="EPSG:4326")
    >>> check_crs({"roads": None, "households": hh}).to_epsg()
    4326
    """
    own = problems is None
    problems = Problems() if own else problems
    found: dict[str, pyproj.CRS] = {}
    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame):
            continue  # None (not given) or reported by the validators
        if gdf.crs is None:
            problems.add(f"{name}.crs", "has no CRS, so it cannot be placed with the other "
                                        "layers.",
                         fix=f"{name} = {name}.set_crs('EPSG:4326') (or the CRS its coordinates "
                             "are in)")
        else:
            found[name] = gdf.crs
    if own:
        problems.raise_if_any()
    if "households" in found:
        return found["households"]
    return next(iter(found.values()), None)


def to_working(layers: Mapping[str, gpd.GeoDataFrame | None],
               crs: Any) -> dict[str, gpd.GeoDataFrame | None]:
    """Reproject every layer into the working CRS.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or None
        Layers by argument name; each may be in its own CRS.
    crs : pyproj.CRS
        The working CRS (see :func:`working_crs`).

    Returns
    -------
    dict of str to GeoDataFrame or None
        Same keys; ``None`` stays ``None``.  A layer already in ``crs`` is
        returned as is (not copied); the others are new frames.

    Raises
    ------
    CRSError
        When a layer has no CRS (run :func:`check_crs` first).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> hh = gpd.GeoDataFrame(geometry=[Point(117.0, 40.0)], crs="EPSG:4490")
    >>> out = to_working({"households": hh, "parcels": None}, "EPSG:4548")
    >>> round(out["households"].geometry.x.iloc[0]), out["parcels"]
    (500000, None)
    """
    crs = _as_crs(crs)
    missing = [name for name, gdf in layers.items()
               if isinstance(gdf, gpd.GeoDataFrame) and gdf.crs is None]
    if missing:
        problems = Problems()
        for name in missing:
            problems.add(f"{name}.crs", "has no CRS, so it cannot be reprojected.",
                         fix=f"{name} = {name}.set_crs('EPSG:4326') (or the CRS its coordinates "
                             "are in)")
        problems.raise_if_any()
    out: dict[str, gpd.GeoDataFrame | None] = {}
    for name, gdf in layers.items():
        if gdf is None or gdf.crs == crs:
            out[name] = gdf
            continue
        logger.info("reprojecting %s (%d rows) from %s to %s", name, len(gdf),
                    gdf.crs.to_string(), crs.to_string())
        out[name] = gdf.to_crs(crs)
    return out


def prepare_crs(layers: Mapping[str, gpd.GeoDataFrame | None], *,
                problems: Problems | None = None) -> tuple[pyproj.CRS | None, pyproj.CRS | None]:
    """Check the layers' CRSs and choose the working CRS over all of them.

    Parameters
    ----------
    layers : mapping of str to GeoDataFrame or None
        The input layers by argument name.
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    (pyproj.CRS, pyproj.CRS)
        ``(user_crs, work_crs)``: the CRS results are given back in (see
        :func:`check_crs`) and the metric CRS to work in (see
        :func:`working_crs`), chosen over the union of the layers' extents in
        longitude/latitude.  Either is ``None`` only when a problem was
        recorded (no layer with a CRS, or no layer with a usable extent).
        Layers whose extents do not overlap the households' are reported: one
        of them has the wrong CRS.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> hh = gpd.GeoDataFrame(geometry=[Point(116.35, 39.95)], crs="EPSG:4490")
    >>> user, work = prepare_crs({"households": hh})
    >>> user.to_epsg(), work.to_epsg()
    (4490, 4548)
    """
    own = problems is None
    problems = Problems() if own else problems
    user_crs = check_crs(layers, problems=problems)
    work_crs = None
    if user_crs is not None:
        extents: dict[str, tuple[float, float, float, float]] = {}
        for name, gdf in layers.items():
            if not isinstance(gdf, gpd.GeoDataFrame) or gdf.crs is None or len(gdf) == 0:
                continue
            placeable = _placeable_rows(gdf, name, problems)
            if not placeable.any():
                continue
            bounds = np.asarray(gdf.loc[placeable].total_bounds, dtype=float)
            if not np.isfinite(bounds).all():
                continue
            ll = _lonlat_bounds(_horizontal(pyproj.CRS.from_user_input(gdf.crs)), bounds)
            if all(math.isfinite(v) for v in ll) and abs(ll[1]) <= 90 and abs(ll[3]) <= 90:
                extents[name] = ll
        _check_overlap(extents, problems)
        if extents:
            west = min(e[0] for e in extents.values())
            south = min(e[1] for e in extents.values())
            east = max(e[2] for e in extents.values())
            north = max(e[3] for e in extents.values())
            lon, lat = _centre(west, south, east, north)
            work_crs = _working_crs_at(user_crs, lon, lat)
        else:
            problems.add("crs", "no layer has an extent that can be placed on the earth, so no "
                                "working CRS can be chosen.",
                         fix="check that the layers are not empty and that their CRS is the one "
                             "their coordinates are in")
    if own:
        problems.raise_if_any()
    return user_crs, work_crs


def _placeable_rows(gdf: gpd.GeoDataFrame, name: str, problems: Problems) -> np.ndarray:
    """Rows whose extent can be placed on the earth in the layer's CRS; the others are a problem.

    Coordinates beyond a projection's range (x = 1e12 in a UTM zone, say)
    turn into infinities in longitude/latitude.  Geographic layers are checked
    by the validators (degrees beyond ±180°/±90°), so only projected ones are
    looked at here.
    """
    crs = _horizontal(pyproj.CRS.from_user_input(gdf.crs))
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(np.asarray(gdf.geometry.values, dtype=object))
    present = np.isfinite(b).all(axis=1)
    if crs.is_geographic or not present.any():
        return present
    transformer = pyproj.Transformer.from_crs(crs, _WGS84, always_xy=True)
    box = (b[present, 0].min(), b[present, 1].min(), b[present, 2].max(), b[present, 3].max())
    corners = transformer.transform([box[0], box[0], box[2], box[2]], [box[1], box[3], box[1], box[3]],
                                    errcheck=False)
    if np.isfinite(corners).all() and (np.abs(corners[1]) <= 90).all():
        return present  # the whole extent is placeable: no need to look at every row
    ok = present.copy()
    for xs, ys in ((b[:, 0], b[:, 1]), (b[:, 2], b[:, 3])):
        lon, lat = transformer.transform(xs[present], ys[present], errcheck=False)
        good = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90)
        ok[np.flatnonzero(present)[~good]] = False
    bad = present & ~ok
    if bad.any():
        problems.add(f"{name}.geometry",
                     f"{int(bad.sum())} rows have coordinates that cannot be placed on the earth in "
                     f"{gdf.crs.to_string()} (beyond the projection's range).",
                     rows=gdf.index[bad],
                     fix=f"check those rows' coordinates and {name}.crs; declare the CRS they are in "
                         f"with {name}.set_crs(..., allow_override=True)")
    return ok


def _check_overlap(extents: Mapping[str, tuple[float, float, float, float]],
                   problems: Problems, *, margin: float = 0.01) -> None:
    """Report layers whose lon/lat box does not touch the households' (or first) box."""
    if len(extents) < 2:
        return
    anchor = "households" if "households" in extents else next(iter(extents))
    aw, as_, ae, an = extents[anchor]
    for name, (w, s, e, n) in extents.items():
        if name == anchor:
            continue
        if w > ae + margin or e < aw - margin or s > an + margin or n < as_ - margin:
            problems.add(f"{name}.crs",
                         f"lies at {w:.4f}..{e:.4f}°E, {s:.4f}..{n:.4f}°N but {anchor} lies at "
                         f"{aw:.4f}..{ae:.4f}°E, {as_:.4f}..{an:.4f}°N: they do not overlap, so "
                         "one of them has the wrong CRS.",
                         fix=f"check {name}.crs and {anchor}.crs; declare the right one with "
                             ".set_crs(..., allow_override=True)")
