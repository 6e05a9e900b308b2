"""Tests of gridpart.outputs.atlas: the PDF has a cover and one page per grid, with the grid's facts."""

from __future__ import annotations

import dataclasses
import warnings

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import gridpart as gp  # noqa: E402
from gridpart.outputs import atlas as gatlas  # noqa: E402
from gridpart.outputs import plot as gplot  # noqa: E402
from gridpart.outputs import style as gstyle  # noqa: E402

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def sample():
    return gp.datasets.load_sample()


@pytest.fixture(scope="module")
def plan(sample) -> gp.GridPlan:
    return gp.partition(sample.roads, sample.households, study_area=sample.study_area, parcels=sample.parcels,
                        strategy="seed", time_limit=5)


@pytest.fixture(scope="module")
def coded(plan) -> gp.GridPlan:
    """The plan with the columns issue #4 adds (code, kind, limits), filled by hand."""
    grids = plan.grids.copy()
    grids["code"] = [f"110108017001{g:03d}" for g in grids["grid_id"]]
    grids["kind"] = "street"
    grids["limits"] = "东至学院路，南至清华东路，西至学清路，北至成府路"
    return dataclasses.replace(plan, grids=grids)


def _text(reader, page: int) -> str:
    return reader.pages[page].extract_text() or ""


def _heading(plan: gp.GridPlan, gid: int) -> str:
    """A grid page's heading: its code where the plan has codes, else its id."""
    labels = gplot.grid_labels(plan.grids)
    return f"Grid {labels[(plan.grids['grid_id'] == gid).to_numpy()].iloc[0]}"


@pytest.fixture(scope="module")
def coarse(sample) -> gp.GridPlan:
    """Fewer, bigger grids: a whole atlas that prints quickly."""
    return gp.partition(sample.roads, sample.households, study_area=sample.study_area, strategy="seed",
                        target=1200, time_limit=5)


def test_cover_plus_one_page_per_grid(coarse, sample, tmp_path):
    plan = coarse
    assert 8 <= len(plan.grids) <= 30
    out = plan.atlas(tmp_path / "atlas.pdf", parcels=sample.parcels)
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 1 + len(plan.grids)
    assert "Summary" in _text(reader, 0)
    # pages follow grid_id order, each names its grid and the attribution
    for page, gid in ((1, 1), (len(plan.grids), int(plan.grids["grid_id"].max()))):
        text = _text(reader, page)
        assert _heading(plan, gid) in text
        assert "OpenStreetMap contributors" in text
    assert reader.metadata.title == "Grid atlas"


def test_selected_grids_and_a3(plan, tmp_path):
    out = gatlas.atlas(plan, tmp_path / "a3.pdf", paper="A3", grids=[3, 1])
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) == 3
    width, height = (float(v) for v in reader.pages[0].mediabox.upper_right)
    assert (round(width / 72, 2), round(height / 72, 2)) == gatlas.PAPER_SIZES["A3"]
    assert _heading(plan, 1) in _text(reader, 1) and _heading(plan, 3) in _text(reader, 2)
    a4 = pypdf.PdfReader(gatlas.atlas(plan, tmp_path / "a4.pdf", grids=[1]))
    assert round(float(a4.pages[0].mediabox.upper_right[0]) / 72, 2) == gatlas.PAPER_SIZES["A4"][0]


def test_grid_page_facts(coded, sample, tmp_path):
    # the places come from the parcels when the plan carries no places column
    plain = dataclasses.replace(coded, grids=coded.grids.drop(columns=["places"], errors="ignore"))
    work = coded.params["work_crs"]
    places = gatlas._places(plain.grids.to_crs(work), sample.parcels, work)
    gid = next(g for g, p in sorted(places.items()) if p.get("unit"))
    reader = pypdf.PdfReader(plain.atlas(tmp_path / "coded.pdf", grids=[gid], parcels=sample.parcels))
    text = _text(reader, 1).replace("\n", " ")
    row = plain.grids.set_index("grid_id").loc[gid]
    assert row["code"] in text
    assert f"{row['households']:,.0f}" in text
    assert "street" in text
    flat = text.replace(" ", "")
    if gplot.cjk_font() is not None:
        assert "东至学院路" in flat
        assert places[gid]["unit"][0].replace(" ", "") in flat
    # with the plan's own places column, that is what the page lists
    named = coded.grids.assign(places=["甲小区、乙学校"] * len(coded.grids))
    reader = pypdf.PdfReader(dataclasses.replace(coded, grids=named).atlas(tmp_path / "named.pdf", grids=[gid],
                                                                           parcels=sample.parcels))
    if gplot.cjk_font() is not None:
        assert "甲小区、乙学校" in _text(reader, 1).replace(" ", "")


