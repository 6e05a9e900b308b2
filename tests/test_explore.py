"""Tests of gridpart.outputs.explore: a folium map with a layer per kind of feature, no tiles by default."""

from __future__ import annotations

import dataclasses

import pytest

import gridpart as gp
from gridpart.outputs.explore import LAYERS, _feature_count

folium = pytest.importorskip("folium")


@pytest.fixture(scope="module")
def plan() -> gp.GridPlan:
    s = gp.datasets.load_sample()
    return gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed", time_limit=5)


def _layer(m, name):
    return next(c for c in m._children.values() if getattr(c, "layer_name", None) == name)


def test_returns_a_displayable_map(plan):
    m = plan.explore()
    assert isinstance(m, folium.Map)
    html = m._repr_html_()
    assert "<iframe" in html
    assert _feature_count(m, "grids") == len(plan.grids)
    assert _feature_count(m, "households") == len(plan.households)
    assert _feature_count(m, "blocks") == len(plan.blocks)
    assert _feature_count(m, "roads") == len(plan.roads)


def _fetched(page: str) -> list[str]:
    """What a browser would fetch for the page: script sources, style sheet links, url(...) in styles."""
    import re

    found = re.findall(r"<script[^>]*\ssrc=\"([^\"]+)\"", page)
    found += re.findall(r"<link[^>]*\shref=\"([^\"]+)\"", page)
    found += [u for u in re.findall(r"url\(([^)]*)\)", page) if not u.startswith(("data:", "#"))]
    return found


def test_offline_by_default(plan):
    page = plan.explore(layers=LAYERS).get_root().render()
    assert "L.tileLayer" not in page  # no background tiles are fetched
    assert _fetched(page) == []  # Leaflet itself is written into the page
    assert "L.map(" in page and "leaflet-container" in page
    assert "OpenStreetMap contributors" in page
    online = plan.explore(offline=False).get_root().render()
    assert any("leaflet" in u and u.startswith("https://") for u in _fetched(online))
    with_tiles = plan.explore(tiles="OpenStreetMap").get_root().render()
    assert with_tiles.count("L.tileLayer") == 1


def test_layers_shown_and_hidden(plan):
    m = plan.explore(layers=("grids", "households"))
    assert _layer(m, "grids").show and _layer(m, "households").show
    assert not _layer(m, "roads").show and not _layer(m, "blocks").show
    with pytest.raises(gp.InputError, match="layers"):
        plan.explore(layers=("grids", "parcels"))
    assert set(LAYERS) == {"grids", "blocks", "roads", "households"}


def test_grid_tooltips_carry_the_register_fields(plan):
    grids = plan.grids.copy()
    grids["code"] = [f"110108017001{g:03d}" for g in grids["grid_id"]]
    grids["limits"] = "东至学院路，南至清华东路，西至学清路，北至成府路"
    m = dataclasses.replace(plan, grids=grids).explore()
    layer = _layer(m, "grids")
    props = layer.data["features"][0]["properties"]
    assert props["label"] == grids["code"].iloc[0]
    assert props["limits"].startswith("东至")
    assert props["households"] == f"{grids['households'].iloc[0]:,.0f}"
    # neighbouring grids get different fills, as on the static map
    from gridpart.outputs.plot import grid_adjacency

    fill = {f["properties"]["grid_id"]: f["properties"]["_colour"] for f in layer.data["features"]}
    assert all(fill[str(a)] != fill[str(b)] for a, b in grid_adjacency(plan).edges)


def test_saves_html(plan, tmp_path):
    path = tmp_path / "map.html"
    plan.explore().save(str(path))
    assert path.stat().st_size > 10_000
