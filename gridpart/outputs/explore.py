"""An interactive map of a plan: :func:`explore` returns a :class:`folium.Map`.

Layers (switchable): grids (filled like :func:`gridpart.outputs.plot.plot_plan`,
with a tooltip per grid), blocks (the atoms), roads by class, and household
points.  It works **offline** by default: the map has no background tiles,
and Leaflet's JavaScript and CSS are written into the page from the
``XStatic-Leaflet`` package (its images as data URIs), so neither Python nor
the browser fetches anything, as on an intranet without internet access.
Pass ``tiles="OpenStreetMap"`` (or any folium tile name or URL) to add a
background, and ``offline=False`` to load Leaflet from folium's CDN instead.

folium and XStatic-Leaflet are optional dependencies:
``pip install "gridpart[explore]"``.
"""

from __future__ import annotations

import base64
import functools
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridpart.errors import Problems
from gridpart.outputs.style import ROAD_STYLES, attribution_line, grid_colours, grid_labels

if TYPE_CHECKING:
    import folium

    from gridpart.plan import GridPlan

__all__ = ["explore", "leaflet_assets", "LAYERS"]

log = logging.getLogger(__name__)

#: The layers :func:`explore` can draw, in drawing order.
LAYERS: tuple[str, ...] = ("grids", "blocks", "roads", "households")

_ROAD_WEIGHTS = {"road": 5.0, "street": 3.0, "lane": 1.5, "barrier": 2.0}


def _require_folium():
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError('plan.explore() needs folium: pip install "gridpart[explore]"') from exc
    return folium


def _require_leaflet() -> Path:
    try:
        from xstatic.pkg import leaflet
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError('plan.explore(offline=True) needs XStatic-Leaflet: pip install "gridpart[explore]" '
                          "(or pass offline=False to load Leaflet from a CDN)") from exc
    return Path(leaflet.BASE_DIR)


@functools.lru_cache(maxsize=1)
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS (images inlined as data URIs), from XStatic-Leaflet.

    Returns
    -------
    (str, str)
        The script and the style sheet, ready to be written into a page.

    Examples
    --------
    >>> js, css = leaflet_assets()
    >>> "L.version" in js or "version" in js, "url(images/" in css
    (True, False)
    """
    base = _require_leaflet()
    js = (base / "leaflet.js").read_text(encoding="utf-8")
    css = (base / "leaflet.css").read_text(encoding="utf-8")

    def inline(match: re.Match) -> str:
        image = base / "images" / match.group(1)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{data})"

    return js, re.sub(r"url\(images/([\w.-]+\.png)\)", inline, css)


def _inline_leaflet(m: folium.Map) -> None:
    """Replace folium's CDN links by Leaflet itself, written into the page header."""
    import folium

    js, css = leaflet_assets()
    # only Leaflet is needed: the map uses no markers from awesome-markers, jQuery or Bootstrap
    m.default_js, m.default_css = [], []
    header = m.get_root().header
    header.add_child(folium.Element(f"<style>{css}</style>"), name="leaflet_css")
    header.add_child(folium.Element(f"<script>{js}</script>"), name="leaflet")


def _wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        return gdf
    return gdf.to_crs("EPSG:4326")


def _plain_columns(gdf: gpd.GeoDataFrame, columns: list[str]) -> gpd.GeoDataFrame:
    """Keep ``columns`` (those present), as JSON-friendly values; floats rounded for tooltips."""
    keep = [c for c in columns if c in gdf.columns]
    out = gpd.GeoDataFrame(index=gdf.index, geometry=gdf.geometry.values, crs=gdf.crs)
    for c in keep:
        col = gdf[c]
        if pd.api.types.is_bool_dtype(col):
            out[c] = col.astype(bool).map({True: "yes", False: "no"})
        elif pd.api.types.is_integer_dtype(col):
            out[c] = col.astype("Int64").astype(str).replace("<NA>", "–")
        elif pd.api.types.is_float_dtype(col):
            out[c] = col.map(lambda v: "–" if not np.isfinite(v) else f"{v:,.0f}")
        else:
            out[c] = col.astype(str).replace({"None": "–", "nan": "–", "<NA>": "–"})
    return out