def test_places_split_parcel_listed_in_each_part():
    import geopandas as gpd
    import shapely

    grids = gpd.GeoDataFrame({"grid_id": [1, 2, 3]}, geometry=[shapely.box(0, 0, 100, 100),
                                                               shapely.box(100, 0, 200, 100),
                                                               shapely.box(200, 0, 300, 100)], crs="EPSG:32650")
    parcels = gpd.GeoDataFrame({"kind": ["compound", "unit", "compound"], "name": ["甲小区", "乙学校", None]},
                               geometry=[shapely.box(50, 10, 150, 90), shapely.box(190, 10, 290, 90),
                                         shapely.box(210, 20, 220, 30)], crs="EPSG:32650")
    places = gatlas._places(grids, parcels, "EPSG:32650")
    assert places[1] == {"compound": ["甲小区"]}
    assert places[2] == {"compound": ["甲小区"]}  # the unit has only 10 % of its area in grid 2
    assert places[3] == {"unit": ["乙学校"], "compound": ["unnamed"]}
    text = gatlas._places_text(places[3], zh=False)
    assert text == "compounds: 1 unnamed; units: 乙学校"


def test_wrap_counts_wide_characters():
    lines = gatlas._wrap("东至学院路，南至清华东路，西至学清路，北至成府路", 20)
    assert all(gatlas._text_width(line) <= 20 for line in lines)
    assert "".join(lines) == "东至学院路，南至清华东路，西至学清路，北至成府路"


def test_deterministic_bytes(plan, tmp_path):
    a = gatlas.atlas(plan, tmp_path / "a.pdf", grids=[1, 2]).read_bytes()
    b = gatlas.atlas(plan, tmp_path / "b.pdf", grids=[1, 2]).read_bytes()
    assert a == b


def test_errors_name_the_argument(plan, tmp_path):
    with pytest.raises(gp.InputError, match="paper") as info:
        gatlas.atlas(plan, tmp_path / "x.pdf", paper="Letter", grids=[10_000])
    assert "grids" in str(info.value)  # both problems in one error
    assert not (tmp_path / "x.pdf").exists()


def test_warns_without_cjk_font_when_text_is_chinese(coded, tmp_path, monkeypatch):
    monkeypatch.setattr(gstyle, "_font_cache", {"name": None})
    monkeypatch.setattr(gstyle, "_warned", set())
    chinese_only = coded.grids.drop(columns=["limits_en"], errors="ignore")  # no English four limits
    with pytest.warns(UserWarning, match="no CJK font"):
        dataclasses.replace(coded, grids=chinese_only).atlas(tmp_path / "nofont.pdf", grids=[1])
    monkeypatch.setattr(gstyle, "_warned", set())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        plain = coded.grids.drop(columns=[c for c in coded.grids if c in ("limits", "places")])
        plain["limits_en"] = "East: Xueyuan Road; South: Qinghua East Road"  # used without a CJK font
        reader = pypdf.PdfReader(gatlas.atlas(dataclasses.replace(coded, grids=plain), tmp_path / "nofont2.pdf",
                                              grids=[1]))
    assert "East: Xueyuan Road" in _text(reader, 1)
    assert not [w for w in caught if "CJK font" in str(w.message)]


def test_plan_read_back_prints(coarse, tmp_path):
    coarse.to_file(tmp_path / "plan.gpkg")
    back = gp.read_plan(tmp_path / "plan.gpkg")
    reader = pypdf.PdfReader(back.atlas(tmp_path / "back.pdf", grids=[1]))
    assert len(reader.pages) == 2
    assert _heading(back, 1) in _text(reader, 1)


