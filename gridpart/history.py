"""The edit history of a plan: an append-only list of steps with a cursor.

Every edit (:mod:`gridpart.pipeline.edit`: ``move``, ``lock``, ``unlock``,
``drop_empty``) appends a :class:`HistoryEntry`; :meth:`EditLog.undo` and
:meth:`EditLog.redo` move the cursor.  An undone step stays in the record,
marked ``undone``; a new edit after undos leaves the undone steps in the
record, where they can no longer be redone.

An entry says what was done (time, author, action, atoms, grids from → to,
households moved, note).  What undo needs to give the plan back exactly (the
grid rows before and after, the atoms' grids before and after) rides along
in ``state`` (:class:`StepState`), which is not part of an entry's identity.

Examples
--------
>>> log = EditLog().append(HistoryEntry(time="2026-01-01T00:00:00+00:00", author="li", action="lock", grids=(3,)))
>>> [e.action for e in log.entries], log.cursor
(['lock'], 1)
>>> log.undo_index(), log.redo_index() is None
(0, True)
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import getpass
import os
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ACTIONS", "EditLog", "HistoryEntry", "StepState", "default_author", "now"]

#: Actions an entry can record.
ACTIONS = ("move", "lock", "unlock", "drop_empty")


def now() -> str:
    """The time now, ISO 8601 in UTC, to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def default_author() -> str:
    """The author of an edit when none is given: ``$USER`` (else the login name, else ``"unknown"``)."""
    user = os.environ.get("USER") or os.environ.get("USERNAME")
    if user:
        return user
    try:
        return getpass.getuser()
    except Exception:  # no login name on this system
        return "unknown"


@dataclass(frozen=True)
class StepState:
    """What undo and redo need to give a step's plan back exactly.

    Attributes
    ----------
    rows_before, rows_after : GeoDataFrame
        The rows of ``plan.grids`` the step replaced and the ones it put in
        (same index labels; a grid made by the step has no row before, a
        grid dropped none after).
    atom_ids : ndarray of int
        The atoms the step moved.
    grids_before, grids_after : ndarray of int
        Their grids before and after (-1: none).
    added_locked : bool
        The step added the ``locked`` column.
    records : tuple
        ``(before, after)`` run records when the step changed the record (codes retired), else empty.
    """

    rows_before: Any
    rows_after: Any
    atom_ids: Any
    grids_before: Any
    grids_after: Any
    added_locked: bool = False
    records: tuple = ()


@dataclass(frozen=True)
class HistoryEntry:
    """One step of a plan's history.

    Attributes
    ----------
    time : str
        ISO 8601, UTC.
    author : str
    action : str
        One of :data:`ACTIONS`.
    atoms : tuple of int
        The atoms moved (a move).
    from_grids : tuple of int
        The grids the atoms came from (a move).
    to_grid : int or None
        The grid they went to (a move).
    grids : tuple of int
        The grids touched: locked, unlocked, dropped, or from and to of a move.
    households_moved : float
        Households in the atoms moved.
    came_along : tuple
        For a move by households: the other households of their atoms, which moved too.
    note : str
    undone : bool
        The step was undone (it stays in the record).
    state : StepState or None
        What undo and redo need (not part of the entry's identity; stored in
        the GeoPackage's ``history_grids``, ``history_atoms`` and ``history_state`` layers).
    """

    time: str
    author: str
    action: str
    atoms: tuple = ()
    from_grids: tuple = ()
    to_grid: int | None = None
    grids: tuple = ()
    households_moved: float = 0.0
    came_along: tuple = ()
    note: str = ""
    undone: bool = False
    state: Any = field(default=None, compare=False, repr=False)

    def as_dict(self) -> dict:
        """The entry as plain data (no ``state``)."""
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "state"}
        for k in ("atoms", "from_grids", "grids", "came_along"):
            d[k] = list(d[k])
        return d


@dataclass(frozen=True)
class EditLog:
    """The entries of a plan's history; ``undone`` holds the positions of undone steps."""

    entries: tuple = ()
    undone: frozenset = frozenset()

    @property
    def cursor(self) -> int:
        """How many steps are in effect up to the last one not undone (1 + its position; 0 for none)."""
        done = [i for i in range(len(self.entries)) if i not in self.undone]
        return done[-1] + 1 if done else 0

    def view(self) -> list[HistoryEntry]:
        """The entries, each marked ``undone`` where it was."""
        return [dataclasses.replace(e, undone=i in self.undone) for i, e in enumerate(self.entries)]

    def append(self, entry: HistoryEntry) -> EditLog:
        """The log with ``entry`` at the end (steps undone before stay undone, and can no longer be redone)."""
        return EditLog(self.entries + (entry,), self.undone)

    def undo_index(self) -> int | None:
        """Position of the step :meth:`undo` would undo: the last one in effect."""
        c = self.cursor
        return c - 1 if c else None

    def redo_index(self) -> int | None:
        """Position of the step a redo would redo: the first undone step after the last one in effect."""
        c = self.cursor
        return c if c < len(self.entries) else None

    def mark(self, index: int, undone: bool) -> EditLog:
        """The log with step ``index`` marked undone (or in effect again)."""
        return EditLog(self.entries, self.undone | {index} if undone else self.undone - {index})
