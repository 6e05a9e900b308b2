"""The result of a partition: :class:`GridPlan`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from gridpart.history import EditLog, HistoryEntry
from gridpart.inputs.crs import metric_crs
from gridpart.record import ParamsView, RunRecord

__all__ = ["Changes", "GridPlan"]


@dataclass
class GridPlan:
    """Grids drawn for an area, with the atoms, households and solver status behind them.

    Attributes
    ----------
    grids : GeoDataFrame
        One row per grid, in the households' CRS: ``grid_id``, ``code``,
        ``community_id``, ``kind`` (unit/compound/street), ``households``,
        ``persons``, ``n_atoms``, ``area_m2``, ``forced`` (out of the band
        whatever the plan), ``forced_reason``, ``limits`` (四至, Chinese),
        ``limits_en``, ``places`` (compounds and units inside),
        ``limit_east`` … ``limit_north`` (side labels), geometry; ``locked``
        once a grid was locked (:meth:`lock`). A grid emptied by :meth:`move`
        stays, with 0 households and an empty geometry, until :meth:`drop_empty`.
    blocks : GeoDataFrame
        The atoms (street blocks, or building cells of big blocks): ``atom_id``,
        ``block_id`` (parent street block), ``community_id``, ``is_cell``,
        ``households``, ``persons``, ``area_m2``, ``grid_id``.
    households : GeoDataFrame
        The input households (same index and CRS) with ``households``,
        ``persons``, ``block_id``, ``atom_id`` and ``grid_id`` (NA if unplaced).
    unplaced : GeoDataFrame
        Households that could not be placed, with a ``reason``.
    status : DataFrame
        One row per community and component: ``status`` (OPTIMAL / FEASIBLE /
        INFEASIBLE / UNKNOWN, for the model solved), ``proof`` (what that
        status covers: ``"problem"`` when the model solved cuts off no plan
        the problem allows, else its restrictions, ``"; "``-separated: pruned
        centres, closer-neighbour contiguity, a window model, a softened
        band), ``method``, ``objective``, ``bound`` and ``gap`` (on the
        problem: NaN unless ``proof`` is ``"problem"``), ``model_bound`` and
        ``model_gap`` (for the model solved), ``effort`` (CP-SAT
        deterministic seconds budgeted), ``wall_s``, ``windows``, ``n_atoms``,
        ``n_grids``, ``households``, ``forced_out``, ``time_capped`` (the
        wall-clock cap stopped the search, so the plan depends on machine
        speed) and ``notes``.
    edges : DataFrame
        The atom graph: ``a``, ``b`` (atom ids), lengths by road class, ``kind``, ``name``.
    roads : GeoDataFrame
        The noded linework the grids were cut along (``kind``, ``name``).
    record : RunRecord
        The parameters, seed, version and working CRS of the run
        (:class:`gridpart.record.RunRecord`).
    params : mapping
        The record as a read-only dict (``plan.params["repairs"]``,
        ``plan.params["community_codes"]``; :class:`gridpart.record.ParamsView`).
        Passing ``params=`` a dict, or assigning one, sets the record from it.
    edit_log : EditLog or None
        The hand edits (:mod:`gridpart.history`); read it as :attr:`history`.
    changes : Changes or None
        What :func:`gridpart.repartition` changed against the old plan
        (:class:`gridpart.pipeline.repartition.Changes`); ``None`` for a fresh partition.
    """

    grids: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    unplaced: gpd.GeoDataFrame
    status: pd.DataFrame
    edges: pd.DataFrame
    roads: gpd.GeoDataFrame
    params: InitVar[Mapping[str, Any] | None] = None
    changes: Any = None
    record: RunRecord = field(default=None)  # type: ignore[assignment]
    edit_log: EditLog | None = field(default=None, repr=False)

    def __post_init__(self, params: Mapping[str, Any] | None) -> None:
        # a dict passed as params= sets the record (dataclasses.replace(plan, params={...}));
        # a ParamsView (what replace() passes on) only when no record is given
        if self.record is None or (params is not None and not isinstance(params, ParamsView)):
            self.record = RunRecord.from_dict(params)

    @property
    def atoms(self) -> gpd.GeoDataFrame:
        """The atoms the grids are made of: street blocks, or building cells of big blocks.

        The same table as :attr:`blocks` (whose name, kept for compatibility,
        undersells it: its ``block_id`` column names each atom's parent street block).
        """
        return self.blocks

    @property
    def history(self) -> list[HistoryEntry]:
        """The hand edits, oldest first (:class:`gridpart.history.HistoryEntry`); undone steps are marked ``undone``."""
        return [] if self.edit_log is None else self.edit_log.view()

    def validate(self):
        """The findings of the plan's checks, one row per finding (see :func:`gridpart.outputs.validate.validate`)."""
        from gridpart.outputs.validate import validate

        return validate(self)

    def move(self, *, atoms=None, blocks=None, households=None, to, author: str | None = None,
             note: str = "") -> GridPlan:
        """A new plan with atoms moved to grid ``to``: an id, a code or ``"new"``
        (see :func:`gridpart.pipeline.edit.move`)."""
        from gridpart.pipeline.edit import move

        return move(self, atoms=atoms, blocks=blocks, households=households, to=to, author=author, note=note)

    def lock(self, ids, *, author: str | None = None, note: str = "") -> GridPlan:
        """A new plan with grids ``ids`` (ids or codes) locked (see :func:`gridpart.pipeline.edit.lock`)."""
        from gridpart.pipeline.edit import lock

        return lock(self, ids, author=author, note=note)

    def unlock(self, ids, *, author: str | None = None, note: str = "") -> GridPlan:
        """A new plan with grids ``ids`` (ids or codes) unlocked (see :func:`gridpart.pipeline.edit.unlock`)."""
        from gridpart.pipeline.edit import unlock

        return unlock(self, ids, author=author, note=note)

    def drop_empty(self, *, author: str | None = None, note: str = "") -> GridPlan:
        """A new plan without its empty grids, their codes retired (see :func:`gridpart.pipeline.edit.drop_empty`)."""
        from gridpart.pipeline.edit import drop_empty

        return drop_empty(self, author=author, note=note)

    def undo(self) -> GridPlan:
        """The plan before its last step in effect (see :func:`gridpart.pipeline.edit.undo`)."""
        from gridpart.pipeline.edit import undo

        return undo(self)

    def redo(self) -> GridPlan:
        """The plan with the last undone step done again (see :func:`gridpart.pipeline.edit.redo`)."""
        from gridpart.pipeline.edit import redo

        return redo(self)

    @property
    def crs(self):
        """The CRS results are in (the households')."""
        return self.grids.crs

    @property
    def metric_crs(self):
        """The metric CRS the plan is measured in: its working CRS, else one picked for its grids
        (:func:`gridpart.inputs.crs.metric_crs`); maps, scores, codes and the review all use it."""
        return metric_crs(self.grids, work_crs=self.record.work_crs or None)

    def score(self, **options: Any):
        """Balance, contiguity and boundary figures (see :func:`gridpart.outputs.scoring.score`).

        Keywords go to :func:`gridpart.outputs.scoring.score`: ``target``,
        ``reference`` (households whose grid changed against an earlier plan),
        ``stations``, ``walk_speed_kmh`` and ``minutes`` (share of households
        within a walk of their grid's station).

        Examples
        --------
        >>> import gridpart as gp
        >>> s = gp.datasets.load_sample()
        >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
        >>> float(plan.score(reference=plan).summary["households_changed"])
        0.0
        """
        from gridpart.outputs.scoring import score

        return score(self, **options)

    def plot(self, ax=None, **kwargs):
        """Map of the grids (see :func:`gridpart.outputs.plot.plot_plan`); returns the Axes."""
        from gridpart.outputs.plot import plot_plan

        return plot_plan(self, ax=ax, **kwargs)

    def atlas(self, path, **kwargs):
        """Write a PDF atlas: cover + one page per grid (see :func:`gridpart.outputs.atlas.atlas`); returns the path."""
        from gridpart.outputs.atlas import atlas

        return atlas(self, path, **kwargs)

    def explore(self, **kwargs):
        """Interactive Leaflet map (see :func:`gridpart.outputs.explore.explore`); needs ``gridpart[explore]``."""
        from gridpart.outputs.explore import explore

        return explore(self, **kwargs)

    def to_file(self, path, **kwargs) -> None:
        """Write the plan to a GeoPackage (see :func:`gridpart.outputs.io.write_plan`)."""
        from gridpart.outputs.io import write_plan

        write_plan(self, path, **kwargs)

    def register(self, *, language: str = "zh") -> pd.DataFrame:
        """The street office's register, one row per grid (see :func:`gridpart.rules.ledger.register`)."""
        from gridpart.rules.ledger import register

        return register(self, language=language)

    def to_register(self, path, *, language: str = "zh"):
        """Write the register to ``.csv`` (UTF-8 with BOM) or ``.xlsx``.

        See :func:`gridpart.rules.ledger.write_register`.
        """
        from gridpart.rules.ledger import write_register

        return write_register(self, path, language=language)

    def summary(self) -> str:
        """A few lines for a terminal: grids, band shares, status."""
        card = self.score().summary
        n_comm = self.grids["community_id"].nunique()
        lines = [
            f"{int(card['grids'])} grids for {int(self.households['households'].sum())} households "
            f"in {n_comm} {'community' if n_comm == 1 else 'communities'}",
            f"within the band: {card['share_in_band']:.1%} of grids not forced out "
            f"({card['share_in_band_raw']:.1%} of all; {int(card['forced_out'])} forced out)",
            f"within ±10% / ±20% of target: {card['share_within_10pct']:.1%} / {card['share_within_20pct']:.1%}",
            f"contiguous: {card['contiguous_share']:.0%}; internal boundary on roads: {card['road_share']:.1%}",
            f"unplaced households: {int(self.unplaced['households'].sum()) if len(self.unplaced) else 0}",
            "status: " + ", ".join(f"{k} {v}" for k, v in self.status["status"].value_counts().items()),
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Summary table and a small static map (see :func:`gridpart.outputs.plot.plan_html`)."""
        from gridpart.outputs.plot import plan_html

        return plan_html(self)

    def __repr__(self) -> str:
        return (f"GridPlan({len(self.grids)} grids, {len(self.households)} household points, "
                f"{len(self.unplaced)} unplaced, crs={self.crs.to_string() if self.crs else None})")


def _get_params(self: GridPlan) -> ParamsView:
    """The run record as a read-only dict (:class:`gridpart.record.ParamsView`);
    assigning a dict sets the record from it."""
    return ParamsView(self.record)


def _set_params(self: GridPlan, value: Mapping[str, Any]) -> None:
    self.record = RunRecord.from_dict(value)


# set after the class is made: inside it, the property would be the InitVar's default
GridPlan.params = property(_get_params, _set_params)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Changes:
    """What a re-partition changed.

    Attributes
    ----------
    grids : DataFrame
        One row per old grid: ``old_grid_id``, ``old_code``, ``old_community_id``,
        ``fate`` (one of :data:`gridpart.pipeline.repartition.FATES`), ``new_grid_id`` (the grid that carries
        it on, NA when merged or dissolved), ``new_grids`` (every new grid that
        holds some of its households or atoms, ``;``-separated), ``new_code``,
        ``new_community_id``, ``households`` (in it today), ``households_kept``
        (still in ``new_grid_id``) and ``households_moved``.
    households : DataFrame
        Indexed like the input households: ``households``, ``old_grid_id``
        (NA when no old grid held the point), ``new_grid_id`` (NA when
        unplaced), ``change`` (``kept``, ``moved``, ``new``: no old grid, or
        ``unplaced``) and ``keeps_mates`` (stays in the new grid that matches
        its old grid, see :func:`grid_mates_kept`).
    summary : Series
        ``households`` (all), ``kept``, ``moved``, ``new``, ``unplaced`` (they
        add up to ``households``), ``share_kept`` (kept over those with an
        old grid), ``share_mates_kept``, ``grids_old``, ``grids_new``,
        ``grids_touched`` (old grids resized, split, merged or dissolved) and
        one count per fate.
    """

    grids: pd.DataFrame
    households: pd.DataFrame
    summary: pd.Series

    def _repr_html_(self) -> str:
        table = pd.DataFrame({"value": self.summary.to_numpy()}, index=self.summary.index)
        return table.to_html()
