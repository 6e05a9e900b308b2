"""Re-draw the figures the README shows: ``docs/overview.png`` and ``docs/atlas_page.png``.

Run from the repository root: ``python docs/make_figures.py``.  The atlas page
is the PDF page turned into a PNG by ``pdftoppm`` (Debian: poppler-utils).
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

import gridpart as gp  # noqa: E402

HERE = Path(__file__).resolve().parent
CAMPUS = "中国农业大学东校区"  # the atlas page shown is the grid holding most of this campus


def main() -> None:
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


if __name__ == "__main__":
    main()
