"""Train the diffusion policy's denoiser on demonstrations and export it for the Rust runtime.

    python policies/train/train.py --data DATA/dataset --out policies/models/NAME [--steps 20000]

DATA/dataset is what `embody train` (or `embody dataset`) builds from recorded episodes:
obs.npy (N x 33), action.npy (N x 10), episode.npy, segment.npy, computed by the same Rust code
that builds the policy's inputs at run time. Windows: To observations ending at each sample
(the first repeated at a segment's start) and the Tp actions starting there (the last repeated
at its end). DDPM noise-prediction loss with the runtime's scheduler settings, AdamW, cosine
learning rate with warm-up, EMA weights (the exported ones). Seeded. Writes NAME.onnx and
NAME.json (through export.py), NAME.loss.png, NAME.train.json and NAME.pt (the checkpoint
`--resume` continues from; not committed). `--init-model MODEL.json` starts from an exported
model instead (weights read back from its ONNX file, its normalization widened where the data
reaches beyond it, a fresh optimizer): training goes on across machines with only the model.

Several processes (`embody train --nproc N`, or `torchrun --nproc_per_node N train.py ...`):
DistributedDataParallel, gloo on CPU, nccl on CUDA (one GPU per local rank). --batch stays the
global batch (each rank draws batch/N windows with its own generator and noise), so the
hyper-parameters mean the same at any N; the EMA weights are updated identically on every rank
from the all-reduced gradients; rank 0 alone prints, checkpoints and exports.
"""

import argparse
import copy
import hashlib
import json
import math
import os
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch
import torch.distributed as dist

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import layout  # noqa: E402
from export import diffusers_scheduler, scheduler_config  # noqa: E402
from model import ConditionalUnet1D, parameter_count  # noqa: E402


def data_hash(folder):
    h = hashlib.sha256()
    for name in ("obs.npy", "action.npy", "episode.npy", "segment.npy"):
        h.update((folder / name).read_bytes())
    return h.hexdigest()


def windows(segment, obs_horizon, pred_horizon):
    """Index arrays: for each sample k, the To observation rows and Tp action rows it uses."""
    n = len(segment)
    starts = np.zeros(n, dtype=np.int64)
    ends = np.zeros(n, dtype=np.int64)
    k = 0
    while k < n:
        j = k
        while j < n and segment[j] == segment[k]:
            j += 1
        starts[k:j] = k
        ends[k:j] = j - 1
        k = j
    idx = np.arange(n)
    obs_idx = np.stack([np.maximum(idx - (obs_horizon - 1 - i), starts) for i in range(obs_horizon)], 1)
    act_idx = np.stack([np.minimum(idx + i, ends) for i in range(pred_horizon)], 1)
    return obs_idx, act_idx


def stats(x):
    return {"min": x.min(0).astype(float).tolist(), "max": x.max(0).astype(float).tolist()}


def normalizer(st):
    lo, hi = np.array(st["min"], np.float32), np.array(st["max"], np.float32)
    rng = hi - lo
    scale = np.where(rng < 1e-4, 1.0, 2.0 / np.maximum(rng, 1e-12)).astype(np.float32)
    offset = np.where(rng < 1e-4, -(hi + lo) / 2, -1.0 - scale * lo).astype(np.float32)
    return lambda x: x * scale + offset


def cosine_with_warmup(opt, warmup, total):
    """Linear warm-up over `warmup` steps, then a cosine decay to 0 at step `total`."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))


def optimizer_step(loss, opt, lr_sched, net, ema, step, ema_max, running):
    """Backward and one optimizer step on `loss`, then the EMA weights (their decay ramped up
    from 0) follow `net`; returns the smoothed training loss."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    lr_sched.step()
    decay = min(ema_max, (1 + step) / (10 + step))
    with torch.no_grad():
        for pe, pn in zip(ema.parameters(), net.parameters()):
            pe.mul_(decay).add_(pn.detach(), alpha=1 - decay)
        for be, bn in zip(ema.buffers(), net.buffers()):
            be.copy_(bn)
    return loss.item() if running is None else 0.98 * running + 0.02 * loss.item()


