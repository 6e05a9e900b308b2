"""Small sample data shipped with gridpart.

One sample so far, ``"beijing_xueyuanlu"``: the Xueyuan Road / Liudaokou area of
Haidian, Beijing (about 1.3 × 1.2 km), derived from OpenStreetMap
(© OpenStreetMap contributors, ODbL 1.0; see ``README.md`` next to this file).
It holds roads, buildings, household estimates, parcels (compounds and work
units), barriers and the study area, all in EPSG:4326.  The files are read from
the installed package; nothing is downloaded.

Examples
--------
>>> from gridpart.datasets import load_sample
>>> sample = load_sample()
>>> int(sample.households["households"].sum()) > 10_000
True
>>> sample.roads.crs.to_epsg()
4326
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from gridpart.errors import Problems

__all__ = ["Sample", "available", "get_path", "load_sample", "LAYERS"]

logger = logging.getLogger(__name__)

_HERE = Path(__file__).resolve().parent
_FILES = {"beijing_xueyuanlu": "beijing_xueyuanlu.gpkg"}

#: Layers every sample GeoPackage holds.
LAYERS = ("roads", "buildings", "households", "parcels", "barriers", "study_area")


@dataclass(frozen=True)
class Sample:
    """The layers of a packaged sample, each a GeoDataFrame in EPSG:4326.

    Attributes
    ----------
    roads : geopandas.GeoDataFrame
        Road centrelines: ``osm_id``, ``highway``, ``kind`` (road/street/lane),
        ``name``, ``name_en``, ``bridge``, ``tunnel``.
    households : geopandas.GeoDataFrame
        One point per residential building: ``households``, ``persons``,
        ``building``, ``name``, ``levels``, ``footprint_m2``, ``osm_id``,
        ``levels_source``.
    buildings : geopandas.GeoDataFrame
        Footprints as read by :func:`gridpart.inputs.osm.read_osm`.
    parcels : geopandas.GeoDataFrame
        Compounds and work units: ``kind``, ``name``, ``source_tag``.
    barriers : geopandas.GeoDataFrame
        Rivers, walls and fences: ``kind`` ("barrier"), ``name``, ``source_tag``.
    study_area : geopandas.GeoDataFrame
        One polygon: the extract's bounds.
    """

    roads: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    parcels: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    study_area: gpd.GeoDataFrame

    def __repr__(self) -> str:
        counts = ", ".join(f"{name}={len(getattr(self, name))}" for name in
                           ("roads", "households", "buildings", "parcels", "barriers", "study_area"))
        return f"Sample({counts})"


def available() -> tuple[str, ...]:
    """Names of the packaged samples.

    Examples
    --------
    >>> available()
    ('beijing_xueyuanlu',)
    """
    return tuple(_FILES)


def get_path(name: str = "beijing_xueyuanlu") -> Path:
    """Path of a packaged sample GeoPackage.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    gridpart.errors.InputError
        For an unknown name, or when the file is missing from the installation.

    Examples
    --------
    >>> get_path().name
    'beijing_xueyuanlu.gpkg'
    """
    problems = Problems()
    if name not in _FILES:
        problems.add("name", f"no sample called {name!r}",
                     fix=f"use one of {', '.join(repr(n) for n in _FILES)}")
        problems.raise_if_any()
    path = _HERE / _FILES[name]
    if not path.is_file():
        problems.add("name", f"the sample file {path} is missing from this installation",
                     fix="reinstall gridpart, or run benchmarks/make_sample.py in a source checkout")
        problems.raise_if_any()
    return path


def load_sample(name: str = "beijing_xueyuanlu") -> Sample:
    """Load a packaged sample.

    Parameters
    ----------
    name : str
        One of :func:`available`.

    Returns
    -------
    Sample
        Roads, households, buildings, parcels, barriers and the study area.

    Examples
    --------
    >>> sample = load_sample("beijing_xueyuanlu")
    >>> len(sample.study_area)
    1
    >>> "学院路" in set(sample.roads["name"].dropna())
    True
    """
    path = get_path(name)
    layers = {layer: gpd.read_file(path, layer=layer, engine="pyogrio") for layer in LAYERS}
    logger.debug("loaded sample %s from %s: %s", name, path,
                 {k: len(v) for k, v in layers.items()})
    return Sample(**layers)
