"""Column names, road classes, the size target and input validators.

Every validator takes a layer as the user gave it and returns a *new*
GeoDataFrame (input index and CRS kept) with gridpart's columns, or ``None``
when the layer has problems.  Problems are added to a
:class:`~gridpart.errors.Problems` collector so that every mistake in every
argument is reported at once.  Data that can be repaired safely is repaired:
invalid polygons, rows of roads/parcels/barriers without geometry, zero-length
roads, sliver overlaps between communities and counts stored as text each get
a :class:`~gridpart.errors.RepairWarning` and a record with every affected id
(``Problems.repairs``, which ``partition`` puts in ``plan.params["repairs"]``);
single-part MultiPoints and Z coordinates are simplified with a log record.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import Point
>>> from gridpart.errors import Problems
>>> problems = Problems()
>>> pts = gpd.GeoDataFrame(geometry=[Point(0, 0), Point(1, 1)], crs="EPSG:32650")
>>> validate_households(pts, problems=problems)[["households", "persons"]]
   households  persons
0         1.0      NaN
1         1.0      NaN
>>> problems.raise_if_any()
"""

from __future__ import annotations

import logging
import math
import numbers
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart.errors import Problems

__all__ = [
    "ROAD_KINDS",
    "HIGHWAY_KIND",
    "PARCEL_KINDS",
    "ROADS_ARE",
    "Target",
    "coerce_target",
    "read_layer",
    "validate_roads",
    "validate_households",
    "validate_communities",
    "validate_parcels",
    "validate_barriers",
]

logger = logging.getLogger(__name__)

#: Road classes used throughout gridpart (DESIGN §4):
#: ``road`` 路 (arterials), ``street`` 街, ``lane`` 巷.
ROAD_KINDS = ("road", "street", "lane")

#: OSM ``highway`` value -> road class.  Values not listed (platform, elevator,
#: proposed, construction, abandoned, raceway, bus_stop, ...) are not roads that
#: bound blocks and are dropped.
HIGHWAY_KIND: dict[str, str] = {
    **{v: "road" for v in ("motorway", "trunk", "primary", "secondary")},
    **{f"{v}_link": "road" for v in ("motorway", "trunk", "primary", "secondary")},
    **{v: "street" for v in ("tertiary", "tertiary_link", "residential", "unclassified",
                             "living_street", "road")},
    **{v: "lane" for v in ("service", "pedestrian", "footway", "path", "alley", "track",
                           "cycleway", "steps", "bridleway", "trail")},
}

#: Parcel kinds: ``compound`` 小区 (residential compound), ``unit`` 单位 (work unit).
PARCEL_KINDS = ("compound", "unit")

#: Accepted values of ``roads_are``.
ROADS_ARE = ("auto", "lines", "blocks", "surfaces")

#: Spellings accepted in a user ``kind`` column -> road class.
_ROAD_KIND_ALIASES: dict[str, str] = {
    "road": "road", "street": "street", "lane": "lane",
    "路": "road", "街": "street", "巷": "lane",
}

#: Spellings accepted in a parcels ``kind`` column -> parcel kind.
_PARCEL_KIND_ALIASES: dict[str, str] = {
    "compound": "compound", "unit": "unit", "小区": "compound", "单位": "unit",
}

_LINEAR = frozenset({"LineString", "MultiLineString", "LinearRing"})
_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
_RANK = {"road": 0, "street": 1, "lane": 2}

#: Most households one row (a building or an address) may hold; more is a data error
#: (a total or an id read as a count) and would overflow the solver's integer model.
MAX_HOUSEHOLDS_PER_ROW = 1_000_000

#: Column names (lower case) that look like household counts under another name.
_HOUSEHOLD_COLUMN_ALIASES = frozenset({"households", "household", "hh", "n_households", "num_households",
                                       "nhouseholds", "户数", "住户数", "户"})

#: Communities may overlap by at most this share of the smaller one's area; such
#: slivers are given to the community whose id sorts first (a repair).  More is an error.
MAX_COMMUNITY_OVERLAP = 0.05
_BAND_DIGITS = 9


# --------------------------------------------------------------------------- target


@dataclass(frozen=True)
class Target:
    """How many households (and persons) a grid should hold.

    Parameters
    ----------
    households : float or (float, float), default 300
        The households per grid, or an explicit ``(low, high)`` band.
    persons : float or (float, float), optional
        The persons per grid, or an explicit band.  Balanced too when given;
        hard only with ``persons_hard=True``.
    tolerance : float, default 0.2
        Relative half-width of the band for a number target: the band is
        ``target × (1 ± tolerance)``.  Must lie in (0, 1).
    persons_hard : bool, default False
        Treat the persons band as a hard constraint (needs ``persons``).

    Raises
    ------
    InputError
        For a target that is not positive and finite, a band with
        ``low > high``, or a tolerance outside (0, 1).

    Examples
    --------
    >>> Target(300).band
    (240.0, 360.0)
    >>> t = Target(households=(300, 500), persons=1000, tolerance=0.1)
    >>> t.band, t.centre, t.persons_band
    ((300.0, 500.0), 400.0, (900.0, 1100.0))
    """

    households: float | tuple[float, float] = 300
    persons: float | tuple[float, float] | None = None
    tolerance: float = 0.2
    persons_hard: bool = False

    def __post_init__(self) -> None:
        problems = Problems()
        _check_target(self.households, self.persons, self.tolerance, self.persons_hard,
                      problems, names=_TARGET_FIELDS)
        problems.raise_if_any()
        # Lists and numpy pairs become tuples of floats so the Target stays hashable.
        if _is_pair(self.households):
            object.__setattr__(self, "households", tuple(float(v) for v in self.households))
        if _is_pair(self.persons):
            object.__setattr__(self, "persons", tuple(float(v) for v in self.persons))

    @property
    def band(self) -> tuple[float, float]:
        """The households band ``(low, high)``."""
        return _band(self.households, self.tolerance)

    @property
    def centre(self) -> float:
        """The households target, or the middle of an explicit band."""
        return _centre(self.households)

    @property
    def persons_band(self) -> tuple[float, float] | None:
        """The persons band ``(low, high)``, or ``None`` when persons are not targeted."""
        return None if self.persons is None else _band(self.persons, self.tolerance)

    @property
    def persons_centre(self) -> float | None:
        """The persons target, or the middle of its explicit band, or ``None``."""
        return None if self.persons is None else _centre(self.persons)


