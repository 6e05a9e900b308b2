"""Maps of a :class:`~gridpart.plan.GridPlan`.

:func:`plot_plan` draws the grids in the plan's metric working CRS (so the map
is not stretched the way longitude/latitude would be), filled from a small
qualitative palette by a greedy colouring of the grid adjacency graph, so that
neighbouring grids never share a colour.  Roads are drawn by class, grid
boundaries bold, grids forced out of the band hatched, with labels, a scale
bar, a north arrow, a legend and an attribution line.

Chinese text (a title such as ``"学院路街道"``, four-limit text in the atlas)
needs a CJK-capable font.  :func:`cjk_font` looks for one, in this order: a
font file named by the ``GRIDPART_CJK_FONT`` environment variable, the fonts
matplotlib knows, the Noto/Source Han fonts shipped inside the optional
``mplfonts`` package (``pip install "gridpart[cjk]"``), and the system's font
files (Debian: ``fonts-noto-cjk``).  When none is found and a map holds CJK
text, a single :class:`UserWarning` says what to install.  gridpart itself
does not require such a font: the map's own legend is then in English only.

:func:`plot_compare` draws several plans side by side, and :func:`plot_sizes`
a histogram of households per grid against the band.

The figure is created with :mod:`matplotlib.pyplot` only when no ``ax`` is
given; nothing here calls ``plt.show`` or changes the backend, so the map
renders with Agg on headless machines.
"""

from __future__ import annotations

import logging
import math
import warnings
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridpart.errors import Problems
from gridpart.outputs.style import (  # noqa: F401  (re-exported: plot's public names)
    CJK_FONT_ENV,
    COMMUNITY_STYLE,
    OSM_ATTRIBUTION,
    PALETTE,
    ROAD_STYLES,
    attribution_line,
    cjk_font,
    community_outlines,
    displayable_names,
    font_family,
    grid_adjacency,
    grid_colours,
    grid_labels,
    halo,
    has_cjk,
    north_arrow,
    road_name_labels,
    scale_bar,
    tidy,
    to_metric,
    warn_no_cjk_font,
    work_crs,
)
from gridpart.plan import GridPlan

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["plot_plan", "plot_compare", "plot_sizes", "plan_html", "grid_colours", "grid_adjacency",
           "grid_labels", "road_name_labels", "cjk_font", "PALETTE", "ROAD_STYLES", "OSM_ATTRIBUTION",
           "COMMUNITY_STYLE", "CJK_FONT_ENV"]

log = logging.getLogger(__name__)

_MAX_ROAD_NAMES = 20

def _label_kind(grids: gpd.GeoDataFrame, full_codes: bool) -> str:
    if "code" not in grids or not grids["code"].notna().any():
        return "grid id"
    return "code" if full_codes else "code (sequence in community)"


