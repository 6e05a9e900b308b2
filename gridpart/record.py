"""The run record: what a plan was drawn with (:class:`RunRecord`).

Every parameter, the seed, the version and the working CRS of a run, plus what
later steps added (community codes, recodes, retired codes, a repartition's
settings).  It is a frozen dataclass: a step that adds to it builds a new one
with :func:`dataclasses.replace`.

It is turned into a JSON-able dict in one place, :meth:`RunRecord.to_dict`
(the ``params`` row of a GeoPackage's ``metadata`` layer, and the read-only
:attr:`gridpart.GridPlan.params`), and read back in one place,
:meth:`RunRecord.from_dict`, which also reads the records gridpart 0.1.0 wrote
(the target saved as its ``repr``).

Examples
--------
>>> from gridpart.inputs.schema import Target
>>> r = RunRecord(target=Target(300, persons=800), band=(240.0, 360.0), seed=3)
>>> d = r.to_dict()
>>> d["target"], d["band"], d["seed"]
({'households': 300, 'persons': 800, 'tolerance': 0.2, 'persons_hard': False}, [240.0, 360.0], 3)
>>> RunRecord.from_dict(d) == r
True
>>> RunRecord.from_dict({"target": "Target(households=300, persons=None, tolerance=0.2, persons_hard=False)"}).target
Target(households=300, persons=None, tolerance=0.2, persons_hard=False)
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from gridpart.inputs.schema import Target

__all__ = ["ParamsView", "RepartitionRecord", "RunRecord", "target_from_dict", "target_to_dict"]


def target_to_dict(target: Target) -> dict[str, Any]:
    """A target as a JSON-able dict (bands as lists)."""
    return {f.name: _plain(getattr(target, f.name)) for f in dataclasses.fields(target)}


def target_from_dict(data: Mapping[str, Any]) -> Target | None:
    """The target :func:`target_to_dict` wrote; ``None`` when it is not one this version can read."""
    names = {f.name for f in dataclasses.fields(Target)}
    if not isinstance(data, Mapping) or not set(data) <= names:
        return None
    kw: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return Target(**kw)
    except (TypeError, ValueError):  # InputError is a ValueError
        return None


_LEGACY_TARGET = re.compile(r"\s*Target\((?P<args>.*)\)\s*", re.S)
_LEGACY_ARG = re.compile(r"\s*(?P<key>[a-z_]+)=(?P<value>\([^()]*\)|[^,()]+)\s*(?:,|$)")
_LEGACY_WORDS = {"None": "null", "True": "true", "False": "false"}


def _legacy_target(text: str) -> Target | None:
    """The ``repr`` of a :class:`Target` that gridpart 0.1.0 recorded, read as keyword
    literals (numbers, tuples of numbers, None, True, False) and never evaluated.

    >>> _legacy_target("Target(households=(300, 500), persons=1000, tolerance=0.1, persons_hard=True)")
    Target(households=(300.0, 500.0), persons=1000, tolerance=0.1, persons_hard=True)
    >>> _legacy_target("__import__('os')") is None
    True
    """
    m = _LEGACY_TARGET.fullmatch(text)
    if m is None:
        return None
    args, pos = {}, 0
    body = m.group("args")
    while pos < len(body):
        a = _LEGACY_ARG.match(body, pos)
        if a is None or a.end() == pos:
            return None
        value = a.group("value").strip()
        value = "[" + value[1:-1] + "]" if value.startswith("(") else value
        value = _LEGACY_WORDS.get(value, value)
        try:
            args[a.group("key")] = json.loads(value)
        except ValueError:
            return None
        pos = a.end()
    return target_from_dict(args)


def _plain(value: Any) -> Any:
    """Tuples as lists, the way JSON holds them."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class RepartitionRecord:
    """What :func:`gridpart.repartition` was asked to keep and how (its settings)."""

    rebalance: bool = False
    locked: tuple[int, ...] = ()
    scope: str = "changed"
    old_band: tuple[float, float] | None = None
    old_persons_band: tuple[float | None, float | None, bool] | None = None
    old_grids: int = 0
    window_time: float = 0.0
    max_rings: int = 0


#: The keys of :class:`RepartitionRecord`, written flat among the others.
_REPARTITION_KEYS = tuple(f.name for f in dataclasses.fields(RepartitionRecord))

#: Keys written only when set (a later step adds them).
_WHEN_SET = ("persons_out_of_band", "recodes", "retired_codes", "attribution")