#: field -> (argument named in problems, call template used in fixes)
_TARGET_FIELDS = {
    "households": ("Target.households", "Target(households={})"),
    "persons": ("Target.persons", "Target(households=300, persons={})"),
    "tolerance": ("Target.tolerance", "Target(tolerance={})"),
    "persons_hard": ("Target.persons_hard", "Target(persons_hard={})"),
}


def _band(value: float | tuple[float, float], tolerance: float) -> tuple[float, float]:
    if _is_pair(value):
        return (float(value[0]), float(value[1]))
    # Rounded so that 400 × (1 - 0.1) is 360.0, not 360.00000000000006: a grid of exactly
    # 360 households must be inside the band.
    value = float(cast(float, value))
    return (round(value * (1.0 - tolerance), _BAND_DIGITS),
            round(value * (1.0 + tolerance), _BAND_DIGITS))


def _centre(value: float | tuple[float, float]) -> float:
    if _is_pair(value):
        return (float(value[0]) + float(value[1])) / 2.0
    return float(cast(float, value))


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _is_pair(value: Any) -> TypeGuard[Sequence[Any]]:
    return (isinstance(value, (Sequence, np.ndarray)) and not isinstance(value, (str, bytes))
            and len(value) == 2)


def _check_measure(value: Any, name: tuple[str, str], examples: tuple[str, str],
                   problems: Problems) -> None:
    """Check one target measure: a positive finite number or a (low, high) band."""
    argument, template = name
    number, band = (template.format(e) for e in examples)
    if _is_number(value):
        if not math.isfinite(value) or value <= 0:
            problems.add(argument, f"must be a positive finite number; found {value!r}.",
                         fix=f"pass e.g. {number}")
        return
    if _is_pair(value):
        lo, hi = value[0], value[1]
        if not (_is_number(lo) and _is_number(hi)) or not (math.isfinite(lo) and math.isfinite(hi)):
            problems.add(argument, f"a band must be two finite numbers (low, high); "
                                   f"found {value!r}.", fix=f"pass e.g. {band}")
        elif lo <= 0:
            problems.add(argument, f"the band's low end must be positive; found {value!r}.",
                         fix=f"pass e.g. {band}")
        elif lo > hi:
            problems.add(argument, f"the band's low end exceeds its high end; found {value!r}.",
                         fix=f"swap them: {template.format((hi, lo))}")
        return
    problems.add(argument, f"expected a number or a (low, high) pair; found "
                           f"{type(value).__name__} {value!r}.",
                 fix=f"pass e.g. {number} or {band}")


def _check_target(households: Any, persons: Any, tolerance: Any, persons_hard: Any,
                  problems: Problems, *, names: dict[str, tuple[str, str]]) -> None:
    _check_measure(households, names["households"], ("300", "(300, 500)"), problems)
    if persons is not None:
        _check_measure(persons, names["persons"], ("1000", "(1000, 1500)"), problems)
    if not _is_number(tolerance) or not math.isfinite(tolerance) or not 0 < tolerance < 1:
        argument, template = names["tolerance"]
        problems.add(argument, f"must be a number strictly between 0 and 1; found {tolerance!r}.",
                     fix=f"pass e.g. {template.format('0.2')} for ±20 %")
    if "persons_hard" in names:
        argument, template = names["persons_hard"]
        if not isinstance(persons_hard, (bool, np.bool_)):
            problems.add(argument, f"must be True or False; found {persons_hard!r}.",
                         fix=f"pass {template.format('True')} or {template.format('False')}")
        elif persons_hard and persons is None:
            problems.add(argument, "is True but no persons target was given.",
                         fix="pass e.g. Target(households=300, persons=1000, persons_hard=True)")


def coerce_target(target: Any, tolerance: Any = 0.2,
                  problems: Problems | None = None) -> Target | None:
    """Turn the ``target=`` and ``tolerance=`` arguments of ``partition`` into a :class:`Target`.

    Parameters
    ----------
    target : float, (float, float) or Target
        Households per grid, an explicit households band, or a ready Target
        (whose own tolerance then wins over ``tolerance``).
    tolerance : float, default 0.2
        Relative half-width of the band for a number target.
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    Target or None
        ``None`` when the arguments have problems (they are in ``problems``).

    Examples
    --------
    >>> coerce_target(400, 0.1).band
    (360.0, 440.0)
    >>> coerce_target((300, 500), 0.2).centre
    400.0
    """
    own = problems is None
    problems = Problems() if problems is None else problems
    before = len(problems.items)
    result: Target | None = None
    if isinstance(target, Target):
        if _is_number(tolerance) and tolerance != target.tolerance and tolerance != 0.2:
            logger.warning("tolerance=%r is ignored: the Target carries its own tolerance=%r",
                           tolerance, target.tolerance)
        result = target
    else:
        _check_target(target, None, tolerance, False, problems,
                      names={"households": ("target", "target={}"),
                             "tolerance": ("tolerance", "tolerance={}")})
        if len(problems.items) == before:
            result = Target(households=target, tolerance=tolerance)
    if own:
        problems.raise_if_any()
    return result


# --------------------------------------------------------------------------- reading


def read_layer(obj: Any, *, argument: str, problems: Problems | None = None,
               layer: str | int | None = None) -> gpd.GeoDataFrame | None:
    """Return ``obj`` as a GeoDataFrame, reading it from a file when given a path.

    Parameters
    ----------
    obj : GeoDataFrame, str, os.PathLike or None
        A GeoDataFrame (returned as is; gridpart never mutates it), or a path
        to anything GDAL reads (GeoPackage, GeoJSON, Shapefile, ...).
    argument : str
        The argument's name, used in problem messages (``"roads"``).
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.
    layer : str or int, optional
        Layer to read from a multi-layer file.  When omitted and the file has
        several layers, the one named like ``argument`` is read.

    Returns
    -------
    GeoDataFrame or None
        ``None`` for ``obj=None`` or when the layer could not be read.

    Examples
    --------
    >>> read_layer(None, argument="parcels") is None
    True
    """
    own = problems is None
    problems = Problems() if problems is None else problems
    result = None
    if obj is None:
        pass
    elif isinstance(obj, gpd.GeoDataFrame):
        result = obj
    elif isinstance(obj, (str, os.PathLike)):
        result = _read_file(obj, argument=argument, layer=layer, problems=problems)
    else:
        _not_a_geodataframe(obj, argument, problems)
    if own:
        problems.raise_if_any()
    return result


