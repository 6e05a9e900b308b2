"""gridpart: community management grids (网格化管理) from roads and households.

Road network + household points (+ optional community boundaries and
parcels) in; contiguous, balanced, road-bounded grids out.

Examples
--------
>>> import gridpart as gp
>>> sample = gp.datasets.load_sample()
>>> plan = gp.partition(sample.roads, sample.households, study_area=sample.study_area)
>>> plan.grids[["grid_id", "households"]].head()  # doctest: +SKIP
"""

from gridpart import _moved, datasets, errors  # noqa: E402
from gridpart._version import __version__  # noqa: E402
from gridpart.errors import (  # noqa: E402
    CRSError,
    GridCountWarning,
    GridpartError,
    InputError,
    RepairWarning,
    SolverError,
    TimeLimitWarning,
)
from gridpart.inputs import coords  # noqa: E402
from gridpart.inputs.osm import OSMData, estimate_households, read_osm  # noqa: E402
from gridpart.inputs.schema import Target  # noqa: E402
from gridpart.outputs.io import read_plan  # noqa: E402
from gridpart.outputs.plot import plot_compare, plot_sizes  # noqa: E402
from gridpart.outputs.review import Review, review  # noqa: E402
from gridpart.outputs.scoring import Scorecard, compare, score  # noqa: E402
from gridpart.pipeline.partition import partition, register_strategy  # noqa: E402
from gridpart.pipeline.repartition import repartition  # noqa: E402
from gridpart.plan import GridPlan  # noqa: E402
from gridpart.record import RunRecord  # noqa: E402
from gridpart.rules.ledger import register, write_register  # noqa: E402
from gridpart.rules.naming import recode  # noqa: E402

_moved.install()

__all__ = [
    "__version__", "partition", "register_strategy", "Target", "GridPlan", "RunRecord", "read_osm",
    "estimate_households", "OSMData", "read_plan", "repartition", "score", "compare", "Scorecard", "datasets",
    "errors", "GridpartError", "InputError", "CRSError", "SolverError", "RepairWarning", "TimeLimitWarning",
    "GridCountWarning", "coords",
    "recode", "review", "Review", "register", "write_register", "plot_compare", "plot_sizes",
]


def __getattr__(name: str):
    """``gp.solve``, ``gp.osm``, … : the old module attributes, with a :class:`DeprecationWarning`."""
    return _moved.old_attribute(name)