def plot_plan(
    plan: GridPlan,
    ax: Axes | None = None,
    *,
    labels: bool = True,
    roads: bool = True,
    title: str | None = None,
    figsize: tuple[float, float] = (10, 10),
    attribution: str | None = "auto",
    communities: bool = True,
    road_names: bool = True,
    full_codes: bool = False,
) -> Axes:
    """Draw a plan's grids, roads and labels on a map in metres.

    Parameters
    ----------
    plan : GridPlan
        The plan to draw.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure of ``figsize`` (through
        :mod:`matplotlib.pyplot`, so it shows in Jupyter) with constrained
        layout, so that ``ax.figure.savefig(path)`` saves the legend drawn
        right of the map too.  On axes of your own figure, leave room for the
        legend (``layout="constrained"``, or ``bbox_inches="tight"`` when saving).
    labels : bool
        Label each grid with its ``code`` (its ``grid_id`` where the plan has
        no codes) and its households, at a point inside it.
    roads : bool
        Draw ``plan.roads`` by class: road wide, street medium, lane thin,
        barrier dashed.
    title : str, optional
        Title of the map (Chinese text is fine when a CJK font is installed).
    figsize : (float, float)
        Size in inches of a new figure.
    attribution : str or None
        The attribution line in the lower right corner: ``"auto"`` uses
        ``plan.params["attribution"]`` when set, else ``"© OpenStreetMap
        contributors"`` (gridpart's inputs normally come from OSM); any other
        text is shown as given; None hides the line.
    communities : bool
        Draw community boundaries (the outline of each community's grids)
        bold and dashed over the grid boundaries.
    road_names : bool
        Write the names of roads and streets (one label per name, along its
        longest piece; the 20 longest), e.g. 学院路.  Without a CJK font, ``name_en`` is used
        where the roads have it and Chinese-only names are left out.
    full_codes : bool
        Label grids with their whole code; by default only the sequence
        number within the community (see :func:`grid_labels`).

    Returns
    -------
    matplotlib.axes.Axes
        Coordinates are in the plan's working CRS (``plan.params["work_crs"]``).

    Warns
    -----
    UserWarning
        Once per session, when the map holds CJK text and no CJK font is found.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> ax = plan.plot(title="Xueyuan Road")
    >>> ax.get_title()
    'Xueyuan Road'
    """
    crs = work_crs(plan)
    grids = to_metric(plan.grids, crs)
    if len(grids):
        grids = grids.set_geometry(tidy(grids.geometry))
    names = grid_labels(grids, short=not full_codes) if len(grids) else pd.Series(dtype=str)
    attribution_text = attribution_line(plan, attribution)
    font = cjk_font()
    road_m = to_metric(plan.roads, crs) if plan.roads is not None and len(plan.roads) else None
    name_labels = pd.DataFrame(columns=["name", "x", "y", "angle", "length_m"])
    if roads and road_names and road_m is not None and len(grids):
        name_labels = _road_names_to_write(road_m, grids, font)
    texts = [title or "", attribution_text or ""] + (names.tolist() if labels else []) + name_labels["name"].tolist()
    fontfamily = _font_family(texts, font)

    own_figure = ax is None
    if own_figure:
        ax = _new_map_axes(figsize)
    assert ax is not None  # given, or made above
    ax.set_aspect("equal")

    colours = grid_colours(plan)
    face = colours.reindex(grids["grid_id"].to_numpy()).to_numpy()
    if len(grids):
        grids.plot(ax=ax, color=face, edgecolor="none", linewidth=0, zorder=1)
    present = _draw_roads(ax, road_m) if roads and road_m is not None else []
    if len(grids):
        _draw_boundaries(ax, grids, communities)
    if labels and len(grids):
        _draw_grid_labels(ax, grids, names, fontfamily)
    _draw_road_names(ax, name_labels, fontfamily)
    legend = _legend(ax, grids, present, font=font, fontfamily=fontfamily, labels=labels,
                     communities=communities, full_codes=full_codes)
    _draw_furniture(ax, grids, fontfamily, attribution_text, title)
    if own_figure:
        _reserve_legend(ax, legend)
    return ax


def _road_names_to_write(road_m: gpd.GeoDataFrame, grids: gpd.GeoDataFrame, font) -> pd.DataFrame:
    """The road names the map writes: the longest few that are long enough for its scale."""
    named = displayable_names(road_m, font)
    minx, miny, maxx, maxy = grids.total_bounds
    # the longest few only: a wall map names its main roads, not every street
    return road_name_labels(named, min_length_m=0.08 * max(maxx - minx, maxy - miny)).head(
        _MAX_ROAD_NAMES)


def _font_family(texts: list[str], font) -> list[str]:
    """The font family of the map's text; warns (once) when CJK text finds no CJK font."""
    needs_cjk = any(has_cjk(t) for t in texts)
    if needs_cjk and font is None:
        warn_no_cjk_font()
    return [font, "DejaVu Sans"] if font else ["DejaVu Sans"]


