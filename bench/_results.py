"""Where benchmarks leave their figures: one JSON file each under bench/results/ (or under
the folder ``SNNGEN_BENCH_RESULTS`` names, which ``snngen bench --results`` sets)."""

from __future__ import annotations

import json
import os
from pathlib import Path

RESULTS = Path(os.environ.get("SNNGEN_BENCH_RESULTS") or Path(__file__).resolve().parent / "results")


def write_results(name: str, data) -> Path:
    """Write ``data`` to ``bench/results/<name>.json`` and say so."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {path}")
    return path


def previous_results(name: str) -> list:
    """The rows ``bench/results/<name>.json`` holds (a list), or none."""
    path = RESULTS / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return []
    return data if isinstance(data, list) else []
