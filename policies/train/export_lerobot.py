"""Writes an embody dataset (the .npy arrays of `embody dataset`) in the LeRobot v3.0 layout, so
LeRobot's own policies can train on embody's demonstrations.

    export_lerobot.py DATASET_DIR OUT [--fps 10] [--robot-type franka_panda]

Layout (as lerobot 0.4 writes and reads it):
    meta/info.json              codebase_version v3.0, fps, features, paths, totals, splits
    meta/stats.json             per feature: min, max, mean, std, count, q01 ... q99
    meta/tasks.parquet          task text (index) -> task_index
    meta/episodes/chunk-000/file-000.parquet   one row per episode: length, tasks, where its
                                frames are, its own stats
    data/chunk-000/file-NNN.parquet            one row per frame

Frames are embody's policy samples (10 Hz): observation.state is the policy's observation
features (33 values, named by field), action the commanded end-effector target (10 values).
Each frame's task is the skill it belongs to ("pick red_cube", "place red_cube in bin").
Timestamps are frame_index / fps: LeRobot requires an even clock, and embody's samples skip the
pauses between skills.
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

CODEBASE_VERSION = "v3.0"
QUANTILES = [0.01, 0.10, 0.50, 0.90, 0.99]
CHUNKS_SIZE = 1000
DATA_FILE_MB = 100


def names(fields):
    out = []
    for f in fields:
        out += [f["name"]] if f["size"] == 1 else [f"{f['name']}.{i}" for i in range(f["size"])]
    return out


def stats(a):
    """LeRobot's per-feature statistics over axis 0 (2-D a: frames x values)."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 1:
        a = a[:, None]
    s = {
        "min": a.min(axis=0),
        "max": a.max(axis=0),
        "mean": a.mean(axis=0),
        "std": a.std(axis=0),
        "count": np.array([a.shape[0]]),
    }
    for q in QUANTILES:
        s[f"q{int(round(q * 100)):02d}"] = np.quantile(a, q, axis=0)
    return s


def merge(parts):
    """Dataset statistics from per-episode ones, weighted by frame count (as lerobot does);
    quantiles are count-weighted means of the episodes' quantiles."""
    counts = np.array([p["count"][0] for p in parts], dtype=np.float64)
    w = counts / counts.sum()
    mean = sum(wi * p["mean"] for wi, p in zip(w, parts))
    var = sum(wi * (p["std"] ** 2 + (p["mean"] - mean) ** 2) for wi, p in zip(w, parts))
    out = {
        "min": np.min([p["min"] for p in parts], axis=0),
        "max": np.max([p["max"] for p in parts], axis=0),
        "mean": mean,
        "std": np.sqrt(var),
        "count": np.array([int(counts.sum())]),
    }
    for q in QUANTILES:
        k = f"q{int(round(q * 100)):02d}"
        out[k] = sum(wi * p[k] for wi, p in zip(w, parts))
    return out


