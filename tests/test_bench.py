"""Tests for gridpart.bench (runner, instances, table) and gridpart.solvers.peers (adapters)."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from gridpart.bench import (
    RESULT_COLUMNS,
    Instance,
    instance,
    markdown_table,
    register_peers,
    run_bench,
)
from gridpart.errors import InputError
from gridpart.pipeline.partition import STRATEGIES
from gridpart.testing import grid_subproblem, labels_contiguous

# --------------------------------------------------------------------------- instances and input


def test_builtin_instance_names():
    assert instance("synthetic-50k") == Instance(name="synthetic-50k", kind="synthetic", size=50_000)
    assert instance("Synthetic-1.5m").size == 1_500_000
    assert instance("helsinki").kind == "helsinki"
    assert instance("beijing").kind == "beijing"


def test_unknown_instances_and_strategies_are_input_errors_listing_all():
    with pytest.raises(InputError) as err:
        run_bench(["nowhere", "synthetic-5"], ["seed", "no-such-strategy"], time_limit=1)
    args = [p.argument for p in err.value.problems]
    assert args.count("instances") == 2 and "strategies" in args


def test_bad_limits_are_input_errors():
    with pytest.raises(InputError, match="timeout"):
        run_bench(["synthetic-1000"], ["seed"], timeout=-1)


def test_file_instances_need_existing_files(tmp_path):
    with pytest.raises(InputError, match="no file"):
        instance("mine", roads=str(tmp_path / "r.gpkg"), households=str(tmp_path / "h.gpkg"))


def test_peers_register_without_their_packages():
    names = register_peers()
    assert {"metis", "metis_contig", "maxp", "skater", "azp", "regionkmeans", "gerrychain"} <= set(names)
    assert all(n in STRATEGIES for n in names)


def test_markdown_table_marks_missing_values():
    t = pd.DataFrame([{"instance": "a", "strategy": "x", "status": "timeout"}])
    line = markdown_table(t).splitlines()[2]
    assert line.startswith("| a | x | —") and line.endswith("| timeout |")


# --------------------------------------------------------------------------- the runner (no peers needed)


@pytest.fixture(scope="module")
def reference_files(tmp_path_factory):
    """A seed plan of synthetic-1000 as a GeoPackage, a station in each of its grids, and its scorecard."""
    import geopandas as gpd

    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    root = tmp_path_factory.mktemp("reference")
    roads, hh, _ = synthetic_city(1000, seed=0)
    plan = gp.partition(roads, hh, strategy="seed", time_limit=5, target=300, tolerance=0.2, seed=0)
    plan.to_file(root / "reference.gpkg")
    stations = gpd.GeoDataFrame(geometry=plan.grids.representative_point().to_numpy(), crs=plan.crs)
    stations.to_file(root / "stations.gpkg")
    return root / "reference.gpkg", root / "stations.gpkg", plan.score(stations=stations).summary


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory, reference_files):
    """gridpart's seed strategy, a failing and a sleeping strategy, on a small synthetic city."""
    root = tmp_path_factory.mktemp("bench")
    (root / "bench_helpers_mod.py").write_text(textwrap.dedent("""
        import time

        def boom(sub, *, seed, time_limit):
            raise RuntimeError("boom")

        def sleepy(sub, *, seed, time_limit):
            time.sleep(60)

        def hog(sub, *, seed, time_limit):
            import numpy as np
            block = np.ones(110_000_000)  # 880 MB
            time.sleep(30)
            return block
    """))
    sys.path.insert(0, str(root))
    reference, stations, _ = reference_files
    try:
        table = run_bench(["synthetic-1000"], ["seed", "bench_helpers_mod:boom", "bench_helpers_mod:sleepy",
                                                "bench_helpers_mod:hog"],
                          time_limit=5, timeout=12, memory_mb=600, out=root / "out",
                          reference=reference, stations={"synthetic-1000": stations})
    finally:
        sys.path.remove(str(root))
    return root / "out", table


def test_runner_writes_one_row_per_run_with_the_columns(bench_run):
    out, table = bench_run
    assert list(table.columns) == RESULT_COLUMNS
    csv = pd.read_csv(out / "results.csv")
    assert len(csv) == 4 and list(csv.columns) == RESULT_COLUMNS
    assert (out / "results.md").read_text().startswith("| instance |")
    assert (out / "machine.json").exists()


