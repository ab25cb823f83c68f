#!/usr/bin/env python3
"""Runs an `embody run`, `eval` or `record` as N shards on a Ray cluster and merges them.

    scripts/ray_embody.py --address HOST:6379 --shards 100 --out results/ -- \\
        eval scenarios/table_clearing.toml --policy diffusion:policies/models/diffusion.json \\
        --episodes 10000 --seed 0

Each shard is one Ray task that runs `embody ... --shard I/N --json --quiet --threads C` on
whichever node Ray places it (C = --cpus-per-shard, also the task's CPU request). Seeds are split
by embody itself (contiguous blocks), so a shard's result depends only on (I, N, the seed range):
a task that fails (non-zero exit, lost node) is retried by Ray up to --retries times, anywhere.

run/eval: each task returns the JSON line; the driver writes OUT/shard-IIII-of-NNNN.json and
`embody merge`s them into OUT/merged.json, which equals the unsharded run's JSON except for the
wall-clock keys (wall_s, threads, sim_steps_per_s, realtime_factor).

record: the recording's own --out folder must be one that every node writes to (a shared file
system mounted at the same path); the tasks write their MCAPs and index.shard-*.json there and
the driver merges the indexes into its index.json. Object-store paths (s3://) are not supported.

The embody binary, the scenarios and the models must be at the same paths on every node (one
container image, or a shared checkout); --embody and --workdir name them.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def parse_args(argv):
    if "--" not in argv:
        sys.exit("ray_embody: give the embody command after --, e.g. -- eval SCENARIO --episodes 100")
    split = argv.index("--")
    ours, command = argv[:split], argv[split + 1:]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--address", default=os.environ.get("RAY_ADDRESS", "auto"),
                   help="Ray cluster address (default: $RAY_ADDRESS, else a running local cluster)")
    p.add_argument("--shards", type=int, required=True, help="number of shards (Ray tasks)")
    p.add_argument("--out", required=True, help="folder for the shard outputs and merged.json")
    p.add_argument("--cpus-per-shard", type=int, default=1,
                   help="CPUs each task requests, and embody's --threads (default 1)")
    p.add_argument("--retries", type=int, default=3, help="retries of a failed shard (default 3)")
    p.add_argument("--embody", default="embody", help="the embody binary on the nodes")
    p.add_argument("--workdir", default=os.getcwd(),
                   help="working directory of the tasks (default: this one)")
    # For the tests: the first attempt of this shard fails, so the retry path is exercised.
    p.add_argument("--fail-first-attempt", type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(ours)
    if not command or command[0] not in ("run", "eval", "record"):
        sys.exit("ray_embody: the command after -- must be embody run, eval or record")
    for flag in ("--shard", "--json"):
        if flag in command:
            sys.exit(f"ray_embody: leave {flag} out of the command; the driver adds it")
    if a.shards < 1:
        sys.exit("ray_embody: --shards must be at least 1")
    return a, command


def shard_tag(index, count):
    return f"shard-{index:04d}-of-{count:04d}"


def record_out(command):
    for i, arg in enumerate(command):
        if arg == "--out" and i + 1 < len(command):
            return command[i + 1]
        if arg.startswith("--out="):
            return arg.split("=", 1)[1]
    sys.exit("ray_embody: `record` needs --out FOLDER (on a file system every node shares)")


def main(argv):
    a, command = parse_args(argv)
    import ray

    os.makedirs(a.out, exist_ok=True)
    ray.init(address=a.address, log_to_driver=False, logging_level="WARNING")
    fail_marker = os.path.abspath(os.path.join(a.out, ".fail-first-attempt"))
    if a.fail_first_attempt is not None and os.path.exists(fail_marker):
        os.remove(fail_marker)

    # Ray re-runs a task whose worker or node died (max_retries); a shard that fails on its own
    # (non-zero exit) comes back as an exception and the loop below submits it again, saying so.
    @ray.remote(num_cpus=a.cpus_per_shard, max_retries=a.retries)
    def shard(index):
        if index == a.fail_first_attempt and not os.path.exists(fail_marker):
            open(fail_marker, "w").close()
            raise RuntimeError(f"shard {index}: injected failure of the first attempt")
        argv = [a.embody, *command, "--shard", f"{index}/{a.shards}", "--json", "--quiet",
                "--threads", str(a.cpus_per_shard)]
        done = subprocess.run(argv, cwd=a.workdir, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"shard {index}/{a.shards} exited {done.returncode}: "
                               f"{done.stderr.strip()[-2000:]}")
        lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
        if not lines:
            raise RuntimeError(f"shard {index}/{a.shards} printed no JSON line")
        return index, lines[-1], ray.get_runtime_context().get_node_id()

    start = time.monotonic()
    pending = {shard.remote(i): i for i in range(a.shards)}
    attempts = {i: 1 for i in range(a.shards)}
    retried = []
    nodes = set()
    files = []
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        ref = ready[0]
        index = pending.pop(ref)
        try:
            _, line, node = ray.get(ref)
        except Exception as e:
            cause = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
            if attempts[index] > a.retries:
                sys.exit(f"ray_embody: shard {index}/{a.shards} failed {attempts[index]} times; "
                         f"last: {cause}")
            print(f"\nray_embody: shard {index}/{a.shards} failed (attempt {attempts[index]}): "
                  f"{cause}; retrying", file=sys.stderr, flush=True)
            attempts[index] += 1
            retried.append(index)
            pending[shard.remote(index)] = index
            continue
        nodes.add(node)
        if command[0] != "record":
            path = os.path.join(a.out, shard_tag(index, a.shards) + ".json")
            with open(path, "w") as f:
                f.write(line + "\n")
            files.append(path)
        done += 1
        bar = "=" * (30 * done // a.shards)
        print(f"\rshards [{bar:<30}] {done}/{a.shards} ({time.monotonic() - start:.0f} s)",
              end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    wall = time.monotonic() - start

    if command[0] == "record":
        folder = os.path.join(a.workdir, record_out(command))
        files = [os.path.join(folder, f"index.{shard_tag(i, a.shards)}.json") for i in range(a.shards)]
        merge = [a.embody, "merge", *files, "--json"] + (["--force"] if "--force" in command else [])
    else:
        merge = [a.embody, "merge", *sorted(files), "--json"]
    merged = subprocess.run(merge, cwd=a.workdir, capture_output=True, text=True)
    if merged.returncode != 0:
        sys.exit(f"ray_embody: merge failed: {merged.stderr.strip()}")
    line = [l for l in merged.stdout.splitlines() if l.startswith("{")][-1]
    out = os.path.join(a.out, "merged.json")
    with open(out, "w") as f:
        f.write(line + "\n")
    summary = {"shards": a.shards, "nodes": len(nodes), "retried": retried, "wall_s": wall,
               "merged": out}
    if command[0] == "record":
        summary["demonstrations"] = folder
    print(f"ray_embody: {a.shards} shards on {len(nodes)} nodes in {wall:.1f} s; merged into {out}"
          + (f"; demonstrations in {folder}" if command[0] == "record" else ""), file=sys.stderr)
    print(json.dumps(summary))


if __name__ == "__main__":
    main(sys.argv[1:])
