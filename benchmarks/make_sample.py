"""Regenerate the packaged sample ``gridpart/datasets/beijing_xueyuanlu.gpkg``.

Reads the shared OSM extract with :func:`gridpart.inputs.osm.read_osm`, estimates
households with :func:`gridpart.inputs.osm.estimate_households` (default parameters:
12 floors where ``building:levels`` is missing, 2 for houses) and writes six
EPSG:4326 layers: ``roads``, ``buildings``, ``households``, ``parcels``,
``barriers`` and ``study_area``.  The output is deterministic: rows keep the
order of the OSM file, and the GeoPackage timestamps are pinned with GDAL's
``OGR_CURRENT_DATE``, so two runs give byte-identical files.

Usage (from the repository root)::

    python benchmarks/make_sample.py                       # default paths
    python benchmarks/make_sample.py --osm PATH --out PATH

This script is not part of the package; the package only reads the result.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import geopandas as gpd  # noqa: E402
import pyogrio  # noqa: E402

from gridpart.inputs.osm import HouseholdParams, estimate_households, read_osm  # noqa: E402

DEFAULT_OSM = REPO.parent / "shared" / "data" / "beijing-xueyuanlu.osm"
DEFAULT_OUT = REPO / "gridpart" / "datasets" / "beijing_xueyuanlu.gpkg"
#: Pinned GeoPackage timestamp, so the file does not change from run to run.
STAMP = "2026-01-01T00:00:00Z"
COORDINATE_DECIMALS = 7  # OSM's own precision (about 1 cm)

logger = logging.getLogger("make_sample")


def build_layers(osm_path: Path) -> dict[str, gpd.GeoDataFrame]:
    """All sample layers, in EPSG:4326, from one OSM file."""
    data = read_osm(osm_path)
    if data.study_area is None:
        raise SystemExit(f"{osm_path} has no <bounds> element; the sample needs a study area")
    params = HouseholdParams()  # Beijing: default_levels=12
    households = estimate_households(data.buildings, parcels=data.parcels, params=params)
    study_area = gpd.GeoDataFrame(
        {"name": ["beijing_xueyuanlu"], "source": ["OSM <bounds>"]},
        geometry=[data.study_area], crs="EPSG:4326")
    layers = {
        "roads": data.roads,
        "buildings": data.buildings,
        "households": households,
        "parcels": data.parcels,
        "barriers": data.barriers,
        "study_area": study_area,
    }
    out = {}
    for name, frame in layers.items():
        frame = frame.reset_index(drop=True)
        frame = frame.set_geometry(frame.geometry.set_precision(10 ** -COORDINATE_DECIMALS))
        out[name] = frame
    return out


def write_sample(layers: dict[str, gpd.GeoDataFrame], out: Path) -> None:
    """Write the layers to a fresh GeoPackage at ``out``."""
    tmp = out.with_suffix(".tmp.gpkg")
    tmp.unlink(missing_ok=True)
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": STAMP})
    try:
        for name, frame in layers.items():
            frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio",
                          layer_options={"SPATIAL_INDEX": "NO"})
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})
    tmp.replace(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--osm", type=Path, default=DEFAULT_OSM, help="OSM XML extract")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="GeoPackage to write")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    layers = build_layers(args.osm)
    write_sample(layers, args.out)
    for name, frame in layers.items():
        logger.info("%-10s %5d rows", name, len(frame))
    hh = layers["households"]
    logger.info("households: %d in %d buildings, persons %.1f", hh["households"].sum(), len(hh),
                hh["persons"].sum())
    logger.info("wrote %s (%.0f KB)", args.out, args.out.stat().st_size / 1024)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