def init_model(path):
    """An exported model to start training from: its network (weights read back from the ONNX
    file and checked against ONNX Runtime), feature layout and provenance."""
    from onnx_weights import check_against_onnx, network_from_onnx

    path = pathlib.Path(path)
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        sys.exit(f"train: --init-model {path}: {e}")
    sched = meta.get("scheduler", {})
    if sched.get("prediction_type", "epsilon") != "epsilon":
        sys.exit(f"train: --init-model {path}: a distilled model (prediction type {sched.get('prediction_type')!r}) "
                 "is not a denoiser to train on; start from its teacher")
    onnx_path = path.with_name(meta["onnx"])
    net, feature_layout = network_from_onnx(meta, onnx_path, "train")
    gap = check_against_onnx(net, onnx_path, meta)
    if gap > 1e-4:
        sys.exit(f"train: --init-model {path}: the weights read back differ from ONNX Runtime's by {gap:.2e}")
    onnx_sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    before = meta.get("training", {})
    steps_before = before.get("total_steps", before.get("steps", 0))
    print(f"train: starting from {path} ({steps_before} steps behind it; read back from ONNX, "
          f"{gap:.1e} from ONNX Runtime)", flush=True)
    return {
        "meta": meta,
        "net": net.train(),
        "layout": feature_layout,
        "commands": before.get("commands", [before["command"]] if "command" in before else []),
        "provenance": {"path": str(path), "onnx_sha256": onnx_sha, "data_hash": before.get("data_hash"),
                       "commit": before.get("commit"), "total_steps": steps_before},
    }


