"""Tests of gridpart.outputs.plot: the map renders, neighbours differ, Chinese text has a font."""

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
from gridpart.outputs import plot as gplot  # noqa: E402
from gridpart.outputs import style as gstyle  # noqa: E402

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
    names = gplot.grid_labels(plan.grids, short=True)  # code sequences where the plan has codes, else ids
    expected = {f"{g}\n{h:.0f}" for g, h in zip(names, plan.grids["households"])}
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


def test_saved_figure_holds_the_legend(plan, tmp_path):
    # issue 18: ax.figure.savefig() as documented cut the legend (drawn right of the map) off
    ax = plan.plot(figsize=(6, 6))
    out = tmp_path / "map.png"
    ax.figure.savefig(out, dpi=50)  # no bbox_inches="tight"
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    box = ax.get_legend().get_window_extent(renderer)
    assert box.x0 >= fig.bbox.x0 - 1 and box.x1 <= fig.bbox.x1 + 1
    assert box.y0 >= fig.bbox.y0 - 1 and box.y1 <= fig.bbox.y1 + 1
    assert box.x0 >= ax.get_window_extent(renderer).x1  # and it does not cover the map


@pytest.mark.parametrize("figsize", [(6, 6), (6, 8), (8, 5)])
def test_saved_figure_holds_the_legend_of_a_tall_map(plan, figsize):
    # a map taller than wide (Helsinki) shrank sideways in its slot and pushed the legend
    # past the figure's right edge

    tall = dataclasses.replace(plan, grids=plan.grids.set_geometry(
        plan.grids.geometry.scale(xfact=0.4, yfact=1.0, origin=plan.grids.union_all().centroid)))
    ax = tall.plot(figsize=figsize)
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    assert box.x1 <= fig.bbox.x1 + 1


def test_zoomed_map_draws_nothing_outside_the_frame(plan):
    # issue 18: labels of grids outside a zoomed view were drawn outside the frame
    ax = plan.plot(figsize=(6, 6))
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ax.set_xlim(x0 + 0.3 * (x1 - x0), x0 + 0.6 * (x1 - x0))
    ax.set_ylim(y0 + 0.3 * (y1 - y0), y0 + 0.6 * (y1 - y0))
    px = _pixels(ax)
    renderer = ax.figure.canvas.get_renderer()
    height = px.shape[0]
    outside = np.ones(px.shape[:2], bool)
    for box in (ax.get_window_extent(renderer), ax.get_legend().get_window_extent(renderer)):
        # pixel rows count from the top; boxes from the bottom; 2 px for the frame's line width
        r0, r1 = int(height - box.y1) - 2, int(np.ceil(height - box.y0)) + 2
        outside[max(r0, 0):r1, max(int(box.x0) - 2, 0):int(np.ceil(box.x1)) + 2] = False
    assert (px[outside] > 250).all()