def _new_map_axes(figsize: tuple[float, float]) -> Axes:
    """A new figure's axes, in constrained layout, with the map kept to the left."""
    import matplotlib.pyplot as plt

    # constrained layout, with the legend's width reserved on the right (below), keeps the
    # legend inside the figure, so that ax.figure.savefig(...) saves all of it without
    # bbox_inches="tight"; the map keeps to the left of its slot
    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.set_anchor("W")
    return ax


def _draw_roads(ax: Axes, road_m: gpd.GeoDataFrame) -> list[str]:
    """Draw the roads by class; returns the classes drawn, for the legend."""
    present: list[str] = []
    kinds = road_m["kind"].astype(str) if "kind" in road_m else pd.Series("street", index=road_m.index)
    for kind, style in ROAD_STYLES.items():
        part = road_m[(kinds == kind).to_numpy()]
        if len(part):
            part.plot(ax=ax, color=style["color"], linewidth=style["linewidth"],
                      linestyle=style["linestyle"], zorder=3 if kind != "barrier" else 4)
            present.append(kind)
    return present


def _draw_boundaries(ax: Axes, grids: gpd.GeoDataFrame, communities: bool) -> None:
    """Hatch forced grids, draw grid (and community) boundaries and frame the map on the grids."""
    forced = grids["forced"].astype(bool).to_numpy() if "forced" in grids else np.zeros(len(grids), bool)
    if forced.any():
        grids[forced].plot(ax=ax, facecolor="none", edgecolor="#444444", hatch="///", linewidth=0, zorder=2)
    grids.boundary.plot(ax=ax, color="black", linewidth=2.0, zorder=5)
    if communities:
        community_outlines(grids).plot(ax=ax, zorder=6, **COMMUNITY_STYLE)
    minx, miny, maxx, maxy = grids.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.03
    ax.set_xlim(minx - pad, maxx + pad)
    ax.set_ylim(miny - pad, maxy + pad)


def _draw_grid_labels(ax: Axes, grids: gpd.GeoDataFrame, names: pd.Series, fontfamily: list[str]) -> None:
    """Write each grid's label and households at a point inside it."""
    points = grids.geometry.representative_point()
    size = 8 if len(grids) <= 80 else 6
    hh = grids["households"].to_numpy(dtype=float)
    for name, pt, n in zip(names.to_numpy(), points, hh):
        count = "–" if not np.isfinite(n) else f"{n:.0f}"
        ax.text(pt.x, pt.y, f"{name}\n{count}", ha="center", va="center", fontsize=size,
                fontfamily=fontfamily, linespacing=1.0, zorder=10, clip_on=True, path_effects=halo(2.0))


def _draw_road_names(ax: Axes, name_labels: pd.DataFrame, fontfamily: list[str]) -> None:
    """Write the road names along their roads."""
    row: Any  # a named tuple of the columns
    for row in name_labels.itertuples(index=False):
        ax.text(row.x, row.y, row.name, ha="center", va="center", rotation=row.angle, rotation_mode="anchor",
                fontsize=7, color="#303030", fontstyle="italic", fontfamily=fontfamily, zorder=9,
                clip_on=True, path_effects=halo(2.0), gid="road_name")