def tolist(s):
    return {k: v.tolist() for k, v in s.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path, help="folder written by `embody dataset`")
    ap.add_argument("out", type=Path)
    ap.add_argument("--fps", type=int, default=10)
    ap.add_argument("--robot-type", default="franka_panda")
    a = ap.parse_args()

    meta = json.loads((a.dataset / "dataset.json").read_text())
    obs = np.load(a.dataset / "obs.npy").astype(np.float32)
    act = np.load(a.dataset / "action.npy").astype(np.float32)
    episode = np.load(a.dataset / "episode.npy").astype(np.int64)
    segment = np.load(a.dataset / "segment.npy").astype(np.int64)
    skills = meta.get("segment_skills")
    if skills is None or len(skills) < segment.max() + 1:
        sys.exit(f"{a.dataset}/dataset.json has no segment_skills: rebuild it with `embody dataset`")
    if a.out.exists() and any(a.out.iterdir()):
        sys.exit(f"{a.out} exists and is not empty")

    # Tasks in order of first appearance.
    task_of_segment = {}
    tasks = []
    for s in np.unique(segment):
        t = skills[s]
        if t not in tasks:
            tasks.append(t)
        task_of_segment[s] = tasks.index(t)
    task_index = np.array([task_of_segment[s] for s in segment], dtype=np.int64)

    # Episodes renumbered 0..E-1 in order; frames grouped by episode.
    order = np.argsort(episode, kind="stable")
    obs, act, episode, task_index = obs[order], act[order], episode[order], task_index[order]
    ep_ids = list(dict.fromkeys(episode.tolist()))
    ep_new = {e: i for i, e in enumerate(ep_ids)}
    episode = np.array([ep_new[e] for e in episode], dtype=np.int64)
    n = len(episode)
    index = np.arange(n, dtype=np.int64)
    frame_index = np.zeros(n, dtype=np.int64)
    starts = {}
    for i, e in enumerate(episode):
        if e not in starts:
            starts[e] = i
        frame_index[i] = i - starts[e]
    timestamp = (frame_index / a.fps).astype(np.float32)

    features = {
        "observation.state": {"dtype": "float32", "shape": [obs.shape[1]], "names": names(meta["obs_fields"])},
        "action": {"dtype": "float32", "shape": [act.shape[1]], "names": names(meta["action_fields"])},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "frame_index": {"dtype": "int64", "shape": [1], "names": None},
        "episode_index": {"dtype": "int64", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }
    columns = {
        "observation.state": obs,
        "action": act,
        "timestamp": timestamp,
        "frame_index": frame_index,
        "episode_index": episode,
        "index": index,
        "task_index": task_index,
    }

    def arrow_column(key, values):
        if values.ndim == 2:
            flat = pa.array(values.reshape(-1), type=pa.float32())
            return pa.FixedSizeListArray.from_arrays(flat, values.shape[1])
        return pa.array(values)

    # Data files of at most ~DATA_FILE_MB, whole episodes each.
    bytes_per_frame = sum(v.itemsize * (v.shape[1] if v.ndim == 2 else 1) for v in columns.values())
    frames_per_file = max(1, int(DATA_FILE_MB * 1024 * 1024 / bytes_per_frame))
    file_of_episode = {}
    file_idx, in_file = 0, 0
    for e in range(len(ep_ids)):
        length = int((episode == e).sum())
        if in_file and in_file + length > frames_per_file:
            file_idx, in_file = file_idx + 1, 0
        file_of_episode[e] = (file_idx // CHUNKS_SIZE, file_idx % CHUNKS_SIZE)
        in_file += length
    for chunk_file in sorted(set(file_of_episode.values())):
        eps = [e for e, cf in file_of_episode.items() if cf == chunk_file]
        rows = np.isin(episode, eps)
        table = pa.table({k: arrow_column(k, v[rows]) for k, v in columns.items()})
        path = a.out / f"data/chunk-{chunk_file[0]:03d}/file-{chunk_file[1]:03d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path, compression="snappy")

    # Episodes: one row each, with their own statistics.
    ep_rows = {
        "episode_index": [],
        "tasks": [],
        "length": [],
        "data/chunk_index": [],
        "data/file_index": [],
        "dataset_from_index": [],
        "dataset_to_index": [],
        "meta/episodes/chunk_index": [],
        "meta/episodes/file_index": [],
    }
    per_feature = {k: [] for k in columns}
    for e in range(len(ep_ids)):
        rows = np.nonzero(episode == e)[0]
        ep_rows["episode_index"].append(e)
        ep_rows["tasks"].append([tasks[t] for t in dict.fromkeys(task_index[rows].tolist())])
        ep_rows["length"].append(len(rows))
        ep_rows["data/chunk_index"].append(file_of_episode[e][0])
        ep_rows["data/file_index"].append(file_of_episode[e][1])
        ep_rows["dataset_from_index"].append(int(rows[0]))
        ep_rows["dataset_to_index"].append(int(rows[-1]) + 1)
        ep_rows["meta/episodes/chunk_index"].append(0)
        ep_rows["meta/episodes/file_index"].append(0)
        for k, v in columns.items():
            per_feature[k].append(stats(v[rows]))
    for k in columns:
        for stat in per_feature[k][0]:
            ep_rows[f"stats/{k}/{stat}"] = [s[stat].tolist() for s in per_feature[k]]
    path = a.out / "meta/episodes/chunk-000/file-000.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(ep_rows), path, compression="snappy")

    # Tasks: a DataFrame indexed by the task text, as lerobot writes and reads it.
    pd.DataFrame(
        {"task_index": np.arange(len(tasks), dtype=np.int64)}, index=pd.Index(tasks, name="task")
    ).to_parquet(a.out / "meta/tasks.parquet")

    stats_json = {k: tolist(merge(per_feature[k])) for k in columns}
    (a.out / "meta/stats.json").write_text(json.dumps(stats_json, indent=2))
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": a.robot_type,
        "total_episodes": len(ep_ids),
        "total_frames": n,
        "total_tasks": len(tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": DATA_FILE_MB,
        "video_files_size_in_mb": 200,
        "fps": a.fps,
        "splits": {"train": f"0:{len(ep_ids)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": None,
        "features": features,
    }
    (a.out / "meta/info.json").write_text(json.dumps(info, indent=4))
    print(json.dumps({"out": str(a.out), "episodes": len(ep_ids), "frames": n, "tasks": len(tasks),
                      "data_files": len(set(file_of_episode.values()))}))


if __name__ == "__main__":
    main()
