"""The reference half of `embody bench policy`: exports a denoiser with fixed random weights for
the Rust side to load, then times the same network in PyTorch eager and in onnxruntime-python.

    python policies/train/bench_reference.py --out DIR [--runs 200] [--threads 1]

Prints one JSON object: min and median milliseconds of one denoiser call and of a DDIM-10 chunk
(network + diffusers' scheduler) for each backend. Also exports the same network as a distilled
model (DIR/bench_fast) for the Rust side's one- and two-step chunk times.
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from export import diffusers_scheduler, scheduler_config  # noqa: E402


def timed(fn, runs, warmup=10):
    for _ in range(warmup):
        fn()
    ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1e3)
    return {"min_ms": min(ms), "median_ms": statistics.median(ms), "runs": runs}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--out", required=True, help="folder for the exported model")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--down-dims", default="64,128,256")
    a = p.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    model = out / "bench"
    subprocess.run(
        [sys.executable, str(HERE / "export.py"), "--out", str(model), "--seed", "0",
         "--down-dims", a.down_dims],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    # The same network as a distilled one-/two-step model (`bench_fast`, output sample_pred) for
    # the fast sampler's chunk time: what a call costs does not depend on the trained weights.
    subprocess.run(
        [sys.executable, str(HERE / "export.py"), "--out", str(out / "bench_fast"), "--seed", "0",
         "--down-dims", a.down_dims, "--sampler", "consistency"],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    meta = json.loads((out / "bench.json").read_text())
    torch.set_num_threads(a.threads)
    sys.path.insert(0, str(HERE))
    from model import ConditionalUnet1D

    torch.manual_seed(0)
    net = ConditionalUnet1D(
        meta["action"]["dim"], meta["obs"]["horizon"] * meta["obs"]["dim"], down_dims=tuple(meta["network"]["down_dims"]),
        kernel_size=5, n_groups=8, step_embed_dim=meta["network"]["step_embed_dim"],
    ).eval()
    tp, da = meta["action"]["pred_horizon"], meta["action"]["dim"]
    cond = torch.zeros(1, meta["obs"]["horizon"] * meta["obs"]["dim"])
    sample = torch.randn(1, tp, da)
    t = torch.tensor([50], dtype=torch.int64)
    sched = diffusers_scheduler(scheduler_config(), "ddim")
    sched.set_timesteps(10)

    @torch.no_grad()
    def torch_call():
        net(sample, t, cond)

    @torch.no_grad()
    def torch_chunk():
        x = torch.randn(1, tp, da)
        for k in sched.timesteps:
            x = sched.step(net(x, k.reshape(1), cond), k, x).prev_sample

    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(str(out / "bench.onnx"), so, providers=["CPUExecutionProvider"])
    feeds = {"sample": sample.numpy(), "timestep": t.numpy(), "global_cond": cond.numpy()}

    def ort_call():
        sess.run(None, feeds)

    def ort_chunk():
        x = torch.randn(1, tp, da)
        for k in sched.timesteps:
            eps = sess.run(None, {"sample": x.numpy(), "timestep": np.array([int(k)], np.int64),
                                  "global_cond": feeds["global_cond"]})[0]
            x = sched.step(torch.from_numpy(eps), k, x).prev_sample

    result = {
        "model": str(out / "bench.json"),
        "parameters": meta["network"]["parameters"],
        "threads": a.threads,
        "torch": torch.__version__,
        "onnxruntime": ort.__version__,
        "pytorch_eager": {"call": timed(torch_call, a.runs), "ddim10": timed(torch_chunk, a.runs)},
        "onnxruntime_python": {"call": timed(ort_call, a.runs), "ddim10": timed(ort_chunk, a.runs)},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