def _legend(ax: Axes, grids: gpd.GeoDataFrame, present: list[str], *, font, fontfamily: list[str],
            labels: bool, communities: bool, full_codes: bool):
    """Draw the legend right of the map: road classes, boundaries, forced grids, what labels say."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles: list[Line2D | Patch] = []
    for kind in present:
        style = ROAD_STYLES[kind]
        label = f"{style['zh']} {style['label']}" if font else style["label"]
        handles.append(Line2D([], [], color=style["color"], linewidth=style["linewidth"],
                              linestyle=style["linestyle"], label=label))
    handles.append(Line2D([], [], color="black", linewidth=2.0, label="grid boundary"))
    if communities and len(grids):
        handles.append(Line2D([], [], label="community boundary", **COMMUNITY_STYLE))
    if len(grids) and "forced" in grids and grids["forced"].astype(bool).any():
        handles.append(Patch(facecolor="white", edgecolor="#444444", hatch="///", label="forced out of band"))
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                       framealpha=0.9,
                       title=(f"label: {_label_kind(grids, full_codes)} / households"
                              if labels else None), title_fontsize=7,
                       prop={"family": fontfamily, "size": 8})
    legend.set_zorder(30)
    return legend


def _draw_furniture(ax: Axes, grids: gpd.GeoDataFrame, fontfamily: list[str],
                    attribution_text: str | None, title: str | None) -> None:
    """Add the scale bar, north arrow, attribution and title, and hide the axes' ticks."""
    if len(grids):
        scale_bar(ax, fontfamily)
    north_arrow(ax, ["DejaVu Sans"])
    if attribution_text:
        ax.text(0.995, 0.005, attribution_text, transform=ax.transAxes, ha="right", va="bottom",
                fontsize=7, color="#333333", fontfamily=fontfamily, zorder=20, path_effects=halo(2.0))
    if title:
        ax.set_title(title, fontfamily=fontfamily)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def _reserve_legend(ax, legend) -> None:
    """Pull the layout in from the right by as much as the legend sticks out of the figure.

    Constrained layout reserves the legend's strip for most maps; a map taller than
    its slot shrinks sideways first and can still push the legend past the edge.
    """
    fig = ax.figure
    right = 1.0
    for _ in range(3):
        fig.draw_without_rendering()
        over = legend.get_window_extent(fig.canvas.get_renderer()).x1 - fig.bbox.x1
        if over <= 0:
            return
        right = max(0.5, right - (over + 0.01 * fig.bbox.width) / fig.bbox.width)
        fig.get_layout_engine().set(rect=(0.0, 0.0, right, 1.0))


# --------------------------------------------------------------------------- comparison and sizes


def _named_plans(plans) -> dict[str, GridPlan]:
    if isinstance(plans, GridPlan):
        plans = {"plan": plans}
    elif not isinstance(plans, dict):
        plans = {f"plan {i + 1}": p for i, p in enumerate(plans)}
    problems = Problems()
    bad = [name for name, p in plans.items() if not isinstance(p, GridPlan)]
    if bad:
        problems.add("plans", "every value must be a GridPlan", rows=bad,
                     fix="pass {'name': gp.partition(...), ...}")
    if not plans:
        problems.add("plans", "no plan given", fix="pass at least one GridPlan")
    problems.raise_if_any()
    return {str(k): v for k, v in plans.items()}


