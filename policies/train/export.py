"""Export a denoiser to ONNX with the metadata the Rust runtime needs (and golden tensors for tests).

    python policies/train/export.py --out policies/models/random --seed 0             # untrained
    python policies/train/export.py --out policies/models/x --checkpoint ckpt.pt      # trained
    python policies/train/export.py --out policies/tests/data/tiny --down-dims 32,64 \
        --step-embed-dim 32 --golden                                                  # test model

Writes <out>.onnx, <out>.json and, with --golden, <out>.golden.json: a denoiser call, a DDIM-10
sample and a DDPM sample computed here by PyTorch and diffusers' schedulers from fixed inputs.

With --sampler consistency the network is a distilled one (distill.py): it predicts the clean
chunk (output `sample_pred`, prediction type `sample`) and its sampler visits the timesteps of
--consistency-timesteps; the golden file then holds a network call and one- and two-step samples.
"""

import argparse
import hashlib
import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import layout  # noqa: E402
from model import ConditionalUnet1D, parameter_count  # noqa: E402

OPSET = 17
FORMAT = "embody-diffusion-policy/1"


def scheduler_config(kind="ddim", steps=10, consistency_timesteps=None):
    cfg = {
        "kind": kind,
        "num_inference_steps": steps,
        "num_train_timesteps": 100,
        "beta_schedule": "squaredcos_cap_v2",
        "prediction_type": "sample" if kind == "consistency" else "epsilon",
        "clip_sample": True,
        "clip_sample_range": 1.0,
        "set_alpha_to_one": True,
        "steps_offset": 0,
        "timestep_spacing": "leading",
        "ddpm_variance_type": "fixed_small",
    }
    if kind == "consistency":
        cfg["consistency_timesteps"] = list(consistency_timesteps)
    return cfg


def alphas_cumprod(cfg):
    """The training schedule's cumulative alphas, as diffusers computes them."""
    return diffusers_scheduler(cfg, "ddim").alphas_cumprod


@torch.no_grad()
def consistency_sample(net, cfg, cond, noise, steps):
    """The runtime's consistency sampler: the network predicts the clean chunk (clipped); between
    steps it is noised to the next listed timestep along the noise direction it implies."""
    ac = alphas_cumprod(cfg)
    ts = cfg["consistency_timesteps"][:steps]
    r = cfg["clip_sample_range"]
    x = noise.clone()
    for k, t in enumerate(ts):
        x0 = net(x, torch.full((x.shape[0],), t, dtype=torch.int64), cond).clamp(-r, r)
        if k + 1 < len(ts):
            a, a_next = ac[t], ac[ts[k + 1]]
            eps = (x - a.sqrt() * x0) / (1 - a).sqrt()
            x = a_next.sqrt() * x0 + (1 - a_next).sqrt() * eps
        else:
            x = x0
    return x


def diffusers_scheduler(cfg, kind):
    from diffusers import DDIMScheduler, DDPMScheduler

    common = dict(
        num_train_timesteps=cfg["num_train_timesteps"],
        beta_schedule=cfg["beta_schedule"],
        prediction_type=cfg["prediction_type"],
        clip_sample=cfg["clip_sample"],
        clip_sample_range=cfg["clip_sample_range"],
        steps_offset=cfg["steps_offset"],
        timestep_spacing=cfg["timestep_spacing"],
    )
    if kind == "ddim":
        return DDIMScheduler(set_alpha_to_one=cfg["set_alpha_to_one"], **common)
    return DDPMScheduler(variance_type=cfg["ddpm_variance_type"], **common)


def build(args):
    obs_dim, action_dim = layout.dims(args.layout)
    net = ConditionalUnet1D(
        action_dim,
        args.obs_horizon * obs_dim,
        down_dims=tuple(args.down_dims),
        kernel_size=args.kernel_size,
        n_groups=args.n_groups,
        step_embed_dim=args.step_embed_dim,
    )
    return net


