"""Gaussian input noise as a regulariser of fit_encoder on stored pairs (issue 11, session 22).

    .venv/bin/python scripts/input_noise_probe.py SIGMA[,SIGMA...] MIXING [MIXING ...]

A SIGMA ending in ``s`` (``0.05s``) draws one shift per pair, shared by its two views: the
pair's difference is unchanged (no added target noise) and the map is evaluated around
the stored points instead.

On the suite's stored 20 000 pairs the network fits the pairs' OU innovation noise (docs/FIT_STUDIES.md,
"Where the precision is lost"). Independent noise ``N(0, σ²)`` added to both views of every
training batch, in the standardised (ZCA-whitened, unit-variance) input coordinates, adds
``σ² (‖J(x)‖² + ‖J(x')‖²)`` to the alignment to first order: a smoothness penalty that,
with whitened inputs, is the same for every rotation of the input and grows with the
map's nonlinearity. Held-out selection and the read-out competition see clean pairs.

One fit per (mixing, σ), λ = 0 (objective "whitened" without SIGReg: half the default's
cost; σ = 0 is the same fit without noise, run beside it), fit_encoder's other defaults,
seed 0; R²(h -> z) on the suite's 10 000 test pairs. Tuning-half mixings only. One JSON
line each in ``results/fit_encoder/probes-s22/input_noise.jsonl``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from suite import SUITE, _data, mix  # noqa: E402

OUT = Path("results/fit_encoder/probes-s22/input_noise.jsonl")


def fit(name: str, sigma: float, shared: bool = False) -> dict:
    import pycheck
    from pycheck import train
    from pycheck.train import embed
    if SUITE[name][3] != "tuning":
        raise SystemExit(f"{name} is in the held-out half")
    z, zn, zt = _data(name)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    original = train._batches
    gen = torch.Generator().manual_seed(12345)

    def noisy_batches(*args, **kwargs):
        draw = original(*args, **kwargs)

        def noisy(batch):
            pairs, k = draw(batch)
            if shared:   # rows: k first views, then `batch` second views; pair i = (i mod k, i)
                eps = sigma * torch.randn((k, pairs.shape[1]), generator=gen).to(pairs)
                reps = -(-batch // k)
                return pairs + torch.cat([eps, eps.repeat(reps, 1)[:batch]]), k
            return pairs + sigma * torch.randn(pairs.shape, generator=gen).to(pairs), k
        return noisy if sigma else draw
    train._batches = noisy_batches
    try:
        t0 = time.perf_counter()
        enc = pycheck.fit_encoder(x, xn, lam=0, progress=False, seed=0)
        secs = time.perf_counter() - t0
    finally:
        train._batches = original
    return dict(mixing=name, sigma=sigma, shared=shared, r2_hz=pycheck.linear_r2(embed(enc, xt), zt),
                heldout_objective=enc.heldout_objective, selected=enc.selected,
                best_step=enc.best_step, train_seconds=secs,
                torch_threads=torch.get_num_threads())


def main() -> int:
    torch.set_num_threads(1)
    sigmas = [(float(s.rstrip("s")), s.endswith("s")) for s in sys.argv[1].split(",")]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:]:
        for sigma, shared in sigmas:
            row = fit(name, sigma, shared)
            print(json.dumps(row), flush=True)
            with OUT.open("a") as f:
                f.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
