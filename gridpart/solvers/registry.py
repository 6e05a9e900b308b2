"""The strategy registry: the strategies :func:`gridpart.partition` can run, by name.

A strategy is a function ``fn(sub: SubProblem, *, seed, time_limit) ->
SubResult`` (the protocol is :func:`register_strategy`'s docstring).  The
built-in ones (``"auto"``, ``"exact"``, ``"lns"``, ``"seed"``) are
:func:`gridpart.solvers.lns.solve_subproblem` under each of its strategies;
:func:`gridpart.bench.register_peers` adds the peers.  :func:`lookup_strategy`
turns what ``partition(strategy=...)`` was given into a :class:`Strategy`, and
:func:`check_result` checks what a strategy returned.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from gridpart.errors import Problems, SolverError
from gridpart.model.problem import SubProblem
from gridpart.solvers.lns import SubResult, solve_subproblem

__all__ = ["STRATEGIES", "BUILTIN_STRATEGIES", "Strategy", "StrategyFn", "register_strategy", "lookup_strategy",
           "strategy_name", "accepts_effort", "check_result"]

StrategyFn = Callable[..., SubResult]
#: The strategies by name (``partition(strategy=name)``); :func:`register_strategy` adds to it.
STRATEGIES: dict[str, StrategyFn] = {}
#: The strategies gridpart registers itself: :func:`gridpart.solvers.lns.solve_subproblem`'s.
BUILTIN_STRATEGIES = ("auto", "exact", "lns", "seed")


def register_strategy(name: str, fn: StrategyFn) -> None:
    """Register a strategy: ``fn(sub: SubProblem, *, seed, time_limit) -> SubResult``.

    The strategy protocol.  :func:`gridpart.partition` builds the atoms (street blocks
    and the building cells of big blocks), their adjacency and one
    :class:`~gridpart.model.problem.SubProblem` per community and connected
    component, then calls ``fn`` once per sub-problem; ``partition(...,
    strategy=name)`` then uses ``fn``.  The sub-problem holds, in local
    indices ``0..sub.n-1``: ``weight`` (households per atom), ``persons``,
    ``xy`` (centroids, metres), ``edges`` (adjacent pairs), ``cut_cost`` and
    ``length`` per edge, ``band`` (``lo``, ``hi``, ``centre`` households),
    ``k`` (the grid count) and ``forced`` (atoms above the band on their own).
    ``fn`` returns a :class:`~gridpart.solvers.lns.SubResult` whose ``labels``
    give each atom its grid, ``0..k'-1`` (any ``k'``: peers such as max-p
    choose their own count); ``status`` is ``"OPTIMAL"``, ``"FEASIBLE"`` or
    ``"UNKNOWN"``, ``objective`` and ``bound`` may be NaN.  ``seed`` and
    ``time_limit`` (seconds per sub-problem) are passed by keyword; a strategy
    may ignore them.

    What ``fn`` returns is checked: a ``SubResult`` with one whole-number
    label ``>= 0`` per atom (gaps in the numbering are closed), every grid one
    connected piece of the atom graph (``sub.edges``).  Anything else raises a
    :class:`~gridpart.errors.SolverError` naming the strategy, the
    sub-problem and what is wrong.  A strategy whose grids may come in pieces
    on purpose — a peer to be scored as it is, such as METIS without its
    contiguous option — says so with the attribute ``fn.contiguous_labels =
    False``; its grids are then kept as they come (the scorecard's contiguity
    figure shows them).

    With ``partition(..., n_jobs=2)`` or more, a registered strategy runs in
    worker processes: ``fn`` itself is sent to them (so it must pickle: a
    module-level function, or a :func:`functools.partial` of one; it need not
    be registered in the workers).  One that does not pickle — a lambda, a
    nested function — is run in the calling process, one sub-problem at a
    time, with a log message saying so.  A callable passed directly as
    ``partition(strategy=fn)`` always runs in the calling process.

    Everything downstream — the plan, its scorecard
    (:func:`gridpart.score`), maps — is the same for every strategy, which is
    what :mod:`gridpart.bench` relies on to compare them; its peers' adapters
    (:mod:`gridpart.solvers.peers`) are registered by
    :func:`gridpart.bench.register_peers`.

    Parameters
    ----------
    name : str
        The name ``partition(strategy=...)`` and ``gridpart bench
        --strategies`` accept; registering a name again replaces it.
    fn : callable

    Raises
    ------
    InputError
        ``name`` is not a non-empty string or ``fn`` is not callable.

    Examples
    --------
    >>> from gridpart.solvers.lns import solve_subproblem
    >>> register_strategy("seed_only", lambda sub, **kw: solve_subproblem(sub, strategy="seed", **kw))
    >>> "seed_only" in STRATEGIES
    True
    """
    problems = Problems()
    if not isinstance(name, str) or not name.strip():
        problems.add("name", f"must be a non-empty string, got {name!r}", fix='e.g. register_strategy("mine", fn)')
    if not callable(fn):
        problems.add("fn", f"must be callable as fn(sub, *, seed, time_limit), got {type(fn).__name__}",
                     fix="pass a function")
    problems.raise_if_any()
    STRATEGIES[name] = fn


for _name in BUILTIN_STRATEGIES:
    # partials of a module-level function pickle, so worker processes get them as they are
    register_strategy(_name, functools.partial(solve_subproblem, strategy=_name))


@dataclasses.dataclass(frozen=True)
class Strategy:
    """A strategy as :func:`gridpart.partition` runs it: its name for messages, the
    function, and whether it was given by its registered name (then it may run in
    worker processes; a callable given directly runs in the calling process)."""

    name: str
    fn: StrategyFn
    registered: bool


def lookup_strategy(strategy: str | StrategyFn, *, objective: str = "compact") -> Strategy:
    """The :class:`Strategy` for ``partition(strategy=..., objective=...)``.

    ``strategy`` is a registered name or a callable; ``"exact"`` with
    ``objective="cut"`` is :func:`gridpart.solvers.exact_cut.solve_exact_cut`'s
    objective under the exact strategy.

    Examples
    --------
    >>> s = lookup_strategy("seed")
    >>> (s.name, s.registered)
    ('seed', True)
    >>> lookup_strategy("exact", objective="cut").fn.keywords
    {'strategy': 'exact', 'objective': 'cut'}
    """
    registered = isinstance(strategy, str)
    fn = STRATEGIES[strategy] if isinstance(strategy, str) else strategy
    if strategy == "exact" and objective == "cut":
        fn = functools.partial(solve_subproblem, strategy="exact", objective="cut")
    return Strategy(name=strategy_name(strategy), fn=fn, registered=registered)


def strategy_name(strategy) -> str:
    """A strategy's name for messages: the registered name, else the callable's name."""
    if isinstance(strategy, str):
        return strategy
    inner = getattr(strategy, "func", strategy)  # functools.partial
    return getattr(inner, "__name__", None) or type(strategy).__name__



def accepts_effort(fn) -> bool:
    """Whether a strategy callable takes an ``effort=`` keyword (or ``**kwargs``)."""
    if not callable(fn):
        return True  # an unknown strategy is reported on its own
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True  # cannot tell: let the call say
    return any(p.name == "effort" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


_SUBRESULT_FIX = ("return gridpart.solvers.lns.SubResult(labels=..., status='FEASIBLE', method='...', "
                  "objective=float('nan'), bound=float('nan'), wall_s=..., windows=0, improved=0) with one "
                  "label 0, 1, ... per atom of the sub-problem")


def check_result(res, sub: SubProblem, name: str, *, contiguous: bool = True) -> SubResult:
    """The strategy's result, checked: a SubResult with one whole label >= 0 per atom,
    every grid connected (unless the strategy says its grids may come in pieces).

    Labels are renumbered 0..k'-1 in the order of their values.  Anything else
    raises a :class:`~gridpart.errors.SolverError` naming the strategy, the
    sub-problem, what is wrong and what a strategy must return.
    """
    where = f"strategy {name!r} on community {sub.community_id!r}, component {sub.component} ({sub.n} atoms)"

    def fail(what: str, fix: str = _SUBRESULT_FIX):
        raise SolverError(f"{where}: {what} Fix: {fix}.")

    if not isinstance(res, SubResult):
        fail(f"returned {type(res).__module__}.{type(res).__qualname__}, not a SubResult.")
    try:
        labels = np.asarray(res.labels)
    except (TypeError, ValueError) as exc:
        fail(f"returned labels that are not an array ({type(exc).__name__}: {exc}).")
    if labels.ndim != 1 or len(labels) != sub.n:
        fail(f"returned labels of shape {labels.shape}; expected one label per atom, shape ({sub.n},).")
    if labels.dtype.kind not in "iuf":
        fail(f"returned labels of dtype {labels.dtype}; expected whole numbers (integers).")
    if labels.dtype.kind == "f":
        bad = ~np.isfinite(labels) | (labels != np.round(labels))
        if bad.any():
            fail(f"returned labels that are not whole numbers, e.g. {labels[bad][:3].tolist()} at atoms "
                 f"{np.flatnonzero(bad)[:5].tolist()}.")
    if sub.n and labels.min() < 0:
        neg = np.flatnonzero(labels < 0)
        fail(f"returned negative labels (e.g. {labels[neg[0]].item()!r}) for {len(neg)} atoms, "
             f"first {neg[:5].tolist()}; "
             "every atom must be given a grid.")
    _, dense = np.unique(labels.astype(np.int64), return_inverse=True)
    dense = dense.ravel().astype(np.int64)
    if contiguous and sub.n:
        pieces = _grid_pieces(sub, dense)
        if len(pieces):
            fail(f"{len(pieces)} of its {int(dense.max()) + 1} grids are not contiguous (labels "
                 f"{np.unique(labels)[pieces][:5].tolist()} each cover atoms that no path inside the grid "
                 "joins): a grid must be one connected piece of the atom graph (sub.edges).",
                 fix="return contiguous labels (e.g. split each grid into its connected pieces), or set "
                     "fn.contiguous_labels = False on a strategy whose pieces are to be scored as they are "
                     "(a peer such as METIS without its contiguous option)")
    if not np.array_equal(dense, labels):
        res = dataclasses.replace(res, labels=dense)
    return res


def _grid_pieces(sub: SubProblem, labels: np.ndarray) -> np.ndarray:
    """Labels whose atoms are not one connected piece of the sub-problem's graph."""
    e = sub.edges
    same = labels[e[:, 0]] == labels[e[:, 1]] if len(e) else np.zeros(0, bool)
    graph = sp.coo_matrix((np.ones(int(same.sum())), (e[same, 0], e[same, 1])), shape=(sub.n, sub.n))
    n_pieces, piece = connected_components(graph, directed=False)
    k = int(labels.max()) + 1
    # pieces per label: each piece lies in one label
    owner = np.zeros(n_pieces, dtype=np.int64)
    owner[piece] = labels
    return np.flatnonzero(np.bincount(owner, minlength=k) > 1)
