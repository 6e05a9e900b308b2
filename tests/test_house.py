"""The rules of the house (CONTRIBUTING.md), enforced: one-way imports, no
private names across modules, gridpart's imports at module top level."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _house():
    spec = importlib.util.spec_from_file_location("house_stats", ROOT / "scripts" / "house_stats.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["house_stats"] = mod
    spec.loader.exec_module(mod)
    return mod.analyse(ROOT / "gridpart")


@pytest.fixture(scope="module")
def house():
    return _house()


def test_no_import_cycles_outside_the_thin_gridplan_methods(house):
    assert house.cycles_outside_plan == []


def test_no_private_name_is_imported_across_modules(house):
    assert house.private_imports == []


def test_gridpart_imports_are_at_module_top_level(house):
    assert house.lazy_imports == []


def test_layers_contract_holds():
    pytest.importorskip("importlinter")
    exe = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_the_version_is_written_once():
    import gridpart
    from gridpart._version import __version__

    assert gridpart.__version__ == __version__
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{__version__}"' not in text
