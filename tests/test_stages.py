"""The stages of gp.partition, each called on its own (gridpart.pipeline.partition).

partition() is a list of stages that take and return plain data; these tests
run the stages without partition(): the input checks, the atoms of the
packaged sample, a lattice solved, and the stages composed by hand giving
partition()'s plan.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pytest
import shapely

import gridpart as gp
import gridpart.solvers.registry as registry
from gridpart.errors import CRSError, InputError, SolverError
from gridpart.model.parcels import labels_in_band
from gridpart.model.problem import Band
from gridpart.pipeline import partition as stages
from gridpart.solvers.lns import SubResult
from gridpart.testing import grid_subproblem


@pytest.fixture(scope="module")
def sample():
    return gp.datasets.load_sample()


@pytest.fixture(scope="module")
def atoms_of_sample(sample):
    """The sample taken through the stages up to the atom graph."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = stages.read_inputs(sample.roads, sample.households, study_area=sample.study_area)
        work = stages.to_working_crs(inputs)
        band = stages.Band.from_target(inputs.target)
        area = stages.study_area_geometry(work, roads_are=inputs.roads_are, problems=inputs.problems)
        blocks = stages.build_blocks(work, area, roads_are=inputs.roads_are)
        atoms = stages.build_atoms(work.layers["households"], blocks, band=band, roads_are=inputs.roads_are,
                                   problems=inputs.problems)
    return inputs, work, band, area, blocks, atoms


def test_read_inputs_reports_every_bad_argument_at_once(sample):
    with pytest.raises(InputError) as caught:
        stages.read_inputs(sample.roads, sample.households, target=-3, strategy="no-such-strategy",
                           time_limit=-1, seed=-1, n_jobs=0, units="mine", compounds="theirs",
                           compactness=-5, objective="shortest", n_grids=0)
    named = {p.argument for p in caught.value.problems}
    assert {"target", "strategy", "time_limit", "seed", "n_jobs", "units", "compounds", "compactness",
            "objective", "n_grids"} <= named


def test_read_inputs_returns_the_validated_layers_and_parameters(sample):
    inputs = stages.read_inputs(sample.roads, sample.households, target=(250, 350), n_grids={1: 3})
    assert set(inputs.layers) == {"households", "roads", "communities", "parcels", "barriers"}
    assert inputs.layers["communities"] is None and inputs.layers["households"] is not None
    assert inputs.roads_are == "lines"  # "auto" decided from the geometry
    assert inputs.target.band == (250, 350)
    assert inputs.n_grids == {"1": 3}  # keyed by community id text
    assert not inputs.problems


def test_to_working_crs_is_metric_and_keeps_the_users_crs(sample):
    inputs = stages.read_inputs(sample.roads, sample.households, study_area=sample.study_area)
    work = stages.to_working_crs(inputs)
    assert work.user_crs == sample.households.crs
    assert work.work_crs.is_projected
    assert all(layer is None or layer.crs == work.work_crs for layer in work.layers.values())
    assert work.study_area.area > 0


def test_study_area_geometry_far_from_the_households_is_a_crs_problem(sample):
    inputs = stages.read_inputs(sample.roads, sample.households)
    work = stages.to_working_crs(inputs)
    # a study area drawn in degrees lands as a speck far away in the metric CRS
    x, y = work.layers["households"].total_bounds[:2]
    far = shapely.box(x + 500_000.0, y, x + 500_000.5, y + 0.5)
    moved = stages.Working(layers=work.layers, user_crs=work.user_crs, work_crs=work.work_crs, study_area=far)
    with pytest.raises(CRSError, match="km from the households"):
        stages.study_area_geometry(moved, roads_are=inputs.roads_are)


def test_study_area_geometry_defaults_to_the_road_network(sample):
    inputs = stages.read_inputs(sample.roads, sample.households)
    work = stages.to_working_crs(inputs)
    area = stages.study_area_geometry(work, roads_are="lines")
    assert area.is_valid and area.area > 0
    inside = shapely.covers(area, work.layers["households"].geometry.values)
    assert inside.mean() > 0.9


