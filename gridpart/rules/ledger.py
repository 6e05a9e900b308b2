"""The street office's register (网格登记表): one row per grid, ready for Excel.

Columns, in Chinese (``language="zh"``) or English (``"en"``):

=========================  =================  ====================================
Chinese                    English            what
=========================  =================  ====================================
网格编码                   code               community code + sequence
所属社区                   community          community name, else its id
社区编码                   community_code     12 digits (generated codes flagged)
编码来源                   code_source        given / generated (生成)
网格类型                   kind               单位型 / 小区型 / 街巷型
户数                       households
人数                       persons            empty when unknown
面积（平方米）             area_m2            rounded to 1 m²
东至 南至 西至 北至        east … north       the four limits, side by side
四至                       limits             the full text
辖区小区/单位              places             compounds and units inside
=========================  =================  ====================================

Written with :func:`write_register`: CSV in UTF-8 with a byte-order mark
(``utf-8-sig``) so that Excel opens Chinese text correctly, or ``.xlsx``
through openpyxl (the optional extra ``gridpart[excel]``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from gridpart.errors import Problems
from gridpart.rules.four_limits import SIDES, english_label, english_names, limits_text
from gridpart.rules.kinds import KIND_ZH

__all__ = ["register", "write_register", "COLUMNS_ZH"]

#: English column -> Chinese header.
COLUMNS_ZH = {
    "code": "网格编码", "community": "所属社区", "community_code": "社区编码", "code_source": "编码来源",
    "kind": "网格类型", "households": "户数", "persons": "人数", "area_m2": "面积（平方米）",
    "east": "东至", "south": "南至", "west": "西至", "north": "北至", "limits": "四至",
    "places": "辖区小区/单位",
}
_SOURCE_ZH = {"given": "统计用区划代码", "generated": "生成（待核定）"}


def _check_language(language: str) -> None:
    if language not in ("zh", "en"):
        problems = Problems()
        problems.add("language", f"must be 'zh' or 'en', got {language!r}", fix="language='zh'")
        problems.raise_if_any()


def register(plan, *, language: str = "zh") -> pd.DataFrame:
    """One row per grid in code order: code, community, kind, counts, area, four limits, places.

    Parameters
    ----------
    plan : GridPlan
        A plan from :func:`gridpart.partition` (or :func:`gridpart.read_plan`).
    language : {"zh", "en"}
        Headers and text in Chinese or English.

    Returns
    -------
    DataFrame
        The columns of the module table, in that order.

    Raises
    ------
    InputError
        An unknown language, or a plan without codes and limits (made before
        grids were named).

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> list(register(plan).columns[:3])
    ['网格编码', '所属社区', '社区编码']
    """
    _check_language(language)
    g = plan.grids
    missing = [c for c in ("code", "kind", "limits") + tuple(f"limit_{s}" for s in SIDES) if c not in g]
    if missing:
        problems = Problems()
        problems.add("plan.grids", f"has no {missing} columns: the plan was made before grids were named",
                     fix="partition again with this version of gridpart")
        problems.raise_if_any()
    cc = plan.record.community_codes or {}
    cid = g["community_id"].astype(str)
    name = cid.map(lambda c: (cc.get(c) or {}).get("name") or c)
    ccode = cid.map(lambda c: (cc.get(c) or {}).get("code") or str(g.loc[cid == c, "code"].iloc[0])[:12])
    source = cid.map(lambda c: (cc.get(c) or {}).get("code_source") or "generated")
    persons = g["persons"].astype(float)
    out = pd.DataFrame({
        "code": g["code"].astype(str),
        "community": name,
        "community_code": ccode,
        "code_source": source,
        "kind": g["kind"],
        "households": np.round(g["households"].astype(float)).astype("Int64"),
        "persons": persons.round(1).where(persons.notna(), None),
        "area_m2": np.round(g["area_m2"].astype(float)).astype("Int64"),
    })
    for s in SIDES:
        out[s] = g[f"limit_{s}"].astype(str)
    out["limits"] = g["limits"].astype(str)
    out["places"] = g["places"].fillna("").astype(str) if "places" in g else ""
    out = out.sort_values("code", kind="stable").reset_index(drop=True)
    if language == "en":
        en = english_names(plan.roads) if plan.roads is not None else {}
        for s in SIDES:
            out[s] = [english_label(v, en) for v in out[s]]
        out["limits"] = limits_text(pd.DataFrame({f"{s}_en": out[s] for s in SIDES}), language="en")
        return out
    out["kind"] = out["kind"].map(KIND_ZH).fillna(out["kind"])
    out["code_source"] = out["code_source"].map(_SOURCE_ZH).fillna(out["code_source"])
    return out.rename(columns=COLUMNS_ZH)


def write_register(plan, path: str | os.PathLike, *, language: str = "zh") -> Path:
    """Write :func:`register` to ``.csv`` (UTF-8 with BOM) or ``.xlsx``.

    Parameters
    ----------
    plan : GridPlan
    path : str or PathLike
        Ends in ``.csv`` or ``.xlsx``; the folder must exist.
    language : {"zh", "en"}

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    InputError
        Another suffix, a missing folder or an unknown language.
    ImportError
        ``.xlsx`` without openpyxl (``pip install gridpart[excel]``).

    Examples
    --------
    >>> import gridpart as gp, tempfile, pathlib
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> p = write_register(plan, pathlib.Path(tempfile.mkdtemp()) / "grids.csv")
    >>> p.read_bytes()[:3] == b"\\xef\\xbb\\xbf"
    True
    """
    path = Path(path)
    problems = Problems()
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        problems.add("path", f"must end in .csv or .xlsx, got {path.name!r}", fix="e.g. 'register.xlsx'")
    if not path.parent.exists():
        problems.add("path", f"folder {str(path.parent)!r} does not exist", fix="create it first")
    problems.raise_if_any()
    table = register(plan, language=language)
    if suffix == ".csv":
        table.to_csv(path, index=False, encoding="utf-8-sig")
        return path
    try:
        import openpyxl  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("writing .xlsx needs openpyxl: pip install 'gridpart[excel]' "
                          "(or write .csv, which Excel opens too)") from exc
    sheet = "网格登记表" if language == "zh" else "register"
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name=sheet, index=False)
        ws = xl.sheets[sheet]
        for col, header in zip(ws.columns, table.columns):
            width = max([len(str(header))] + [len(str(v)) for v in table[header].head(200)])
            ws.column_dimensions[col[0].column_letter].width = min(60, max(8, width * 1.6 + 2))
        ws.freeze_panes = "A2"
    return path

