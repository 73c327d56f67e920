"""Run every benchmark module (`bench/*_bench.py`), each in turn; a failing one is reported, not fatal."""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path


def main(selected: list[str]) -> None:
    names = sorted(p.stem for p in Path(__file__).parent.glob("*_bench.py"))
    if selected:
        names = [n for n in names if any(s in n for s in selected)]
    for name in names:
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"bench.{name}").run()
        except Exception:  # a benchmark prints, it never fails the command
            traceback.print_exc()
        print(f"({name} took {time.perf_counter() - started:.1f}s)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
