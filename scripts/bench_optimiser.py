"""fit_encoder's per-step optimiser work, old against new, interleaved in one process (2 threads):
Adam foreach vs fused, torch's AveragedModel (EMA) vs train.WeightAverage, and the gradient clipping,
on the RealNVP encoder's parameters at N = 8 and 256 (ms per call, median of 5 rounds of 200).

Session 12 output: results/bench/optimiser_s12.txt. Usage: .venv/bin/python scripts/bench_optimiser.py
"""
import time

import numpy as np
import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from pycheck.encoders import RealNVPEncoder
from pycheck.train import WeightAverage

torch.set_num_threads(2)


def per_call(fn, rounds=5, calls=200):
    fn()
    out = []
    for _ in range(rounds):
        t = time.perf_counter()
        for _ in range(calls):
            fn()
        out.append((time.perf_counter() - t) / calls)
    return out


for n in (8, 256):
    f = RealNVPEncoder(n)
    for p in f.parameters():
        p.grad = torch.randn_like(p)
    cases = {
        "adam foreach": torch.optim.Adam(f.parameters(), lr=1e-4, foreach=True).step,
        "adam fused": torch.optim.Adam(f.parameters(), lr=1e-4, fused=True).step,
        "AveragedModel": (lambda a: lambda: a.update_parameters(f))(
            AveragedModel(f, multi_avg_fn=get_ema_multi_avg_fn(0.998), use_buffers=True)),
        "WeightAverage": (lambda a: lambda: a.update_parameters(f))(WeightAverage(f, 0.998)),
        "clip_grad_norm_": lambda: torch.nn.utils.clip_grad_norm_(f.parameters(), 10.0),
    }
    times = {k: [] for k in cases}
    for _ in range(3):                      # interleaved rounds
        for k, fn in cases.items():
            times[k] += per_call(fn)
    print(f"N = {n} ({sum(p.numel() for p in f.parameters())} parameters): " + ", ".join(
        f"{k} {1e3 * np.median(v):.3f} ms" for k, v in times.items()), flush=True)