def test_build_atoms_on_the_sample_adds_up(atoms_of_sample):
    _, work, band, _, blocks, atoms = atoms_of_sample
    hh = atoms.households
    placed = hh["atom_id"].notna()
    assert placed.any()
    # every placed household is on an atom, and the atoms hold exactly the placed households
    assert set(hh.loc[placed, "atom_id"].astype(int)) <= set(atoms.atoms["atom_id"])
    assert atoms.atoms["households"].sum() == pytest.approx(hh.loc[placed, "households"].sum())
    per_atom = hh.loc[placed].groupby(hh.loc[placed, "atom_id"].astype(int))["households"].sum()
    held = atoms.atoms.set_index("atom_id")["households"]
    assert np.allclose(held.reindex(per_atom.index), per_atom)
    assert (held.drop(per_atom.index) == 0).all()
    assert len(hh) == len(work.layers["households"]) == len(atoms.unattached)
    # edges join atoms that exist; blocks are cut into atoms, never merged across blocks
    assert np.isin(atoms.edges[["a", "b"]].to_numpy(), atoms.atoms["atom_id"]).all()
    assert atoms.atoms["area_m2"].sum() == pytest.approx(blocks.blocks["area_m2"].sum(), rel=1e-3)


def test_pose_subproblems_covers_every_atom_once(atoms_of_sample):
    inputs, work, band, _, _, atoms = atoms_of_sample
    settings = stages.SolveSettings(registry.lookup_strategy("seed"), time_limit=10.0)
    subs = stages.pose_subproblems(atoms, work.layers["parcels"], band=band, solve_one=settings.solve_one)
    covered = np.sort(np.concatenate([s.atoms for s in subs.subs]))
    assert np.array_equal(covered, np.sort(atoms.atoms["atom_id"].to_numpy()))
    assert len(subs.solved) == len(subs.subs) == len(subs.fixed_k)


@pytest.mark.parametrize("strategy", ["seed", "lns"])
def test_solve_all_on_a_lattice(strategy):
    lattice = grid_subproblem(4, 6, k=4, households=100)
    other = grid_subproblem(3, 3, k=3, households=100)
    settings = stages.SolveSettings(registry.lookup_strategy(strategy), seed=0, time_limit=10.0)
    solution = stages.solve_all([lattice, other], settings)
    assert len(solution.results) == 2 and solution.cells == [None, None]  # no arterials: solved whole
    for sub, res in zip([lattice, other], solution.results):
        assert isinstance(res, SubResult)
        assert sorted(np.unique(res.labels)) == list(range(sub.k))
        assert labels_in_band(sub, res.labels)
        assert len(registry.check_result(res, sub, strategy).labels) == sub.n  # contiguous, whole labels
    again = stages.solve_all([lattice, other], settings)
    assert all(np.array_equal(a.labels, b.labels) for a, b in zip(solution.results, again.results))


def test_solve_all_checks_what_a_strategy_returns():
    lattice = grid_subproblem(2, 2, k=2)

    def apart(sub, **kw):  # atoms 0 and 3 are not adjacent on a 2 x 2 lattice
        return SubResult(labels=np.array([0, 1, 1, 0]), status="FEASIBLE", method="apart",
                         objective=float("nan"), bound=float("nan"), wall_s=0.0, windows=0, improved=0)

    settings = stages.SolveSettings(registry.lookup_strategy(apart))
    assert not settings.strategy.registered and settings.strategy.name == "apart"
    with pytest.raises(SolverError, match="not contiguous"):
        stages.solve_all([lattice], settings)


def test_the_registry_is_one_dict_everywhere():
    assert gp.pipeline.partition.STRATEGIES is registry.STRATEGIES
    assert gp.register_strategy is registry.register_strategy is stages.register_strategy
    assert set(registry.BUILTIN_STRATEGIES) <= set(registry.STRATEGIES)


def test_stages_composed_by_hand_give_partitions_plan(sample, atoms_of_sample):
    inputs, work, band, _, blocks, atoms = atoms_of_sample
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = gp.partition(sample.roads, sample.households, study_area=sample.study_area, time_limit=30)
        settings = stages.SolveSettings(registry.lookup_strategy("auto"), time_limit=30.0)
        subs = stages.pose_subproblems(atoms, work.layers["parcels"], band=band, n_grids=inputs.n_grids,
                                       solve_one=settings.solve_one)
        solution = stages.solve_all(subs.solved, settings, whole=subs.fixed_k)
        outcome = stages.atom_results(subs, solution)
        mine = stages.assemble(inputs, work, atoms, subs, outcome, band=band, time_limit=settings.time_limit)
    assert isinstance(band, Band)
    assert mine.households["grid_id"].tolist() == plan.households["grid_id"].tolist()
    assert mine.grids["code"].tolist() == plan.grids["code"].tolist()
    assert isinstance(mine.grids, gpd.GeoDataFrame) and mine.grids.crs == plan.grids.crs
    record = stages.run_record(mine.record, inputs=inputs, work=work, blocks=blocks, band=band,
                               settings=settings, objective="compact", units="own", compounds="share",
                               compactness=float(stages.COMPACTNESS_WEIGHT), timings={})
    assert record.strategy == plan.record.strategy and record.band == plan.record.band
    assert record.work_crs == plan.record.work_crs