def _read_file(path: str | os.PathLike, *, argument: str, layer: str | int | None,
               problems: Problems) -> gpd.GeoDataFrame | None:
    import pyogrio

    text = os.fspath(path)
    virtual = text.startswith("/vsi") or "://" in text
    if not virtual and not Path(text).exists():
        problems.add(argument, f"file not found: {text!r} (working directory {os.getcwd()!r}).",
                     fix="check the path, or pass a GeoDataFrame")
        return None
    try:
        if layer is None:
            names = [str(n) for n in pyogrio.list_layers(text)[:, 0]]
            if not names:
                problems.add(argument, f"{text!r} holds no layers (is it a folder or an empty data source?).",
                             fix="pass the path of a GeoPackage, GeoJSON or Shapefile, or a GeoDataFrame")
                return None
            if len(names) > 1:
                if argument not in names:
                    problems.add(argument, f"{text!r} holds {len(names)} layers {names} and none "
                                           f"is named {argument!r}.",
                                 fix=f"read the layer yourself, e.g. "
                                     f"gpd.read_file({text!r}, layer={names[0]!r})")
                    return None
                layer = argument
                logger.info("%s: reading layer %r of %s", argument, layer, text)
        frame = pyogrio.read_dataframe(text, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError,
            pyogrio.errors.FeatureError, OSError, ValueError, RuntimeError) as exc:
        problems.add(argument, f"could not read {text!r}: {exc}",
                     fix="check that the file is a GeoPackage, GeoJSON, Shapefile or another "
                         "format GDAL reads, or pass a GeoDataFrame")
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        problems.add(argument, f"{text!r} has no geometry column (read as a plain table).",
                     fix="build points with gpd.GeoDataFrame(df, geometry=gpd.points_from_xy("
                         "df.x, df.y), crs=...)")
        return None
    logger.debug("%s: read %d rows from %s", argument, len(frame), text)
    return frame


def _not_a_geodataframe(obj: Any, argument: str, problems: Problems) -> None:
    if isinstance(obj, pd.DataFrame):
        fix = ("make it a GeoDataFrame, e.g. gpd.GeoDataFrame(df, geometry=gpd.points_from_xy("
               "df.lon, df.lat), crs='EPSG:4326')")
    elif isinstance(obj, gpd.GeoSeries):
        fix = f"wrap it: gpd.GeoDataFrame(geometry={argument})"
    else:
        fix = "pass a GeoDataFrame or a path to a GeoPackage, GeoJSON or Shapefile"
    problems.add(argument, f"expected a GeoDataFrame (or a path to one); found "
                           f"{type(obj).__module__}.{type(obj).__qualname__}.", fix=fix)


# --------------------------------------------------------------------------- shared checks


def _empty_estimate(estimate: dict) -> tuple[str, str]:
    """What to say about households estimated from buildings that came out empty: the message and the fix."""
    source = estimate.get("source")
    where = f"the OSM file {source}" if source else "the buildings layer"
    n = int(estimate.get("buildings", 0) or 0)
    if n == 0:
        what = f"is empty (0 rows): {where} has no buildings to estimate households from."
    else:
        which = "1 building, not a residential one" if n == 1 else f"{n} buildings, none of them residential"
        what = (f"is empty (0 rows): {where} has {which} (see gridpart.inputs.osm.HouseholdParams for the "
                "rules), so there is nothing to estimate households from.")
    example = f"gp.partition({str(source)!r}, households_points)" if source else \
        "gp.partition(roads, households_points)"
    fix = ("give the households yourself: a points layer (GeoDataFrame or GeoPackage/GeoJSON path) with a "
           f"`households` column (and optionally `persons`), e.g. {example}")
    return what, fix


def _begin(gdf: Any, argument: str, problems: Problems, *,
           allow_empty: bool = False) -> gpd.GeoSeries | None:
    """Check the frame, its geometry column and CRS; return the 2D geometry or None."""
    if not isinstance(gdf, gpd.GeoDataFrame):
        _not_a_geodataframe(gdf, argument, problems)
        return None
    try:
        geometry = gdf.geometry
    except AttributeError:
        problems.add(argument, f"has no active geometry column (columns: {list(gdf.columns)}).",
                     fix=f"{argument} = {argument}.set_geometry('<geometry column>')")
        return None
    if len(gdf) == 0:
        if not allow_empty:
            estimate = gdf.attrs.get("gridpart_estimate")  # set by gridpart.inputs.osm.estimate_households
            if isinstance(estimate, dict):
                what, fix = _empty_estimate(estimate)
                problems.add(argument, what, fix=fix)
            else:
                problems.add(argument, "is empty (0 rows).",
                             fix=f"check the filter or the file that produced {argument}")
        return None if not allow_empty else geometry
    if gdf.crs is None:
        problems.add(f"{argument}.crs", "has no CRS, so its coordinates cannot be placed.",
                     fix=f"{argument} = {argument}.set_crs('EPSG:4326') (or the CRS the "
                         "coordinates are in)")
    values = np.array(geometry.values, dtype=object)  # a copy: never write into the input
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    if missing.any():
        problems.add(f"{argument}.geometry", f"{int(missing.sum())} rows have no geometry "
                                             "(None or empty).",
                     rows=gdf.index[missing], fix=f"drop them: {argument} = {argument}"
                                                  f"[~{argument}.geometry.is_empty & "
                                                  f"{argument}.geometry.notna()]")
    if shapely.has_z(values[~missing]).any():
        logger.debug("%s: dropping Z coordinates", argument)
        values = shapely.force_2d(values)
    present = np.flatnonzero(~missing)
    coords, owner = shapely.get_coordinates(values[present], return_index=True)
    bad = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    if len(bad):
        problems.add(f"{argument}.geometry", f"{len(bad)} rows have coordinates that are not finite "
                                             "numbers (NaN or infinite).",
                     rows=gdf.index[present[bad]],
                     fix="re-geocode those rows or drop them; NaN often comes from a failed "
                         "points_from_xy on missing x/y")
    _check_degrees(values, gdf, argument, problems)
    return gpd.GeoSeries(values, index=gdf.index, crs=gdf.crs)


def _drop_missing(gdf: Any, argument: str, problems: Problems) -> Any:
    """Rows of ``gdf`` without geometry dropped (a repair) when some, not all, have one.

    Used for layers whose rows carry nothing without a geometry (roads,
    parcels, barriers); households and communities keep them and fail.
    """
    if not isinstance(gdf, gpd.GeoDataFrame) or len(gdf) == 0:
        return gdf
    try:
        values = np.asarray(gdf.geometry.values, dtype=object)
    except AttributeError:
        return gdf
    missing = shapely.is_missing(values) | shapely.is_empty(values)
    if not missing.any() or missing.all():
        return gdf
    problems.repair(f"{argument}.geometry",
                    f"dropped {int(missing.sum())} of {len(gdf)} rows without geometry "
                    "(None or empty).", rows=gdf.index[missing], stacklevel=5)
    return gdf.loc[~missing]