def test_gridpart_row_is_scored(bench_run):
    _, table = bench_run
    row = table.set_index("strategy").loc["seed"]
    assert row["status"] == "ok"
    assert row["contiguous_share"] == 1.0
    assert row["households"] == 1000
    assert row["grids"] >= 3 and 0 <= row["share_in_band"] <= 1
    assert row["wall_s"] > 0 and row["peak_mb"] > 50


def test_gridpart_row_against_a_reference_plan_and_stations(bench_run, reference_files):
    out, table = bench_run
    _, _, expected = reference_files
    row = pd.read_csv(out / "results.csv").set_index("strategy").loc["seed"]
    assert row["households_changed"] == 0 and row["share_changed"] == 0  # the seed strategy is deterministic
    assert row["share_within_walk"] == pytest.approx(expected["share_within_walk"])
    assert 0.5 < row["share_within_walk"] <= 1
    assert "| changed | ≤ 30 min walk |" in (out / "results.md").read_text()
    failed = table.set_index("strategy").loc["bench_helpers_mod:boom"]
    assert np.isnan(failed["households_changed"]) and np.isnan(failed["share_within_walk"])


def test_reference_and_stations_files_are_checked_before_any_run(tmp_path, reference_files):
    import geopandas as gpd

    reference, stations, _ = reference_files
    named = tmp_path / "named.gpkg"
    gpd.read_file(stations).assign(grid_id=1).to_file(named)
    with pytest.raises(InputError) as err:
        run_bench(["synthetic-1000", "synthetic-2000"], ["seed"], time_limit=1, reference=reference,
                  stations={"synthetic-1000": tmp_path / "none.gpkg", "nowhere": stations})
    text = str(err.value)
    assert "reference: one file for 2 instances" in text
    assert "stations: names instances not in the run: ['nowhere']" in text
    assert "stations: no file at" in text
    with pytest.raises(InputError, match=r"stations\['grid_id'\]: names grids of one plan"):
        run_bench(["synthetic-1000"], ["seed"], time_limit=1, stations=named)


def test_a_reference_of_other_households_fails_before_the_strategy_runs(monkeypatch, reference_files):
    import gridpart.pipeline.partition
    from gridpart.bench import run_one

    def no_solve(*args, **kwargs):
        raise AssertionError("the strategy ran")

    monkeypatch.setattr(gridpart.pipeline.partition, "partition", no_solve)
    with pytest.raises(InputError, match=r"reference: \d+ of the plan's \d+ household rows are not in the reference"):
        run_one("synthetic-1200", "seed", reference=reference_files[0])


def test_failures_and_timeouts_are_rows_not_crashes(bench_run):
    _, table = bench_run
    t = table.set_index("strategy")
    assert t.loc["bench_helpers_mod:boom", "status"] == "error"
    assert "boom" in t.loc["bench_helpers_mod:boom", "error"]
    assert t.loc["bench_helpers_mod:sleepy", "status"] == "timeout"
    assert t.loc["bench_helpers_mod:sleepy", "wall_s"] < 30
    assert t.loc["bench_helpers_mod:hog", "status"] == "memory"
    assert t.loc["bench_helpers_mod:hog", "peak_mb"] > 600


def test_figures_for_the_plans_that_exist(bench_run):
    out, _ = bench_run
    assert (out / "figures" / "synthetic-1000_sizes.png").exists()
    assert (out / "figures" / "synthetic-1000_maps.png").exists()


def test_cli_bench_rejects_half_an_instance(tmp_path):
    from gridpart.cli import main

    assert main(["bench", "--roads", str(tmp_path / "r.gpkg"), "--strategies", "seed", "--out", str(tmp_path)]) == 2


# --------------------------------------------------------------------------- peer adapters


def _check_labels(sub, labels, *, k=None, contiguous=True):
    assert labels.shape == (sub.n,)
    assert labels.min() == 0 and np.array_equal(np.unique(labels), np.arange(labels.max() + 1))
    if k is not None:
        assert labels.max() + 1 == k
    if contiguous:
        assert labels_contiguous(sub.n, sub.edges, labels).all()


SUB = grid_subproblem(6, 6, k=4, households=np.random.default_rng(0).integers(10, 40, 36))


