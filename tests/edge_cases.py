"""A catalogue of malformed and awkward inputs for :func:`gridpart.partition`.

In the spirit of shapely's ``tests/common.py``: a data module of named cases,
each a small scene built from one good district (6 street blocks, 12
buildings of 25 households, EPSG:32650 near Beijing) with one thing changed.
Each :class:`Case` says what must happen:

``"error"``
    a :class:`gridpart.GridpartError` whose message names ``argument`` (and,
    with ``rows=True``, the offending rows) and a fix;
``"repair"``
    a plan, a ``UserWarning`` matching ``warns`` and an entry for
    ``argument`` in ``plan.params["repairs"]`` that lists the affected ids;
``"ok"``
    a valid plan that loses no household (every one is in a grid or in
    ``plan.unplaced`` with a reason).

``tests/test_edge_cases.py`` runs every case; anything else (a raw exception
from shapely, pandas, pyproj or OR-Tools, a lost household) fails it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPoint, Point, Polygon, box

__all__ = ["Case", "CASES", "base", "X0", "Y0", "CRS"]

CRS = "EPSG:32650"
X0, Y0 = 441_000.0, 4_427_000.0
W, H = 450.0, 200.0  # 3 x 2 blocks of 150 x 100 m


def _xy(x: float, y: float) -> tuple[float, float]:
    return (X0 + x, Y0 + y)


def base_roads() -> gpd.GeoDataFrame:
    """Ring road + 2 inner north-south streets + 1 east-west lane: 6 blocks."""
    lines = [
        [(0, 0), (W, 0), (W, H), (0, H), (0, 0)],
        [(150, 0), (150, H)],
        [(300, 0), (300, H)],
        [(0, 100), (W, 100)],
    ]
    return gpd.GeoDataFrame(
        {"kind": ["road", "street", "street", "lane"],
         "name": pd.Series(["环路", "学院路", "成府路", None], dtype=object)},
        geometry=[LineString([_xy(*p) for p in c]) for c in lines], crs=CRS)


def base_households() -> gpd.GeoDataFrame:
    """12 buildings of 25 households (2 per block), index 'h00'..'h11'."""
    pts = []
    for bx in (0, 150, 300):
        for by in (0, 100):
            pts += [(bx + 40, by + 30), (bx + 100, by + 70)]
    hh = gpd.GeoDataFrame({"households": [25] * len(pts), "persons": [70] * len(pts)},
                          geometry=[Point(_xy(*p)) for p in pts], crs=CRS)
    hh.index = pd.Index([f"h{i:02d}" for i in range(len(pts))])
    return hh


def base_communities() -> gpd.GeoDataFrame:
    """Two communities split along 学院路 (x = 150)."""
    return gpd.GeoDataFrame({"community_id": ["A", "B"], "name": ["东社区", "西社区"]},
                            geometry=[box(*_xy(-10, -10), *_xy(150, H + 10)),
                                      box(*_xy(150, -10), *_xy(W + 10, H + 10))], crs=CRS)


def study() -> Polygon:
    return box(*_xy(-10, -10), *_xy(W + 10, H + 10))


def base(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``gp.partition`` on the good district, with ``overrides``."""
    kwargs: dict[str, Any] = dict(roads=base_roads(), households=base_households(), target=100,
                                  study_area=gpd.GeoSeries([study()], crs=CRS), strategy="seed", time_limit=2)
    kwargs.update(overrides)
    return kwargs


@dataclass(frozen=True)
class Case:
    """One awkward input and what must happen to it."""

    name: str
    make: Callable[[], dict[str, Any]]
    expect: str  # "error" | "repair" | "ok"
    argument: str = ""  # error: a problem's argument starts with it; repair: the repairs entry
    rows: bool = False  # error: the message lists offending rows
    warns: str = ""  # repair: regex the UserWarning matches
    match: str = ""  # error or ok: text the message (or a repair/unplaced reason) must contain
    unplaced: int | None = None  # ok: how many household rows end up unplaced
    why: str = ""
    tags: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- helpers


def _no_crs(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=list(gdf.geometry.values))


def _with(gdf: gpd.GeoDataFrame, column: str, values: Any) -> gpd.GeoDataFrame:
    out = gdf.copy()
    out[column] = values
    return out


def _geoms(gdf: gpd.GeoDataFrame, values: list) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(gdf.drop(columns="geometry"), geometry=gpd.GeoSeries(values, index=gdf.index),
                            crs=gdf.crs)


def _set_geom(gdf: gpd.GeoDataFrame, row: int, geom: Any) -> gpd.GeoDataFrame:
    values = list(gdf.geometry.values)
    values[row] = geom
    return _geoms(gdf, values)