def _check_degrees(values: np.ndarray, gdf: gpd.GeoDataFrame, argument: str,
                   problems: Problems) -> None:
    """Flag coordinates that cannot be degrees in a geographic CRS, and degrees in a projected one."""
    if gdf.crs is None:
        return
    if gdf.crs.is_projected:
        _check_projected(values, gdf, argument, problems)
        return
    if not gdf.crs.is_geographic:
        return
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(values)
        lat_bad = (np.abs(b[:, 1]) > 90) | (np.abs(b[:, 3]) > 90)
        lon_bad = (np.abs(b[:, 0]) > 180) | (np.abs(b[:, 2]) > 180)
    swapped = lat_bad & ~lon_bad & (np.abs(b[:, 0]) <= 90) & (np.abs(b[:, 2]) <= 90)
    if swapped.any():
        problems.add(f"{argument}.geometry",
                     f"{int(swapped.sum())} rows have latitudes beyond ±90° in the geographic "
                     f"CRS {gdf.crs.to_string()}; x and y look swapped (x should be longitude).",
                     rows=gdf.index[swapped], crs=True,
                     fix=f"swap them: {argument} = {argument}.set_geometry(shapely.transform("
                         f"{argument}.geometry, lambda c: c[:, ::-1]))")
    projected = (lat_bad | lon_bad) & ~swapped
    if projected.any():
        problems.add(f"{argument}.crs",
                     f"{int(projected.sum())} rows have coordinates beyond ±180°/±90°, so they are "
                     f"not degrees although the CRS is {gdf.crs.to_string()}.",
                     rows=gdf.index[projected],
                     fix=f"declare the CRS they are in: {argument} = {argument}.set_crs("
                         "'EPSG:...', allow_override=True)")


def _check_projected(values: np.ndarray, gdf: gpd.GeoDataFrame, argument: str,
                     problems: Problems) -> None:
    """Flag a projected layer whose coordinates look like longitude/latitude degrees.

    Degrees read as metres make a district a few metres wide far from the
    data's real place: every coordinate within ±180/±90, the whole layer less
    than 5 units across, and away from the projection's origin (so small
    drawings near (0, 0) are left alone).
    """
    with np.errstate(invalid="ignore"):
        b = shapely.bounds(values)
    finite = np.isfinite(b).all(axis=1)
    if not finite.any():
        return
    b = b[finite]
    minx, miny = b[:, 0].min(), b[:, 1].min()
    maxx, maxy = b[:, 2].max(), b[:, 3].max()
    degrees_like = (max(abs(minx), abs(maxx)) <= 180 and max(abs(miny), abs(maxy)) <= 90
                    and maxx - minx < 5 and maxy - miny < 5
                    and (abs((minx + maxx) / 2) > 10 or abs((miny + maxy) / 2) > 10))
    if degrees_like:
        problems.add(f"{argument}.crs",
                     f"its coordinates lie within {minx:.4f}..{maxx:.4f}, {miny:.4f}..{maxy:.4f}: "
                     f"they look like longitude/latitude degrees, but the CRS "
                     f"{gdf.crs.to_string()} is projected (units of "
                     f"{gdf.crs.axis_info[0].unit_name}), so the layer would be a few metres wide.",
                     rows=gdf.index[finite],
                     fix=f"declare the CRS they are in: {argument} = {argument}.set_crs("
                         "'EPSG:4326', allow_override=True)")


def _geom_types(values: np.ndarray) -> np.ndarray:
    names = np.array(["Point", "LineString", "LinearRing", "Polygon", "MultiPoint",
                      "MultiLineString", "MultiPolygon", "GeometryCollection"], dtype=object)
    ids = shapely.get_type_id(values)
    out = np.full(len(values), None, dtype=object)
    ok = ids >= 0
    out[ok] = names[ids[ok]]
    return out


def _wrong_types(types: np.ndarray, index: pd.Index, allowed: frozenset[str], argument: str,
                 expected: str, fix: str, problems: Problems) -> bool:
    types = np.asarray(types, dtype=object)
    bad = pd.notna(types) & ~pd.Series(types).isin(list(allowed)).to_numpy()
    if bad.any():
        found = sorted({str(t) for t in types[bad]})
        problems.add(f"{argument}.geometry",
                     f"expected {expected}; found {int(bad.sum())} rows of {', '.join(found)}.",
                     rows=index[bad], fix=fix)
    return bool(bad.any())


def _repair_polygons(geoms: gpd.GeoSeries, ids: pd.Series | pd.Index, argument: str,
                     problems: Problems) -> gpd.GeoSeries:
    """make_valid the invalid polygons (UserWarning naming them), keep polygonal parts."""
    values = np.asarray(geoms.values, dtype=object).copy()
    present = ~(shapely.is_missing(values) | shapely.is_empty(values))
    invalid = present & ~shapely.is_valid(values)
    if not invalid.any():
        return geoms
    fixed = shapely.make_valid(values[invalid], method="structure", keep_collapsed=False)
    fixed = np.array([_polygonal_part(g) for g in fixed], dtype=object)
    collapsed = shapely.is_empty(fixed)
    bad_ids = list(pd.Index(ids)[invalid])
    if collapsed.any():
        problems.add(f"{argument}.geometry",
                     f"{int(collapsed.sum())} invalid polygons have no area once repaired.",
                     rows=np.asarray(bad_ids, dtype=object)[collapsed],
                     fix="drop or redraw them")
    problems.repair(f"{argument}.geometry",
                    f"repaired {int(invalid.sum())} invalid polygons with shapely.make_valid "
                    f"(self-intersections, bow-ties, unclosed or spiky rings).", rows=bad_ids,
                    stacklevel=5)
    values[invalid] = fixed
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)


def _polygonal_part(geom: Any) -> Any:
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL]
    if not parts:
        return shapely.Polygon()
    merged = shapely.union_all(parts)
    return merged


def _text(value: Any) -> str | None:
    """A cell as text: None for missing or blank; lists give their first value."""
    if isinstance(value, (list, tuple, np.ndarray)):
        value = next((v for v in value if _text(v) is not None), None)
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
            or value is pd.NaT:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # codes read as floats: 110108001001.0 -> "110108001001"
    text = str(value).strip()
    return text or None


