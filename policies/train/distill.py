"""Distill a trained diffusion policy into a one- or two-step sampler and export it for the runtime.

    python policies/train/distill.py --teacher policies/models/table_clearing.json \
        --data DATA/dataset --out policies/models/table_clearing_consistency [--steps 8000]

Trajectory distillation in the manner of consistency models (Song et al. 2023; Consistency
Policy, Prasad et al. 2024): the teacher runs its own DDIM sampler from Gaussian noise under
observation windows of the training data (DATA/dataset, what `embody train` builds); each state
its sampler passes through, with the state's timestep, is paired with the chunk the trajectory
ends at. The student is the teacher's network, started from the teacher's weights, trained to
predict that final chunk from any of those states in one call (prediction type `sample`). At run
time one call from noise gives a chunk (1 step); with 2 steps the first prediction is noised to a
middle timestep along the noise direction it implies and predicted again. The middle timestep is
chosen on held-out pairs: the one whose two-step chunks come closest to the teacher's.

The teacher's weights are read back from its ONNX file (no PyTorch checkpoint needed) and its
PyTorch copy is checked against ONNX Runtime before anything is distilled. Seeded; writes
<out>.onnx and <out>.json (kind `consistency`, through export.py), <out>.loss.png,
<out>.train.json, <out>.pt (the checkpoint --resume continues from) and <out>.pairs.pt (the
teacher's trajectories, reused by --resume; neither .pt is committed).
"""

import argparse
import copy
import hashlib
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import layout  # noqa: E402
from export import diffusers_scheduler  # noqa: E402
from model import parameter_count  # noqa: E402
from onnx_weights import check_against_onnx, network_from_onnx  # noqa: E402
from train import cosine_with_warmup, data_hash, git_commit, normalizer, optimizer_step, windows  # noqa: E402