def plot_sizes(
    plans,
    ax: Axes | None = None,
    *,
    bins: int | None = None,
    figsize: tuple[float, float] = (7, 4),
) -> Axes:
    """Histogram of households per grid, against the band.

    Parameters
    ----------
    plans : GridPlan, dict of str to GridPlan, or list of GridPlan
        One plan, or several drawn as overlaid step histograms on shared bins.
    ax : matplotlib.axes.Axes, optional
        Axes to draw on; by default a new figure of ``figsize``.
    bins : int, optional
        Number of bins (default: about one per 5 % of the band's centre).

    Returns
    -------
    matplotlib.axes.Axes
        The band is shaded and its centre marked (when the plans' bands
        differ, each plan's band is shaded in its colour); grids forced out
        of the band are counted too.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> ax = gp.plot_sizes(plan)
    >>> ax.get_xlabel()
    'households per grid'
    """
    named = _named_plans(plans)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    sizes = {name: p.grids["households"].to_numpy(dtype=float) for name, p in named.items()}
    bands = {name: tuple(float(b) for b in p.record.band) for name, p in named.items()
             if p.record.band is not None and len(p.record.band) == 2}
    values = np.concatenate([v[np.isfinite(v)] for v in sizes.values()]) if sizes else np.zeros(0)
    lo_all = float(values.min()) if len(values) else 0.0
    hi_all = float(values.max()) if len(values) else 1.0
    if bands:
        lo_all = min(lo_all, *(b[0] for b in bands.values()))
        hi_all = max(hi_all, *(b[1] for b in bands.values()))
        first = next(iter(bands.values()))
        step = max((first[0] + first[1]) / 2 * 0.05, 1.0)
    else:
        step = max((hi_all - lo_all) / 20, 1.0)
    if bins is None:
        edges = np.arange(math.floor(lo_all / step) * step, hi_all + step * 1.001, step)
    else:
        edges = np.linspace(lo_all, hi_all + 1e-9, int(bins) + 1)
    colours = ["#1f78b4", "#e31a1c", "#ff7f00", "#6a3d9a", "#33a02c", "#b15928"]
    colour_of = {name: colours[k % len(colours)] for k, name in enumerate(sizes)}
    if len(set(bands.values())) == 1:  # one band for all: shade it, mark its centre
        lo, hi = next(iter(bands.values()))
        ax.axvspan(lo, hi, color="#b2df8a", alpha=0.45, zorder=0, label=f"band {lo:g}–{hi:g}")
        ax.axvline((lo + hi) / 2, color="#33a02c", linewidth=1.2, linestyle="--", zorder=1,
                   label=f"target {(lo + hi) / 2:g}")
    else:  # each plan's own band, in its colour
        for name, (lo, hi) in bands.items():
            ax.axvspan(lo, hi, color=colour_of[name], alpha=0.10, zorder=0, label=f"{name}: band {lo:g}–{hi:g}")
    many = len(sizes) > 1
    for k, (name, v) in enumerate(sizes.items()):
        # matplotlib's stubs omit arrays for bins, which hist takes
        ax.hist(v[np.isfinite(v)], bins=edges, histtype="step" if many else "stepfilled",  # type: ignore[arg-type]
                color=colour_of[name], alpha=1.0 if many else 0.75, linewidth=1.8, zorder=2 + k,
                label=f"{name} ({len(v)} grids)")
    ax.set_xlabel("households per grid")
    ax.set_ylabel("grids")
    ax.legend(fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    return ax


def plot_compare(
    plans,
    *,
    sizes: bool = True,
    labels: bool | None = None,
    figsize: tuple[float, float] | None = None,
    attribution: str | None = "auto",
):
    """Two or more plans side by side, with a histogram of grid sizes against the band.

    Parameters
    ----------
    plans : dict of str to GridPlan, or list of GridPlan
        The plans, in the order to draw them; keys are the panel titles.
    sizes : bool
        Add a row under the maps with :func:`plot_sizes` of all plans.
    labels : bool, optional
        Label grids (default: when every plan has at most 60 grids).
    figsize : (float, float), optional
        Default: 6 inches per plan wide, 6.5 high (+3 with ``sizes``).
    attribution : str or None
        As in :func:`plot_plan`; shown on the last map only.

    Returns
    -------
    matplotlib.figure.Figure
        One map Axes per plan (titled with its name, grid count and share in
        the band), then the histogram Axes when ``sizes``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> a = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> b = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", target=400)
    >>> fig = gp.plot_compare({"300": a, "400": b})
    >>> len(fig.axes)
    3
    """
    import matplotlib.pyplot as plt

    named = _named_plans(plans)
    n = len(named)
    if labels is None:
        labels = all(len(p.grids) <= 60 for p in named.values())
    if figsize is None:
        figsize = (6.0 * n, 6.5 + (3.0 if sizes else 0.0))
    fig = plt.figure(figsize=figsize, layout="constrained")
    spec = fig.add_gridspec(2 if sizes else 1, n, height_ratios=[6.5, 3.0] if sizes else [1.0])
    for k, (name, plan) in enumerate(named.items()):
        ax = fig.add_subplot(spec[0, k])
        last = k == n - 1
        plot_plan(plan, ax=ax, labels=labels, attribution=attribution if last else None)
        legend = ax.get_legend()
        if legend is not None and not last:
            legend.remove()
        card = plan.score().summary
        ax.set_title(f"{name}: {len(plan.grids)} grids, {card['share_in_band']:.0%} in band",
                     fontfamily=font_family(), fontsize=11)
    if sizes:
        plot_sizes(named, ax=fig.add_subplot(spec[1, :]))
    return fig


# --------------------------------------------------------------------------- Jupyter


_HTML_MAX_GRIDS = 2000
_HTML_MAX_ROADS = 20_000


def plan_html(plan: GridPlan, *, image: bool = True, size_in: float = 4.0, dpi: int = 72) -> str:
    """HTML for Jupyter: a summary table and a small static map (an inline PNG).

    The map is left out (with a note) for plans of more than 2,000 grids or
    20,000 road pieces, so that showing a city-sized plan stays quick.

    Parameters
    ----------
    plan : GridPlan
    image : bool
        Include the map (a PNG, base64-encoded in the HTML).
    size_in : float
        Width and height of the map in inches.
    dpi : int
        Resolution of the map.

    Returns
    -------
    str

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> html = plan_html(plan)
    >>> "data:image/png;base64," in html and "<table" in html
    True
    """
    import base64
    import html as html_lib
    import io

    card = plan.score().summary
    band = plan.record.band
    hh = plan.households["households"].sum() if "households" in plan.households else float("nan")
    rows = [
        ("grids", f"{int(card['grids'])}"),
        ("communities", f"{plan.grids['community_id'].nunique()}" if "community_id" in plan.grids else "–"),
        ("households", f"{hh:,.0f}"),
        ("band (households)", f"{band[0]:g}–{band[1]:g}" if band and len(band) == 2 else "–"),
        ("within the band", f"{card['share_in_band']:.1%} of grids not forced out "
                            f"({card['share_in_band_raw']:.1%} of all)"),
        ("forced out", f"{int(card['forced_out'])}"),
        ("within ±10% / ±20%", f"{card['share_within_10pct']:.1%} / {card['share_within_20pct']:.1%}"),
        ("contiguous", f"{card['contiguous_share']:.0%}"),
        ("internal boundary on roads", f"{card['road_share']:.1%}"),
        ("unplaced households", f"{card['unplaced_households']:,.0f}"),
        ("status", ", ".join(f"{k} {v}" for k, v in plan.status["status"].value_counts().sort_index().items())
         if plan.status is not None and "status" in plan.status else "–"),
        ("CRS", plan.crs.to_string() if plan.crs is not None else "–"),
    ]
    table = "".join(f"<tr><th style='text-align:left;padding-right:1em'>{html_lib.escape(k)}</th>"
                    f"<td style='text-align:left'>{html_lib.escape(v)}</td></tr>" for k, v in rows)
    picture = ""
    n_roads = len(plan.roads) if plan.roads is not None else 0
    if image and (len(plan.grids) > _HTML_MAX_GRIDS or n_roads > _HTML_MAX_ROADS):
        image = False
        picture = (f"<div style='color:#666'>map left out of this summary ({len(plan.grids)} grids, "
                   f"{n_roads} road pieces): plan.plot() draws it</div>")
    if image and len(plan.grids):
        from matplotlib.figure import Figure

        try:
            fig = Figure(figsize=(size_in, size_in))
            ax = fig.add_subplot()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # the full map warns; this thumbnail need not
                plot_plan(plan, ax=ax, labels=len(plan.grids) <= 30, road_names=False)
            legend = ax.get_legend()
            if legend is not None:
                legend.remove()
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
            data = base64.b64encode(buffer.getvalue()).decode("ascii")
            picture = (f"<img src='data:image/png;base64,{data}' alt='map of {int(card['grids'])} grids' "
                       f"style='max-width:{int(size_in * dpi)}px'/>")
        except Exception as exc:  # a repr must never raise
            log.warning("GridPlan map for the notebook failed: %s", exc)
    return ("<div style='display:flex;gap:1.5em;align-items:flex-start'>"
            f"<div><b>GridPlan</b><table>{table}</table></div>{picture}</div>")
