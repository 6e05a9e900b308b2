"""Errors raised by gridpart.

Every error a user can cause derives from :class:`GridpartError`.  Input
problems raise :class:`InputError` (also a :class:`ValueError`), which lists
*every* problem found, each with the argument, the first offending rows and
the fix, so a planner can repair the data in one pass.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["GridpartError", "InputError", "CRSError", "SolverError", "Problem", "Problems",
           "Repair", "GridpartWarning", "RepairWarning", "TimeLimitWarning", "GridCountWarning", "BandWarning",
           "BigBlockWarning"]

_MAX_IDS = 5


class GridpartError(Exception):
    """Base class of every error gridpart raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem with the input.

    Attributes
    ----------
    argument : str
        The argument (and column) at fault, e.g. ``"households['households']"``.
    message : str
        What was expected and what was found.
    rows : tuple
        The first offending row ids (index labels), possibly empty.
    fix : str
        What the user should do.
    n_rows : int
        How many rows are at fault (``rows`` holds the first few).
    crs : bool
        The problem is with a CRS: when every problem is, :class:`CRSError` is raised.
    """

    argument: str
    message: str
    rows: tuple = ()
    fix: str = ""
    n_rows: int = 0
    crs: bool = False

    def __str__(self) -> str:
        text = f"{self.argument}: {self.message}"
        if self.rows:
            shown = ", ".join(repr(r) for r in self.rows)
            more = f" (and {self.n_rows - len(self.rows)} more)" if self.n_rows > len(self.rows) else ""
            text += f" [rows {shown}{more}]"
        if self.fix:
            text += f" Fix: {self.fix}"
        return text


class InputError(GridpartError, ValueError):
    """Invalid input; ``problems`` lists every problem that was found."""

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("input", problems)]
        self.problems: list[Problem] = list(problems)
        if len(self.problems) == 1:
            text = str(self.problems[0])
        else:
            text = f"{len(self.problems)} problems with the input:\n" + "\n".join(
                f"  - {p}" for p in self.problems
            )
        super().__init__(text)


class CRSError(InputError):
    """Missing, mixed or unusable coordinate reference systems."""


class SolverError(GridpartError):
    """The solver failed in a way that is not the input's fault."""


class GridpartWarning(UserWarning):
    """Base class of every warning gridpart gives on purpose.

    ``warnings.simplefilter("error", gp.errors.GridpartWarning)`` turns them
    all into errors.
    """


class RepairWarning(GridpartWarning):
    """gridpart repaired the input (the ids are in ``plan.params["repairs"]``).

    Filter it like any warning, e.g. ``warnings.simplefilter("error",
    gp.errors.RepairWarning)`` to refuse repairs.
    """


class TimeLimitWarning(GridpartWarning):
    """The wall-clock ``time_limit`` stopped a search before its deterministic budget.

    The plan is valid, but it depends on the machine's speed and load: another
    run, or another machine, may give a different plan.  The sub-problems
    concerned have ``time_capped`` set in ``plan.status``; a larger
    ``time_limit`` gives the reproducible plan.
    """


class GridCountWarning(GridpartWarning):
    """A requested grid count (``n_grids``) cannot be met; the message says what was used."""


class BandWarning(GridpartWarning):
    """The band was softened: no plan found puts every grid in it.

    Given only after the exact model (its candidate centres widened up to
    every pair) and the windowed search have both failed to fit the band.
    It is not a proof that the band is impossible: the grids outside it are
    not marked ``forced``, and ``plan.status["proof"]`` names the softened
    band for the sub-problems concerned.
    """


class BigBlockWarning(GridpartWarning):
    """A block above the band was cut along the dead-end streets inside it.

    The message names the blocks (``block_id``): a block that holds that many
    households often means a gap in the road data.
    """


@dataclass(frozen=True)
class Repair:
    """One repair gridpart made to the input.

    Attributes
    ----------
    argument : str
        The argument (and column) repaired, e.g. ``"roads.geometry"``.
    message : str
        What was found and what was done.
    rows : tuple
        Every affected row id (index label, or community id for communities).
    """

    argument: str
    message: str
    rows: tuple = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-friendly record (``plan.params["repairs"]`` holds a list of these)."""
        return {"argument": self.argument, "message": self.message,
                "rows": [_plain(r) for r in self.rows]}

    def __str__(self) -> str:
        shown = ", ".join(repr(r) for r in self.rows[:_MAX_IDS])
        more = f" (and {len(self.rows) - _MAX_IDS} more)" if len(self.rows) > _MAX_IDS else ""
        return f"{self.argument}: {self.message}" + (f" [rows {shown}{more}]" if self.rows else "")


def _plain(value: Any) -> Any:
    """numpy scalars as Python scalars, so the record survives JSON."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


@dataclass
class Problems:
    """Collects input problems, then raises them all at once.

    Examples
    --------
    >>> problems = Problems()
    >>> problems.add("target", "must be positive, got -3", fix="pass e.g. target=300")
    >>> problems.raise_if_any()
    Traceback (most recent call last):
    ...
    gridpart.errors.InputError: target: must be positive, got -3 Fix: pass e.g. target=300
    """

    items: list[Problem] = field(default_factory=list)
    error: type[InputError] = InputError
    repairs: list[Repair] = field(default_factory=list)

    def repair(self, argument: str, message: str, *, rows: Iterable = (),
               stacklevel: int = 4) -> None:
        """Record a repair and warn about it with a :class:`RepairWarning`.

        Examples
        --------
        >>> import warnings
        >>> problems = Problems()
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     problems.repair("roads.geometry", "dropped 1 row without geometry.", rows=[7])
        >>> problems.repairs[0].as_dict()
        {'argument': 'roads.geometry', 'message': 'dropped 1 row without geometry.', 'rows': [7]}
        >>> str(caught[0].message)
        'roads.geometry: dropped 1 row without geometry. [rows 7]'
        """
        record = Repair(argument, message, tuple(rows))
        self.repairs.append(record)
        warnings.warn(str(record), RepairWarning, stacklevel=stacklevel)

    def add(self, argument: str, message: str, *, rows: Iterable = (), fix: str = "",
            crs: bool | None = None) -> None:
        """Record a problem; ``crs`` says it is one with a CRS (default: the argument
        names one, e.g. ``"roads.crs"``)."""
        rows = list(rows)
        crs = "crs" in argument.lower() if crs is None else bool(crs)
        self.items.append(Problem(argument, message, tuple(rows[:_MAX_IDS]), fix, len(rows), crs))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            crs_only = all(p.crs or "crs" in p.argument.lower() for p in self.items)
            raise (CRSError if crs_only else self.error)(self.items)