@torch.no_grad()
def teacher_trajectories(net, sched, cond, noise):
    """DDIM from `noise`: the state fed to each step (noisiest first) and the final chunk."""
    x = noise
    states = []
    for t in sched.timesteps:
        states.append(x)
        eps = net(x, t.expand(x.shape[0]).to(torch.int64), cond)
        x = sched.step(eps, t, x).prev_sample
    return torch.stack(states, 1), x


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--teacher", required=True, help="the trained model's JSON (its ONNX file beside it)")
    p.add_argument("--data", required=True, help="the dataset folder `embody train` builds")
    p.add_argument("--out", required=True, help="model path without extension")
    p.add_argument("--pairs", type=int, default=40000, help="teacher trajectories to distill from")
    p.add_argument("--val-pairs", type=int, default=1024, help="held-out trajectories (validation episodes)")
    p.add_argument("--steps", type=int, default=8000)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--weight-decay", type=float, default=1e-6)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--ema", type=float, default=0.995)
    p.add_argument("--first-weight", type=float, default=0.5,
                   help="share of each batch taken from the noisiest state (the one-step case)")
    p.add_argument("--val-fraction", type=float, default=0.05)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all cores)")
    p.add_argument("--resume", help="continue from <out>.pt up to --steps")
    p.add_argument("--max-minutes", type=float, default=0, help="stop early after this long (0: no limit)")
    p.add_argument("--checkpoint-minutes", type=float, default=10)
    p.add_argument("--command", help="the command that started distillation, for provenance")
    p.add_argument("--commit", help="the code's git commit, for provenance")
    a = p.parse_args()
    t0 = time.time()
    torch.manual_seed(a.seed)
    if a.threads:
        torch.set_num_threads(a.threads)
    dev = torch.device(a.device)
    this_command = a.command or " ".join(sys.argv)
    out = pathlib.Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ckpt_path = out.with_name(out.name + ".pt")
    pairs_path = out.with_name(out.name + ".pairs.pt")
    resume = torch.load(a.resume, map_location="cpu", weights_only=False) if a.resume else None

    teacher_json = pathlib.Path(a.teacher)
    meta = json.loads(teacher_json.read_text())
    sc = meta["scheduler"]
    if sc.get("prediction_type") != "epsilon" or sc.get("kind") not in ("ddim", "ddpm"):
        sys.exit(f"distill: {teacher_json} is not a denoiser (scheduler {sc.get('kind')}, "
                 f"prediction {sc.get('prediction_type')}); distill a DDIM/DDPM model")
    onnx_path = teacher_json.with_name(meta["onnx"])
    teacher, feature_layout = network_from_onnx(meta, onnx_path, "distill")
    diff = check_against_onnx(teacher, onnx_path, meta)
    if diff > 1e-4:
        sys.exit(f"distill: the teacher's weights read from {onnx_path} compute differently from the file "
                 f"(max difference {diff:.2e}); not distilling")
    print(f"distill: teacher {teacher_json} ({parameter_count(teacher)} parameters, {feature_layout} frame); "
          f"PyTorch copy within {diff:.1e} of ONNX Runtime", flush=True)
    teacher = teacher.to(dev)

    data = pathlib.Path(a.data)
    obs = np.load(data / "obs.npy")
    episode = np.load(data / "episode.npy")
    segment = np.load(data / "segment.npy")
    dmeta = json.loads((data / "dataset.json").read_text())
    if layout.of_fields(dmeta["obs_fields"]) != feature_layout:
        sys.exit(f"distill: {data} has {layout.of_fields(dmeta['obs_fields'])}-frame features, the teacher "
                 f"{feature_layout}-frame ones (embody train --layout {feature_layout})")
    to, tp, da = meta["obs"]["horizon"], meta["action"]["pred_horizon"], meta["action"]["dim"]
    nobs = torch.from_numpy(normalizer(meta["normalization"]["obs"])(obs))
    obs_idx, _ = windows(segment, to, tp)
    episodes = np.unique(episode)
    rng = np.random.default_rng(a.seed)
    n_val = max(1, int(round(len(episodes) * a.val_fraction)))
    val_eps = set(rng.choice(episodes, n_val, replace=False).tolist())
    is_val = np.array([e in val_eps for e in episode])
    train_rows, val_rows = np.flatnonzero(~is_val), np.flatnonzero(is_val)

    sched = diffusers_scheduler(sc, "ddim")
    sched.set_timesteps(sc["num_inference_steps"])
    timesteps = [int(t) for t in sched.timesteps]

    def trajectories(rows, seed, what):
        gen = torch.Generator().manual_seed(seed)
        rows = torch.from_numpy(rows)
        conds, states, finals = [], [], []
        t1 = time.time()
        for i in range(0, len(rows), 1024):
            r = rows[i:i + 1024]
            cond = nobs[obs_idx[r]].reshape(len(r), -1)
            noise = torch.randn(len(r), tp, da, generator=gen)
            s, x0 = teacher_trajectories(teacher, sched, cond.to(dev), noise.to(dev))
            conds.append(cond)
            states.append(s.cpu())
            finals.append(x0.cpu())
            done = min(i + 1024, len(rows))
            if (i // 1024) % 10 != 9 and done < len(rows):
                continue
            el = time.time() - t1
            print(f"distill: {what} trajectories {done}/{len(rows)}, {el / 60:.1f} min, "
                  f"eta {el / done * (len(rows) - done) / 60:.1f} min", flush=True)
        return torch.cat(conds), torch.cat(states), torch.cat(finals)

    if pairs_path.exists() and resume:
        pairs = torch.load(pairs_path, weights_only=False)
        print(f"distill: teacher trajectories from {pairs_path}", flush=True)
    else:
        pick = rng.choice(train_rows, min(a.pairs, len(train_rows)), replace=False)
        vpick = rng.choice(val_rows, min(a.val_pairs, len(val_rows)), replace=False)
        pairs = {"train": trajectories(pick, a.seed + 1, "training"),
                 "val": trajectories(vpick, a.seed + 2, "validation"), "timesteps": timesteps}
        torch.save(pairs, pairs_path)
    cond_tr, states_tr, x0_tr = pairs["train"]
    cond_va, states_va, x0_va = [v.to(dev) for v in pairs["val"]]
    if "teacher_spread" not in pairs:
        # The scale the figures below are read against: the teacher's own chunks for the same
        # observations from other noise (how far apart two of its samples are).
        gen = torch.Generator().manual_seed(a.seed + 3)
        other = torch.randn(x0_va.shape, generator=gen).to(dev)
        _, x0_other = teacher_trajectories(teacher, sched, cond_va, other)
        pairs["teacher_spread"] = float(((x0_other - x0_va) ** 2).mean())
        torch.save(pairs, pairs_path)
    spread = pairs["teacher_spread"]
    n_pairs, n_states = states_tr.shape[0], states_tr.shape[1]
    ts = torch.tensor(timesteps, dtype=torch.int64)

    net = copy.deepcopy(teacher).train()
    if resume:
        net.load_state_dict(resume["model"])
    ema = copy.deepcopy(net).eval()
    for q in ema.parameters():
        q.requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    lr_sched = cosine_with_warmup(opt, a.warmup, a.steps)
    first_step = 1
    history = {"step": [], "train": [], "val_step": [], "val_1step": [], "val_2step": {}}
    if resume:
        ema.load_state_dict(resume["weights"])
        opt.load_state_dict(resume["optimizer"])
        lr_sched.load_state_dict(resume["lr_schedule"])
        first_step = resume["training"]["steps"] + 1
        history = resume["history"]
        print(f"distill: resuming {a.resume} at step {first_step}", flush=True)
    ac = sched.alphas_cumprod.to(dev)
    clip = sc["clip_sample_range"]

    @torch.no_grad()
    def validate(model):
        """Mean squared distance (normalized action units) to the teacher's chunks: one step
        from noise, and two steps through each candidate middle timestep."""
        x = states_va[:, 0].to(dev)
        b = len(x)
        t_first = ts[0]
        x0 = model(x, t_first.expand(b).to(dev), cond_va).clamp(-clip, clip)
        one = float(((x0 - x0_va) ** 2).mean())
        a0 = ac[t_first]
        eps = (x - a0.sqrt() * x0) / (1 - a0).sqrt()
        two = {}
        for t_mid in timesteps[1:-1]:
            am = ac[t_mid]
            xm = am.sqrt() * x0 + (1 - am).sqrt() * eps
            x0m = model(xm, torch.full((b,), t_mid, dtype=torch.int64, device=dev), cond_va).clamp(-clip, clip)
            two[t_mid] = float(((x0m - x0_va) ** 2).mean())
        return one, two

    def save_checkpoint(step, wall_s, middle, figures):
        training = {
            "kind": "consistency distillation",
            "teacher": str(teacher_json),
            "teacher_onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
            "teacher_training": {k: meta["training"].get(k) for k in ("data_hash", "data", "episodes", "steps",
                                                                       "commit")},
            "teacher_timesteps": timesteps,
            "data_hash": data_hash(data),
            "data": str(data),
            "pairs": int(n_pairs),
            "validation_pairs": int(len(x0_va)),
            "steps": step,
            "batch": a.batch,
            "lr": a.lr,
            "first_weight": a.first_weight,
            "seed": a.seed,
            "final_train_loss": running,
            "validation_mse_1step": figures[0],
            "teacher_spread_mse": spread,
            "validation_mse_2step": figures[1],
            "middle_timestep": middle,
            "wall_minutes": earlier + wall_s / 60,
            "device": a.device,
            "command": (resume["training"]["command"] if resume else this_command),
            "commands": (resume["training"]["commands"] if resume else []) + [this_command],
            "commit": a.commit or git_commit(),
        }
        tmp = ckpt_path.with_name(ckpt_path.name + ".tmp")
        torch.save({
            "network": {"down_dims": meta["network"]["down_dims"], "kernel_size": meta["network"]["kernel_size"],
                        "n_groups": meta["network"]["n_groups"], "step_embed_dim": meta["network"]["step_embed_dim"],
                        "obs_horizon": to, "pred_horizon": tp, "action_horizon": meta["action"]["exec_horizon"],
                        "dt": meta["action"]["dt"], "layout": feature_layout},
            "consistency_timesteps": [timesteps[0], middle],
            "weights": {k: v.cpu() for k, v in ema.state_dict().items()},
            "normalization": meta["normalization"],
            "training": training,
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "lr_schedule": lr_sched.state_dict(),
            "history": history,
        }, tmp)
        tmp.replace(ckpt_path)
        return training

    earlier = resume["training"]["wall_minutes"] if resume else 0.0
    gen = torch.Generator().manual_seed(a.seed + first_step)
    running = resume["training"]["final_train_loss"] if resume else None
    one, two = validate(teacher)
    print(f"distill: {n_pairs} trajectories of {n_states} states ({timesteps}); before training, the teacher's "
          f"own network as a one-step sampler: validation {one:.4f}; the teacher against itself from other "
          f"noise: {spread:.4f}", flush=True)
    figures = (one, two)
    step = first_step - 1
    last_save = time.time()
    n_first = int(a.batch * a.first_weight)
    for step in range(first_step, a.steps + 1):
        idx = torch.randint(0, n_pairs, (a.batch,), generator=gen)
        k = torch.cat([torch.zeros(n_first, dtype=torch.int64),
                       torch.randint(1, n_states, (a.batch - n_first,), generator=gen)])
        x = states_tr[idx, k].to(dev)
        pred = net(x, ts[k].to(dev), cond_tr[idx].to(dev))
        loss = torch.nn.functional.mse_loss(pred, x0_tr[idx].to(dev))
        running = optimizer_step(loss, opt, lr_sched, net, ema, step, a.ema, running)
        if step % 50 == 0:
            history["step"].append(step)
            history["train"].append(running)
        stop = a.max_minutes and time.time() - t0 > a.max_minutes * 60
        if step % a.eval_every == 0 or step == a.steps or stop:
            figures = validate(ema)
            history["val_step"].append(step)
            history["val_1step"].append(figures[0])
            for t_mid, v in figures[1].items():
                history["val_2step"].setdefault(str(t_mid), []).append(v)
            best = min(figures[1], key=figures[1].get)
            el = time.time() - t0
            eta = el / (step - first_step + 1) * (a.steps - step)
            print(f"distill: step {step}/{a.steps} loss {running:.4f}, validation 1 step {figures[0]:.4f}, "
                  f"2 steps {figures[1][best]:.4f} (through t={best}), {el / 60:.1f} min, eta {eta / 60:.1f} min",
                  flush=True)
        if a.checkpoint_minutes and time.time() - last_save > a.checkpoint_minutes * 60 and step < a.steps:
            save_checkpoint(step, time.time() - t0, min(figures[1], key=figures[1].get), figures)
            last_save = time.time()
            print(f"distill: checkpoint at step {step} -> {ckpt_path}", flush=True)
        if stop:
            print(f"distill: stopping at step {step}: --max-minutes {a.max_minutes} reached", flush=True)
            break

    figures = validate(ema)
    middle = min(figures[1], key=figures[1].get)
    training = save_checkpoint(step, time.time() - t0, middle, figures)
    subprocess.run([sys.executable, str(HERE / "export.py"), "--out", str(out), "--checkpoint", str(ckpt_path)],
                   check=True)
    out.with_name(out.name + ".train.json").write_text(json.dumps({"training": training, "history": history}) + "\n")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.plot(history["step"], history["train"], label="train (smoothed)")
        if history["val_step"]:
            ax.plot(history["val_step"], history["val_1step"], "o-", label="validation, 1 step")
            ax.plot(history["val_step"], history["val_2step"][str(middle)], "s-",
                    label=f"validation, 2 steps (via t={middle})")
        ax.axhline(spread, ls="--", color="grey", label="the teacher against itself (other noise)")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("MSE to the teacher's chunk")
        ax.set_title(f"{out.name}: {n_pairs} teacher trajectories, {training['wall_minutes']:.0f} min")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out.with_name(out.name + ".loss.png"), dpi=100)
        print(f"distill: loss curve {out.with_name(out.name + '.loss.png')}")
    except ImportError:
        print("distill: matplotlib missing, no loss curve (scripts/setup.sh --train installs it)")
    print(json.dumps({"distill": training}))


if __name__ == "__main__":
    main()
