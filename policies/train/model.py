"""The denoiser: a 1-D temporal convolutional U-Net with FiLM conditioning (Chi et al. 2023).

Input: a noisy action chunk (B, Tp, Da), the diffusion timestep (B,) and the flattened observation
history (B, To * Do). Output: the predicted noise, same shape as the chunk.
"""

import math

import torch
from torch import nn


class SinusoidalPosEmb(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        scale = math.log(10000) / (half - 1)
        freqs = torch.exp(torch.arange(half, device=t.device, dtype=torch.float32) * -scale)
        args = t.to(torch.float32)[:, None] * freqs[None, :]
        return torch.cat((args.sin(), args.cos()), dim=-1)


class Conv1dBlock(nn.Sequential):
    """Conv1d -> GroupNorm -> Mish."""

    def __init__(self, cin: int, cout: int, kernel: int, groups: int):
        super().__init__(
            nn.Conv1d(cin, cout, kernel, padding=kernel // 2),
            nn.GroupNorm(groups, cout),
            nn.Mish(),
        )


class FilmResBlock(nn.Module):
    """Two conv blocks; the condition scales and shifts the first one's output per channel."""

    def __init__(self, cin: int, cout: int, cond_dim: int, kernel: int, groups: int):
        super().__init__()
        self.first = Conv1dBlock(cin, cout, kernel, groups)
        self.second = Conv1dBlock(cout, cout, kernel, groups)
        self.film = nn.Sequential(nn.Mish(), nn.Linear(cond_dim, 2 * cout))
        self.skip = nn.Conv1d(cin, cout, 1) if cin != cout else nn.Identity()
        self.cout = cout

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.first(x)
        scale, shift = self.film(cond).unsqueeze(-1).chunk(2, dim=1)
        h = scale * h + shift
        return self.second(h) + self.skip(x)


class ConditionalUnet1D(nn.Module):
    def __init__(
        self,
        action_dim: int,
        global_cond_dim: int,
        down_dims=(64, 128, 256),
        kernel_size: int = 5,
        n_groups: int = 8,
        step_embed_dim: int = 128,
    ):
        super().__init__()
        self.step_encoder = nn.Sequential(
            SinusoidalPosEmb(step_embed_dim),
            nn.Linear(step_embed_dim, 4 * step_embed_dim),
            nn.Mish(),
            nn.Linear(4 * step_embed_dim, step_embed_dim),
        )
        cond_dim = step_embed_dim + global_cond_dim
        dims = [action_dim, *down_dims]
        pairs = list(zip(dims[:-1], dims[1:]))
        block = lambda i, o: FilmResBlock(i, o, cond_dim, kernel_size, n_groups)  # noqa: E731

        self.down = nn.ModuleList()
        for k, (cin, cout) in enumerate(pairs):
            last = k == len(pairs) - 1
            self.down.append(
                nn.ModuleList(
                    [
                        block(cin, cout),
                        block(cout, cout),
                        nn.Conv1d(cout, cout, 3, 2, 1) if not last else nn.Identity(),
                    ]
                )
            )
        mid = down_dims[-1]
        self.mid = nn.ModuleList([block(mid, mid), block(mid, mid)])
        self.up = nn.ModuleList()
        # Every level on the way up doubles the length again: the down path halved it once per
        # level but the last.
        for cin, cout in reversed(pairs[1:]):
            self.up.append(
                nn.ModuleList(
                    [block(2 * cout, cin), block(cin, cin), nn.ConvTranspose1d(cin, cin, 4, 2, 1)]
                )
            )
        self.final = nn.Sequential(
            Conv1dBlock(down_dims[0], down_dims[0], kernel_size, n_groups),
            nn.Conv1d(down_dims[0], action_dim, 1),
        )

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor, global_cond: torch.Tensor):
        x = sample.transpose(1, 2)
        cond = torch.cat([self.step_encoder(timestep), global_cond], dim=-1)
        skips = []
        for first, second, down in self.down:
            x = second(first(x, cond), cond)
            skips.append(x)
            x = down(x)
        for b in self.mid:
            x = b(x, cond)
        for first, second, up in self.up:
            x = torch.cat([x, skips.pop()], dim=1)
            x = up(second(first(x, cond), cond))
        return self.final(x).transpose(1, 2)


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