def _append(gdf: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.concat([gdf, rows]), geometry="geometry", crs=gdf.crs)


def _swap_xy(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.set_geometry(shapely.transform(gdf.geometry.values, lambda c: c[:, ::-1]), crs=gdf.crs)


def _declare(gdf: gpd.GeoDataFrame, crs: str) -> gpd.GeoDataFrame:
    return gdf.set_crs(crs, allow_override=True)


def _ll(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gdf.to_crs("EPSG:4326")


def _gcj(gdf: gpd.GeoDataFrame, system: str = "gcj02") -> gpd.GeoDataFrame:
    """The layer as a web map would give it: GCJ-02 (or BD-09) lon/lat labelled EPSG:4326."""
    from gridpart.inputs.coords import from_wgs84

    ll = gdf.to_crs("EPSG:4326")
    return ll.set_geometry(from_wgs84(ll.geometry.values, system), crs="EPSG:4326")


def _study_ll() -> gpd.GeoSeries:
    return gpd.GeoSeries([study()], crs=CRS).to_crs("EPSG:4326")


def _roads_plus(*geoms: Any, kind: str = "street") -> gpd.GeoDataFrame:
    r = base_roads()
    extra = gpd.GeoDataFrame({"kind": [kind] * len(geoms), "name": pd.Series([None] * len(geoms), dtype=object)},
                             geometry=list(geoms), crs=CRS, index=[f"x{i}" for i in range(len(geoms))])
    r.index = [f"r{i}" for i in range(len(r))]
    return _append(r, extra)


def _hh_plus(*pts: tuple[float, float], households: float = 5) -> gpd.GeoDataFrame:
    h = base_households()
    extra = gpd.GeoDataFrame({"households": [households] * len(pts), "persons": [10] * len(pts)},
                             geometry=[Point(_xy(*p)) for p in pts], crs=CRS,
                             index=[f"x{i}" for i in range(len(pts))])
    return _append(h, extra)


def _bowtie(x: float, y: float, s: float) -> Polygon:
    return Polygon([_xy(x, y), _xy(x + s, y + s), _xy(x + s, y), _xy(x, y + s), _xy(x, y)])


def _parcels(**kw: Any) -> gpd.GeoDataFrame:
    data = {"kind": ["compound", "unit"], "name": ["清华园", "学院"]}
    data.update(kw)
    return gpd.GeoDataFrame(data, geometry=[box(*_xy(20, 20), *_xy(130, 90)), box(*_xy(170, 20), *_xy(280, 90))],
                            crs=CRS)


_TMP = tempfile.TemporaryDirectory(prefix="gridpart-cases-")  # removed when the interpreter exits


def _file(name: str, content: bytes | None = None, layer: gpd.GeoDataFrame | None = None) -> str:
    """A file in a fresh temporary folder (written on demand by the case)."""
    path = os.path.join(tempfile.mkdtemp(dir=_TMP.name), name)
    if layer is not None:
        layer.to_file(path)
    elif content is not None:
        with open(path, "wb") as f:
            f.write(content)
    return path


# --------------------------------------------------------------------------- the catalogue

CASES: list[Case] = [
    # ---------------------------------------------------------------- CRS
    Case("households without CRS", lambda: base(households=_no_crs(base_households())),
         "error", "households.crs", why="coordinates cannot be placed"),
    Case("roads without CRS", lambda: base(roads=_no_crs(base_roads())), "error", "roads.crs"),
    Case("communities without CRS", lambda: base(communities=_no_crs(base_communities()), study_area=None),
         "error", "communities.crs"),
    Case("parcels without CRS", lambda: base(parcels=_no_crs(_parcels())), "error", "parcels.crs"),
    Case("study area GeoSeries without CRS",
         lambda: base(study_area=gpd.GeoSeries([study()])), "ok",
         why="a study area without CRS is taken to be in the households' CRS"),
    Case("study area as a shapely polygon", lambda: base(study_area=study()), "ok"),
    Case("study area without CRS, households in lon/lat", lambda: base(
        households=_ll(base_households()), study_area=gpd.GeoSeries([study()])), "error", "study_area",
         match="degrees", why="a study area without CRS is in the households' CRS: UTM numbers are not degrees"),
    Case("households in EPSG:3857, shapely study area in UTM", lambda: base(
        households=base_households().to_crs("EPSG:3857"), study_area=study()), "error", "households",
         match="outside", why="a shapely study area is in the households' CRS; nothing falls inside"),
    Case("shapely study area in degrees, households in UTM", lambda: base(
        study_area=shapely.box(116.3, 39.9, 116.4, 40.0)), "error", "study_area", match="km from the households",
         why="a shapely study area is in the households' CRS: degrees land thousands of km away"),
    Case("roads in lon/lat, households in UTM", lambda: base(roads=_ll(base_roads())), "ok",
         why="mixed CRSs are reprojected; results come back in the households' CRS"),
    Case("everything in lon/lat", lambda: base(roads=_ll(base_roads()), households=_ll(base_households()),
                                               study_area=_study_ll()), "ok"),
    Case("households in EPSG:3857", lambda: base(households=base_households().to_crs("EPSG:3857")), "ok",
         why="Web Mercator metres are not metres: gridpart works in UTM and answers in EPSG:3857"),
    Case("everything in EPSG:3857", lambda: base(roads=base_roads().to_crs("EPSG:3857"),
                                                 households=base_households().to_crs("EPSG:3857"),
                                                 study_area=gpd.GeoSeries([study()], crs=CRS).to_crs("EPSG:3857")),
         "ok"),
    Case("households in CGCS2000 lon/lat", lambda: base(households=base_households().to_crs("EPSG:4490")), "ok"),
    Case("households lat/lon swapped", lambda: base(households=_swap_xy(_ll(base_households()))),
         "error", "households.geometry", rows=True, match="swap"),
    Case("roads lat/lon swapped", lambda: base(roads=_swap_xy(_ll(base_roads()))),
         "error", "roads.geometry", rows=True, match="swap"),
    Case("UTM metres labelled as lon/lat", lambda: base(households=_declare(base_households(), "EPSG:4326")),
         "error", "households.crs", rows=True),
    Case("lon/lat degrees labelled as UTM", lambda: base(households=_declare(_ll(base_households()), CRS)),
         "error", "households.crs", match="degrees"),
    Case("roads in the wrong UTM zone", lambda: base(roads=_declare(base_roads(), "EPSG:32651")),
         "error", "roads.crs", match="overlap"),
    Case("households in GCJ-02 labelled WGS 84",
         lambda: base(households=_gcj(base_households()), study_area=_study_ll()),
         "error", "households", match="GCJ-02", why="the error names the web-map offset and coords="),
    Case("households in GCJ-02 declared",
         lambda: base(households=_gcj(base_households()), coords={"households": "gcj02"}),
         "ok", why="converted to WGS 84 before any geometry work"),
    Case("roads and households in BD-09 declared",
         lambda: base(households=_gcj(base_households(), "bd09"), roads=_gcj(base_roads(), "bd09"),
                      study_area=None, coords="bd09"), "ok"),
    Case("unknown coords system", lambda: base(coords="baidu-mercator"), "error", "coords"),
    Case("coords on a projected layer", lambda: base(coords="gcj02"), "error", "coords",
         match="longitude"),
    # ---------------------------------------------------------------- roads
    Case("roads not a GeoDataFrame", lambda: base(roads=[LineString([(0, 0), (1, 1)])]), "error", "roads"),
    Case("roads a plain DataFrame", lambda: base(roads=pd.DataFrame(base_roads())), "error", "roads"),
    Case("roads path that does not exist", lambda: base(roads="/nonexistent/roads.gpkg"), "error", "roads"),
    Case("roads OSM file missing", lambda: base(roads="/nonexistent/district.osm.pbf"), "error", "roads",
         match="not found"),
    Case("roads OSM file truncated", lambda: base(roads=_file("cut.osm", b"<?xml version='1.0'?><osm><node id=")),
         "error", "roads"),
    Case("households path is an empty folder", lambda: base(households=_file("x").rsplit("/", 1)[0]), "error",
         "households"),
    Case("households path is a folder of files", lambda: base(households=_file(
        "hh.shp", b"\x00\x01garbage").rsplit("/", 1)[0]), "error", "households"),
    Case("households path is a CSV without geometry", lambda: base(households=_file(
        "hh.csv", pd.DataFrame(base_households().drop(columns="geometry")).to_csv().encode())),
         "error", "households", match="geometry"),
    Case("households path is an empty file", lambda: base(households=_file("hh.gpkg", b"")), "error", "households"),
    Case("households path is a GeoJSON", lambda: base(households=_file("hh.geojson", layer=base_households())),
         "ok", why="read with its CRS; the index becomes 0..n-1"),
    Case("roads empty", lambda: base(roads=base_roads().iloc[:0]), "error", "roads"),
    Case("roads missing", lambda: base(roads=None), "error", "roads"),
    Case("roads with a None geometry", lambda: base(roads=_set_geom(base_roads(), 3, None)),
         "repair", "roads.geometry", warns="without geometry",
         why="a road row without geometry bounds nothing: dropped, ids recorded"),
    Case("roads with an empty geometry", lambda: base(roads=_set_geom(base_roads(), 3, LineString())),
         "repair", "roads.geometry", warns="without geometry"),
    Case("roads all None", lambda: base(roads=_geoms(base_roads(), [None] * 4)), "error", "roads.geometry",
         rows=True),
    Case("roads 3D", lambda: base(roads=base_roads().set_geometry(shapely.force_3d(base_roads().geometry.values, 5.0),
                                                                  crs=CRS)), "ok"),
    Case("roads as MultiLineStrings", lambda: base(roads=_set_geom(base_roads(), 1, MultiLineString(
        [[_xy(150, 0), _xy(150, 100)], [_xy(150, 100), _xy(150, H)]]))), "ok"),
    Case("roads with a zero-length line", lambda: base(roads=_roads_plus(LineString([_xy(60, 60), _xy(60, 60)]))),
         "repair", "roads.geometry", warns="zero-length"),
    Case("roads duplicated", lambda: base(roads=_append(base_roads(), base_roads())), "ok",
         why="duplicated centrelines are noded away"),
    Case("roads with a duplicated index", lambda: base(roads=base_roads().set_axis([0, 0, 1, 1])), "ok"),
    Case("roads disconnected (a far network too)",
         lambda: base(roads=_roads_plus(LineString([_xy(2000, 0), _xy(2200, 0), _xy(2200, 200), _xy(2000, 0)])),
                      study_area=None), "ok"),
    Case("roads with NaN coordinates", lambda: base(roads=_roads_plus(LineString([_xy(10, 10), (np.nan, np.nan)]))),
         "error", "roads.geometry", rows=True, match="finite"),
    Case("roads with infinite coordinates", lambda: base(roads=_roads_plus(LineString([_xy(10, 10), (np.inf, Y0)]))),
         "error", "roads.geometry", rows=True, match="finite"),
    Case("roads as points", lambda: base(roads=base_roads().set_geometry(base_roads().centroid)),
         "error", "roads.geometry", rows=True),
    Case("roads mixing lines and polygons", lambda: base(roads=_roads_plus(box(*_xy(10, 10), *_xy(20, 20)))),
         "error", "roads.geometry", rows=True),
    Case("roads with a GeometryCollection", lambda: base(roads=_roads_plus(
        shapely.GeometryCollection([LineString([_xy(10, 10), _xy(20, 20)]), Point(_xy(5, 5))]))),
         "error", "roads.geometry", rows=True),
    Case("roads with unknown kinds", lambda: base(roads=_with(base_roads(), "kind", ["road", "avenue", None, "lane"])),
         "error", "roads['kind']", rows=True),
    Case("roads with no highway that bounds blocks",
         lambda: base(roads=_with(base_roads().drop(columns="kind"), "highway", "bus_stop")),
         "error", "roads['highway']"),
    Case("roads that close no block", lambda: base(roads=base_roads().iloc[[1]]), "ok",
         why="a single line: the study area is the block"),
    Case("roads far from the households", lambda: base(
        roads=base_roads().set_geometry(base_roads().translate(20_000, 0), crs=CRS), study_area=None),
         "error", "roads.crs", match="overlap", why="20 km apart: one of the layers has the wrong CRS"),
    Case("roads covering only part of the households", lambda: base(
        roads=base_roads().set_geometry(base_roads().translate(300, 0), crs=CRS), study_area=None), "ok",
         why="the households' hull beyond the roads is a road-less block; nothing is lost"),
    Case("roads as invalid block polygons", lambda: base(
        roads=gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[_bowtie(0, 0, 150), box(*_xy(160, 0), *_xy(300, 100))],
                               crs=CRS)), "repair", "roads.geometry", warns="invalid"),
    Case("roads as block polygons", lambda: base(roads=gpd.GeoDataFrame(
        geometry=[box(*_xy(x + 5, y + 5), *_xy(x + 145, y + 95)) for x in (0, 150, 300) for y in (0, 100)], crs=CRS)),
         "ok"),
    Case("roads as surfaces given as lines", lambda: base(roads_are="surfaces"), "error", "roads.geometry",
         rows=True),
    Case("roads with kinds in odd case and spaces", lambda: base(roads=_with(base_roads(), "kind",
                                                                             [" Road", "STREET ", "街", "巷"])), "ok"),
    Case("roads with tiny segments", lambda: base(roads=_roads_plus(LineString([_xy(60, 60), _xy(60.001, 60)]))),
         "ok"),
    Case("road surfaces covering the whole area", lambda: base(roads=gpd.GeoDataFrame(
        {"kind": ["street"]}, geometry=[study().buffer(10)], crs=CRS), roads_are="surfaces"),
         "error", "roads", rows=True, match="no block"),
    Case("roads_are unknown", lambda: base(roads_are="centrelines"), "error", "roads_are"),
    Case("roads_are=blocks for lines", lambda: base(roads_are="blocks"), "error", "roads.geometry", rows=True),
    # ---------------------------------------------------------------- households
    Case("households missing", lambda: base(households=None), "error", "households"),
    Case("households empty", lambda: base(households=base_households().iloc[:0]), "error", "households"),
    Case("households with a None geometry", lambda: base(households=_set_geom(base_households(), 2, None)),
         "error", "households.geometry", rows=True, match="'h02'",
         why="a household that cannot be placed is never dropped silently"),
    Case("households with an empty point", lambda: base(households=_set_geom(base_households(), 2, Point())),
         "error", "households.geometry", rows=True),
    Case("households with NaN coordinates", lambda: base(households=_set_geom(base_households(), 2,
                                                                              Point(np.nan, np.nan))),
         "error", "households.geometry", rows=True),
    Case("households with an infinite coordinate", lambda: base(households=_set_geom(base_households(), 2,
                                                                                     Point(np.inf, Y0))),
         "error", "households.geometry", rows=True),
    Case("households 3D", lambda: base(households=base_households().set_geometry(
        shapely.force_3d(base_households().geometry.values, 30.0), crs=CRS)), "ok"),
    Case("households as single-part MultiPoints", lambda: base(households=_set_geom(
        base_households(), 0, MultiPoint([_xy(40, 30)]))), "ok"),
    Case("households as a two-part MultiPoint", lambda: base(households=_set_geom(
        base_households(), 0, MultiPoint([_xy(40, 30), _xy(45, 35)]))), "error", "households.geometry", rows=True),
    Case("households as polygons", lambda: base(households=base_households().set_geometry(
        base_households().buffer(5), crs=CRS)), "error", "households.geometry", rows=True),
    Case("households with a duplicated index", lambda: base(households=base_households().set_axis(
        ["a"] * 2 + [f"h{i}" for i in range(10)])), "error", "households.index", rows=True),
    Case("households at the same place twice", lambda: base(households=_hh_plus((40, 30), (40, 30))), "ok"),
    Case("households negative", lambda: base(households=_with(base_households(), "households",
                                                               [25] * 11 + [-3])),
         "error", "households['households']", rows=True),
    Case("households NaN", lambda: base(households=_with(base_households(), "households", [25.0] * 11 + [np.nan])),
         "error", "households['households']", rows=True),
    Case("households text", lambda: base(households=_with(base_households(), "households",
                                                           pd.Series(["25"] * 11 + ["many"], dtype=object,
                                                                     index=base_households().index))),
         "error", "households['households']", rows=True),
    Case("households numbers as text", lambda: base(households=_with(
        base_households(), "households", pd.Series(["25"] * 12, dtype=object, index=base_households().index))),
         "repair", "households['households']", warns="text", why="converted to numbers"),
    Case("households as Decimal objects", lambda: base(households=_with(
        base_households(), "households", pd.Series([__import__("decimal").Decimal("25")] * 12, dtype=object,
                                                   index=base_households().index))),
         "repair", "households['households']", warns="Decimal"),
    Case("households True/False", lambda: base(households=_with(base_households(), "households", True)),
         "error", "households['households']"),
    Case("households infinite", lambda: base(households=_with(base_households(), "households",
                                                               [25.0] * 11 + [np.inf])),
         "error", "households['households']", rows=True),
    Case("households fractional", lambda: base(households=_with(base_households(), "households",
                                                                 [25.5] * 12)),
         "ok", why="fractional counts (estimates) are kept; totals stay exact"),
    Case("households absurdly large", lambda: base(households=_with(base_households(), "households",
                                                                     [25] * 11 + [10**15])),
         "error", "households['households']", rows=True),
    Case("households all zero", lambda: base(households=_with(base_households(), "households", 0)),
         "error", "households['households']"),
    Case("households some zero", lambda: base(households=_with(base_households(), "households", [0] * 6 + [50] * 6)),
         "ok"),
    Case("persons negative", lambda: base(households=_with(base_households(), "persons", [70] * 11 + [-1])),
         "error", "households['persons']", rows=True),
    Case("persons partly missing", lambda: base(households=_with(base_households(), "persons",
                                                                  [70.0] * 11 + [np.nan])),
         "error", "households['persons']", rows=True),
    Case("persons target without persons", lambda: base(households=base_households().drop(columns="persons"),
                                                        target=__import__("gridpart").Target(100, persons=300)),
         "error", "target"),
    Case("households as a nullable integer column with NA", lambda: base(households=_with(
        base_households(), "households", pd.array([25] * 11 + [None], dtype="Int64"))),
         "error", "households['households']", rows=True),
    Case("households as a categorical column", lambda: base(households=_with(
        base_households(), "households", pd.Categorical([25] * 12))), "ok"),
    Case("households as float32", lambda: base(households=_with(
        base_households(), "households", np.full(12, 25, dtype=np.float32))), "ok"),
    Case("households with a MultiIndex", lambda: base(households=base_households().set_axis(
        pd.MultiIndex.from_arrays([["a"] * 6 + ["b"] * 6, list(range(6)) * 2])), study_area=None), "ok"),
    Case("households with a missing index label", lambda: base(households=base_households().set_axis(
        [None] + [f"h{i}" for i in range(1, 12)])), "ok"),
    Case("households without an active geometry column", lambda: base(
        households=pd.DataFrame(base_households()).rename(columns={"geometry": "geom"}).pipe(gpd.GeoDataFrame)),
         "error", "households"),
    Case("households in a 3D geographic CRS", lambda: base(households=base_households().to_crs("EPSG:4979")), "ok"),
    Case("households in a compound CRS", lambda: base(households=_declare(base_households(), "EPSG:32650+5773")),
         "ok"),
    Case("households in a custom PROJ string", lambda: base(households=base_households().to_crs(
        "+proj=tmerc +lat_0=0 +lon_0=116.3 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs")), "ok"),
    Case("households in EPSG:3857 holding degrees", lambda: base(
        households=_declare(_ll(base_households()), "EPSG:3857")), "error", "households.crs", match="degrees"),
    Case("households counts under another column name", lambda: base(households=base_households().rename(
        columns={"households": "Households"})), "error", "households['households']", match="rename"),
    Case("households counts as lists", lambda: base(households=_with(base_households(), "households", pd.Series(
        [[1, 2]] * 12, index=base_households().index, dtype=object))), "error", "households['households']", rows=True),
    Case("households beyond the projection's range", lambda: base(households=_set_geom(
        base_households(), 0, Point(1e12, 1e12))), "error", "households.geometry", rows=True, match="earth"),
    Case("households in a 16-bit count column", lambda: base(households=_with(
        base_households(), "households", np.full(12, 25, dtype=np.int16))), "ok"),
    Case("one building above the band", lambda: base(households=_hh_plus((50, 50), households=500)), "ok",
         why="its grid is reported as forced out"),
    Case("all households in one building", lambda: base(households=base_households().iloc[[0]]), "ok"),
    Case("a household outside the study area", lambda: base(households=_hh_plus((5000, 5000))), "ok",
         unplaced=1, match="outside"),
    Case("a household on a road", lambda: base(households=_hh_plus((150, 50))), "ok", unplaced=0),
    Case("a household on a road junction", lambda: base(households=_hh_plus((150, 100))), "ok", unplaced=0),
    Case("every household outside the study area", lambda: base(
        households=base_households().set_geometry(base_households().translate(600, 0), crs=CRS)),
         "error", "households", rows=True, match="outside"),
    Case("most households outside the study area", lambda: base(
        households=_hh_plus(*[(600 + 10 * i, 50) for i in range(20)], households=50)), "ok", unplaced=20,
         match="outside", why="a UserWarning says so; they are unplaced with a reason"),
    # ---------------------------------------------------------------- communities
    Case("communities", lambda: base(communities=base_communities(), study_area=None), "ok"),
    Case("communities without community_id", lambda: base(
        communities=base_communities().drop(columns="community_id"), study_area=None),
         "error", "communities['community_id']"),
    Case("communities with a duplicated id", lambda: base(communities=_with(base_communities(), "community_id", "A"),
                                                          study_area=None),
         "error", "communities['community_id']", rows=True),
    Case("communities with a missing id", lambda: base(communities=_with(base_communities(), "community_id",
                                                                         ["A", None]), study_area=None),
         "error", "communities['community_id']", rows=True),
    Case("communities with ids 1 and '1'", lambda: base(communities=_with(base_communities(), "community_id",
                                                                          pd.Series([1, "1"], dtype=object)),
                                                        study_area=None),
         "error", "communities['community_id']", rows=True),
    Case("communities overlapping slightly", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(152, H + 10)), box(*_xy(148, -10), *_xy(W + 10, H + 10))]), study_area=None),
         "repair", "communities.geometry", warns="overlap"),
    Case("communities overlapping a lot", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(300, H + 10)), box(*_xy(150, -10), *_xy(W + 10, H + 10))]), study_area=None),
         "error", "communities.geometry", rows=True, match="overlap"),
    Case("communities one inside the other", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(W + 10, H + 10)), box(*_xy(150, -10), *_xy(300, H + 10))]), study_area=None),
         "error", "communities.geometry", rows=True, match="overlap"),
    Case("communities touching at a corner only", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(150, 100)), box(*_xy(150, 100), *_xy(W + 10, H + 10))]), study_area=None), "ok",
         unplaced=3, why="the other quarters belong to no community: unplaced with a reason"),
    Case("a sliver community narrower than a street", lambda: base(communities=gpd.GeoDataFrame(
        {"community_id": ["A", "B", "S"]}, geometry=[box(*_xy(-10, -10), *_xy(150, H + 10)),
                                                     box(*_xy(150.5, -10), *_xy(W + 10, H + 10)),
                                                     box(*_xy(150, -10), *_xy(150.5, H + 10))], crs=CRS),
        study_area=None), "ok"),
    Case("communities with a gap", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(140, H + 10)), box(*_xy(160, -10), *_xy(W + 10, H + 10))]), study_area=None),
         "ok", why="blocks in the gap belong to no community; their households are unplaced with a reason"),
    Case("communities with a gap holding households", lambda: base(communities=_geoms(base_communities(), [
        box(*_xy(-10, -10), *_xy(5, H + 10)), box(*_xy(160, -10), *_xy(W + 10, H + 10))]), study_area=None),
         "ok", unplaced=4, match="community"),
    Case("communities invalid (bow-tie)", lambda: base(communities=_set_geom(
        base_communities(), 0, Polygon([_xy(-10, -10), _xy(150, H + 10), _xy(150, -10), _xy(-10, H + 10)])),
        study_area=None), "repair", "communities.geometry", warns="invalid"),
    Case("communities as lines", lambda: base(communities=base_communities().set_geometry(
        base_communities().boundary, crs=CRS), study_area=None), "error", "communities.geometry", rows=True),
    Case("communities with an empty geometry", lambda: base(communities=_set_geom(base_communities(), 1, Polygon()),
                                                            study_area=None),
         "error", "communities.geometry", rows=True),
    Case("communities in lon/lat", lambda: base(communities=_ll(base_communities()), study_area=None), "ok"),
    Case("communities far from the households", lambda: base(communities=base_communities().set_geometry(
        base_communities().translate(0, 50_000), crs=CRS), study_area=None), "error", "communities.crs",
         match="overlap"),
    Case("communities next to the households", lambda: base(communities=base_communities().set_geometry(
        base_communities().translate(0, 600), crs=CRS), study_area=None), "error", "households",
         rows=True, match="outside"),
    Case("communities with a hole holding households", lambda: base(communities=_set_geom(
        base_communities(), 0, box(*_xy(-10, -10), *_xy(150, H + 10)).difference(box(*_xy(10, 110), *_xy(140, 190)))),
        households=_hh_plus((75, 150)), study_area=None), "ok", unplaced=1, match="outside"),
    Case("a community without households", lambda: base(communities=_append(base_communities(), gpd.GeoDataFrame(
        {"community_id": ["C"], "name": ["空社区"]},
        geometry=[box(*_xy(W + 10, -10), *_xy(W + 200, H + 10))], crs=CRS)),
        study_area=None), "ok"),
    Case("communities 3D MultiPolygons", lambda: base(communities=base_communities().set_geometry(
        shapely.force_3d(shapely.multipolygons(shapely.get_parts(base_communities().geometry.values)
                                               .reshape(-1, 1)), 0.0), crs=CRS), study_area=None), "ok"),
    # ---------------------------------------------------------------- parcels
    Case("parcels", lambda: base(parcels=_parcels()), "ok"),
    Case("parcels without kind", lambda: base(parcels=_parcels().drop(columns="kind")), "error", "parcels['kind']"),
    Case("parcels with an unknown kind", lambda: base(parcels=_parcels(kind=["compound", "mall"])),
         "error", "parcels['kind']", rows=True),
    Case("parcels empty", lambda: base(parcels=_parcels().iloc[:0]), "ok"),
    Case("parcels invalid (bow-tie)", lambda: base(parcels=_set_geom(_parcels(), 0, _bowtie(20, 20, 60))),
         "repair", "parcels.geometry", warns="invalid"),
    Case("parcels as points", lambda: base(parcels=_parcels().set_geometry(_parcels().centroid, crs=CRS)),
         "error", "parcels.geometry", rows=True),
    Case("barriers as points", lambda: base(barriers=_parcels().set_geometry(_parcels().centroid, crs=CRS)),
         "error", "barriers.geometry", rows=True),
    Case("barriers with a None geometry", lambda: base(barriers=_set_geom(_parcels(), 0, None)),
         "repair", "barriers.geometry", warns="without geometry"),
    # ---------------------------------------------------------------- parameters
    Case("target zero", lambda: base(target=0), "error", "target"),
    Case("target negative", lambda: base(target=-300), "error", "target"),
    Case("target NaN", lambda: base(target=float("nan")), "error", "target"),
    Case("target infinite", lambda: base(target=float("inf")), "error", "target"),
    Case("target as text", lambda: base(target="300"), "error", "target"),
    Case("target True", lambda: base(target=True), "error", "target"),
    Case("target band reversed", lambda: base(target=(120, 80)), "error", "target", match="swap"),
    Case("target band of three", lambda: base(target=(80, 100, 120)), "error", "target"),
    Case("target above every household", lambda: base(target=10_000), "ok"),
    Case("target of one household", lambda: base(target=1, households=base_households().iloc[:4].assign(households=2)),
         "ok"),
    Case("target band starting at zero", lambda: base(target=(0, 100)), "error", "target"),
    Case("target as a numpy number", lambda: base(target=np.float64(100)), "ok"),
    Case("target as a list band", lambda: base(target=[80, 120]), "ok"),
    Case("tolerance zero", lambda: base(tolerance=0), "error", "tolerance"),
    Case("tolerance one", lambda: base(tolerance=1), "error", "tolerance"),
    Case("tolerance negative", lambda: base(tolerance=-0.2), "error", "tolerance"),
    Case("tolerance as percent", lambda: base(tolerance=20), "error", "tolerance"),
    Case("tolerance NaN", lambda: base(tolerance=float("nan")), "error", "tolerance"),
    Case("time_limit zero", lambda: base(time_limit=0), "error", "time_limit"),
    Case("time_limit NaN", lambda: base(time_limit=float("nan")), "error", "time_limit"),
    Case("time_limit infinite", lambda: base(time_limit=float("inf")), "error", "time_limit"),
    Case("time_limit True", lambda: base(time_limit=True), "error", "time_limit"),
    Case("time_limit as text", lambda: base(time_limit="5"), "error", "time_limit"),
    Case("seed float", lambda: base(seed=1.5), "error", "seed"),
    Case("seed negative", lambda: base(seed=-1), "error", "seed"),
    Case("seed beyond 32 bits", lambda: base(seed=2**40), "error", "seed"),
    Case("seed as a numpy integer", lambda: base(seed=np.int64(3)), "ok"),
    Case("n_jobs zero", lambda: base(n_jobs=0), "error", "n_jobs"),
    Case("n_jobs fractional", lambda: base(n_jobs=1.5), "error", "n_jobs"),
    Case("strategy None", lambda: base(strategy=None), "error", "strategy"),
    Case("strategy as a list", lambda: base(strategy=["lns"]), "error", "strategy"),
    Case("strategy unknown", lambda: base(strategy="magic"), "error", "strategy"),
    Case("units unknown", lambda: base(units="all"), "error", "units"),
    Case("n_grids zero", lambda: base(n_grids=0), "error", "n_grids"),
    Case("n_grids for an unknown community", lambda: base(communities=base_communities(), study_area=None,
                                                          n_grids={"Z": 2}), "error", "n_grids", match="'Z'"),
    Case("n_grids with a bad count", lambda: base(communities=base_communities(), study_area=None,
                                                  n_grids={"A": 0}), "error", "n_grids"),
    Case("n_grids keyed by an integer id", lambda: base(communities=_with(base_communities(), "community_id", [1, 2]),
                                                         study_area=None, n_grids={1: 2, 2: 1}), "ok"),
    Case("n_grids above the atoms", lambda: base(n_grids=50), "ok",
         why="no more grids than atoms; the note says so"),
    Case("study area of the wrong type", lambda: base(study_area="everything"), "error", "study_area"),
    Case("study area empty", lambda: base(study_area=Polygon()), "error", "study_area"),
    Case("study area invalid (bow-tie)", lambda: base(study_area=_bowtie(-10, -10, 470)), "ok"),
    Case("study area a point", lambda: base(study_area=Point(_xy(50, 50))), "error", "study_area"),
    Case("study area with NaN", lambda: base(study_area=Polygon([_xy(0, 0), (np.nan, Y0), _xy(0, 10)])),
         "error", "study_area"),
    Case("study area GeoDataFrame of several parts", lambda: base(study_area=gpd.GeoDataFrame(
        geometry=[box(*_xy(-10, -10), *_xy(150, H + 10)), box(*_xy(150, -10), *_xy(W + 10, H + 10))], crs=CRS)),
         "ok"),
    Case("study area not overlapping the communities", lambda: base(
        communities=base_communities(), study_area=box(*_xy(2000, 2000), *_xy(2100, 2100))),
         "error", "study_area"),
    Case("study area smaller than a square metre", lambda: base(study_area=box(*_xy(0, 0), *_xy(0.5, 0.5))),
         "error", "study_area"),
    Case("study area far away", lambda: base(study_area=box(*_xy(9000, 9000), *_xy(9500, 9500))),
         "error", "households", match="outside"),
]
