"""The version of gridpart, written in this one place (pyproject.toml reads it)."""

__version__ = "0.2.0"
