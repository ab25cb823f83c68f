#!/usr/bin/env python3
"""Measures what "More than one machine" in the README reports, all in one run on this machine:

- eval throughput: one `embody eval` process (1 thread; all cores) against the same seeds as
  shards on a local Ray cluster of 2 worker nodes (1 CPU each) through scripts/ray_embody.py;
- the shard and merge overhead: the seeds as N shards run one after another (each with all
  cores) plus `embody merge`, against the unsharded run;
- the DDP step time: `embody train --nproc 2` against `--nproc 1` on the same demonstrations,
  same global batch (PyTorch on CPU, gloo).

    .venv/bin/python scripts/bench_scale.py --embody target/release/embody [--episodes 16] [--json]

Ratios are of wall times measured in this run. Results also go to stdout as one JSON line.
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
PY = REPO / ".venv/bin/python"
RAY = REPO / ".venv/bin/ray"


def timed(argv, **kw):
    t = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, **kw)
    wall = time.monotonic() - t
    if done.returncode != 0:
        sys.exit(f"bench_scale: {' '.join(map(str, argv))} failed:\n{done.stderr[-3000:]}")
    return wall, done.stdout


def last_json(text):
    return json.loads([l for l in text.splitlines() if l.startswith("{")][-1])


def say(msg):
    print(f"bench_scale: {msg}", file=sys.stderr, flush=True)


def eval_figures(a, tmp):
    base = [a.embody, "eval", a.scenario, "--episodes", str(a.episodes), "--seed", "3000", "--json", "-q"]
    say(f"unsharded eval of {a.episodes} episodes, 1 thread")
    one_thread, _ = timed(base + ["--threads", "1"])
    say("unsharded eval, all cores")
    all_cores, out = timed(base)
    unsharded = last_json(out)

    say(f"{a.shards} shards one after another (all cores each) + merge")
    files, shard_wall = [], 0.0
    for i in range(a.shards):
        w, out = timed(base + ["--shard", f"{i}/{a.shards}"])
        shard_wall += w
        path = tmp / f"s{i}.json"
        path.write_text(out)
        files.append(str(path))
    merge_wall, out = timed([a.embody, "merge", *files, "--json"])
    merged = last_json(out)
    drop = ("wall_s", "threads", "sim_steps_per_s", "realtime_factor")
    same = {k: v for k, v in merged.items() if k not in drop} == {k: v for k, v in unsharded.items() if k not in drop}

    say("Ray: head + worker node, 1 CPU each")
    ray_tmp = pathlib.Path(tempfile.mkdtemp(prefix="rayb", dir="/tmp"))
    port = str(21000 + os.getpid() % 10000)
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats",
              "--object-store-memory", "100000000"]
    try:
        timed([RAY, "start", "--head", "--port", port, "--temp-dir", ray_tmp, "--include-dashboard=false", *common])
        timed([RAY, "start", "--address", f"127.0.0.1:{port}", *common])
        ray_wall, out = timed([PY, REPO / "scripts/ray_embody.py", "--address", f"127.0.0.1:{port}",
                               "--shards", str(a.ray_shards), "--out", tmp / "ray", "--embody", a.embody,
                               "--", *base[1:-2]])
        driver = last_json(out)
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True)
        shutil.rmtree(ray_tmp, ignore_errors=True)
    ray_merged = json.loads((tmp / "ray/merged.json").read_text())
    ray_same = {k: v for k, v in ray_merged.items() if k not in drop} == {k: v for k, v in unsharded.items() if k not in drop}
    return {
        "episodes": a.episodes,
        "one_process_1_thread_s": one_thread,
        "one_process_all_cores_s": all_cores,
        "ray_2_nodes_s": ray_wall,
        "ray_shards": a.ray_shards,
        "ray_nodes_used": driver["nodes"],
        "ratio_ray_throughput_vs_1_thread": one_thread / ray_wall,
        "ratio_ray_throughput_vs_all_cores": all_cores / ray_wall,
        "ray_merged_equals_unsharded": ray_same,
        "shards": a.shards,
        "sharded_sequential_s": shard_wall,
        "merge_s": merge_wall,
        "ratio_shard_and_merge_overhead": (shard_wall + merge_wall) / all_cores,
        "merged_equals_unsharded": same,
    }


def ddp_figures(a, tmp):
    demos = tmp / "demos"
    say("recording demonstrations for the DDP step time")
    timed([a.embody, "record", a.scenario, "--episodes", "8", "--seed", "3100", "--out", demos, "-q"])
    out = {}
    for n in (1, 2):
        say(f"training {a.train_steps} steps with --nproc {n}")
        model = tmp / f"ddp{n}"
        timed([a.embody, "train", demos, "--out", model, "--nproc", str(n), "--steps", str(a.train_steps),
               "--down-dims", "32,64,128", "--batch", "256", "--checkpoint-minutes", "0", "--",
               "--eval-every", str(a.train_steps)])
        meta = json.loads((tmp / f"ddp{n}.train.json").read_text())
        out[f"nproc{n}_ms_per_step"] = meta["training"]["ms_per_step"]
    out["ratio_ddp2_step_time_vs_1"] = out["nproc2_ms_per_step"] / out["nproc1_ms_per_step"]
    out["train_steps"] = a.train_steps
    out["global_batch"] = 256
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--embody", default=str(REPO / "target/release/embody"))
    p.add_argument("--scenario", default="scenarios/table_clearing.toml")
    p.add_argument("--episodes", type=int, default=16)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--ray-shards", type=int, default=4)
    p.add_argument("--train-steps", type=int, default=200)
    p.add_argument("--skip-ddp", action="store_true")
    a = p.parse_args()
    a.embody = str(pathlib.Path(a.embody).resolve())
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="bench_scale"))
    try:
        result = {"machine_cores": os.cpu_count(), "eval": eval_figures(a, tmp)}
        if not a.skip_ddp:
            result["ddp"] = ddp_figures(a, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
