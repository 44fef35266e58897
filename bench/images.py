#!/usr/bin/env python3
# bench/images.py: image figures: signature + hash verification at boot for a 1 MiB image, and cohimg flash throughput to a file.
"""Usage: build/pyenv/bin/python bench/images.py [--iterations N] [--flash-runs N]

Prints a table and writes bench/results/images.json. Needs a build (sh scripts/build.sh).
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "harness"))
from hivekit import BUILD, COHC, COHIMG  # noqa: E402

BENCH_IMAGE_VERIFY = BUILD / "bench" / "bench_image_verify"
RESULTS = REPO / "bench" / "results"
TARGET_IMAGE_BYTES = 1024 * 1024  # "a 1 MiB image" (issue 6)
ITERATIONS_DEFAULT = 50
FLASH_RUNS_DEFAULT = 5
TOOL_TIMEOUT_S = 120.0


def run(*argv: str) -> str:
    r = subprocess.run(list(argv), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S)
    if r.returncode != 0:
        sys.exit(f"bench/images.py: {' '.join(argv)} failed: {r.stderr.strip()}")
    return r.stdout


def make_image(work: Path) -> tuple[Path, Path]:
    """A signed image of about 1 MiB: one task whose bundle carries a large string constant."""
    run(str(COHIMG), "keygen", "--out", str(work / "bench"))
    js = work / "js"
    js.mkdir()
    blob = "x" * (TARGET_IMAGE_BYTES - 6 * 1024)
    (js / "blob.js").write_text(f'const BLOB = "{blob}";\nexport default function main(caps) {{ caps.log.write(String(BLOB.length)); }}\n')
    template = {
        "schema": "cohesix-manifest/v1", "image_id": "bench-1mib", "profile": "release", "root_task": "blob",
        "tasks": [{"name": "blob", "arena_bytes": 4 * 1024 * 1024, "cpu_slice_ms": 50, "grants": ["log"], "config": {}}],
        "console": {"port": 31337, "auth_token": "changeme", "max_sessions": 4},
    }
    (work / "template.json").write_text(json.dumps(template))
    out = work / "bench.img"
    run(str(COHIMG), "build", "--manifest", str(work / "template.json"), "--js", str(js), "--bundles", str(work / "qbc"),
        "--cohc", str(COHC), "--key", str(work / "bench.key"), "--out", str(out))
    return out, work / "bench.pub"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=ITERATIONS_DEFAULT)
    ap.add_argument("--flash-runs", type=int, default=FLASH_RUNS_DEFAULT)
    args = ap.parse_args()
    for p in (BENCH_IMAGE_VERIFY, COHC):
        if not p.exists():
            sys.exit(f"bench/images.py: {p} is missing; run sh scripts/build.sh first")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        image, pub = make_image(work)
        verify = json.loads(run(str(BENCH_IMAGE_VERIFY), str(image), str(pub), str(args.iterations)))
        rates = []
        for i in range(args.flash_runs):
            out = run(str(COHIMG), "flash", str(image), "--to", str(work / f"card{i}.bin"))
            rates.append(float(re.search(r"\(([\d.]+) MiB/s\)", out).group(1)))
    figures = {
        "verify_image_bytes": verify["image_bytes"],
        "verify_mean_ms": verify["mean_us"] / 1000,
        "verify_best_ms": verify["best_us"] / 1000,
        "verify_iterations": verify["iterations"],
        "flash_mib_per_s_median": statistics.median(rates),
        "flash_runs": len(rates),
    }
    rows = [
        ("signature + hashes + manifest at boot (image_open)", f"{verify['image_bytes']} bytes",
         f"mean {figures['verify_mean_ms']:.2f} ms, best {figures['verify_best_ms']:.2f} ms ({verify['iterations']} runs)"),
        ("cohimg flash to a file (write + fsync; read-back not counted)", f"{verify['image_bytes']} bytes",
         f"median {figures['flash_mib_per_s_median']:.1f} MiB/s ({len(rates)} runs)"),
    ]
    w = max(len(r[0]) for r in rows)
    print(f"{'figure'.ljust(w)}  {'image':>14}  value")
    for name, size, value in rows:
        print(f"{name.ljust(w)}  {size:>14}  {value}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "images.json").write_text(json.dumps({"machine": platform.platform(), "cpu_count": __import__("os").cpu_count(),
                                                     "figures": figures}, indent=2) + "\n")
    print(f"wrote {RESULTS / 'images.json'}")


if __name__ == "__main__":
    main()
