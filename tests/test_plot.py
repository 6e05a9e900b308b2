"""Tests of gridpart.plot: the map renders, neighbours differ, Chinese text has a font."""

from __future__ import annotations

import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

import gridpart as gp  # noqa: E402
from gridpart import plot as gplot  # noqa: E402

CHINESE_TITLE = "学院路街道 网格划分"


@pytest.fixture(scope="module")
def plan() -> gp.GridPlan:
    s = gp.datasets.load_sample()
    return gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", time_limit=5)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _pixels(ax: Axes) -> np.ndarray:
    ax.figure.canvas.draw()
    return np.asarray(ax.figure.canvas.buffer_rgba())[..., :3].astype(float)


def test_returns_axes_in_metres(plan):
    ax = plan.plot()
    assert isinstance(ax, Axes)
    # the working CRS (UTM 50N): eastings in the hundreds of thousands of metres, not degrees
    x0, x1 = ax.get_xlim()
    assert x0 > 1e5 and 500 < x1 - x0 < 5000
    assert ax.get_aspect() == 1.0


def test_draws_on_given_axes(plan):
    fig, ax = plt.subplots(figsize=(4, 4))
    out = gplot.plot_plan(plan, ax=ax, labels=False, roads=False, title="sample")
    assert out is ax
    assert ax.get_title() == "sample"
    assert not [t for t in ax.texts if "\n" in t.get_text()]  # no grid labels


def test_image_is_not_blank(plan):
    ax = plan.plot(figsize=(5, 5))
    px = _pixels(ax)
    assert px.std() > 20
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 20


def test_labels_one_per_grid(plan):
    ax = plan.plot()
    labels = [t.get_text() for t in ax.texts if "\n" in t.get_text()]
    assert len(labels) == len(plan.grids)
    expected = {f"{g}\n{h:.0f}" for g, h in zip(plan.grids["grid_id"], plan.grids["households"])}
    assert set(labels) == expected


def test_neighbouring_grids_differ(plan):
    graph = gplot.grid_adjacency(plan)
    assert graph.number_of_nodes() == len(plan.grids)
    assert graph.number_of_edges() >= len(plan.grids) - 1  # one connected area
    colours = gplot.grid_colours(plan)
    assert all(colours[a] != colours[b] for a, b in graph.edges)
    # and the map really uses them: the first collection holds the grid fills, in grid order
    ax = plan.plot()
    drawn = [to_hex(c) for c in ax.collections[0].get_facecolors()]
    by_grid = dict(zip(plan.grids["grid_id"], drawn))
    assert all(by_grid[a] != by_grid[b] for a, b in graph.edges)


def test_colouring_is_deterministic(plan):
    assert gplot.grid_colours(plan).equals(gplot.grid_colours(plan))


def test_adjacency_without_edges_uses_geometry(plan):
    bare = dataclasses.replace(plan, edges=plan.edges.iloc[:0])
    from_geometry = set(gplot.grid_adjacency(bare).edges)
    from_edges = set(gplot.grid_adjacency(plan).edges)
    assert from_geometry
    # grids sharing a boundary line share atom-graph edges too
    assert len(from_geometry - from_edges) <= 0.05 * len(from_geometry)


def test_forced_grids_are_hatched(plan):
    if not plan.grids["forced"].any():
        pytest.skip("no forced-out grid in this plan")
    ax = plan.plot()
    assert any(c.get_hatch() for c in ax.collections)


def test_attribution(plan):
    ax = plan.plot()
    assert gplot.OSM_ATTRIBUTION in [t.get_text() for t in ax.texts]
    ax = plan.plot(attribution=None)
    assert gplot.OSM_ATTRIBUTION not in [t.get_text() for t in ax.texts]
    ax = plan.plot(attribution="data: city survey")
    assert "data: city survey" in [t.get_text() for t in ax.texts]


def test_round_scale_lengths():
    assert gplot._round_length(1000) == 200
    assert gplot._round_length(1300) == 200
    assert gplot._round_length(2600) == 500
    assert gplot._round_length(9000) == 1000
    assert gplot._length_text(2000) == "2 km"
    assert gplot._length_text(500) == "500 m"


def test_chinese_text_renders_without_missing_glyphs(plan):
    font = gplot.cjk_font()
    if font is None:
        pytest.skip("no CJK font installed (e.g. apt-get install fonts-noto-cjk); gridpart does not "
                    "require one, so only the warning path can be tested here")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plan.plot(title=CHINESE_TITLE)
        _pixels(ax)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "missing from font" in m or "Glyph" in m], messages
    assert ax.get_title() == CHINESE_TITLE


def test_warns_once_without_cjk_font(plan, monkeypatch):
    monkeypatch.setattr(gplot, "_font_cache", {"name": None})
    monkeypatch.setattr(gplot, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.plot(title="Xueyuan Road")  # no CJK text: no warning
    assert not [w for w in caught if "CJK font" in str(w.message)]
    with pytest.warns(UserWarning, match="no CJK font"):
        plan.plot(title=CHINESE_TITLE)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.plot(title=CHINESE_TITLE)
    assert not [w for w in caught if "CJK font" in str(w.message)]


def test_plan_read_back_plots(plan, tmp_path):
    path = tmp_path / "plan.gpkg"
    plan.to_file(path)
    back = gp.read_plan(path)
    assert gplot.grid_colours(back).equals(gplot.grid_colours(plan))
    assert isinstance(back.plot(), Axes)