def _text_column(gdf: gpd.GeoDataFrame, *candidates: str) -> pd.Series:
    """The first of ``candidates`` present, as an object column of str or None."""
    for column in candidates:
        if column in gdf.columns:
            return pd.Series([_text(v) for v in gdf[column]], index=gdf.index, dtype=object)
    # object dtype keeps None as None (pandas 3 would otherwise store NaN in a str column).
    return pd.Series([None] * len(gdf), index=gdf.index, dtype=object)


def _map_kinds(column: pd.Series, aliases: dict[str, str], argument: str, expected: Sequence[str],
               problems: Problems) -> list[str | None]:
    """Map a user kind column through ``aliases``; list unknown values as one problem."""
    out: list[str | None] = []
    bad_rows: list[Hashable] = []
    bad_values: set[str] = set()
    for label, value in column.items():
        text = _text(value)
        kind = aliases.get(text.lower() if text else "")
        if kind is None:
            bad_rows.append(label)
            bad_values.add("missing values" if text is None else repr(text))
        out.append(kind)
    if bad_rows:
        accepted = ", ".join(repr(k) for k in aliases)
        problems.add(f"{argument}['kind']",
                     f"expected one of {accepted}; found {len(bad_rows)} rows with "
                     f"{', '.join(sorted(bad_values)[:10])}.",
                     rows=bad_rows,
                     fix=f"map them to {'/'.join(expected)}, e.g. {argument}['kind'] = "
                         f"{argument}['kind'].replace({{...}})")
    return out


def _collector(problems: Problems | None) -> tuple[Problems, bool]:
    return (Problems(), True) if problems is None else (problems, False)


def _finish(problems: Problems, own: bool, before: int, result: Any) -> Any:
    if own:
        problems.raise_if_any()
    return None if len(problems.items) > before else result


# --------------------------------------------------------------------------- roads


def validate_roads(roads: Any, *, roads_are: str = "auto",
                   problems: Problems | None = None) -> tuple[gpd.GeoDataFrame | None, str]:
    """Check the road layer and give it gridpart's columns.

    Parameters
    ----------
    roads : GeoDataFrame
        Road centrelines (LineStrings), street blocks or road surfaces (Polygons).
        The road class comes from a ``kind`` column (``road``/``street``/``lane``
        or 路/街/巷), else from OSM ``highway`` (rows whose value is not a road
        class are dropped), else every line is a ``street``.  Names come from
        ``name`` and ``name_en`` (or OSM ``name:en``).
    roads_are : {"auto", "lines", "blocks", "surfaces"}, default "auto"
        What the geometries are.  ``"auto"``: lines for LineStrings, blocks for
        Polygons.
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    (GeoDataFrame or None, str)
        A new GeoDataFrame with the input index and CRS and columns ``kind``,
        ``name``, ``name_en``, ``geometry`` (2D), or ``None`` when there were
        problems; and the resolved ``roads_are``.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import LineString
    >>> roads = gpd.GeoDataFrame({"highway": ["primary", "footway", "bus_stop"]},
    ...     geometry=[LineString([(0, 0), (1, 0)])] * 3, crs="EPSG:32650")
    >>> out, how = validate_roads(roads)
    >>> list(out["kind"]), how
    (['road', 'lane'], 'lines')
    """
    problems, own = _collector(problems)
    before = len(problems.items)
    resolved = roads_are
    if roads_are not in ROADS_ARE:
        problems.add("roads_are", f"expected one of {', '.join(map(repr, ROADS_ARE))}; "
                                  f"found {roads_are!r}.",
                     fix="pass roads_are='lines' for centrelines, 'blocks' for block polygons, "
                         "'surfaces' for road-surface polygons, or leave it as 'auto'")
    roads = _drop_missing(roads, "roads", problems)
    geoms = _begin(roads, "roads", problems)
    if geoms is None:
        return _finish(problems, own, before, None), resolved

    types = _geom_types(np.asarray(geoms.values, dtype=object))
    linear = np.array([t in _LINEAR for t in types])
    polygonal = np.array([t in _POLYGONAL for t in types])
    if roads_are == "auto":
        if linear.any() and polygonal.any():
            minority = polygonal if polygonal.sum() <= linear.sum() else linear
            problems.add("roads.geometry",
                         f"mixes {int(linear.sum())} line rows and {int(polygonal.sum())} polygon "
                         "rows, so roads_are='auto' cannot tell centrelines from blocks.",
                         rows=roads.index[minority],
                         fix="keep one kind, e.g. roads[roads.geom_type.isin(['LineString', "
                             "'MultiLineString'])], or pass roads_are='lines'/'blocks'/'surfaces'")
        else:
            resolved = "blocks" if polygonal.any() else "lines"
            logger.debug("roads_are='auto' resolved to %r", resolved)
        allowed = _LINEAR | _POLYGONAL
        expected = "LineStrings/MultiLineStrings or Polygons/MultiPolygons"
    elif roads_are == "lines":
        allowed, expected = _LINEAR, "LineStrings or MultiLineStrings (roads_are='lines')"
    else:
        allowed, expected = _POLYGONAL, f"Polygons or MultiPolygons (roads_are={roads_are!r})"
    if resolved in ROADS_ARE:
        _wrong_types(types, roads.index, allowed, "roads", expected,
                     "drop or convert those rows (explode GeometryCollections with "
                     "roads.explode()), or pass the matching roads_are", problems)

    kinds, keep = _road_kinds(roads, resolved, problems)
    if len(problems.items) > before:
        return _finish(problems, own, before, None), resolved

    values = np.asarray(geoms.values, dtype=object)
    rings = types == "LinearRing"
    if rings.any():
        values = values.copy()
        values[rings] = [shapely.LineString(r.coords) for r in values[rings]]
    out = gpd.GeoDataFrame(
        {"kind": kinds, "name": _text_column(roads, "name"),
         "name_en": _text_column(roads, "name_en", "name:en")},
        geometry=gpd.GeoSeries(values, index=roads.index, crs=roads.crs), index=roads.index)
    out = out.loc[keep]
    if resolved in ("blocks", "surfaces"):
        out = out.set_geometry(_repair_polygons(out.geometry, out.index, "roads", problems))
    else:
        zero = shapely.length(np.asarray(out.geometry.values, dtype=object)) == 0
        if zero.all():
            problems.add("roads.geometry", f"all {len(out)} lines have zero length (every vertex "
                                           "at one place), so they bound no block.",
                         rows=out.index, fix="pass the road centrelines themselves")
        elif zero.any():
            problems.repair("roads.geometry", f"dropped {int(zero.sum())} zero-length lines (every "
                                              "vertex at one place): they bound no block.",
                            rows=out.index[zero], stacklevel=5)
            out = out.loc[~zero]
    return _finish(problems, own, before, out), resolved