class _Pages:
    """What each grid page of an atlas holds, measured as it is saved (figure fractions)."""

    def __init__(self, monkeypatch):
        from matplotlib.backends.backend_pdf import PdfPages

        self.pages: list[dict] = []
        save = PdfPages.savefig

        def measure(pdf, figure=None, **kwargs):
            fig = figure
            if any(ax.tables for ax in fig.axes):  # the cover
                return save(pdf, figure, **kwargs)
            if not hasattr(fig.canvas, "get_renderer"):
                from matplotlib.backends.backend_agg import FigureCanvasAgg

                FigureCanvasAgg(fig)
            renderer = fig.canvas.get_renderer()
            to_fig = fig.transFigure.inverted()
            boxes = [t.get_window_extent(renderer).transformed(to_fig) for t in fig.texts if t.get_text()]
            footer = [b for t, b in zip([t for t in fig.texts if t.get_text()], boxes) if t.get_position()[1] < 0.03]
            ax = fig.axes[0]
            self.pages.append({"boxes": boxes, "footer": footer, "map": ax.get_position(),
                               "view": (*ax.get_xlim(), *ax.get_ylim())})
            return save(pdf, figure, **kwargs)

        monkeypatch.setattr(PdfPages, "savefig", measure)


def test_rows_stay_clear_of_the_footer_and_the_map(coded, tmp_path, monkeypatch):
    # issue 18: on pages of forced grids (one more row, "Note") the last row ran into the footer
    grids = coded.grids.copy()
    first = grids["grid_id"] == 1
    grids.loc[first, "forced"] = True
    grids.loc[first, "forced_reason"] = "holds one indivisible place above the band"
    long = ("东至学院路、清华东路辅路与石板房南路交叉口以西的无名巷，南至清华东路（含辅路及北侧人行道），"
            "西至学清路与小月河之间的绿化带，北至成府路南侧中国农业大学东校区围墙及家属区北门外道路")
    grids.loc[first, "limits"] = long
    grids["places"] = ""
    grids.loc[grids["grid_id"] == 2, "places"] = "、".join(f"中国农业大学东校区家属区{i}号院" for i in range(20))
    grids.loc[grids["grid_id"] == 2, "limits"] = long * 3
    pages = _Pages(monkeypatch)
    gatlas.atlas(dataclasses.replace(coded, grids=grids), tmp_path / "forced.pdf", grids=[1, 2, 3])
    gatlas.atlas(dataclasses.replace(coded, grids=grids), tmp_path / "a3.pdf", grids=[1, 2], paper="A3")
    assert len(pages.pages) == 5
    for page in pages.pages:
        footer_top = max(b.y1 for b in page["footer"])
        rows = [b for b in page["boxes"] if b.y1 < page["map"].y0 + 1e-6 and b not in page["footer"]]
        assert len(rows) >= 16  # key and value of every fact
        assert min(b.y0 for b in rows) > footer_top  # clear of the footer
        assert max(b.x1 for b in rows) <= 1.0  # and inside the page
        # nothing else is drawn across the map's bottom edge: each text is above the map or below it
        assert all(b.y0 >= page["map"].y0 or b.y1 <= page["map"].y0 for b in page["boxes"])


def test_long_grid_fills_its_page(coded, tmp_path, monkeypatch):
    # issue 18: a long grid's page zoomed out (a margin of a quarter of its length at each end)
    import shapely

    grids = coded.grids.to_crs(coded.params["work_crs"])
    b = grids.geometry.bounds
    span = (b["maxx"] - b["minx"]).combine((b["maxy"] - b["miny"]), max)
    ratio = span / (b["maxx"] - b["minx"]).combine((b["maxy"] - b["miny"]), min)
    big = span > 250  # larger than the page's least span (200 m) with its margins
    gid = int(grids.loc[big & (ratio == ratio[big].max()), "grid_id"].iloc[0])
    pages = _Pages(monkeypatch)
    gatlas.atlas(coded, tmp_path / "long.pdf", grids=[gid])
    x0, x1, y0, y1 = pages.pages[0]["view"]
    geom = grids.loc[grids["grid_id"] == gid].geometry.iloc[0]
    gx0, gy0, gx1, gy1 = geom.bounds
    assert shapely.box(x0, y0, x1, y1).contains(geom)  # all of it, with a margin
    assert max((gx1 - gx0) / (x1 - x0), (gy1 - gy0) / (y1 - y0)) >= 0.75  # filling the frame along its length