@dataclass(frozen=True)
class RunRecord:
    """What a plan was drawn with (``plan.record``; ``plan.params`` is its read-only dict view).

    Attributes
    ----------
    parcels : int or None
        Parcels given (their count).
    community_codes : dict
        ``{community_id: {"code", "code_source", "name"}}``.
    target : Target or None
        The target asked for.
    band, persons_band
        The household band ``(low, high)``; the persons band
        ``(low, high, hard)`` or ``None``.
    roads_are, strategy, objective, time_limit, effort, seed, n_jobs, units, compounds, compactness
        The options of :func:`gridpart.partition`.
    version : str
        gridpart's version.
    dead_ends : dict
        Dead ends of the road network, by what was done with them.
    coords : dict
        Coordinate systems the inputs were converted from (``{"households": "gcj02"}``).
    repairs : list of dict
        What gridpart repaired in the input (:meth:`gridpart.errors.Repair.as_dict`).
    work_crs : str
        The metric CRS the plan was drawn in.
    timings : dict
        Seconds per stage.
    repartition : RepartitionRecord or None
        The settings of :func:`gridpart.repartition` (written flat).
    persons_out_of_band : int or None
        Grids outside the persons band (repartition with a persons target).
    recodes : list or None
        What :func:`gridpart.rules.naming.recode` did, in order.
    retired_codes : list of str or None
        Codes no longer in use, never handed out again.
    attribution : str or None
        Data attribution for maps.
    extra : dict
        Keys this version does not know (kept as read).
    """

    parcels: int | None = None
    community_codes: Mapping[str, Any] = field(default_factory=dict)
    target: Target | None = None
    band: tuple[float, float] | None = None
    persons_band: tuple[float, float, bool] | None = None
    roads_are: Any = None
    strategy: str | None = None
    objective: str | None = None
    time_limit: float | None = None
    effort: float | None = None
    seed: int | None = None
    n_jobs: int | None = None
    units: str | None = None
    compounds: str | None = None
    version: str | None = None
    compactness: float | None = None
    dead_ends: Any = None
    coords: Mapping[str, str] = field(default_factory=dict)
    repairs: tuple[Mapping[str, Any], ...] = ()
    work_crs: str | None = None
    timings: Mapping[str, float] = field(default_factory=dict)
    repartition: RepartitionRecord | None = None
    persons_out_of_band: int | None = None
    recodes: tuple[Mapping[str, Any], ...] | None = None
    retired_codes: tuple[str, ...] | None = None
    attribution: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @cached_property
    def _as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "target":
                out["target"] = None if value is None else target_to_dict(value)
            elif f.name == "repartition":
                if value is not None:
                    out.update({k: getattr(value, k) for k in _REPARTITION_KEYS})
            elif f.name == "extra":
                out.update(value)
            elif f.name not in _WHEN_SET or value is not None:
                out[f.name] = value
        # the JSON form, so that a plan read back from a file equals the one written
        return json.loads(json.dumps(out, default=str, ensure_ascii=False))

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-able dict (the one place it is serialised)."""
        return json.loads(json.dumps(self._as_dict, ensure_ascii=False))

    def to_json(self) -> str:
        """The record as JSON text (a GeoPackage's ``metadata`` layer holds it)."""
        return json.dumps(self._as_dict, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> RunRecord:
        """A record from :meth:`to_dict`'s dict, or from the params a gridpart 0.1.0
        plan file holds (its target a ``repr``, read without evaluating it)."""
        if isinstance(data, ParamsView):
            return data.record
        data = dict(data or {})
        names = {f.name for f in dataclasses.fields(cls)} - {"repartition", "extra"}
        kw: dict[str, Any] = {}
        if any(k in data for k in _REPARTITION_KEYS):
            rep = {k: data.pop(k) for k in _REPARTITION_KEYS if k in data}
            for k in ("locked", "old_band", "old_persons_band"):
                if isinstance(rep.get(k), list):
                    rep[k] = tuple(rep[k])
            kw["repartition"] = RepartitionRecord(**rep)
        for name in names & set(data):
            value = data.pop(name)
            if name == "target":
                value = (_legacy_target(value) if isinstance(value, str)  # 0.1.0: the repr
                         else target_from_dict(value) if isinstance(value, Mapping) else None)
            elif name in ("band", "persons_band", "repairs", "recodes", "retired_codes") and isinstance(value, list):
                value = tuple(value)
            elif name in ("community_codes", "coords", "timings") and value is None:
                value = {}
            kw[name] = value
        return cls(**kw, extra=data)

    @classmethod
    def from_json(cls, text: str) -> RunRecord:
        """A record from :meth:`to_json`'s text (or a 0.1.0 file's ``params``); empty when it is no dict."""
        data = json.loads(text)
        return cls.from_dict(data if isinstance(data, dict) else {})


class ParamsView(Mapping):
    """``plan.params``: a read-only dict view of a :class:`RunRecord`.

    >>> view = ParamsView(RunRecord(seed=3))
    >>> view["seed"]
    3
    >>> view["seed"] = 4  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    TypeError: plan.params is read-only: build a new record, e.g. ...
    """

    __slots__ = ("record",)

    def __init__(self, record: RunRecord) -> None:
        self.record = record

    def __getitem__(self, key: str) -> Any:
        value = self.record._as_dict[key]
        return copy.deepcopy(value) if isinstance(value, (dict, list)) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self.record._as_dict)

    def __len__(self) -> int:
        return len(self.record._as_dict)

    def __repr__(self) -> str:
        return repr(self.record._as_dict)

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("plan.params is read-only: build a new record, e.g. "
                        "dataclasses.replace(plan, record=dataclasses.replace(plan.record, ...))")

    __setitem__ = __delitem__ = update = setdefault = pop = popitem = clear = _read_only
