"""Tests for gridpart.datasets: the packaged Beijing sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest

import gridpart
from gridpart.datasets import LAYERS, Sample, available, get_path, load_sample
from gridpart.errors import InputError
from gridpart.inputs.osm import estimate_households

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="module")
def sample() -> Sample:
    return load_sample()


def test_path_is_inside_the_package_and_small():
    path = get_path()
    assert path.is_file()
    assert Path(gridpart.__file__).resolve().parent in path.resolve().parents
    assert path.stat().st_size < 1_000_000
    assert available() == ("beijing_xueyuanlu",)
    assert get_path("beijing_xueyuanlu") == path


def test_gpkg_layers_and_crs():
    layers = dict(pyogrio.list_layers(get_path()))
    assert set(layers) == set(LAYERS)
    assert layers["households"] == "Point"
    assert layers["study_area"] == "Polygon"


def test_load_sample_layers(sample):
    for name in LAYERS:
        frame = getattr(sample, name)
        assert isinstance(frame, gpd.GeoDataFrame), name
        assert frame.crs.to_epsg() == 4326, name
        assert len(frame) > 0, name
    assert len(sample.study_area) == 1
    assert sample.study_area.geom_type.tolist() == ["Polygon"]
    assert set(sample.roads["kind"]) == {"road", "street", "lane"}
    assert "学院路" in set(sample.roads["name"].dropna())
    assert set(sample.parcels["kind"]) == {"compound", "unit"}
    hh = sample.households
    assert hh["households"].dtype.kind == "i" and (hh["households"] >= 1).all()
    assert int(hh["households"].sum()) == 17_474
    assert set(hh.geom_type) == {"Point"}
    # every household point lies in the study area or in a building that crosses it
    area = sample.study_area.geometry.iloc[0]
    near = hh.geometry.within(area.buffer(0.005))
    assert near.all()
    assert "households=153" in repr(sample)


def test_households_reproducible_from_shipped_buildings(sample):
    again = estimate_households(sample.buildings, parcels=sample.parcels)
    # coordinates are rounded to 1e-7 degrees (< 1 cm): no count changes
    assert len(again) == len(sample.households)
    assert again["households"].tolist() == sample.households["households"].tolist()


def test_unknown_sample_name():
    with pytest.raises(InputError, match="beijing_xueyuanlu"):
        get_path("shanghai")
    with pytest.raises(InputError, match="no sample"):
        load_sample("shanghai")


def test_shipped_sample_matches_make_sample(tmp_path):
    """benchmarks/make_sample.py regenerates the shipped file byte for byte."""
    osm = SHARED / "beijing-xueyuanlu.osm"
    script = REPO / "benchmarks" / "make_sample.py"
    if not osm.is_file() or not script.is_file():
        pytest.skip("shared OSM extract or benchmarks/make_sample.py not available")
    spec = importlib.util.spec_from_file_location("make_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "sample.gpkg"
    module.write_sample(module.build_layers(osm), out)
    assert out.read_bytes() == get_path().read_bytes()