@pytest.mark.parametrize("contig", [False, True])
def test_metis_adapter(contig):
    pytest.importorskip("pymetis")
    from gridpart.solvers.peers import metis

    res = metis(SUB, seed=1, contiguous=contig)
    _check_labels(SUB, res.labels, k=4, contiguous=contig)
    assert np.array_equal(res.labels, metis(SUB, seed=1, contiguous=contig).labels)


@pytest.mark.parametrize("name", ["skater", "azp", "regionkmeans"])
def test_spopt_adapters_use_the_grid_count(name):
    pytest.importorskip("spopt")
    from gridpart.solvers import peers

    res = getattr(peers, name)(SUB, seed=0)
    _check_labels(SUB, res.labels, k=4)


def test_maxp_adapter_meets_the_floor():
    pytest.importorskip("spopt")
    from gridpart.solvers.peers import maxp

    sub = grid_subproblem(4, 4, k=3, households=np.full(16, 30))
    res = maxp(sub, seed=0)
    _check_labels(sub, res.labels)
    assert np.bincount(res.labels, weights=sub.weight).min() >= sub.band.lo


def test_gerrychain_adapter_balances_to_the_band():
    pytest.importorskip("gerrychain")
    from gridpart.solvers.peers import gerrychain_recom

    res = gerrychain_recom(SUB, seed=3, steps=20)
    _check_labels(SUB, res.labels, k=4)
    assert np.array_equal(res.labels, gerrychain_recom(SUB, seed=3, steps=20).labels)


def test_adapters_handle_trivial_sub_problems():
    pytest.importorskip("pymetis")
    from gridpart.solvers.peers import metis

    assert metis(grid_subproblem(1, 3, k=1)).labels.tolist() == [0, 0, 0]
    assert metis(grid_subproblem(1, 2, k=2)).labels.tolist() == [0, 1]


def test_a_peer_through_partition_gets_the_same_atoms():
    pytest.importorskip("pymetis")
    import gridpart as gp
    from gridpart.datasets.synthetic import synthetic_city

    register_peers()
    roads, hh, _ = synthetic_city(1500, seed=2)
    a = gp.partition(roads, hh, strategy="seed", time_limit=5)
    b = gp.partition(roads, hh, strategy="metis_contig", time_limit=5)
    assert len(a.blocks) == len(b.blocks)
    assert b.grids["households"].sum() == hh["households"].sum()


def test_register_strategy_checks_its_input():
    from gridpart.pipeline.partition import register_strategy

    with pytest.raises(InputError) as err:
        register_strategy("", 3)
    assert [p.argument for p in err.value.problems] == ["name", "fn"]


def test_street_block_mode_keeps_each_block_whole():
    import gridpart as gp
    from gridpart.bench import _on_street_blocks
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, _ = synthetic_city(1500, seed=2)
    fn, hook = _on_street_blocks("seed")
    plan = gp.partition(roads, hh, strategy=fn, time_limit=5, on_atoms=hook)
    assert plan.blocks["block_id"].duplicated().any()  # some block was cut into cells
    assert plan.blocks.groupby("block_id")["grid_id"].nunique().max() == 1
    assert plan.grids["households"].sum() == hh["households"].sum()


def test_cli_bench_on_own_geopackages_has_rows_for_gridpart_and_every_peer(tmp_path):
    for package in ("pymetis", "spopt", "gerrychain"):
        pytest.importorskip(package)
    from gridpart.cli import main
    from gridpart.datasets.synthetic import synthetic_city

    roads, hh, _ = synthetic_city(1200, seed=4)
    roads.to_file(tmp_path / "roads.gpkg")
    hh.to_file(tmp_path / "households.gpkg")
    out = tmp_path / "out"
    code = main(["bench", "--roads", str(tmp_path / "roads.gpkg"), "--households", str(tmp_path / "households.gpkg"),
                 "--strategies", "auto,metis,regionkmeans,gerrychain", "--time-limit", "5", "--no-figures",
                 "--target", "300", "--out", str(out)])
    assert code == 0
    table = pd.read_csv(out / "results.csv")
    assert table["instance"].unique().tolist() == ["roads"]
    assert table["strategy"].tolist() == ["auto", "metis", "regionkmeans", "gerrychain"]
    assert (table["status"] == "ok").all(), table[["strategy", "error"]]
    assert (table["households"] == 1200).all()