def test_round_scale_lengths():
    assert gstyle._round_length(1000) == 200
    assert gstyle._round_length(1300) == 200
    assert gstyle._round_length(2600) == 500
    assert gstyle._round_length(9000) == 1000
    assert gstyle._length_text(2000) == "2 km"
    assert gstyle._length_text(500) == "500 m"


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
    monkeypatch.setattr(gstyle, "_font_cache", {"name": None})
    monkeypatch.setattr(gstyle, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plan.plot(title="Xueyuan Road", road_names=False)  # no CJK text: no warning
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


# --------------------------------------------------------------------------- issue 5 additions


def test_font_has_chinese_glyphs():
    """The test extra brings a CJK font (mplfonts), so a missing font is a failure here, not a skip."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    font = gplot.cjk_font()
    assert font is not None, 'no CJK font: pip install "gridpart[cjk]" or apt-get install fonts-noto-cjk'
    path = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    face = FT2Font(path)
    assert all(face.get_char_index(ord(ch)) for ch in "学院路东南西北至网格，")


def test_chinese_road_names_render_without_missing_glyphs(plan):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plan.plot(title=CHINESE_TITLE, figsize=(6, 6))
        px = _pixels(ax)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "missing from font" in m or "CJK font" in m], messages
    names = [t.get_text() for t in ax.texts if t.get_gid() == "road_name"]
    assert "学院路" in names and len(names) >= 5
    assert px.std() > 20


def test_road_name_labels_one_per_name():
    import geopandas as gpd
    import shapely

    roads = gpd.GeoDataFrame(
        {"name": ["东路", "东路", "北街", None, "小巷"], "kind": ["road", "road", "street", "street", "lane"]},
        geometry=[shapely.LineString([(0, 0), (0, 100)]), shapely.LineString([(0, 100), (0, 300)]),
                  shapely.LineString([(0, 300), (200, 300)]), shapely.LineString([(5, 5), (50, 5)]),
                  shapely.LineString([(10, 10), (10, 90)])], crs="EPSG:32650")
    labels = gplot.road_name_labels(roads)
    assert labels["name"].tolist() == ["东路", "北街"]  # longest first; lanes and unnamed left out
    east = labels.iloc[0]
    assert (east["x"], east["y"], east["angle"]) == (0.0, 150.0, 90.0)
    assert labels.iloc[1]["angle"] == 0.0
    assert gplot.road_name_labels(roads, min_length_m=250)["name"].tolist() == ["东路"]


def test_labels_use_code_when_present(plan):
    grids = plan.grids.copy()
    grids["code"] = [f"1101080170{g:02d}" for g in grids["grid_id"]]
    grids.loc[grids.index[0], "code"] = None  # a grid without a code keeps its id
    coded = dataclasses.replace(plan, grids=grids)
    ax = coded.plot(road_names=False, full_codes=True)
    labels = {t.get_text().split("\n")[0] for t in ax.texts if "\n" in t.get_text()}
    expected = set(grids["code"].iloc[1:]) | {str(grids["grid_id"].iloc[0])}
    assert labels == expected
    assert "code" in ax.get_legend().get_title().get_text()
    # by default only the sequence after the community's shared prefix
    ax = coded.plot(road_names=False)
    labels = {t.get_text().split("\n")[0] for t in ax.texts if "\n" in t.get_text()}
    assert labels == {c[-2:] for c in grids["code"].iloc[1:]} | {str(grids["grid_id"].iloc[0])}


def test_community_outlines(plan):
    two = plan.grids.copy()
    two["community_id"] = np.where(two["grid_id"] <= len(two) // 2, "A", "B")
    lines = gstyle.community_outlines(two.to_crs(plan.params["work_crs"]))
    assert len(lines) == 2
    ax = dataclasses.replace(plan, grids=two).plot(road_names=False)
    assert "community boundary" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = plan.plot(communities=False, road_names=False)
    assert "community boundary" not in [t.get_text() for t in ax.get_legend().get_texts()]


def test_cjk_font_from_environment(monkeypatch):
    from matplotlib import font_manager

    font = gplot.cjk_font()
    assert font is not None
    path = font_manager.findfont(font_manager.FontProperties(family=font), fallback_to_default=False)
    monkeypatch.setattr(gstyle, "_font_cache", {})
    monkeypatch.setenv(gplot.CJK_FONT_ENV, path)
    assert gplot.cjk_font() == font or "CJK" in gplot.cjk_font()
    monkeypatch.setattr(gstyle, "_font_cache", {})
    monkeypatch.setenv(gplot.CJK_FONT_ENV, "/nonexistent/font.otf")
    assert gplot.cjk_font() is not None  # falls back to the other places


def test_packaged_cjk_fonts_are_found(monkeypatch):
    pytest.importorskip("mplfonts")
    files = gstyle._packaged_cjk_files()
    assert files and "SansCJK" in files[0]
    # with matplotlib knowing no CJK font, the packaged one is used (the system is not scanned)
    known = {"calls": 0}

    def no_known_until_added():
        known["calls"] += 1
        return [] if known["calls"] == 1 else ["Noto Sans CJK SC"]

    monkeypatch.setattr(gstyle, "_font_cache", {})
    monkeypatch.setattr(gstyle, "_known_cjk_names", no_known_until_added)
    monkeypatch.setattr(gstyle, "_system_cjk_files", lambda: pytest.fail("system fonts scanned first"))
    added = []
    monkeypatch.setattr(gstyle, "_add_font_files", lambda paths: added.extend(paths) or [])
    assert gplot.cjk_font() == "Noto Sans CJK SC"
    assert added == files


def test_plot_sizes_and_compare(plan):
    s = gp.datasets.load_sample()
    bigger = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", target=400,
                          time_limit=5)
    ax = gp.plot_sizes({"300": plan, "400": bigger})
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # different targets: each plan's band in its own colour
    assert "300: band 240–360" in legend and "400: band 320–480" in legend
    assert f"300 ({len(plan.grids)} grids)" in legend
    same = [t.get_text() for t in gp.plot_sizes([plan, plan]).get_legend().get_texts()]
    assert "band 240–360" in same and "target 300" in same
    x0, x1 = ax.get_xlim()
    sizes = np.r_[plan.grids["households"], bigger.grids["households"]]
    assert x0 <= min(sizes.min(), 240) and x1 >= max(sizes.max(), 360)
    single = gp.plot_sizes(plan)  # one plan: one filled histogram whose bars hold every grid
    (poly,) = [p for p in single.patches if p.get_label().startswith("300") or "grids" in p.get_label()]
    assert poly.get_path().vertices[:, 1].max() >= 1
    fig = gp.plot_compare({"300": plan, "400": bigger})
    assert len(fig.axes) == 3
    titles = [a.get_title() for a in fig.axes[:2]]
    assert titles[0].startswith(f"300: {len(plan.grids)} grids") and titles[1].startswith("400:")
    assert fig.axes[0].get_legend() is None and fig.axes[1].get_legend() is not None
    with pytest.raises(gp.InputError, match="GridPlan"):
        gp.plot_compare({"a": plan, "b": "not a plan"})


def test_repr_html_has_table_and_map(plan):
    import base64
    import re

    html = plan._repr_html_()
    assert "<table" in html and "within the band" in html
    data = re.search(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html)
    assert data is not None
    png = base64.b64decode(data.group(1))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_without_cjk_font_road_names_fall_back_to_english(plan, monkeypatch):
    monkeypatch.setattr(gstyle, "_font_cache", {"name": None})
    monkeypatch.setattr(gstyle, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ax = plan.plot()
    assert not [w for w in caught if "CJK font" in str(w.message)]  # nothing would be drawn as boxes
    names = [t.get_text() for t in ax.texts if t.get_gid() == "road_name"]
    assert "Xueyuan Road" in names
    assert not [n for n in names if gstyle.has_cjk(n)]


def test_repr_html_leaves_out_the_map_of_big_plans(plan, monkeypatch):
    monkeypatch.setattr(gplot, "_HTML_MAX_GRIDS", len(plan.grids) - 1)
    html = plan._repr_html_()
    assert "data:image/png" not in html and "plan.plot()" in html and "<table" in html
