"""Module paths of gridpart 0.1.0 still import (with a DeprecationWarning) and
give the very module objects of the new layout."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import gridpart as gp
from gridpart._moved import MOVED


@pytest.mark.parametrize("old,new", sorted(MOVED.items()))
def test_old_path_is_the_new_module(old, new):
    assert importlib.import_module(old) is importlib.import_module(new)


def test_old_import_warns_and_keeps_the_functions_of_gp():
    code = (
        "import warnings, gridpart as gp\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "try:\n"
        "    import gridpart.batch\n"
        "except DeprecationWarning as w:\n"
        "    print('warned:', w)\n"
        "import gridpart.repartition, gridpart.register, gridpart.review\n"
        "print(callable(gp.repartition), callable(gp.register), callable(gp.review))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "warned: gridpart.batch moved to gridpart.pipeline.batch" in out
    assert "True True True" in out


def test_old_attribute_paths_warn():
    code = (
        "import warnings, gridpart as gp\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    same = gp.solve.STRATEGIES is gp.pipeline.partition.STRATEGIES\n"
        "print(same, [str(x.message) for x in w if x.category is DeprecationWarning])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("True") and "gridpart.solve moved to gridpart.pipeline.partition" in out
    with pytest.raises(AttributeError):
        gp.no_such_thing  # noqa: B018
