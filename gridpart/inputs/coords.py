"""Web-map coordinates: GCJ-02 (Amap, Tencent, Google China) and BD-09 (Baidu).

Chinese web maps publish longitude/latitude in obfuscated systems that PROJ
cannot transform: **GCJ-02** ("Mars coordinates") shifts WGS-84 by a smooth,
non-linear offset of a few hundred metres, and **BD-09** adds Baidu's own
shift on top of GCJ-02.  Points copied from such a map and labelled
``EPSG:4326`` land 100–700 m off the roads.  This module converts them.

The algorithms
--------------
*WGS-84 → GCJ-02* is the published forward transform: an offset in metres
built from two fixed trigonometric polynomials of (lon − 105°, lat − 35°),
turned into degrees on the Krasovsky 1940 ellipsoid (a = 6 378 245 m,
e² = 0.006 693 421 622 965 943).  Outside a rectangle around China
(72.004–137.8347°E, 0.8293–55.8271°N) GCJ-02 equals WGS-84.

*GCJ-02 → BD-09* is Baidu's published rotation and scaling about the origin
followed by a shift of (0.0065°, 0.006°).

The *inverses* have no closed form.  They are solved by fixed-point
iteration, ``w ← w + (g − F(w))``: the offset changes by well under 10⁻⁴
of a degree per degree, so every step gains several digits; iteration stops
once ``|F(w) − g| < 1e-10°`` (about 0.01 mm) or after 30 steps.  A round trip
is then good to far better than 1 m anywhere in China (``tests/test_coords.py``
checks 1 cm over random points).  The offsets are not exact geodesy:
GCJ-02 was designed to be irreversible without the formula, and any
converted layer is as accurate as the web map it came from.

Examples
--------
>>> lon, lat = wgs84_to_gcj02(116.3912, 39.9073)   # Tian'anmen, WGS-84
>>> back = gcj02_to_wgs84(lon, lat)
>>> round(float(back[0]), 7), round(float(back[1]), 7)
(116.3912, 39.9073)
>>> to_wgs84_lonlat(lon, lat, "gcj02")[0].round(4)
np.float64(116.3912)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely

from gridpart.inputs.crs import is_web_mercator

__all__ = [
    "SYSTEMS",
    "in_china",
    "wgs84_to_gcj02",
    "gcj02_to_wgs84",
    "gcj02_to_bd09",
    "bd09_to_gcj02",
    "to_wgs84_lonlat",
    "from_wgs84_lonlat",
    "to_wgs84",
    "from_wgs84",
    "normalise_system",
]

#: Coordinate systems gridpart knows; ``"wgs84"`` means "no conversion".
SYSTEMS = ("wgs84", "gcj02", "bd09")

_ALIASES = {
    "wgs84": "wgs84", "wgs-84": "wgs84", "wgs": "wgs84", "epsg:4326": "wgs84",
    "cgcs2000": "wgs84", "none": "wgs84",
    "gcj02": "gcj02", "gcj-02": "gcj02", "gcj": "gcj02", "amap": "gcj02", "gaode": "gcj02",
    "tencent": "gcj02", "mars": "gcj02",
    "bd09": "bd09", "bd-09": "bd09", "bd09ll": "bd09", "baidu": "bd09",
}

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = math.pi * 3000.0 / 180.0
_CHINA = (72.004, 0.8293, 137.8347, 55.8271)  # lon_min, lat_min, lon_max, lat_max
_TOL_DEG = 1e-10
_MAX_ITER = 30


def normalise_system(name: Any) -> str | None:
    """The canonical name of a coordinate system (``None`` when unknown).

    Examples
    --------
    >>> normalise_system("GCJ-02"), normalise_system("baidu"), normalise_system("utm")
    ('gcj02', 'bd09', None)
    """
    if name is None:
        return "wgs84"
    if not isinstance(name, str):
        return None
    return _ALIASES.get(name.strip().lower())


def in_china(lon: Any, lat: Any) -> np.ndarray:
    """Whether points fall in the rectangle where GCJ-02 differs from WGS-84.

    Examples
    --------
    >>> in_china([116.4, 2.35], [39.9, 48.86]).tolist()
    [True, False]
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return (lon >= _CHINA[0]) & (lon <= _CHINA[2]) & (lat >= _CHINA[1]) & (lat <= _CHINA[3])


