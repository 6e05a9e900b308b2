"""A printable atlas of a plan: :func:`atlas` writes a PDF (the 图纸 a street office files).

Page 1 is a cover: the whole map (as :func:`gridpart.outputs.plot.plot_plan` draws
it) and a table of summary figures.  Then one page per grid, in ``grid_id``
order (reading order: north to south, west to east): the grid's map with
every other grid greyed and its neighbours labelled, roads by class, a scale
bar, a north arrow and the attribution line; under the map the grid's code,
kind, households, persons, area, its four-limit (四至) text where the plan
has a ``limits`` column, and the compounds and units inside it where they are
known (``parcels=``, or ``compounds`` / ``units`` / ``places`` columns).

Pages are vector PDF; the output is byte-for-byte the same for the same plan
(no creation date is written).  Chinese text needs a CJK font (see
:func:`gridpart.outputs.plot.cjk_font`); without one the labels are in English and a
warning says what to install.
"""

from __future__ import annotations

import logging
import textwrap
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridpart._version import __version__
from gridpart.errors import Problems
from gridpart.outputs.io import atomic_path
from gridpart.outputs.plot import plot_plan
from gridpart.outputs.style import (
    COMMUNITY_STYLE,
    ROAD_STYLES,
    attribution_line,
    cjk_font,
    community_outlines,
    displayable_names,
    grid_adjacency,
    grid_labels,
    halo,
    has_cjk,
    north_arrow,
    polygon_parts,
    road_name_labels,
    scale_bar,
    tidy,
    to_metric,
    warn_no_cjk_font,
    work_crs,
)

if TYPE_CHECKING:
    import os

    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from gridpart.plan import GridPlan

__all__ = ["atlas", "PAPER_SIZES", "KIND_NAMES"]

log = logging.getLogger(__name__)

#: Paper sizes in inches, portrait (width, height).
PAPER_SIZES: dict[str, tuple[float, float]] = {"A4": (8.27, 11.69), "A3": (11.69, 16.54)}

#: Grid kinds (DESIGN §4) with their Chinese names.
KIND_NAMES: dict[str, str] = {"unit": "单位型", "compound": "小区型", "street": "街巷型"}

