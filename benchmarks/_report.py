"""Shared by the benchmark scripts: a Markdown table headed by the machine it ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def write_table(rows: list[dict], settings: str, out: Path | None) -> str:
    """Print ``rows`` as a Markdown table under a machine line; write it to ``out`` too."""
    cols = list(rows[0])
    lines = [
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}; {settings}",
        "",
        "| " + " | ".join(cols) + " |",
        "|" + "---|" * len(cols),
    ]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    text = "\n".join(lines)
    print(text)
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text + "\n")
    return text