def export_onnx(net, path, obs_horizon, pred_horizon, feature_layout, output="noise_pred"):
    net.eval()
    obs_dim, action_dim = layout.dims(feature_layout)
    sample = torch.zeros(1, pred_horizon, action_dim)
    timestep = torch.zeros(1, dtype=torch.int64)
    cond = torch.zeros(1, obs_horizon * obs_dim)
    batch = {0: "batch"}
    torch.onnx.export(
        net,
        (sample, timestep, cond),
        str(path),
        input_names=["sample", "timestep", "global_cond"],
        output_names=[output],
        dynamic_axes={"sample": batch, "timestep": batch, "global_cond": batch, output: batch},
        opset_version=OPSET,
        dynamo=False,
    )


@torch.no_grad()
def sample_chunk(net, sched, cond, noise, step_noise=None):
    """Denoises `noise` conditioned on `cond`; DDPM draws its per-step noise from `step_noise`."""
    x = noise.clone()
    for k, t in enumerate(sched.timesteps):
        eps = net(x, t.reshape(1).to(torch.int64), cond)
        if step_noise is None:
            x = sched.step(eps, t, x).prev_sample
        else:
            gen = torch.Generator().manual_seed(1000 + k)
            state = gen.get_state()
            x = sched.step(eps, t, x, generator=gen).prev_sample
            replay = torch.Generator()
            replay.set_state(state)
            step_noise.append(torch.randn(x.shape, generator=replay) if int(t) > 0 else torch.zeros_like(x))
    return x


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


@torch.no_grad()
def golden_consistency(net, meta, seed):
    g = torch.Generator().manual_seed(seed)
    tp, da = meta["action"]["pred_horizon"], meta["action"]["dim"]
    cond_dim = meta["obs"]["horizon"] * meta["obs"]["dim"]
    sample = torch.randn(2, tp, da, generator=g)
    timestep = torch.tensor([90, 40], dtype=torch.int64)
    cond = torch.rand(2, cond_dim, generator=g) * 2 - 1
    out = {"network": {
        "sample": flat(sample), "timestep": timestep.tolist(), "global_cond": flat(cond),
        "sample_pred": flat(net(sample, timestep, cond)),
    }}
    cfg = meta["scheduler"]
    cond1 = torch.rand(1, cond_dim, generator=g) * 2 - 1
    noise = torch.randn(1, tp, da, generator=g)
    for steps in range(1, len(cfg["consistency_timesteps"]) + 1):
        out[f"consistency{steps}"] = {
            "steps": steps, "global_cond": flat(cond1), "initial_noise": flat(noise),
            "timesteps": cfg["consistency_timesteps"][:steps],
            "sample": flat(consistency_sample(net, cfg, cond1, noise, steps)),
        }
    return out