def _road_kinds(roads: gpd.GeoDataFrame, resolved: str,
                problems: Problems) -> tuple[list[str | None], np.ndarray]:
    """The road class of every row, and which rows to keep."""
    n = len(roads)
    keep = np.ones(n, dtype=bool)
    if "kind" in roads.columns:
        return _map_kinds(roads["kind"], _ROAD_KIND_ALIASES, "roads", ROAD_KINDS, problems), keep
    if "highway" in roads.columns and resolved != "blocks":
        kinds = [_highway_kind(v) for v in roads["highway"]]
        keep = np.array([k is not None for k in kinds], dtype=bool)
        dropped = n - int(keep.sum())
        if dropped:
            found = pd.Series([_text(v) for v, k in zip(roads["highway"], kinds) if k is None])
            logger.info("roads: dropped %d of %d rows whose highway value does not bound blocks "
                        "(%s)", dropped, n, ", ".join(f"{v}: {c}" for v, c in
                                                     found.value_counts(dropna=False).items()))
        if not keep.any():
            problems.add("roads['highway']",
                         f"none of the {n} rows has a highway value that bounds blocks; found "
                         f"{sorted({str(_text(v)) for v in roads['highway']})[:10]}.",
                         fix="pass the road lines (highway=primary, residential, service, ...) "
                             "or add a 'kind' column with road/street/lane")
        return kinds, keep
    if resolved == "lines":
        logger.warning("roads has neither a 'kind' nor a 'highway' column: every line is "
                       "treated as a street (街); add roads['kind'] = 'road'/'street'/'lane' "
                       "to tell arterials from lanes")
    return ["street"] * n, keep


