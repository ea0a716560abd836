"""Every benchmark from one command: ``.venv/bin/python -m benchmarks [NAME ...]``.

Each benchmark runs in its own process (so peak memory and start-up are its own), one after
another (they share two cores with nothing else), and prints its figures and the ratio to its
own baseline measured in the same run. The exit status is non-zero when any benchmark missed a
target or failed. Names: import, queries, web, outbox (default: all, in that order).
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

BENCHMARKS = {
    "import": "benchmarks.bench_import",  # register import vs COPY / executemany; PA list and trend
    "queries": "benchmarks.bench_queries",  # attendance figures from rollups
    "web": "benchmarks.bench_web",  # gunicorn + 20 clients, p50/p95 beside /healthz
    "outbox": "benchmarks.bench_outbox",  # 10,000 SMS at 100/s to the fake Twilio, killed twice
}


def main(argv: list[str]) -> int:
    names = argv or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"== benchmarks: {', '.join(names)} (load average {load:.1f}, {os.cpu_count()} cores)")
    results: dict[str, int] = {}
    for name in names:
        started = time.monotonic()
        print(f"\n== {name} ({BENCHMARKS[name]})", flush=True)
        results[name] = subprocess.call([sys.executable, "-m", BENCHMARKS[name]])
        print(f"== {name}: exit {results[name]} after {time.monotonic() - started:.0f} s", flush=True)
    print("\n== summary: " + ", ".join(f"{n} {'ok' if rc == 0 else f'MISSED/FAILED ({rc})'}" for n, rc in results.items()))
    return 0 if all(rc == 0 for rc in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
