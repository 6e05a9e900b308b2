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

__version__ = "0.1.0"

from gridpart import coords, datasets, errors  # noqa: E402
from gridpart.errors import (  # noqa: E402
    CRSError, GridCountWarning, GridpartError, InputError, RepairWarning, SolverError, TimeLimitWarning,
)
from gridpart.io import read_plan  # noqa: E402
from gridpart.naming import recode  # noqa: E402
from gridpart.osm import OSMData, estimate_households, read_osm  # noqa: E402
from gridpart.plan import GridPlan  # noqa: E402
from gridpart.plot import plot_compare, plot_sizes  # noqa: E402
from gridpart.register import register, write_register  # noqa: E402
from gridpart.repartition import repartition  # noqa: E402
from gridpart.review import Review, review  # noqa: E402
from gridpart.schema import Target  # noqa: E402
from gridpart.scoring import Scorecard, compare, score  # noqa: E402
from gridpart.solve import partition, register_strategy  # noqa: E402

__all__ = [
    "__version__", "partition", "register_strategy", "Target", "GridPlan", "read_osm",
    "estimate_households", "OSMData", "read_plan", "repartition", "score", "compare", "Scorecard", "datasets",
    "errors", "GridpartError", "InputError", "CRSError", "SolverError", "RepairWarning", "TimeLimitWarning", "GridCountWarning", "coords",
    "recode", "review", "Review", "register", "write_register", "plot_compare", "plot_sizes",
]
