"""The change table between two plans of one area, grid by grid, for approval.

Grids are matched by **code** (codes are stable through edits: DESIGN §4),
households by index.  A grid is ``same`` (same households), ``changed``,
``new`` (its code is only in the second plan) or ``gone`` (only in the first).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from gridpart.errors import Problems

__all__ = ["STATES", "diff_plans"]

#: What became of a grid, by code.
STATES = ("same", "changed", "new", "gone")


def _code_of(plan) -> pd.Series:
    """Per household row: the code of its grid (None when unplaced)."""
    codes = plan.grids.set_index("grid_id")["code"]
    gid = pd.array(plan.households["grid_id"], dtype="Int64")
    out = codes.reindex(np.asarray(gid.fillna(-1), dtype=np.int64)).to_numpy()
    return pd.Series(out, index=plan.households.index, dtype=object)


def diff_plans(a, b) -> pd.DataFrame:
    """One row per grid code of either plan: what the change from ``a`` to ``b`` did to it.

    Parameters
    ----------
    a, b : GridPlan
        Two plans of one area and one households layer (the same index).

    Returns
    -------
    DataFrame
        ``code``, ``grid_id_a``, ``grid_id_b``, ``households_a``,
        ``households_b``, ``households_in`` (households that came from other
        grids), ``households_out`` (that left for other grids), ``from``
        (codes they came from), ``to`` (codes they went to) and ``state``
        (one of :data:`STATES`); the changed grids first, then by code.

    Raises
    ------
    InputError
        When the plans do not hold the same household rows.

    Examples
    --------
    >>> import gridpart as gp
    >>> s = gp.datasets.load_sample()
    >>> plan = gp.partition(s.roads, s.households, study_area=s.study_area, strategy="seed")
    >>> d = diff_plans(plan, plan.move(atoms=[0], to="new"))
    >>> d[d["state"] != "same"][["grid_id_b", "households_out", "households_in", "state"]].to_dict("records")
    [{'grid_id_b': 21, 'households_out': 72.0, 'households_in': 0.0, 'state': 'changed'}, \
{'grid_id_b': 56, 'households_out': 0.0, 'households_in': 72.0, 'state': 'new'}]
    """
    ha, hb = a.households, b.households
    if not ha.index.equals(hb.index) and set(ha.index) != set(hb.index):
        problems = Problems()
        only = ha.index.symmetric_difference(hb.index)
        problems.add("b", f"the plans hold different household rows ({len(only)} rows in one plan only)",
                     rows=list(only), fix="compare two plans of one area drawn from one households layer")
        problems.raise_if_any()
    ca, cb = _code_of(a), _code_of(b).reindex(ha.index)
    weight = ha["households"].to_numpy(dtype=float) if "households" in ha else np.ones(len(ha))
    moved = pd.DataFrame({"from": ca.to_numpy(), "to": cb.to_numpy(), "w": weight})
    moved = moved[moved["from"].fillna("") != moved["to"].fillna("")]
    ga = a.grids.set_index("code")
    gb = b.grids.set_index("code")
    codes = sorted(set(ga.index.dropna()) | set(gb.index.dropna()))
    rows = []
    for code in codes:
        out_ = moved[moved["from"] == code]
        in_ = moved[moved["to"] == code]
        in_a, in_b = code in ga.index, code in gb.index
        state = "new" if not in_a else "gone" if not in_b else "changed" if len(out_) or len(in_) else "same"
        rows.append({
            "code": code,
            "grid_id_a": int(ga.loc[code, "grid_id"]) if in_a else pd.NA,
            "grid_id_b": int(gb.loc[code, "grid_id"]) if in_b else pd.NA,
            "households_a": float(ga.loc[code, "households"]) if in_a else 0.0,
            "households_b": float(gb.loc[code, "households"]) if in_b else 0.0,
            "households_in": float(in_["w"].sum()), "households_out": float(out_["w"].sum()),
            "from": ";".join(sorted({c for c in in_["from"] if isinstance(c, str)})),
            "to": ";".join(sorted({c for c in out_["to"] if isinstance(c, str)})),
            "state": state,
        })
    out = pd.DataFrame(rows, columns=["code", "grid_id_a", "grid_id_b", "households_a", "households_b",
                                      "households_in", "households_out", "from", "to", "state"])
    for c in ("grid_id_a", "grid_id_b"):
        out[c] = out[c].astype("Int64")
    out["_same"] = out["state"] == "same"
    return out.sort_values(["_same", "code"], kind="stable").drop(columns="_same").reset_index(drop=True)
