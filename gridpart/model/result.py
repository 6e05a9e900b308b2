"""What every strategy returns (:class:`SubResult`), and the words a plan's
columns use for statuses and reasons, as enums.

The enums are :class:`enum.StrEnum`: each member *is* its string, so the
``status``, ``forced_reason`` and ``reason`` columns hold the same text as
before, files do not change, and a member compares equal to its text.  Code
branches on the members; the text is made from them, never parsed.

Examples
--------
>>> Status.OPTIMAL == "OPTIMAL", Status("FEASIBLE") is Status.FEASIBLE
(True, True)
>>> Status.OPTIMAL in SOLVED, Status.UNKNOWN in SOLVED
(True, False)
>>> str(ForcedReason.INDIVISIBLE)
'holds one indivisible place above the band'
>>> note = Note("kept-apart compound parcel 3: dedicated grid(s)", NoteKind.DEDICATED_COMPOUND)
>>> note.kind is NoteKind.DEDICATED_COMPOUND, note == "kept-apart compound parcel 3: dedicated grid(s)"
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
from ortools.sat.python import cp_model

__all__ = ["CP_STATUS", "SOLVED", "STATUS_RANK", "ForcedReason", "Note", "NoteKind", "Status", "SubResult",
           "UnplacedReason", "has_note"]


class Status(StrEnum):
    """How far a model was solved (the ``status`` column of ``plan.status``)."""

    OPTIMAL = "OPTIMAL"
    FEASIBLE = "FEASIBLE"
    INFEASIBLE = "INFEASIBLE"
    UNKNOWN = "UNKNOWN"
    MODEL_INVALID = "MODEL_INVALID"


#: CP-SAT's status codes as :class:`Status` (the one table: cpsat, exact_cut and
#: repartition read it).
CP_STATUS: dict[Any, Status] = {
    cp_model.OPTIMAL: Status.OPTIMAL,
    cp_model.FEASIBLE: Status.FEASIBLE,
    cp_model.INFEASIBLE: Status.INFEASIBLE,
    cp_model.UNKNOWN: Status.UNKNOWN,
    cp_model.MODEL_INVALID: Status.MODEL_INVALID,
}

#: The statuses that come with labels.
SOLVED = frozenset({Status.OPTIMAL, Status.FEASIBLE})

#: Best first: the worst status of several models is the one with the highest rank.
STATUS_RANK: dict[Status, int] = {Status.OPTIMAL: 0, Status.FEASIBLE: 1, Status.UNKNOWN: 2,
                                  Status.INFEASIBLE: 3, Status.MODEL_INVALID: 4}


class ForcedReason(StrEnum):
    """Why a grid is out of the band whatever the plan (``grids["forced_reason"]``)."""

    INDIVISIBLE = "holds one indivisible place above the band"
    SMALL_COMPONENT = "its whole component holds fewer households than the band's lower limit"
    DEDICATED = "dedicated grid of a work unit (units='own'): not sized by the band"
    COMPOUND = "grid of a compound kept apart (compounds='own'): the compound cannot fill in-band grids alone"


class UnplacedReason(StrEnum):
    """Why a household was not placed (``unplaced["reason"]``), where the text is fixed."""

    NOT_ATTACHED = "not attached to any atom"


class NoteKind(StrEnum):
    """What a :class:`Note` on a sub-problem says, for code to branch on."""

    DEDICATED_UNIT = "dedicated unit"
    DEDICATED_COMPOUND = "dedicated compound"


class Note(str):
    """A sub-problem's note (``SubProblem.notes``): its text, plus the :class:`NoteKind`
    code reads instead of the text."""

    kind: NoteKind | None

    def __new__(cls, text: str, kind: NoteKind | None = None) -> Note:
        note = super().__new__(cls, text)
        note.kind = kind
        return note

    def __reduce__(self):
        return (Note, (str(self), self.kind))


def has_note(notes, *kinds: NoteKind) -> bool:
    """Whether one of ``notes`` is of one of ``kinds``."""
    return any(getattr(n, "kind", None) in kinds for n in notes)


@dataclass(frozen=True)
class SubResult:
    """Labels for a sub-problem and how they were found (what every strategy returns).

    ``status`` is read as a :class:`Status` (a strategy may pass its text; a
    text that names no status is kept as given).
    """

    labels: np.ndarray
    status: Status
    method: str
    objective: float
    bound: float
    wall_s: float
    windows: int
    improved: int
    #: the wall-clock ``time_limit`` stopped the search before its deterministic
    #: budget (or before the LNS ran out of windows): the labels depend on the
    #: machine's speed and load, and a run with a larger ``time_limit`` may differ
    time_capped: bool = False
    #: what ``status`` and ``bound`` cover: :data:`gridpart.solvers.lns.PROOF_PROBLEM`
    #: when no restriction of the model solved cuts off a plan the user's problem
    #: allows, else the restrictions in force, ``"; "``-separated (pruned
    #: centres, closer-neighbour contiguity, a softened band, a window model);
    #: empty when the strategy does not say
    proof: str = ""
    #: CP-SAT deterministic seconds budgeted for the sub-problem (NaN: none)
    effort: float = float("nan")

    def __post_init__(self) -> None:
        if not isinstance(self.status, Status) and self.status in Status.__members__:
            object.__setattr__(self, "status", Status(self.status))

    @property
    def gap(self) -> float:
        if not np.isfinite(self.bound) or self.objective == 0:
            return 0.0 if self.objective == self.bound else float("nan")
        return abs(self.objective - self.bound) / max(abs(self.objective), 1e-9)