def _highway_kind(value: Any) -> str | None:
    """The road class of an OSM highway value (lists and 'a;b' take the major class)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        values = [str(v) for v in value]
    else:
        text = _text(value)
        values = text.split(";") if text else []
    kinds = [HIGHWAY_KIND.get(v.strip().lower()) for v in values]
    kinds = [k for k in kinds if k is not None]
    return min(cast(list[str], kinds), key=_RANK.__getitem__) if kinds else None


# --------------------------------------------------------------------------- households


def validate_households(households: Any, *,
                        problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """Check the household points and give them gridpart's columns.

    Parameters
    ----------
    households : GeoDataFrame
        Points (single-part MultiPoints are accepted); optional numeric columns
        ``households`` (default 1 per point) and ``persons``.
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    GeoDataFrame or None
        A new GeoDataFrame with the input index and CRS and float columns
        ``households``, ``persons`` (NaN when absent) and a 2D point
        ``geometry``; ``None`` when there were problems.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import Point
    >>> pts = gpd.GeoDataFrame({"households": [120, 80]}, geometry=[Point(0, 0), Point(5, 5)],
    ...                        crs="EPSG:4548")
    >>> validate_households(pts)["households"].sum()
    np.float64(200.0)
    """
    problems, own = _collector(problems)
    before = len(problems.items)
    geoms = _begin(households, "households", problems)
    if geoms is None:
        return _finish(problems, own, before, None)

    values = np.asarray(geoms.values, dtype=object)
    types = _geom_types(values)
    single = (types == "MultiPoint") & (shapely.get_num_geometries(values) == 1)
    if single.any():
        values = values.copy()
        values[single] = shapely.get_geometry(values[single], 0)
        types = _geom_types(values)
        logger.debug("households: %d single-part MultiPoints converted to Points",
                     int(single.sum()))
    _wrong_types(types, households.index, frozenset({"Point"}), "households",
                 "Points (one per building or address)",
                 "use one point per row: households.explode(index_parts=False) for MultiPoints, "
                 "households.representative_point() for polygons", problems)

    duplicated = households.index.duplicated(keep=False)
    if duplicated.any():
        labels = pd.unique(households.index[duplicated])
        problems.add("households.index", f"{len(labels)} index labels occur more than once, so "
                                         "results cannot be matched back to rows.",
                     rows=labels, fix="households = households.reset_index(drop=True)")

    if "households" not in households.columns:
        alike = [c for c in households.columns if str(c).strip().lower() in _HOUSEHOLD_COLUMN_ALIASES]
        if alike:
            problems.add("households['households']",
                         f"the column is missing, but {alike[0]!r} looks like household counts; "
                         "without a 'households' column every point counts as one household.",
                         fix=f"households = households.rename(columns={{{alike[0]!r}: 'households'}}), "
                             f"or drop {alike[0]!r} to count one household per point")
    counts = _numeric_column(households, "households", problems, default=1.0)
    persons = _numeric_column(households, "persons", problems, default=np.nan)
    if counts is not None:
        huge = counts > MAX_HOUSEHOLDS_PER_ROW
        if huge.any():
            problems.add("households['households']",
                         f"{int(huge.sum())} rows hold more than {MAX_HOUSEHOLDS_PER_ROW:,} "
                         f"households (largest {counts[huge].max():,.0f}); one point is one "
                         "building or address.",
                         rows=households.index[huge],
                         fix="check the column (a total or an id read as a count?) and give one "
                             "row per building with its own count")
    if counts is not None and len(counts) and np.all(counts == 0):
        problems.add("households['households']", f"all {len(counts)} rows are 0, so there is "
                                                 "nothing to balance.",
                     fix="fill in the household counts, or drop the column to count each point "
                         "as one household")
    if len(problems.items) > before:
        return _finish(problems, own, before, None)
    out = gpd.GeoDataFrame({"households": counts, "persons": persons},
                           geometry=gpd.GeoSeries(values, index=households.index,
                                                  crs=households.crs),
                           index=households.index)
    return _finish(problems, own, before, out)


def _numeric_column(gdf: gpd.GeoDataFrame, column: str, problems: Problems, *,
                    default: float) -> np.ndarray | None:
    """A non-negative finite float column, or ``default`` when absent; None on problems."""
    argument = f"households[{column!r}]"
    if column not in gdf.columns:
        return np.full(len(gdf), default, dtype=float)
    series = gdf[column]
    index = gdf.index
    if pd.api.types.is_bool_dtype(series):
        problems.add(argument, "expected counts; found a True/False column.",
                     fix=f"convert it: households[{column!r}] = households[{column!r}]"
                         ".astype(float), or rename it")
        return None
    missing = series.isna().to_numpy()
    numeric = pd.to_numeric(series, errors="coerce")
    text = (~missing) & numeric.isna().to_numpy()
    ok = True
    if text.any():
        found = sorted({repr(v) for v in series[text]})[:5]
        problems.add(argument, f"expected numbers; found {int(text.sum())} rows that are not numbers, "
                               f"such as {', '.join(found)}.",
                     rows=index[text], fix=f"clean the column, e.g. households[{column!r}] = "
                                           f"pd.to_numeric(households[{column!r}], errors='coerce')"
                                           " and then fill or drop the NaN rows")
        ok = False
    if not pd.api.types.is_numeric_dtype(series) and not text.any():
        stored = np.array([not _is_number(v) for v in series], dtype=bool)
        problems.repair(argument, "holds numbers stored as text (or other objects, such as Decimal); "
                                  "converted to float.", rows=index[stored & ~missing], stacklevel=5)
    values = numeric.to_numpy(dtype=float, na_value=np.nan)
    if missing.any():
        problems.add(argument, f"{int(missing.sum())} rows are missing (NaN/None).",
                     rows=index[missing],
                     fix=f"fill them (households[{column!r}] = households[{column!r}].fillna(...))"
                         " or drop the rows")
        ok = False
    infinite = np.isinf(values)
    if infinite.any():
        problems.add(argument, f"{int(infinite.sum())} rows are infinite.", rows=index[infinite],
                     fix="replace them with the real counts")
        ok = False
    with np.errstate(invalid="ignore"):
        negative = values < 0
    if negative.any():
        problems.add(argument, f"expected counts ≥ 0; found {int(negative.sum())} negative rows.",
                     rows=index[negative], fix="replace them with the real counts (0 or more)")
        ok = False
    return values if ok else None


# --------------------------------------------------------------------------- communities


def validate_communities(communities: Any, *,
                         problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """Check the community boundaries and give them gridpart's columns.

    Parameters
    ----------
    communities : GeoDataFrame
        Polygons or MultiPolygons with a unique, non-null ``community_id``
        (a single community may omit it: it becomes ``"1"``), and optional
        ``name`` and ``code`` (the 12-digit statistical code).
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    GeoDataFrame or None
        A new GeoDataFrame with the input index and CRS and columns
        ``community_id`` (the user's values), ``name`` and ``code`` (str or
        None) and ``geometry`` (2D, invalid polygons repaired with
        ``shapely.make_valid`` and a ``UserWarning``); ``None`` on problems.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> c = gpd.GeoDataFrame({"community_id": ["A"], "code": [110108001001.0]},
    ...                      geometry=[box(0, 0, 100, 100)], crs="EPSG:4548")
    >>> validate_communities(c)["code"].iloc[0]
    '110108001001'
    """
    problems, own = _collector(problems)
    before = len(problems.items)
    geoms = _begin(communities, "communities", problems)
    if geoms is None:
        return _finish(problems, own, before, None)
    types = _geom_types(np.asarray(geoms.values, dtype=object))
    _wrong_types(types, communities.index, _POLYGONAL, "communities", "Polygons or MultiPolygons",
                 "pass the community areas as polygons (lines can be polygonized with "
                 "shapely.polygonize)", problems)

    if "community_id" in communities.columns:
        ids = communities["community_id"]
        null = ids.isna().to_numpy()
        if null.any():
            problems.add("communities['community_id']", f"{int(null.sum())} rows have no id.",
                         rows=communities.index[null],
                         fix="give every community an id, or drop those rows")
        dup = (ids.duplicated(keep=False) & ~ids.isna()).to_numpy()
        if dup.any():
            problems.add("communities['community_id']",
                         f"ids must be unique; {ids[dup].nunique()} ids occur more than once "
                         f"({', '.join(repr(v) for v in pd.unique(ids[dup])[:5])}).",
                         rows=communities.index[dup],
                         fix="dissolve the parts: communities.dissolve('community_id')"
                             ".reset_index(), or give each row its own id")
        text_ids = pd.Series([_text(v) for v in ids], index=communities.index, dtype=object)
        clash = (text_ids.duplicated(keep=False) & ~text_ids.isna()).to_numpy() & ~dup & ~null
        if clash.any():
            problems.add("communities['community_id']",
                         f"ids {', '.join(repr(v) for v in ids[clash][:5])} are different values "
                         "that read the same as text, and codes, files and n_grids use the text.",
                         rows=communities.index[clash],
                         fix="make the ids one type: communities['community_id'] = "
                             "communities['community_id'].astype(str), then make them unique")
        ids = list(ids)
    elif len(communities) == 1:
        logger.warning("communities has no 'community_id' column; its single community gets "
                       "id '1'")
        ids = ["1"]
    else:
        similar = [c for c in communities.columns if "id" in str(c).lower() or
                   str(c).lower() in ("code", "name", "社区", "社区代码")]
        hint = (f" (columns that might hold it: {similar})" if similar else "")
        problems.add("communities['community_id']",
                     f"the column is missing and there are {len(communities)} communities"
                     f"{hint}.",
                     fix="communities = communities.rename(columns={'<your id column>': "
                         "'community_id'})")
        ids = None
    if len(problems.items) > before:
        return _finish(problems, own, before, None)
    geoms = _repair_polygons(geoms, pd.Index(ids), "communities", problems)
    geoms = _resolve_overlaps(geoms, list(ids), problems)
    if len(problems.items) > before:
        return _finish(problems, own, before, None)
    out = gpd.GeoDataFrame({"community_id": ids, "name": _text_column(communities, "name"),
                            "code": _text_column(communities, "code")},
                           geometry=geoms, index=communities.index)
    return _finish(problems, own, before, out)


def _resolve_overlaps(geoms: gpd.GeoSeries, ids: list, problems: Problems) -> gpd.GeoSeries:
    """Give sliver overlaps between communities to one of them; report big overlaps.

    Two communities sharing at most :data:`MAX_COMMUNITY_OVERLAP` of the
    smaller one's area (digitising slivers) are repaired: the shared area stays
    with the community whose id sorts first as text and is cut from the other,
    so the result does not depend on row order.  Larger overlaps are an error:
    gridpart cannot guess which community a shared street belongs to.
    """
    values = np.asarray(geoms.values, dtype=object).copy()
    ok = ~(shapely.is_missing(values) | shapely.is_empty(values))
    if ok.sum() < 2:
        return geoms
    tree = shapely.STRtree(values)
    left, right = tree.query(values, predicate="intersects")
    pairs = [(int(a), int(b)) for a, b in zip(left, right) if a < b and ok[a] and ok[b]]
    if not pairs:
        return geoms
    area = shapely.area(values)
    shared = shapely.area(shapely.intersection(values[[a for a, _ in pairs]],
                                               values[[b for _, b in pairs]]))
    big: list[tuple[int, int, float]] = []
    small: list[tuple[int, int, float]] = []
    for (a, b), inter in zip(pairs, shared):
        smaller = min(area[a], area[b])
        if smaller <= 0 or inter <= 1e-9 * smaller:
            continue  # touching along an edge
        (big if inter > MAX_COMMUNITY_OVERLAP * smaller else small).append((a, b, inter / smaller))
    if big:
        shown = "; ".join(f"{ids[a]!r} and {ids[b]!r} share {share:.0%} of the smaller"
                          for a, b, share in big[:5])
        rows = list(dict.fromkeys(ids[i] for a, b, _ in big for i in (a, b)))
        problems.add("communities.geometry",
                     f"{len(big)} pairs of communities overlap by more than "
                     f"{MAX_COMMUNITY_OVERLAP:.0%} of the smaller one ({shown}), so the shared "
                     "blocks would belong to two communities.",
                     rows=rows,
                     fix="make each place belong to one community: clip one by the other "
                         "(communities.loc[i, 'geometry'] = communities.loc[i].geometry"
                         ".difference(communities.loc[j].geometry)), or dissolve communities "
                         "that are one")
        return geoms
    if not small:
        return geoms
    key = [str(_text(v)) for v in ids]
    for a, b, _ in small:
        first, second = (a, b) if key[a] <= key[b] else (b, a)
        values[second] = _polygonal_part(shapely.difference(values[second], values[first]))
    rows = list(dict.fromkeys(ids[i] for a, b, _ in small for i in (a, b)))
    worst = max(share for _, _, share in small)
    problems.repair("communities.geometry",
                    f"{len(small)} pairs of communities overlap a little (at most {worst:.1%} of "
                    "the smaller one); each shared sliver was given to the community whose id "
                    "sorts first.", rows=rows, stacklevel=5)
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)


# --------------------------------------------------------------------------- parcels


def validate_parcels(parcels: Any, *,
                     problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """Check residential compounds and work units and give them gridpart's columns.

    Parameters
    ----------
    parcels : GeoDataFrame
        Polygons with ``kind`` in ``{"compound", "unit"}`` (or 小区/单位) and an
        optional ``name``.  An empty layer is accepted (no parcels).
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    GeoDataFrame or None
        A new GeoDataFrame with the input index and CRS and columns ``kind``,
        ``name`` and ``geometry``; ``None`` on problems.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> p = gpd.GeoDataFrame({"kind": ["小区", "unit"]},
    ...     geometry=[box(0, 0, 10, 10), box(20, 0, 30, 10)], crs="EPSG:4548")
    >>> list(validate_parcels(p)["kind"])
    ['compound', 'unit']
    """
    problems, own = _collector(problems)
    before = len(problems.items)
    parcels = _drop_missing(parcels, "parcels", problems)
    geoms = _begin(parcels, "parcels", problems, allow_empty=True)
    if geoms is None:
        return _finish(problems, own, before, None)
    types = _geom_types(np.asarray(geoms.values, dtype=object))
    _wrong_types(types, parcels.index, _POLYGONAL, "parcels", "Polygons or MultiPolygons",
                 "pass the compound and unit areas as polygons", problems)
    if "kind" in parcels.columns:
        kinds = _map_kinds(parcels["kind"], _PARCEL_KIND_ALIASES, "parcels", PARCEL_KINDS,
                           problems)
    elif len(parcels) == 0:
        kinds = []
    else:
        problems.add("parcels['kind']", "the column is missing; each parcel must say whether it "
                                        "is a residential compound or a work unit.",
                     fix="parcels['kind'] = 'compound' (or 'unit' for schools, hospitals, "
                         "offices)")
        kinds = None
    if len(problems.items) > before:
        return _finish(problems, own, before, None)
    geoms = _repair_polygons(geoms, parcels.index, "parcels", problems)
    out = gpd.GeoDataFrame({"kind": kinds, "name": _text_column(parcels, "name")},
                           geometry=geoms, index=parcels.index)
    return _finish(problems, own, before, out)


# --------------------------------------------------------------------------- barriers


def validate_barriers(barriers: Any, *,
                      problems: Problems | None = None) -> gpd.GeoDataFrame | None:
    """Check rivers, railways and walls that bound blocks like roads.

    Parameters
    ----------
    barriers : GeoDataFrame
        Lines, or polygons whose boundaries are used as lines; optional
        ``name``.  An empty layer is accepted (no barriers).
    problems : Problems, optional
        Collector for problems; when omitted, problems raise at once.

    Returns
    -------
    GeoDataFrame or None
        A new GeoDataFrame with the input index and CRS and columns
        ``kind`` (always ``"barrier"``), ``name`` and a linear ``geometry``;
        ``None`` on problems.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"name": ["护城河"]}, geometry=[box(0, 0, 10, 2)], crs="EPSG:4548")
    >>> validate_barriers(b).geom_type.iloc[0]
    'LineString'
    """
    problems, own = _collector(problems)
    before = len(problems.items)
    barriers = _drop_missing(barriers, "barriers", problems)
    geoms = _begin(barriers, "barriers", problems, allow_empty=True)
    if geoms is None:
        return _finish(problems, own, before, None)
    values = np.asarray(geoms.values, dtype=object)
    types = _geom_types(values)
    _wrong_types(types, barriers.index, _LINEAR | _POLYGONAL, "barriers",
                 "LineStrings or Polygons", "drop the points, or buffer them into polygons",
                 problems)
    if len(problems.items) > before:
        return _finish(problems, own, before, None)
    polygons = np.array([t in _POLYGONAL for t in types], dtype=bool)
    if polygons.any():
        values = values.copy()
        values[polygons] = shapely.boundary(values[polygons])
    rings = types == "LinearRing"
    if rings.any():
        values[rings] = [shapely.LineString(r.coords) for r in values[rings]]
    out = gpd.GeoDataFrame({"kind": "barrier", "name": _text_column(barriers, "name")},
                           geometry=gpd.GeoSeries(values, index=barriers.index,
                                                  crs=barriers.crs),
                           index=barriers.index)
    return _finish(problems, own, before, out)