@torch.no_grad()
def golden(net, meta, seed):
    g = torch.Generator().manual_seed(seed)
    tp, da = meta["action"]["pred_horizon"], meta["action"]["dim"]
    cond_dim = meta["obs"]["horizon"] * meta["obs"]["dim"]
    # A batch of two denoiser calls at different timesteps.
    sample = torch.randn(2, tp, da, generator=g)
    timestep = torch.tensor([7, 63], dtype=torch.int64)
    cond = torch.rand(2, cond_dim, generator=g) * 2 - 1
    out = {"denoiser": {
        "sample": flat(sample), "timestep": timestep.tolist(), "global_cond": flat(cond),
        "noise_pred": flat(net(sample, timestep, cond)),
    }}
    cfg = meta["scheduler"]
    cond1 = torch.rand(1, cond_dim, generator=g) * 2 - 1
    noise = torch.randn(1, tp, da, generator=g)
    ddim = diffusers_scheduler(cfg, "ddim")
    ddim.set_timesteps(10)
    out["ddim"] = {
        "steps": 10, "global_cond": flat(cond1), "initial_noise": flat(noise),
        "timesteps": [int(t) for t in ddim.timesteps],
        "sample": flat(sample_chunk(net, ddim, cond1, noise)),
    }
    ddpm = diffusers_scheduler(cfg, "ddpm")
    ddpm.set_timesteps(20)
    step_noise = []
    result = sample_chunk(net, ddpm, cond1, noise, step_noise)
    out["ddpm"] = {
        "steps": 20, "global_cond": flat(cond1), "initial_noise": flat(noise),
        "timesteps": [int(t) for t in ddpm.timesteps],
        "step_noise": [flat(n) for n in step_noise], "sample": flat(result),
    }
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="path without extension")
    p.add_argument("--checkpoint", help="trained weights (train.py's checkpoint); random weights without")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--down-dims", default="64,128,256")
    p.add_argument("--kernel-size", type=int, default=5)
    p.add_argument("--n-groups", type=int, default=8)
    p.add_argument("--step-embed-dim", type=int, default=128)
    p.add_argument("--obs-horizon", type=int, default=2)
    p.add_argument("--pred-horizon", type=int, default=16)
    p.add_argument("--action-horizon", type=int, default=8)
    p.add_argument("--dt", type=float, default=0.1)
    p.add_argument("--layout", default="base", choices=sorted(layout.LAYOUTS),
                   help="feature frame of an untrained model (a checkpoint names its own)")
    p.add_argument("--golden", action="store_true", help="also write <out>.golden.json")
    p.add_argument("--sampler", default="ddim", choices=["ddim", "consistency"],
                   help="consistency: a distilled network predicting clean chunks (a checkpoint of "
                        "distill.py names its own)")
    p.add_argument("--consistency-timesteps", default="90,50",
                   help="with --sampler consistency: the timesteps its steps visit, noisiest first")
    p.add_argument("--poison-nan", action="store_true", help="test model whose output is NaN")
    args = p.parse_args()
    args.down_dims = [int(d) for d in args.down_dims.split(",")]

    ckpt = None
    if args.checkpoint:
        ckpt = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        for k, v in ckpt["network"].items():
            setattr(args, k, v)
        args.action_horizon = ckpt["network"].get("action_horizon", args.action_horizon)
        args.layout = ckpt["network"].get("layout", "base")
        if "consistency_timesteps" in ckpt:
            args.sampler = "consistency"
            args.consistency_timesteps = ",".join(str(t) for t in ckpt["consistency_timesteps"])
    consistency = args.sampler == "consistency"
    ts = [int(t) for t in args.consistency_timesteps.split(",")]
    sched_cfg = scheduler_config("consistency", 1, ts) if consistency else scheduler_config()
    output = "sample_pred" if consistency else "noise_pred"
    torch.manual_seed(args.seed)
    net = build(args)
    if ckpt:
        net.load_state_dict(ckpt["weights"])
    if args.poison_nan:
        with torch.no_grad():
            net.final[1].bias.fill_(float("nan"))
    net.eval()

    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    onnx_path = out.with_name(out.name + ".onnx")
    export_onnx(net, onnx_path, args.obs_horizon, args.pred_horizon, args.layout, output)
    obs_fields, action_fields = layout.LAYOUTS[args.layout]
    obs_dim, action_dim = layout.dims(args.layout)
    meta = {
        "format": FORMAT,
        "onnx": onnx_path.name,
        "opset": OPSET,
        "network": {
            "kind": "ConditionalUnet1D",
            "down_dims": args.down_dims,
            "kernel_size": args.kernel_size,
            "n_groups": args.n_groups,
            "step_embed_dim": args.step_embed_dim,
            "parameters": parameter_count(net),
            "inputs": ["sample", "timestep", "global_cond"],
            "outputs": [output],
        },
        "obs": {
            "horizon": args.obs_horizon,
            "dim": obs_dim,
            "fields": layout.layout_json(obs_fields),
        },
        "action": {
            "pred_horizon": args.pred_horizon,
            "exec_horizon": args.action_horizon,
            "dt": args.dt,
            "dim": action_dim,
            "fields": layout.layout_json(action_fields),
        },
        "normalization": ckpt["normalization"] if ckpt else {
            "obs": layout.default_stats(obs_fields),
            "action": layout.default_stats(action_fields),
        },
        "scheduler": sched_cfg,
        "training": ckpt["training"] if ckpt else {
            "data_hash": None,
            "note": f"untrained: random weights (seed {args.seed})",
        },
        "onnx_sha256": hashlib.sha256(onnx_path.read_bytes()).hexdigest(),
    }
    json_path = out.with_name(out.name + ".json")
    json_path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"wrote {onnx_path} ({meta['network']['parameters']} parameters) and {json_path}")
    if args.golden:
        g = out.with_name(out.name + ".golden.json")
        gold = golden_consistency(net, meta, args.seed) if consistency else golden(net, meta, args.seed)
        g.write_text(json.dumps(gold) + "\n")
        print(f"wrote {g}")


if __name__ == "__main__":
    main()