_PARCEL_KINDS = {"compound": ("小区", "compounds"), "unit": ("单位", "units")}
_HIGHLIGHT = "#fdbf6f"
_GREY = "#e3e3e3"
_NEIGHBOUR_GREY = "#cfcfcf"
# labels on grid pages sit on a light box: text stays text in the PDF (a halo turns it into paths)
_LABEL_BOX = {"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
# map rectangle on a grid page and on the cover (figure fractions)
_PAGE_MAP = (0.07, 0.38, 0.86, 0.54)
_COVER_MAP = (0.05, 0.42, 0.70, 0.50)
# the facts under the map on a grid page (figure fractions): key and value columns, the right
# edge values wrap at, the gap between rows and between blocks (map, rows, footer)
_KEY_X, _VALUE_X, _RIGHT = 0.08, 0.34, 0.95
_ROW_GAP, _GAP = 0.010, 0.02
# the map may give up height to the rows down to this share of its own; then the text shrinks
_MIN_MAP_HEIGHT = 0.6
# margin around a grid on its page: a share of its longer side, on every side
_MAP_MARGIN = 0.12


# --------------------------------------------------------------------------- text helpers


def _text_width(text: str) -> int:
    """Display width: East Asian wide and full-width characters count twice."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap(text: str, width: int) -> list[str]:
    """Wrap ``text`` to ``width`` columns; CJK text (no spaces) wraps between characters.

    Examples
    --------
    >>> _wrap("东至学院路，南至清华东路", 12)
    ['东至学院路，', '南至清华东路']
    >>> _wrap("East: Xueyuan Road; South: Qinghua East Road", 24)
    ['East: Xueyuan Road;', 'South: Qinghua East Road']
    """
    lines: list[str] = []
    for para in str(text).splitlines() or [""]:
        if _text_width(para) == len(para):  # no wide characters: wrap at spaces
            lines += textwrap.wrap(para, width) or [""]
            continue
        line = ""
        for ch in para:
            if _text_width(line + ch) > width:
                lines.append(line)
                line = ch.lstrip()
            else:
                line += ch
        lines.append(line)
    return lines


def _area_text(m2: float) -> str:
    if not np.isfinite(m2):
        return "–"
    if m2 >= 10_000:
        return f"{m2:,.0f} m² ({m2 / 10_000:.2f} ha)"
    return f"{m2:,.0f} m²"


def _count_text(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return f"{v:,.0f}" if np.isfinite(v) else "–"


# --------------------------------------------------------------------------- places inside grids


def _as_names(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.replace("；", ";").replace("、", ";").split(";") if v.strip()]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v is not None and str(v).strip()]
    return [str(value)]


def _places(grids_m: gpd.GeoDataFrame, parcels: gpd.GeoDataFrame | None, crs) -> dict[int, dict[str, list[str]]]:
    """Names of compounds and units in each grid: ``{grid_id: {"compound": [...], "unit": [...]}}``.

    Columns ``compounds``, ``units`` or ``places`` on the grids (as
    :func:`gridpart.partition` writes them) are used as given, names split at
    "、" or ";".  Otherwise a parcel is listed in every grid holding at least a
    quarter of its area (so a compound split between grids shows in each
    part); parcels without a name are listed as "unnamed".
    """
    out: dict[int, dict[str, list[str]]] = {int(g): {} for g in grids_m["grid_id"]}
    given = [c for c in ("compounds", "units", "places") if c in grids_m]
    for column, kind in (("compounds", "compound"), ("units", "unit"), ("places", "place")):
        if column in grids_m:
            for gid, value in zip(grids_m["grid_id"], grids_m[column]):
                names = _as_names(value)
                if names:
                    out[int(gid)].setdefault(kind, []).extend(names)
    if given or parcels is None or len(parcels) == 0 or "kind" not in parcels:
        return out
    p = parcels.to_crs(crs) if parcels.crs is not None and crs is not None else parcels
    geoms = shapely.make_valid(p.geometry.values)
    area = shapely.area(geoms)
    tree = shapely.STRtree(geoms)
    g_geoms = grids_m.geometry.values
    gi, pi = tree.query(g_geoms, predicate="intersects")
    if len(gi) == 0:
        return out
    shared = shapely.area(shapely.intersection(g_geoms[gi], geoms[pi]))
    keep = (area[pi] > 0) & (shared >= 0.25 * area[pi])
    names = p["name"] if "name" in p else pd.Series(None, index=p.index)
    kinds = p["kind"].astype(str).to_numpy()
    gids = grids_m["grid_id"].to_numpy()
    for g, i in sorted(zip(gi[keep], pi[keep]), key=lambda t: (t[0], -area[t[1]], t[1])):
        kind = kinds[i]
        if kind not in _PARCEL_KINDS:
            continue
        name = names.iloc[i]
        label = str(name).strip() if isinstance(name, str) and name.strip() else "unnamed"
        bucket = out[int(gids[g])].setdefault(kind, [])
        if label == "unnamed" or label not in bucket:
            bucket.append(label)
    return out


def _places_text(places: dict[str, list[str]], *, zh: bool) -> str:
    parts = []
    for kind, (zh_word, en_word) in (*_PARCEL_KINDS.items(), ("place", ("", ""))):
        names = places.get(kind, [])
        if not names:
            continue
        unnamed = names.count("unnamed")
        named = [n for n in names if n != "unnamed"]
        if unnamed:
            named.append(f"{unnamed} unnamed")
        if kind == "place":  # names as given by the plan, kind unknown here
            parts.append(("、" if zh else ", ").join(named))
            continue
        word = f"{zh_word} {en_word}" if zh else en_word
        parts.append(f"{word}: " + ", ".join(named))
    return "; ".join(parts) if parts else "none known"


# --------------------------------------------------------------------------- drawing helpers


def _paths(geom) -> list:
    """matplotlib Paths of a (multi)polygon, holes wound against the shell (so they stay holes
    when paths are merged and filled with the non-zero rule)."""
    from matplotlib.path import Path as MPath
    from shapely.geometry.polygon import orient


    out = []
    for poly in polygon_parts(geom):
        poly = orient(poly, sign=1.0)
        rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
        out.append(MPath.make_compound_path(*[MPath(r, closed=True) for r in rings if len(r) >= 3]))
    return out


def _empty_path():
    from matplotlib.path import Path as MPath

    return MPath(np.zeros((0, 2)))


def _fit_limits(ax: Axes, bounds: tuple[float, float, float, float], *, pad: float, min_span: float,
                relative_to: str = "each") -> None:
    """Limits around ``bounds`` with the axes' aspect ratio, so metres stay square.

    ``pad`` is the margin on each side: a share of each side's own span
    (``relative_to="each"``) or of the longer span (``"long"``), so that a
    long, thin grid fills the frame along its length instead of being
    zoomed out by a margin of a quarter of its length at both ends.
    """
    minx, miny, maxx, maxy = bounds
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if relative_to == "long":
        margin = pad * max(maxx - minx, maxy - miny, min_span)
        w = max(maxx - minx + 2 * margin, min_span)
        h = max(maxy - miny + 2 * margin, min_span)
    else:
        w = max(maxx - minx, min_span) * (1 + 2 * pad)
        h = max(maxy - miny, min_span) * (1 + 2 * pad)
    bbox = ax.get_position()
    fig_w, fig_h = ax.figure.get_size_inches()
    box_ratio = (bbox.height * fig_h) / (bbox.width * fig_w)
    if h / w > box_ratio:
        w = h / box_ratio
    else:
        h = w * box_ratio
    ax.set_xlim(cx - w / 2, cx + w / 2)
    ax.set_ylim(cy - h / 2, cy + h / 2)


def _footer(fig: Figure, left: str, right: str, fontfamily: list[str], size: float) -> list:
    return [
        fig.text(0.05, 0.015, left, ha="left", va="bottom", fontsize=size, color="#444444", fontfamily=fontfamily),
        fig.text(0.95, 0.015, right, ha="right", va="bottom", fontsize=size, color="#444444",
                 fontfamily=fontfamily),
    ]


def _summary_rows(plan: GridPlan, grids: gpd.GeoDataFrame, *, zh: bool) -> list[tuple[str, str]]:
    def label(zh_text: str, en_text: str) -> str:
        return f"{zh_text} {en_text}" if zh else en_text

    card = plan.score().summary
    band = plan.record.band
    hh = float(plan.households["households"].sum()) if "households" in plan.households else float("nan")
    persons = grids["persons"].astype(float) if "persons" in grids else pd.Series(dtype=float)
    rows = [
        (label("网格数", "Grids"), f"{len(grids)}"),
        (label("社区数", "Communities"), f"{grids['community_id'].nunique()}" if "community_id" in grids else "–"),
        (label("户数", "Households"), _count_text(hh)),
        (label("人口", "Persons"), _count_text(persons.sum()) if persons.notna().any() else "–"),
        (label("户数区间", "Band (households)"),
         f"{band[0]:g}–{band[1]:g}" if band and len(band) == 2 else "–"),
        (label("区间内", "Within the band"),
         f"{card['share_in_band']:.0%} of grids not forced out ({card['share_in_band_raw']:.0%} of all)"),
        (label("无法达标", "Forced out of the band"), f"{int(card['forced_out'])}"),
        (label("每格户数", "Households per grid"),
         f"min {grids['households'].min():,.0f} · median {grids['households'].median():,.0f} · "
         f"max {grids['households'].max():,.0f}" if len(grids) else "–"),
        (label("连通", "Contiguous"), f"{card['contiguous_share']:.0%}"),
        (label("沿路边界", "Internal boundary on roads"), f"{card['road_share']:.0%}"),
        (label("未分配户数", "Unplaced households"), _count_text(card["unplaced_households"])),
    ]
    if "kind" in grids:
        counts = grids["kind"].astype(str).value_counts()
        text = ", ".join(f"{KIND_NAMES.get(k, k) + ' ' if zh else ''}{k} {n}" for k, n in sorted(counts.items()))
        rows.append((label("类型", "Kinds"), text))
    if plan.status is not None and len(plan.status) and "status" in plan.status:
        rows.append((label("求解状态", "Solver status"),
                     ", ".join(f"{k} {v}" for k, v in plan.status["status"].value_counts().sort_index().items())))
    record = plan.record
    run = " · ".join(f"{k} {getattr(record, k)}" for k in ("strategy", "seed", "work_crs", "version")
                     if getattr(record, k) is not None)
    if run:
        rows.append((label("参数", "Run"), run))
    return rows


# --------------------------------------------------------------------------- pages


def _cover(plan: GridPlan, grids: gpd.GeoDataFrame, *, size, title, attribution, fontfamily, zh,
           scale: float) -> Figure:
    from matplotlib.figure import Figure


    fig = Figure(figsize=size)
    heading = title or ("网格图册 Grid atlas" if zh else "Grid atlas")
    fig.text(0.5, 0.965, heading, ha="center", va="top", fontsize=18 * scale, fontfamily=fontfamily)
    ax = fig.add_axes(_COVER_MAP)
    plot_plan(plan, ax=ax, attribution=attribution)
    legend = ax.get_legend()
    if legend is not None:  # keep the legend on the page: to the right of the map, top-aligned
        legend.set_bbox_to_anchor((1.02, 1.0), transform=ax.transAxes)
        title_text = legend.get_title()
        title_text.set_text(title_text.get_text().replace("label: ", "label:\n").replace(" / ", "\n/ "))
    rows = _summary_rows(plan, grids, zh=zh)
    table_ax = fig.add_axes((0.08, 0.05, 0.84, 0.33))
    table_ax.set_axis_off()
    table = table_ax.table(cellText=[[v] for _, v in rows], rowLabels=[k for k, _ in rows],
                           colWidths=[0.62], loc="upper right", cellLoc="left", rowLoc="left",
                           edges="horizontal")
    table.auto_set_font_size(False)
    table.set_fontsize(8.5 * scale)
    for cell in table.get_celld().values():
        cell.get_text().set_fontfamily(fontfamily)
        cell.set_height(1.0 / (len(rows) + 2))
        cell.set_edgecolor("#bbbbbb")
    table_ax.set_title("概况 Summary" if zh else "Summary", fontfamily=fontfamily, fontsize=11 * scale,
                       loc="left")
    return fig


class _GridPages:
    """One figure re-used for every grid page.

    The furniture (north arrow, attribution, community outline) is drawn once;
    per page, the grid fills and the roads are rebuilt from the features near
    the page's view, merged into one compound path per colour or road class
    (a PDF page writes every path it holds, visible or not, so this keeps
    pages small and fast to write).
    """

    def __init__(self, plan: GridPlan, grids_m: gpd.GeoDataFrame, roads_m: gpd.GeoDataFrame | None, *,
                 size, fontfamily, zh: bool, scale: float, attribution: str | None):
        from matplotlib.figure import Figure
        from matplotlib.patches import PathPatch


        self.grids = grids_m
        self.fontfamily = fontfamily
        self.scale = scale
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = Figure(figsize=size)
        FigureCanvasAgg(self.fig)  # a renderer to measure text with (the PDF is written by PdfPages)
        self.ax = ax = self.fig.add_axes(_PAGE_MAP)
        ax.set_aspect("equal", adjustable="datalim")
        ax.set_xticks([])
        ax.set_yticks([])
        # grid fills: one patch per fill colour, rebuilt per page
        self.grid_paths = [_paths(geom) for geom in grids_m.geometry.values]
        self.grid_tree = shapely.STRtree(grids_m.geometry.values)
        self.fills = {colour: ax.add_patch(PathPatch(_empty_path(), facecolor=colour, edgecolor="white",
                                                     linewidth=0.8, zorder=1))
                      for colour in (_GREY, _NEIGHBOUR_GREY, _HIGHLIGHT)}
        # roads by class: one patch per class, rebuilt per page from the lines near the view
        self.roads: list[tuple[PathPatch, shapely.STRtree, list]] = []
        if roads_m is not None and len(roads_m):
            kinds = roads_m["kind"].astype(str) if "kind" in roads_m else pd.Series("street", index=roads_m.index)
            for kind, style in ROAD_STYLES.items():
                lines = shapely.get_parts(roads_m.geometry.values[(kinds == kind).to_numpy()])
                lines = lines[shapely.get_type_id(lines) == 1]
                if len(lines):
                    patch = ax.add_patch(PathPatch(_empty_path(), fill=False, edgecolor=style["color"],
                                                   linewidth=style["linewidth"] * 0.8,
                                                   linestyle=style["linestyle"], capstyle="round",
                                                   joinstyle="round", zorder=3))
                    self.roads.append((patch, shapely.STRtree(lines), [np.asarray(g.coords) for g in lines]))
        if len(grids_m):
            community_outlines(grids_m).plot(ax=ax, zorder=6, **{**COMMUNITY_STYLE, "linewidth": 2.0})
        (self.outline,) = ax.plot([], [], color="black", linewidth=2.6, zorder=7)
        self.named = None
        if roads_m is not None and len(roads_m) and "name" in roads_m:
            named = displayable_names(roads_m, fontfamily[0] if zh else None)
            self.named = named[named["name"].notna().to_numpy()]
        self.names = grid_labels(grids_m, short=True).to_numpy()  # the heading carries the full code
        self.points = grids_m.geometry.representative_point()
        ax.set_xlabel("")
        ax.set_ylabel("")
        north_arrow(ax, ["DejaVu Sans"])
        if attribution:
            ax.text(0.995, 0.005, attribution, transform=ax.transAxes, ha="right", va="bottom",
                    fontsize=7 * scale, color="#333333", fontfamily=fontfamily, zorder=20,
                    path_effects=halo(2.0))
        self._page_artists: list = []

    def draw(self, i: int, neighbours: list[int], info: list[tuple[str, str]], heading: str,
             footer: tuple[str, str]) -> Figure:
        from matplotlib.artist import Artist
        from matplotlib.path import Path as MPath


        for artist in self._page_artists:
            Artist.remove(artist)
        self._page_artists = []
        ax, fig, scale = self.ax, self.fig, self.scale
        geom = self.grids.geometry.values[i]
        footer_artists = _footer(fig, *footer, self.fontfamily, 7.5 * scale)
        self._page_artists += footer_artists
        self._page_artists += self._info_table(info, footer_artists)
        _fit_limits(ax, tuple(shapely.bounds(geom)), pad=_MAP_MARGIN, min_span=200.0, relative_to="long")
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        view = shapely.box(x0, y0, x1, y1)

        colour_of = dict.fromkeys(neighbours, _NEIGHBOUR_GREY) | {i: _HIGHLIGHT}
        near = sorted(int(k) for k in self.grid_tree.query(view, predicate="intersects"))
        for colour, patch in self.fills.items():
            paths = [p for k in near if colour_of.get(k, _GREY) == colour for p in self.grid_paths[k]]
            patch.set_path(MPath.make_compound_path(*paths) if paths else _empty_path())
        for patch, tree, coords in self.roads:
            lines = [MPath(coords[k]) for k in sorted(tree.query(view, predicate="intersects"))]
            patch.set_path(MPath.make_compound_path(*lines) if lines else _empty_path())
        xs: list[float] = []
        ys: list[float] = []
        for part in shapely.get_parts(shapely.boundary(geom)):
            x, y = np.asarray(part.coords).T
            xs += [*x, np.nan]
            ys += [*y, np.nan]
        self.outline.set_data(xs, ys)

        inner = shapely.box(x0 + 0.04 * (x1 - x0), y0 + 0.04 * (y1 - y0), x1 - 0.04 * (x1 - x0), y1 - 0.04 * (y1 - y0))
        for k in [i, *neighbours]:
            pt = self.points.iloc[k]
            if not inner.contains(pt):  # label the part of the grid in view, not a point off the page
                seen = shapely.intersection(shapely.make_valid(self.grids.geometry.values[k]), inner)
                if seen.is_empty or seen.area <= 0:
                    continue
                pt = seen.representative_point()
            self._page_artists.append(ax.text(
                pt.x, pt.y, self.names[k], ha="center", va="center", fontsize=(10 if k == i else 7) * scale,
                color="black" if k == i else "#555555", fontfamily=self.fontfamily, zorder=10, clip_on=True,
                bbox=_LABEL_BOX))
        if self.named is not None:
            close = self.named[self.named.intersects(view)]
            if len(close):
                close = close.set_geometry(close.geometry.intersection(view))
                for row in road_name_labels(close, min_length_m=0.12 * (x1 - x0)).itertuples(index=False):
                    self._page_artists.append(ax.text(
                        row.x, row.y, row.name, ha="center", va="center", rotation=row.angle,
                        rotation_mode="anchor", fontsize=8 * scale, color="#303030", fontstyle="italic",
                        fontfamily=self.fontfamily, zorder=9, clip_on=True, bbox=_LABEL_BOX))
        before = set(ax.artists)
        scale_bar(ax, self.fontfamily)
        self._page_artists += [a for a in ax.artists if a not in before]
        self._page_artists.append(fig.text(0.5, 0.965, heading, ha="center", va="top", fontsize=16 * scale,
                                           fontfamily=self.fontfamily))
        return fig

    def _info_table(self, info: list[tuple[str, str]], footer: list) -> list:
        """The facts under the map, laid out by measuring the text: rows stay clear of the footer.

        The rows start under the map, key and value on one baseline; when
        they would reach the footer, the map gives up height (down to
        :data:`_MIN_MAP_HEIGHT` of its own), then the text gets smaller,
        until every row fits.  Values wrap at the measured width of their
        column.
        """
        fig = self.fig
        renderer = fig.canvas.get_renderer()
        to_fig = fig.transFigure.inverted()

        def box(artist):
            return artist.get_window_extent(renderer).transformed(to_fig)

        def lay_out(size: float, top: float) -> tuple[list, float]:
            """Rows from ``top`` down at font ``size``: the artists and the lowest point they reach."""
            probe = fig.text(0, 0.5, "国Ag", va="baseline", fontsize=size, fontfamily=self.fontfamily)
            ascent = box(probe).y1 - 0.5
            probe.set_text("国Ag\n国Ag")
            probe.set_linespacing(1.35)
            step = box(probe).y1 - 0.5 - ascent  # from one line's baseline to the next
            probe.remove()
            wrap = max(int(columns * 10 * self.scale / size), 8)
            artists, baseline, lowest = [], top - ascent, top
            for key, value in info:
                label = fig.text(_KEY_X, baseline, key, ha="left", va="baseline", fontsize=size,
                                 fontfamily=self.fontfamily, color="#444444")
                width = wrap
                lines = _wrap(value, width)
                text = fig.text(_VALUE_X, baseline, "\n".join(lines), ha="left", va="baseline", fontsize=size,
                                fontfamily=self.fontfamily, linespacing=1.35)
                while box(text).x1 > _RIGHT and width > 8:  # wider than the page allows: wrap shorter
                    width -= 2
                    lines = _wrap(value, width)
                    text.set_text("\n".join(lines))
                # a multi-line text sits on the baseline of its last line: put its first line on the row's
                text.set_y(baseline - (len(lines) - 1) * step)
                artists += [label, text]
                lowest = min(box(label).y0, box(text).y0)
                baseline = lowest - _ROW_GAP - ascent
            return artists, lowest

        columns = int(62 * (fig.get_size_inches()[0] / PAPER_SIZES["A4"][0]) / self.scale)
        floor = max(box(t).y1 for t in footer) + _GAP
        left, bottom, width, height = _PAGE_MAP
        least = _MIN_MAP_HEIGHT * height
        size = 10 * self.scale
        while True:
            artists, lowest = lay_out(size, bottom - _GAP)
            need = floor - lowest  # > 0: the rows reach into the footer; the map's bottom moves up
            if need <= 0 or height - need >= least or size <= 6 * self.scale:
                shift = min(max(need, 0.0), height - least)
                for artist in artists:
                    artist.set_y(artist.get_position()[1] + shift)
                self.ax.set_position((left, bottom + shift, width, height - shift))
                return artists
            for artist in artists:  # even a smaller map leaves no room: smaller text
                artist.remove()
            size -= 0.5 * self.scale


def _grid_info(row: pd.Series, name: str, places: dict[str, list[str]], *, zh: bool,
               has_places: bool) -> list[tuple[str, str]]:
    def label(zh_text: str, en_text: str) -> str:
        return f"{zh_text} {en_text}" if zh else en_text

    info = [(label("编码", "Code"), name if name != str(row["grid_id"]) else f"{name} (grid id; no code)")]
    if "code" in row.index and name != str(row["grid_id"]):
        info.append((label("编号", "Grid id"), str(row["grid_id"])))
    if "community_id" in row.index:
        info.append((label("社区", "Community"), str(row["community_id"])))
    if "kind" in row.index and isinstance(row["kind"], str):
        info.append((label("类型", "Kind"), f"{KIND_NAMES.get(row['kind'], '')} {row['kind']}".strip()
                     if zh else row["kind"]))
    info.append((label("户数", "Households"), _count_text(row.get("households"))))
    info.append((label("人口", "Persons"), _count_text(row.get("persons"))))
    info.append((label("面积", "Area"), _area_text(float(row.get("area_m2", np.nan)))))
    if bool(row.get("forced", False)):
        info.append((label("说明", "Note"), f"forced out of the band: {row.get('forced_reason', '')}".strip()))
    limits = row.get("limits") if zh else (row.get("limits_en") if isinstance(row.get("limits_en"), str)
                                          else row.get("limits"))
    if isinstance(limits, str) and limits.strip():
        info.append((label("四至", "Four limits"), limits))
    if has_places:
        info.append((label("小区/单位", "Compounds, units"), _places_text(places, zh=zh)))
    return info


# --------------------------------------------------------------------------- the atlas


def atlas(
    plan: GridPlan,
    path: str | os.PathLike,
    *,
    paper: str = "A4",
    grids: Iterable[int] | None = None,
    parcels: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    attribution: str | None = "auto",
) -> Path:
    """Write a PDF atlas: a cover page, then one page per grid.

    Parameters
    ----------
    plan : GridPlan
        The plan to print.
    path : str or path-like
        The PDF to write (replaced atomically: a failed run leaves no partial file).
    paper : {"A4", "A3"}
        Paper size, portrait.
    grids : iterable of int, optional
        ``grid_id`` values to print a page for (default: every grid), in
        ``grid_id`` order.  The cover always shows the whole plan.
    parcels : GeoDataFrame, optional
        Compounds and units (``kind`` in {"compound", "unit"}, ``name``): each
        grid page lists those with at least a quarter of their area inside the
        grid.  Default: ``plan.parcels`` when the plan carries them.
    title : str, optional
        Title of the cover (default "Grid atlas", with 网格图册 when a CJK
        font is available).
    attribution : str or None
        As in :func:`gridpart.outputs.plot.plot_plan`: ``"auto"`` prints
        "© OpenStreetMap contributors" unless the plan names another source.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    gridpart.errors.InputError
        For an unknown paper size or grid ids the plan does not hold.

    Warns
    -----
    UserWarning
        Once per session, when the atlas holds Chinese text and no CJK font is found.

    Examples
    --------
    >>> import tempfile, os
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> out = plan.atlas(os.path.join(tempfile.mkdtemp(), "atlas.pdf"), grids=[1, 2], parcels=s.parcels)
    >>> out.read_bytes()[:5]
    b'%PDF-'
    """
    from matplotlib.backends.backend_pdf import PdfPages


    problems = Problems()
    key = str(paper).upper()
    if key not in PAPER_SIZES:
        problems.add("paper", f"unknown paper size {paper!r}", fix=f"use one of {', '.join(PAPER_SIZES)}")
    all_ids = plan.grids["grid_id"].astype(int).tolist()
    if grids is None:
        wanted = sorted(all_ids)
    else:
        wanted = sorted({int(g) for g in grids})
        missing = [g for g in wanted if g not in set(all_ids)]
        if missing:
            problems.add("grids", "grid ids not in the plan", rows=missing,
                         fix="pass values of plan.grids['grid_id']")
    problems.raise_if_any()

    size = PAPER_SIZES[key]
    scale = 1.0 if key == "A4" else 1.3
    font = cjk_font()
    zh = font is not None
    fontfamily = [font, "DejaVu Sans"] if font else ["DejaVu Sans"]
    attribution_text = attribution_line(plan, attribution)

    crs = work_crs(plan)
    grids_m = to_metric(plan.grids, crs).reset_index(drop=True)
    if len(grids_m):
        grids_m = grids_m.set_geometry(tidy(grids_m.geometry))
    roads_m = to_metric(plan.roads, crs) if plan.roads is not None else None
    if parcels is None:
        parcels = getattr(plan, "parcels", None)
        if not isinstance(parcels, gpd.GeoDataFrame):
            parcels = None
    places = _places(grids_m, parcels, crs)
    has_places = parcels is not None or any(c in grids_m for c in ("compounds", "units", "places"))
    names = grid_labels(grids_m)
    graph = grid_adjacency(plan)
    pos = {int(g): i for i, g in enumerate(grids_m["grid_id"])}

    infos = {g: _grid_info(grids_m.iloc[pos[g]], names.iloc[pos[g]], places[g], zh=zh, has_places=has_places)
             for g in wanted}
    texts = [title or "", attribution_text or ""] + [v for info in infos.values() for _, v in info]
    if font is None and any(has_cjk(t) for t in texts):
        warn_no_cjk_font()

    n_pages = 1 + len(wanted)
    doc_title = title or "Grid atlas"
    metadata = {"Title": doc_title, "Creator": f"gridpart {__version__}", "CreationDate": None}
    credit = " · ".join(t for t in (attribution_text, f"gridpart {__version__}") if t)
    with atomic_path(path) as tmp, PdfPages(tmp, metadata=metadata) as pdf, warnings.catch_warnings():
        if font is None:  # said once, clearly, above: no need for one matplotlib warning per glyph
            warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        cover = _cover(plan, grids_m, size=size, title=title,
                       attribution=attribution, fontfamily=fontfamily, zh=zh, scale=scale)
        _footer(cover, credit, f"1 / {n_pages}", fontfamily, 7.5 * scale)
        pdf.savefig(cover)
        if wanted:
            pages = _GridPages(plan, grids_m, roads_m, size=size, fontfamily=fontfamily, zh=zh, scale=scale,
                               attribution=attribution_text)
            for page, g in enumerate(wanted, start=2):
                i = pos[g]
                neighbours = [pos[n] for n in sorted(graph.neighbors(g)) if n in pos]
                heading = (f"网格 Grid {names.iloc[i]}" if zh else f"Grid {names.iloc[i]}")
                fig = pages.draw(i, neighbours, infos[g], heading, (credit, f"{page} / {n_pages}"))
                pdf.savefig(fig)
    log.info("atlas: %d pages written to %s", n_pages, path)
    return Path(path)
