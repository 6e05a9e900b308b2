"""``gridpart render --atlas``: the map and the PDF atlas from a plan file."""

from __future__ import annotations

import contextlib
import io

import pytest

import gridpart as gp
from gridpart.cli import main

pypdf = pytest.importorskip("pypdf")


def test_render_writes_atlas(tmp_path):
    s = gp.datasets.load_sample()
    plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", target=1500, time_limit=5)
    plan.to_file(tmp_path / "plan.gpkg")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["render", str(tmp_path / "plan.gpkg"), "-o", str(tmp_path / "map.png"), "--dpi", "40",
                     "--atlas", str(tmp_path / "atlas.pdf"), "--paper", "A3"])
    assert code == 0, err.getvalue()
    reader = pypdf.PdfReader(tmp_path / "atlas.pdf")
    assert len(reader.pages) == 1 + len(plan.grids)
    assert round(float(reader.pages[0].mediabox.upper_right[1]) / 72, 2) == 16.54
    assert "atlas.pdf" in out.getvalue()
