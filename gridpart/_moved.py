"""Old module paths of the flat layout (0.1.0), kept importable with a warning.

Until the reshape, gridpart was 25 modules side by side (``gridpart.solve``,
``gridpart.plot``, …).  They now live in folders that show the data flow
(CONTRIBUTING.md).  ``import gridpart.batch`` still works: it imports
``gridpart.pipeline.batch``, registers it under the old name too and warns
with :class:`DeprecationWarning`.  The table is the CHANGELOG's list.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings

#: old module path -> new module path
MOVED = {
    "gridpart.schema": "gridpart.inputs.schema",
    "gridpart.crs": "gridpart.inputs.crs",
    "gridpart.coords": "gridpart.inputs.coords",
    "gridpart.osm": "gridpart.inputs.osm",
    "gridpart.blocks": "gridpart.geometry.blocks",
    "gridpart.adjacency": "gridpart.geometry.adjacency",
    "gridpart.problem": "gridpart.model.problem",
    "gridpart.kinds": "gridpart.rules.kinds",
    "gridpart.limits": "gridpart.rules.four_limits",
    "gridpart.codes": "gridpart.rules.codes",
    "gridpart.naming": "gridpart.rules.naming",
    "gridpart.register": "gridpart.rules.ledger",
    "gridpart.plot": "gridpart.outputs.plot",
    "gridpart.atlas": "gridpart.outputs.atlas",
    "gridpart.explore": "gridpart.outputs.explore",
    "gridpart.io": "gridpart.outputs.io",
    "gridpart.scoring": "gridpart.outputs.scoring",
    "gridpart.review": "gridpart.outputs.review",
    "gridpart.solve": "gridpart.pipeline.partition",
    "gridpart.repartition": "gridpart.pipeline.repartition",
    "gridpart.batch": "gridpart.pipeline.batch",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, new: str) -> None:
        self.new = new

    def create_module(self, spec):
        return importlib.import_module(self.new)

    def exec_module(self, module) -> None:  # the module is already executed under its new name
        pass


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = MOVED.get(fullname)
        if new is None:
            return None
        warnings.warn(f"{fullname} moved to {new} in gridpart 0.2; import it from there", DeprecationWarning,
                      stacklevel=3)
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Put the finder of old paths on ``sys.meta_path`` once.

    Old paths whose last part is also a function of ``gridpart`` (``register``,
    ``repartition``, ``review``) are bound in ``sys.modules`` at once, without a
    warning: importing them through the finder would make the import system
    replace ``gp.repartition`` (the function) with the module.
    """
    root = sys.modules["gridpart"]
    for old, new in MOVED.items():
        attr = getattr(root, old.rsplit(".", 1)[1], None)
        if attr is not None and not isinstance(attr, type(sys)) and new in sys.modules:
            sys.modules.setdefault(old, sys.modules[new])
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _MovedFinder())


def old_attribute(name: str):
    """The module ``gridpart.<name>`` had before the reshape (``gp.solve`` …), with a warning."""
    new = MOVED.get(f"gridpart.{name}")
    if new is None:
        raise AttributeError(f"module 'gridpart' has no attribute {name!r}")
    warnings.warn(f"gridpart.{name} moved to {new} in gridpart 0.2; use that path", DeprecationWarning, stacklevel=3)
    return importlib.import_module(new)
