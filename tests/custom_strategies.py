"""Strategies defined in an importable module, for tests that run them in worker processes."""

from __future__ import annotations

import dataclasses
import os

from gridpart.solvers.lns import solve_subproblem


def seed_with_pid(sub, *, seed, time_limit, **kwargs):
    """The seed plan, with the id of the process that made it in ``method``."""
    res = solve_subproblem(sub, strategy="seed", seed=seed, time_limit=time_limit)
    return dataclasses.replace(res, method=f"seed in process {os.getpid()}")


def _fail_to_load():
    raise AttributeError("Can't get attribute 'mine' on <module '__mp_main__'>")


class Unloadable:
    """A strategy that pickles here but cannot be loaded in a worker, like a function
    defined under ``if __name__ == "__main__":`` with the spawn start method."""

    def __call__(self, sub, **kwargs):
        return seed_with_pid(sub, **kwargs)

    def __reduce__(self):
        return (_fail_to_load, ())
