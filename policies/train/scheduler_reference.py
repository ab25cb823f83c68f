"""Reference values from diffusers' DDIM and DDPM schedulers for the Rust scheduler's unit tests.

    python policies/train/scheduler_reference.py > policies/tests/data/scheduler_reference.json
"""

import json
import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from export import diffusers_scheduler, scheduler_config  # noqa: E402


def flat(t):
    return [float(v) for v in t.reshape(-1).tolist()]


def main():
    cfg = scheduler_config()
    g = torch.Generator().manual_seed(7)
    sample = torch.randn(1, 4, 3, generator=g) * 1.5
    eps = torch.randn(1, 4, 3, generator=g)
    out = {"sample": flat(sample), "model_output": flat(eps), "cases": []}
    ddim = diffusers_scheduler(cfg, "ddim")
    out["alphas_cumprod"] = flat(ddim.alphas_cumprod)
    out["betas"] = flat(ddim.betas)
    for kind in ("ddim", "ddpm"):
        for steps in (1, 5, 10, 16, 100):
            s = diffusers_scheduler(cfg, kind)
            s.set_timesteps(steps)
            steps_out = []
            for t in s.timesteps:
                if kind == "ddim":
                    prev = s.step(eps, t, sample).prev_sample
                    steps_out.append({"t": int(t), "prev_sample": flat(prev)})
                    continue
                # DDPM draws its noise from the generator; replay the generator to record it.
                gen = torch.Generator().manual_seed(int(t))
                state = gen.get_state()
                prev = s.step(eps, t, sample, generator=gen).prev_sample
                replay = torch.Generator()
                replay.set_state(state)
                drawn = torch.randn(sample.shape, generator=replay)
                steps_out.append({"t": int(t), "prev_sample": flat(prev), "noise": flat(drawn)})
            out["cases"].append({"kind": kind, "steps": steps, "timesteps": [int(t) for t in s.timesteps], "step": steps_out})
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