def explore(
    plan: GridPlan,
    *,
    tiles: str | None = None,
    layers: tuple[str, ...] | list[str] = ("grids", "roads"),
    attribution: str | None = "auto",
    width: str | int = "100%",
    height: str | int = 600,
    offline: bool = True,
) -> folium.Map:
    """An interactive Leaflet map of the plan (folium), for Jupyter or a browser.

    Parameters
    ----------
    plan : GridPlan
        The plan to show.
    tiles : str, optional
        Background tiles (a folium tile name such as ``"OpenStreetMap"`` or
        ``"CartoDB positron"``, or a URL template).  Default None: no tiles,
        nothing is fetched for the background.
    layers : sequence of str
        Which of ``"grids"``, ``"blocks"``, ``"roads"``, ``"households"`` to
        draw shown; the others (from :data:`LAYERS`) are added hidden, to be
        switched on in the layer control.
    attribution : str or None
        Shown in the map's attribution control: ``"auto"`` is
        "© OpenStreetMap contributors" unless the plan names another source.
    width, height : str or int
        Size of the map in the notebook.
    offline : bool
        Write Leaflet into the page (default), so the map needs no network;
        ``False`` links folium's CDN copies instead (a smaller page).

    Returns
    -------
    folium.Map
        Displays itself in Jupyter; ``.save("map.html")`` writes a page.

    Raises
    ------
    gridpart.errors.InputError
        For unknown layer names.
    ImportError
        When folium (or, with ``offline=True``, XStatic-Leaflet) is not installed.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> m = plan.explore()
    >>> type(m).__name__
    'Map'
    """

    problems = Problems()
    unknown = [name for name in layers if name not in LAYERS]
    if unknown:
        problems.add("layers", "unknown layer names", rows=unknown, fix=f"use some of {', '.join(LAYERS)}")
    problems.raise_if_any()
    folium = _require_folium()
    if offline:
        _require_leaflet()
    credit = attribution_line(plan, attribution) or ""

    grids = _wgs84(plan.grids)
    if len(grids):
        minx, miny, maxx, maxy = grids.total_bounds
    else:
        minx, miny, maxx, maxy = _wgs84(plan.households).total_bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], tiles=None, width=width, height=height,
                   control_scale=True, zoom_start=15)
    if offline:
        _inline_leaflet(m)
    if tiles:
        folium.TileLayer(tiles, name="background", control=True).add_to(m)

    def shown(name: str) -> bool:
        return name in layers

    # grids: filled by the adjacency colouring, tooltip with the register fields the plan has
    if len(grids):
        colours = grid_colours(plan)
        g = grids.assign(label=grid_labels(grids).to_numpy(),
                         _colour=colours.reindex(grids["grid_id"].to_numpy()).to_numpy())
        fields = [c for c in ("label", "grid_id", "community_id", "kind", "households", "persons", "area_m2",
                              "forced", "limits") if c in g.columns]
        if "code" not in grids:
            fields.remove("label")
        data = _plain_columns(g, fields + ["_colour"])
        aliases = {"label": "code", "area_m2": "area (m²)", "community_id": "community", "limits": "四至 limits"}
        folium.GeoJson(
            data.__geo_interface__, name="grids", show=shown("grids"), attribution=credit,
            style_function=lambda f: {"fillColor": f["properties"]["_colour"], "color": "#000000",
                                      "weight": 2, "fillOpacity": 0.55},
            highlight_function=lambda f: {"weight": 4, "fillOpacity": 0.75},
            tooltip=folium.GeoJsonTooltip(fields=fields, aliases=[aliases.get(f, f) for f in fields],
                                          sticky=True),
        ).add_to(m)

    if plan.blocks is not None and len(plan.blocks):
        blocks = _plain_columns(_wgs84(plan.blocks), ["atom_id", "block_id", "grid_id", "households", "is_cell"])
        folium.GeoJson(
            blocks.__geo_interface__, name="blocks", show=shown("blocks"),
            style_function=lambda f: {"color": "#555555", "weight": 0.8, "fillOpacity": 0.0},
            tooltip=folium.GeoJsonTooltip(fields=[c for c in blocks.columns if c != "geometry"]),
        ).add_to(m)

    if plan.roads is not None and len(plan.roads):
        roads = _wgs84(plan.roads)
        roads = _plain_columns(roads.assign(kind=roads["kind"].astype(str) if "kind" in roads else "street"),
                               ["name", "kind"])
        colours = {k: v["color"] for k, v in ROAD_STYLES.items()}
        folium.GeoJson(
            roads.__geo_interface__, name="roads", show=shown("roads"),
            style_function=lambda f: {"color": colours.get(f["properties"]["kind"], "#7a7a7a"),
                                      "weight": _ROAD_WEIGHTS.get(f["properties"]["kind"], 2.0),
                                      "opacity": 0.9},
            tooltip=folium.GeoJsonTooltip(fields=[c for c in ("name", "kind") if c in roads.columns]),
        ).add_to(m)

    hh = plan.households
    if hh is not None and len(hh):
        points = hh[hh.geometry.geom_type == "Point"]
        pts = _plain_columns(_wgs84(points), ["households", "persons", "grid_id", "name"])
        folium.GeoJson(
            pts.__geo_interface__, name="households", show=shown("households"),
            marker=folium.CircleMarker(radius=3, weight=1, color="#08306b", fill=True, fill_opacity=0.8),
            tooltip=folium.GeoJsonTooltip(fields=[c for c in pts.columns if c != "geometry"]),
        ).add_to(m)

    folium.LayerControl(collapsed=True).add_to(m)
    m.fit_bounds([[float(miny), float(minx)], [float(maxy), float(maxx)]])
    return m


def _feature_count(m: Any, name: str) -> int:
    """Number of features in the layer called ``name`` (for tests and checks)."""
    for child in m._children.values():
        if getattr(child, "layer_name", None) == name and hasattr(child, "data"):
            return len(child.data.get("features", []))
    return 0
