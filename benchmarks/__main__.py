"""``make bench``: run every benchmark module (or those named on the command line).

    python -m benchmarks            # all of them
    python -m benchmarks imports    # only benchmarks/imports_bench.py
"""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(selected: list[str]) -> int:
    names = sorted(path.stem for path in Path(__file__).parent.glob("*_bench.py"))
    if selected:
        unknown = [name for name in selected if f"{name}_bench" not in names]
        if unknown:
            print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(n[:-6] for n in names)}")
            return 2
        names = [f"{name}_bench" for name in selected]
    for name in names:
        print(f"\n=== {name[:-6]} ===", flush=True)
        started = time.perf_counter()
        importlib.import_module(f"benchmarks.{name}").run()
        print(f"({name[:-6]} took {time.perf_counter() - started:.1f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