def _offset_m(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The forward transform's raw offsets (east, north) at x = lon − 105, y = lat − 35."""
    pi = math.pi
    common = (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat = (-100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
            + (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0)
    dlon = (300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
            + common
            + (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
            + (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0)
    return dlon, dlat


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude/latitude to GCJ-02 (identity outside China).

    Parameters
    ----------
    lon, lat : float or array_like
        Degrees.

    Returns
    -------
    (ndarray, ndarray)
        GCJ-02 longitude and latitude, same shape as the input.

    Examples
    --------
    >>> lon, lat = wgs84_to_gcj02(116.3912, 39.9073)
    >>> bool(0.005 < lon - 116.3912 < 0.007), bool(0.0005 < lat - 39.9073 < 0.002)
    (True, True)
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offset_m(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * np.cos(rad) * math.pi)
    china = in_china(lon, lat)
    return np.where(china, lon + dlon, lon), np.where(china, lat + dlat, lat)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 longitude/latitude to BD-09 (Baidu).

    Examples
    --------
    >>> lon, lat = gcj02_to_bd09(116.3975, 39.9087)
    >>> round(float(lon - 116.3975), 3), round(float(lat - 39.9087), 3)
    (0.006, 0.006)
    """
    x, y = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``forward(w) = g`` for w by fixed-point iteration (see the module notes)."""
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(_MAX_ITER):
        flon, flat = forward(wlon, wlat)
        elon, elat = glon - flon, glat - flat
        wlon, wlat = wlon + elon, wlat + elat
        with np.errstate(invalid="ignore"):
            if not (np.nanmax(np.abs(elon), initial=0.0) > _TOL_DEG
                    or np.nanmax(np.abs(elat), initial=0.0) > _TOL_DEG):
                break
    return wlon, wlat


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 longitude/latitude back to WGS-84 (iterative inverse, ≪ 1 m).

    Examples
    --------
    >>> w = gcj02_to_wgs84(*wgs84_to_gcj02(121.4737, 31.2304))  # Shanghai
    >>> round(float(w[0]), 8), round(float(w[1]), 8)
    (121.4737, 31.2304)
    """
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 longitude/latitude back to GCJ-02 (iterative inverse).

    Examples
    --------
    >>> g = bd09_to_gcj02(*gcj02_to_bd09(113.2644, 23.1291))  # Guangzhou
    >>> round(float(g[0]), 8), round(float(g[1]), 8)
    (113.2644, 23.1291)
    """
    return _invert(gcj02_to_bd09, lon, lat)


def to_wgs84_lonlat(lon: Any, lat: Any, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Longitude/latitude in ``system`` (``"wgs84"``, ``"gcj02"``, ``"bd09"``) to WGS-84.

    Examples
    --------
    >>> lon, lat = to_wgs84_lonlat(116.4104, 39.9150, "bd09")
    >>> bool(abs(lon - 116.4104) > 0.005)
    True
    """
    system = _system(system)
    if system == "wgs84":
        return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if system == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def from_wgs84_lonlat(lon: Any, lat: Any, system: str) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 longitude/latitude to ``system`` (``"wgs84"``, ``"gcj02"``, ``"bd09"``).

    Examples
    --------
    >>> lon, lat = from_wgs84_lonlat(116.3912, 39.9073, "gcj02")
    >>> [round(float(v), 4) for v in to_wgs84_lonlat(lon, lat, "gcj02")]
    [116.3912, 39.9073]
    """
    system = _system(system)
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    if system == "wgs84":
        return lon, lat
    lon, lat = wgs84_to_gcj02(lon, lat)
    return gcj02_to_bd09(lon, lat) if system == "bd09" else (lon, lat)


def _system(system: str) -> str:
    name = normalise_system(system)
    if name is None:
        raise ValueError(f"system: expected one of {SYSTEMS}; found {system!r}")
    return name


def _transform(geoms: Any, fn) -> np.ndarray:
    values = np.asarray(geoms, dtype=object)

    def apply(coords: np.ndarray) -> np.ndarray:
        lon, lat = fn(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(values, apply)


def to_wgs84(geoms: Any, system: str) -> np.ndarray:
    """Geometries with lon/lat in ``system`` converted to WGS-84 (Z values are dropped).

    Parameters
    ----------
    geoms : array_like of shapely geometries (or a GeoSeries)
    system : {"wgs84", "gcj02", "bd09"}

    Returns
    -------
    ndarray of shapely geometries

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> p = to_wgs84([Point(116.3975, 39.9087)], "gcj02")[0]
    >>> round(p.x, 4), round(p.y, 4)
    (116.3913, 39.9073)
    """
    return _transform(geoms, lambda x, y: to_wgs84_lonlat(x, y, system))


def from_wgs84(geoms: Any, system: str) -> np.ndarray:
    """Geometries with WGS-84 lon/lat converted to ``system`` (for drawing on a web map).

    Examples
    --------
    >>> from shapely.geometry import Point
    >>> p = from_wgs84([Point(116.3913, 39.9073)], "gcj02")[0]
    >>> round(p.x, 4), round(p.y, 4)
    (116.3975, 39.9087)
    """
    return _transform(geoms, lambda x, y: from_wgs84_lonlat(x, y, system))


#: Layers (arguments of :func:`gridpart.partition`) a ``coords=`` value may name.
LAYERS = ("roads", "households", "communities", "parcels", "barriers", "study_area")


def coords_by_layer(coords: Any, problems: Any) -> dict[str, str]:
    """Resolve ``partition(coords=...)`` into ``{layer: system}`` for the layers to convert.

    Parameters
    ----------
    coords : None, str or dict
        ``None`` or ``"wgs84"``: no conversion; ``"gcj02"`` / ``"bd09"``: every
        layer given is in that system; a dict names the system per layer, e.g.
        ``{"households": "gcj02"}``.
    problems : gridpart.errors.Problems
        Collector for unknown systems or layer names.

    Returns
    -------
    dict of str to str
        Only layers that need converting (system ``"gcj02"`` or ``"bd09"``).

    Examples
    --------
    >>> from gridpart.errors import Problems
    >>> coords_by_layer({"households": "Amap", "roads": "wgs84"}, Problems())
    {'households': 'gcj02'}
    >>> sorted(coords_by_layer("bd09", Problems()))[:2]
    ['barriers', 'communities']
    """
    fix = ("pass coords='gcj02' (Amap, Tencent), coords='bd09' (Baidu), or a dict such as "
           "coords={'households': 'gcj02'}")
    if coords is None:
        return {}
    if isinstance(coords, str):
        system = normalise_system(coords)
        if system is None:
            problems.add("coords", f"unknown coordinate system {coords!r}; known: "
                                   f"{', '.join(SYSTEMS)}.", fix=fix)
            return {}
        return {} if system == "wgs84" else {layer: system for layer in LAYERS}
    if isinstance(coords, dict):
        out = {}
        for layer, value in coords.items():
            system = normalise_system(value)
            if layer not in LAYERS:
                problems.add("coords", f"unknown layer {layer!r}; known: {', '.join(LAYERS)}.",
                             fix=fix)
            elif system is None:
                problems.add(f"coords[{layer!r}]", f"unknown coordinate system {value!r}; known: "
                                                   f"{', '.join(SYSTEMS)}.", fix=fix)
            elif system != "wgs84":
                out[layer] = system
        return out
    problems.add("coords", f"expected None, a system name or a dict by layer; found "
                           f"{type(coords).__name__} {coords!r}.", fix=fix)
    return {}


def convert_layer(gdf: Any, system: str, *, argument: str, problems: Any) -> Any:
    """A layer in ``system`` lon/lat (or Web Mercator over it) converted to WGS-84.

    The CRS label is kept (EPSG:4326, EPSG:4490 or EPSG:3857): web maps label
    their coordinates so, and only the values change.  A layer in any other
    CRS is a problem: GCJ-02 and BD-09 are longitude/latitude systems.

    Parameters
    ----------
    gdf : GeoDataFrame or GeoSeries
    system : {"gcj02", "bd09"}
    argument : str
        The layer's argument name, for problems.
    problems : gridpart.errors.Problems

    Returns
    -------
    A new frame or series like ``gdf`` (``None`` when there was a problem).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> from gridpart.errors import Problems
    >>> hh = gpd.GeoDataFrame(geometry=[Point(116.3975, 39.9087)], crs="EPSG:4326")
    >>> out = convert_layer(hh, "gcj02", argument="households", problems=Problems())
    >>> round(float(out.geometry.x.iloc[0]), 4), out.crs.to_epsg()
    (116.3913, 4326)
    """
    import pyproj


    crs = getattr(gdf, "crs", None)
    if crs is None:
        return gdf  # the missing CRS is reported by the validators
    crs = pyproj.CRS.from_user_input(crs)
    import geopandas as gpd

    geoseries = gdf.geometry if isinstance(gdf, gpd.GeoDataFrame) else gdf
    if crs.is_geographic:
        values = to_wgs84(geoseries.values, system)
    elif is_web_mercator(crs):
        ll = geoseries.to_crs("EPSG:4326")
        back = gpd.GeoSeries(to_wgs84(ll.values, system), index=ll.index, crs="EPSG:4326")
        values = back.to_crs(crs).values
    else:
        problems.add(f"coords[{argument!r}]",
                     f"{system} is a longitude/latitude system, but {argument} is in "
                     f"{crs.to_string()} ({crs.name}).",
                     fix=f"leave {argument} out of coords=, or give it in the web map's own "
                         "longitude/latitude labelled EPSG:4326")
        return None
    out = gpd.GeoSeries(values, index=gdf.index, crs=gdf.crs)
    return gdf.set_geometry(out) if isinstance(gdf, gpd.GeoDataFrame) else out