def widened(model_norm, data_norm, what):
    """The model's normalization, widened where this data reaches beyond it: inside its range
    the network sees the inputs it was trained on; outside it, a denoiser clipped to [-1, 1]
    could never reach the new actions."""
    out = {}
    for key in ("obs", "action"):
        lo, hi = np.array(model_norm[key]["min"]), np.array(model_norm[key]["max"])
        dlo, dhi = np.array(data_norm[key]["min"]), np.array(data_norm[key]["max"])
        wide = (dlo < lo - 1e-6) | (dhi > hi + 1e-6)
        if wide.any():
            print(f"train: {what}: this data's {key} reaches beyond the model's normalization in "
                  f"dimensions {np.flatnonzero(wide).tolist()}; widened there (the network relearns them)",
                  flush=True)
        out[key] = {"min": np.minimum(lo, dlo).tolist(), "max": np.maximum(hi, dhi).tolist()}
    return out


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=HERE, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True, help="model path without extension")
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=1e-6)
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--ema", type=float, default=0.999, help="EMA decay (ramped up from 0)")
    p.add_argument("--down-dims", default="64,128,256")
    p.add_argument("--step-embed-dim", type=int, default=128)
    p.add_argument("--obs-horizon", type=int, default=2)
    p.add_argument("--pred-horizon", type=int, default=16)
    p.add_argument("--action-horizon", type=int, default=8)
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    p.add_argument("--resume", help="continue from a checkpoint (<out>.pt, kept by every run) up to --steps")
    p.add_argument("--init-model", help="start from an exported model (its .json, the ONNX file beside it): its "
                                        "network, weights and normalization, with a fresh optimizer and schedule")
    p.add_argument("--command", help="the command that started training, for provenance (default: this one)")
    p.add_argument("--commit", help="the code's git commit, for provenance (default: this script's checkout, "
                                     "if it is in one; `embody train` passes the repository it runs in)")
    p.add_argument("--max-minutes", type=float, default=0, help="stop early after this long (0: no limit)")
    p.add_argument("--checkpoint-minutes", type=float, default=10,
                   help="also write <out>.pt this often, so a killed run loses at most this much (0: only at the end)")
    a = p.parse_args()
    t0 = time.time()
    # torchrun sets these; a plain run is one process of rank 0.
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world > 1:
        dist.init_process_group(backend="nccl" if a.device.startswith("cuda") else "gloo")
        if a.batch % world:
            sys.exit(f"train: --batch {a.batch} does not split evenly over {world} processes")
    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(f"cuda:{local_rank}" if a.device.startswith("cuda") and world > 1 else a.device)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    this_command = a.command or " ".join(sys.argv)
    resume = torch.load(a.resume, map_location="cpu", weights_only=False) if a.resume else None
    if resume:
        # The network's shape is the checkpoint's, whatever this command line says.
        shape = resume["network"]
        a.down_dims = ",".join(str(d) for d in shape["down_dims"])
        a.step_embed_dim, a.obs_horizon = shape["step_embed_dim"], shape["obs_horizon"]
        a.pred_horizon, a.action_horizon = shape["pred_horizon"], shape["action_horizon"]
        # The optimizer's settings are the checkpoint's too (its schedule restores the base
        # learning rate), and provenance keeps the command that started the training.
        a.lr, a.batch = resume["training"]["lr"], resume["training"]["batch"]
        a.command = resume["training"]["command"]
    if resume and a.init_model:
        sys.exit("train: --resume and --init-model exclude each other")
    init = init_model(a.init_model) if a.init_model else None
    if init:
        # The network's shape is the model's; the optimizer starts afresh (new warm-up and
        # cosine schedule over this run's --steps).
        shape = init["meta"]["network"]
        a.down_dims = ",".join(str(d) for d in shape["down_dims"])
        a.step_embed_dim = shape["step_embed_dim"]
        a.obs_horizon = init["meta"]["obs"]["horizon"]
        a.pred_horizon = init["meta"]["action"]["pred_horizon"]
        a.action_horizon = init["meta"]["action"]["exec_horizon"]
    data = pathlib.Path(a.data)
    obs = np.load(data / "obs.npy")
    act = np.load(data / "action.npy")
    episode = np.load(data / "episode.npy")
    segment = np.load(data / "segment.npy")
    meta = json.loads((data / "dataset.json").read_text())
    feature_layout = layout.of_fields(meta["obs_fields"])
    if feature_layout is None:
        sys.exit(f"{data}: observation layout matches none in policies/train/layout.py")
    if resume and resume["network"].get("layout", "base") != feature_layout:
        sys.exit(f"{data}: {feature_layout}-frame features, but the checkpoint {a.resume} was trained "
                 f"on {resume['network'].get('layout', 'base')}-frame ones (embody train --layout)")
    if init and init["layout"] != feature_layout:
        sys.exit(f"{data}: {feature_layout}-frame features, but the model {a.init_model} was trained on "
                 f"{init['layout']}-frame ones (embody train --layout {init['layout']})")
    obs_dim, action_dim = layout.dims(feature_layout)

    # Episodes per folder under the data root (a scene family, a correction round).
    sources = {}
    for log in meta.get("logs", []):
        folder = pathlib.Path(log).parent
        try:
            name = str(folder.resolve().relative_to(data.parent.resolve()))
        except ValueError:
            name = str(folder)
        sources[name] = sources.get(name, 0) + 1

    # Split by episode: validation episodes are never seen in training.
    episodes = np.unique(episode)
    rng = np.random.default_rng(a.seed)
    n_val = max(1, int(round(len(episodes) * a.val_fraction))) if len(episodes) > 1 else 0
    val_eps = set(rng.choice(episodes, n_val, replace=False).tolist()) if n_val else set()
    is_val = np.array([e in val_eps for e in episode])
    obs_idx, act_idx = windows(segment, a.obs_horizon, a.pred_horizon)
    train_rows, val_rows = np.flatnonzero(~is_val), np.flatnonzero(is_val)

    # A resumed run keeps its normalization: the network's inputs must not change under it.
    norm = resume["normalization"] if resume else {"obs": stats(obs[~is_val]), "action": stats(act[~is_val])}
    if init:
        norm = widened(init["meta"]["normalization"], norm, a.init_model)
    nobs = torch.from_numpy(normalizer(norm["obs"])(obs)).to(dev)
    nact = torch.from_numpy(normalizer(norm["action"])(act)).to(dev)
    obs_idx, act_idx = torch.from_numpy(obs_idx).to(dev), torch.from_numpy(act_idx).to(dev)

    down_dims = [int(d) for d in a.down_dims.split(",")]
    net = ConditionalUnet1D(action_dim, a.obs_horizon * obs_dim, down_dims=tuple(down_dims),
                            step_embed_dim=a.step_embed_dim).to(dev)
    if resume:
        net.load_state_dict(resume["model"])
    if init:
        net.load_state_dict(init["net"].state_dict())
    # What the loss runs through: DDP broadcasts rank 0's weights now and all-reduces the
    # gradients in backward(), so `net` (its module) stays identical on every rank.
    train_net = torch.nn.parallel.DistributedDataParallel(
        net, device_ids=[local_rank] if dev.type == "cuda" else None) if world > 1 else net
    ema = copy.deepcopy(net).eval()
    for q in ema.parameters():
        q.requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    sched = cosine_with_warmup(opt, a.warmup, a.steps)
    first_step = 1
    history = {"step": [], "train": [], "val_step": [], "val": []}
    if resume:
        ema.load_state_dict(resume["weights"])
        opt.load_state_dict(resume["optimizer"])
        sched.load_state_dict(resume["lr_schedule"])
        first_step = resume["training"]["steps"] + 1
        history = resume["history"]
        print(f"train: resuming {a.resume} at step {first_step}", flush=True)
    noise_sched = diffusers_scheduler(scheduler_config(), "ddpm")
    alphas = noise_sched.alphas_cumprod.to(dev)
    T = noise_sched.config.num_train_timesteps

    def batch_loss(model, rows):
        cond = nobs[obs_idx[rows]].reshape(len(rows), -1)
        x0 = nact[act_idx[rows]]
        noise = torch.randn_like(x0)
        t = torch.randint(0, T, (len(rows),), device=dev)
        ab = alphas[t].reshape(-1, 1, 1)
        noisy = ab.sqrt() * x0 + (1 - ab).sqrt() * noise
        return torch.nn.functional.mse_loss(model(noisy, t, cond), noise)

    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = out.with_name(out.name + ".pt")
    # Time already spent in earlier runs of a resumed training counts in its wall time.
    earlier_minutes = resume["training"]["wall_minutes"] if resume else 0.0

    def save_checkpoint(step, wall_s):
        """Writes <out>.pt (atomically: a run killed while saving keeps the previous one)."""
        training = {
            "data_hash": data_hash(data),
            "data": str(data),
            "episodes": int(len(episodes)),
            "sources": sources,
            "correction_samples": int(meta.get("correction_samples", 0)),
            "validation_episodes": int(n_val),
            "windows": int(len(train_rows)),
            "steps": step,
            "batch": a.batch,
            "lr": a.lr,
            "seed": a.seed,
            "final_train_loss": running,
            "final_validation_loss": history["val"][-1] if history["val"] else None,
            "wall_minutes": earlier_minutes + wall_s / 60,
            "device": a.device,
            "processes": world,
            # This run's optimizer steps per wall second, for comparing process counts.
            "ms_per_step": (time.time() - loop_t0) * 1e3 / max(1, step - first_step + 1),
            "command": a.command or " ".join(sys.argv),
            "commit": a.commit or git_commit(),
            "runs": (resume["training"].get("runs", 1) + 1) if resume else 1,
            # Every command that trained this model, the first one (`command`) included.
            "commands": (resume["training"].get("commands", [resume["training"]["command"]]) if resume
                         else init["commands"] if init else [])
            + [this_command],
        }
        if init or (resume and "init_model" in resume["training"]):
            # Where the weights started, and the steps behind them: `steps` counts this
            # training's optimizer steps, `total_steps` every step since random weights.
            training["init_model"] = resume["training"]["init_model"] if resume else init["provenance"]
            training["total_steps"] = training["init_model"]["total_steps"] + step
        tmp = ckpt_path.with_name(ckpt_path.name + ".tmp")
        torch.save({
            "network": {"down_dims": down_dims, "kernel_size": 5, "n_groups": 8, "step_embed_dim": a.step_embed_dim,
                        "obs_horizon": a.obs_horizon, "pred_horizon": a.pred_horizon,
                        "action_horizon": a.action_horizon, "layout": feature_layout},
            "weights": {k: v.cpu() for k, v in ema.state_dict().items()},
            "normalization": norm,
            "training": training,
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "lr_schedule": sched.state_dict(),
            "history": history,
        }, tmp)
        tmp.replace(ckpt_path)
        return training, ckpt_path

    def say(*args, **kw):
        if rank == 0:
            print(*args, **kw)

    def reseed(base):
        # Each rank its own noise and timesteps; rank 0 keeps the single-process stream.
        torch.manual_seed(base + 7919 * rank)

    say(f"train: {len(train_rows)} windows from {len(episodes) - n_val} episodes, {len(val_rows)} validation "
        f"windows from {n_val}; {parameter_count(net)} parameters; {a.steps} steps of {a.batch}"
        + (f" ({world} processes of {a.batch // world}, DDP {dist.get_backend()})" if world > 1 else ""),
        flush=True)
    if rank:
        reseed(a.seed)
    rank_batch = a.batch // world
    gen = torch.Generator(device="cpu").manual_seed(a.seed + first_step - 1 + 7919 * rank)
    running = resume["training"]["final_train_loss"] if resume else None
    step = first_step - 1
    last_save = time.time()
    loop_t0 = time.time()
    for step in range(first_step, a.steps + 1):
        rows = torch.from_numpy(train_rows[torch.randint(0, len(train_rows), (rank_batch,), generator=gen).numpy()]).to(dev)
        loss = batch_loss(train_net, rows)
        running = optimizer_step(loss, opt, sched, net, ema, step, a.ema, running)
        if step % 50 == 0:
            history["step"].append(step)
            history["train"].append(running)
        if step % a.eval_every == 0 or step == a.steps:
            msg = ""
            if len(val_rows):
                with torch.no_grad():
                    g = torch.Generator(device="cpu").manual_seed(1)
                    pick = torch.from_numpy(val_rows[torch.randint(0, len(val_rows), (1024,), generator=g).numpy()]).to(dev)
                    torch.manual_seed(1234)
                    v = batch_loss(ema, pick).item()
                    reseed(a.seed + step)
                history["val_step"].append(step)
                history["val"].append(v)
                msg = f", validation {v:.4f}"
            el = time.time() - t0
            eta = el / (step - first_step + 1) * (a.steps - step)
            say(f"train: step {step}/{a.steps} loss {running:.4f}{msg}, {el / 60:.1f} min, eta {eta / 60:.1f} min",
                flush=True)
        if (rank == 0 and a.checkpoint_minutes and time.time() - last_save > a.checkpoint_minutes * 60
                and step < a.steps):
            save_checkpoint(step, time.time() - t0)
            last_save = time.time()
            say(f"train: checkpoint at step {step} -> {ckpt_path}", flush=True)
        if a.max_minutes:
            stop = time.time() - t0 > a.max_minutes * 60
            if world > 1:
                # Every rank must stop at the same step, or the others wait in all-reduce forever.
                flag = torch.tensor([int(stop)], device=dev)
                dist.all_reduce(flag, op=dist.ReduceOp.MAX)
                stop = bool(flag.item())
            if stop:
                say(f"train: stopping at step {step}: --max-minutes {a.max_minutes} reached", flush=True)
                break

    if world > 1:
        # The ranks must end with the same EMA weights (the exported ones): compare a digest.
        digest = torch.stack([torch.cat([q.detach().double().flatten() for q in ema.parameters()]).sum(),
                              torch.cat([q.detach().double().flatten() for q in net.parameters()]).abs().sum()])
        digest = digest.to(dev)
        lo, hi = digest.clone(), digest.clone()
        dist.all_reduce(lo, op=dist.ReduceOp.MIN)
        dist.all_reduce(hi, op=dist.ReduceOp.MAX)
        dist.destroy_process_group()
        if not torch.equal(lo, hi):
            sys.exit(f"train: rank {rank}: the processes' weights diverged ({lo.tolist()} vs {hi.tolist()})")
    if rank:
        return
    training, ckpt = save_checkpoint(step, time.time() - t0)
    subprocess.run([sys.executable, str(HERE / "export.py"), "--out", str(out), "--checkpoint", str(ckpt)],
                   check=True)
    (out.with_name(out.name + ".train.json")).write_text(json.dumps({"training": training, "history": history}) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(history["step"], history["train"], label="train (smoothed)")
        if history["val"]:
            ax.plot(history["val_step"], history["val"], "o-", label="validation (EMA weights)")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("noise MSE")
        ax.set_title(f"{out.name}: {len(episodes)} demos, {training['wall_minutes']:.0f} min")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out.with_name(out.name + ".loss.png"), dpi=100)
        print(f"train: loss curve {out.with_name(out.name + '.loss.png')}")
    except ImportError:
        print("train: matplotlib missing, no loss curve (scripts/setup.sh --train installs it)")
    print(json.dumps({"train": training}))


if __name__ == "__main__":
    main()
