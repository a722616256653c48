"""Is SIGReg's gap to VICReg in the scaling table its finite-batch bias? (issue 11, session 10)

    .venv/bin/python scripts/sigreg_bias_probe.py N STEPS unbiased(0|1) [SEED]

One scaling-experiment run (RealNVP mixing and encoder, rho 0.5, fresh pairs at every
step, batch 256, lr 3e-3, 128 slices: `experiments/scaling.toml`'s quick settings apart
from STEPS), with SIGReg's statistic as LeJEPA computes it (a V-statistic) or with its
finite-batch bias removed (``unbiased=1``). Appends one JSON line to
``results/scaling/sigreg_bias_s10.jsonl``.

Why: the B-scaled Epps–Pulley statistic is ``B ∫ w |ECF_B − φ|²``, and
``E |ECF_B(t)|² = |φ_h(t)|² + (1 − |φ_h(t)|²) / B``, so its expectation is the population
statistic plus ``∫ w (1 − |φ_h(t)|²)``, a term that depends on the *shape* of h's law
(it rewards concentration), not only on how far it is from Gaussian. Replacing
``|ECF_B|²`` by its unbiased estimate ``(B |ECF_B|² − 1) / (B − 1)`` (a U-statistic)
removes it: the statistic gains ``B Σ_k w_k (|ECF_B(t_k)|² − 1) / (B − 1)``. Probe only:
the package keeps LeJEPA's statistic (issue 16 requires equality with the reference).
"""
import json
import sys
import time
from pathlib import Path

import torch

from pycheck import objectives as O
from pycheck.experiments._common import train_and_measure

OUT = Path("results/scaling/sigreg_bias_s10.jsonl")


def debiased(ecf_statistic):
    def stat(y, t0, phi, weights, fused=None):
        base = ecf_statistic(y, t0, phi, weights, fused)
        B = y.shape[-1]
        k = torch.arange(1, phi.numel(), dtype=y.dtype, device=y.device)
        theta = t0 * k[:, None, None] * y                       # (K-1, G, B)
        mod2 = torch.cos(theta).mean(-1).square() + torch.sin(theta).mean(-1).square()
        w = weights[1:].to(y.dtype)[:, None]
        return base + (B * (w * (mod2 - 1)).sum(0) / (B - 1)).mean()
    return stat


if __name__ == "__main__":
    torch.set_num_threads(1)
    n, steps, unbiased = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if unbiased:
        O.ecf_statistic = debiased(O.ecf_statistic)
    t = time.time()
    r = train_and_measure(objective="sigreg", options={"num_slices": 128}, mixing="realnvp",
                          n=n, seed=seed, rho=0.5, n_train=20000, n_test=5000, steps=steps,
                          batch_size=256, lr=3e-3, encoder="realnvp", fresh=True)
    row = dict(n=n, steps=steps, unbiased=unbiased, seed=seed, r2=r["r2_hz"],
               secs=round(time.time() - t, 1))
    print(json.dumps(row), flush=True)
    with OUT.open("a") as f:
        f.write(json.dumps(row) + "\n")
