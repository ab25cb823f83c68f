#!/usr/bin/env python3
"""Chunk hand-overs under inference delay: `embody eval` of one scenario for every delay and
chunking mode on the same seeds; a Markdown table, a JSON file and a PNG.

    .venv/bin/python scripts/chunking_sweep.py --embody target/release/embody \\
        --episodes 100 --seed 0 --out docs/chunking

Writes OUT.json (every run's summary without its per-episode rows) and OUT.png (success,
mean boundary jump and TCP jerk against delay, one line per mode); prints the table.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

REPO = pathlib.Path(__file__).resolve().parent.parent


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embody", default=str(REPO / "target/release/embody"))
    p.add_argument("--scenario", default="scenarios/table_clearing.toml")
    p.add_argument("--policy", default=None, help="default: the scenario's")
    p.add_argument("--episodes", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--delays", default="0,100,200,300", help="ms, comma-separated")
    p.add_argument("--modes", default="naive,ensemble,rtc")
    p.add_argument("--out", required=True, help="path without extension")
    a = p.parse_args()
    delays = [int(d) for d in a.delays.split(",")]
    modes = a.modes.split(",")
    rows = []
    total = len(delays) * len(modes)
    t0 = time.monotonic()
    for i, d in enumerate(delays):
        for j, m in enumerate(modes):
            k = i * len(modes) + j
            print(f"sweep: [{k + 1}/{total}] delay {d} ms, {m} ({time.monotonic() - t0:.0f} s)",
                  file=sys.stderr, flush=True)
            argv = [a.embody, "eval", a.scenario, "--episodes", str(a.episodes), "--seed", str(a.seed),
                    "--inference-delay-ms", str(d), "--chunking", m, "--json", "-q"]
            if a.policy:
                argv += ["--policy", a.policy]
            done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
            if done.returncode != 0:
                sys.exit(f"sweep: {' '.join(argv)} failed:\n{done.stderr[-2000:]}")
            s = json.loads([l for l in done.stdout.splitlines() if l.startswith("{")][-1])
            for k in ("per_episode", "state_hash", "control_timing"):
                s.pop(k, None)
            rows.append({"delay_ms": d, "chunking": m, "summary": s})
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1) + "\n")

    print(f"| delay | chunking | success | boundary jump mean / p95 (mm) | TCP jerk RMS (m/s^3) |")
    print("| --- | --- | --- | --- | --- |")
    for r in rows:
        s = r["summary"]
        j = s.get("boundary_jump_m") or {}
        print(f"| {r['delay_ms']} ms | {r['chunking']} | {s['success_rate']:.2f} | "
              f"{1e3 * j.get('mean', float('nan')):.1f} / {1e3 * j.get('p95', float('nan')):.1f} | "
              f"{s.get('tcp_jerk_rms') or float('nan'):.1f} |")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for m in modes:
        mine = [r for r in rows if r["chunking"] == m]
        x = [r["delay_ms"] for r in mine]
        axes[0].plot(x, [r["summary"]["success_rate"] for r in mine], "o-", label=m)
        axes[1].plot(x, [1e3 * (r["summary"]["boundary_jump_m"] or {}).get("mean", float("nan")) for r in mine],
                     "o-", label=m)
        axes[2].plot(x, [r["summary"]["tcp_jerk_rms"] or float("nan") for r in mine], "o-", label=m)
    for ax, title in zip(axes, ["success", "mean boundary jump (mm)", "TCP jerk RMS (m/s^3)"]):
        ax.set_xlabel("inference delay (ms)")
        ax.set_title(title)
        ax.set_xticks(delays)
        ax.grid(alpha=0.3)
    axes[0].set_ylim(0, 1.05)
    axes[0].legend()
    fig.suptitle(f"{pathlib.Path(a.scenario).name}, seeds {a.seed}-{a.seed + a.episodes - 1}")
    fig.tight_layout()
    fig.savefig(out.with_suffix(".png"), dpi=100)
    print(f"sweep: {out.with_suffix('.json')}, {out.with_suffix('.png')}", file=sys.stderr)


if __name__ == "__main__":
    main()
