"""Where the shared, read-only test corpus lives (`../shared/corpus/` beside the project).

Tests, benchmarks and `make eval` read real feeds from it. A checkout somewhere else (a CI clone in a
temporary directory) finds it through WIREWATCH_SHARED_DIR or the machine's usual place.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_USUAL_PLACES = (PROJECT_ROOT.parent / "shared", Path("/work/shared"))


def shared_dir() -> Path:
    configured = os.environ.get("WIREWATCH_SHARED_DIR")
    candidates = (Path(configured),) if configured else _USUAL_PLACES
    for candidate in candidates:
        if (candidate / "corpus").is_dir():
            return candidate
    return candidates[0]


def corpus_dir() -> Path:
    return shared_dir() / "corpus"
