"""Probe (issue 11, session 35): smoothed stop-gradient targets against the stored-pair limit.

    .venv/bin/python scripts/knn_target_probe.py OUT.jsonl MIXING[,MIXING...] VARIANT[,VARIANT...]

VARIANT: ``base`` (the whitened alignment on the stored pairs, λ = 0: fit_encoder's first fit
without its read-out and checkpoint selection) or ``knnK-M`` (targets: the mean of the cached
embeddings of the next observations of the K nearest neighbours of x in the training pairs,
refreshed every M steps; both time directions) or ``mixK-M-A`` (the alignment target
``A h(x') + (1 - A) sg(knn mean)``). Embeddings and targets are each whitened by their own batch
statistics; with the prefix ``shared-`` both by the embeddings' whitening map, which is
degenerate: with a fixed target, a larger embedding scale shrinks the whitened target and
with it the loss, so the fit drifts from alignment (measured: worse than "own" everywhere).

Results (session 35; ``results/fit_encoder/probes-s35/knn_own_whitening.jsonl`` and, with
``shared-``, ``knn.jsonl``; R²(h -> z), two tuning-half mixings, one run each): not adopted.
``base`` 0.98681 / 0.98701 (mlp-leaky-2d / coupling-4d); ``knn1-5``, the stop-gradient pair
target itself, 0.98493 / 0.98595; ``knn4-5`` 0.98485 / 0.94862; ``knn16-20`` 0.97842 /
0.89559; ``knn64-20`` 0.96069 / 0.83313. More neighbours are worse: the smoothing's bias
outweighs the innovation it removes, already in 4 dimensions at K = 4.

Why: on 8 of the suite's 12 mixings the 20 000 stored pairs limit fit_encoder (fresh pairs
reach the ceiling; docs/FIT_STUDIES.md "How many stored pairs the defaults need"). The alignment's target
h(x'_i) carries the OU innovation, which the network can fit. The T1 optimum is the top
eigenspace of the Markov operator P f(x) = E[f(x') | x]; a k-NN mean of h(x'_j) over the
x_j near x_i estimates (P h)(x_i) with about 1/K of the innovation's variance, at a bias of
the order of the neighbourhood's radius (small in low dimension). Fitting w(h(x)) to the
whitened smoothed target is a power iteration of P on the network's span.

Everything else is fit_encoder's: ZCA input whitening on the training share, the default
residual MLP (seed 0), Adam 3000 steps at lr 1e-3 with warm-up + cosine, batch 1024, the
moving average of the weights (0.998), the same 10% held out (held-out whitened alignment
reported, label-free); the returned model is the last moving average. R²(h -> z) on the
suite's 10 000 test pairs.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402


def _whiten(h: torch.Tensor):
    """``(w, L, mean)``: ``h`` whitened by the Cholesky factor ``L`` of its covariance."""
    c = torch.cov(h.T).reshape(h.shape[1], h.shape[1])
    low = torch.linalg.cholesky(c + 1e-6 * c.diagonal().mean() * torch.eye(h.shape[1]))
    mu = h.mean(0)
    return torch.linalg.solve_triangular(low, (h - mu).T, upper=False).T, low, mu


def run(name: str, variant: str, steps: int = 3000, batch: int = 1024) -> dict:
    from scipy.spatial import cKDTree

    import pycheck
    from pycheck.encoders import Standardized
    from pycheck.train import (_embed_pairs, _split, embed, make_encoder, optimiser, update,
                               whitened_alignment, whitened_loss)
    torch.set_num_threads(1)
    z, zn, zt = suite._data(name)
    x, xn, xt = (torch.from_numpy(suite.mix(name, a)) for a in (z, zn, zt))
    d = x.shape[1]
    gen = torch.Generator().manual_seed(0)
    tr, ho = _split(x.shape[0], 0.1, gen)
    model = Standardized.fit(make_encoder("residual-mlp", d, d, 0), x[tr], "zca")
    a, b = model.standardize(x[tr]), model.standardize(xn[tr])
    held = torch.stack([model.standardize(x[ho]), model.standardize(xn[ho])])
    f = model.encoder
    opt, sched, avg = optimiser(f, 1e-3, steps, 0.998)
    kind, k, every, alpha = "base", 0, 0, 1.0
    if variant != "base":
        own = not variant.startswith("shared-")
        variant_ = variant.removeprefix("shared-")
        kind, rest = variant_[:3], variant_[3:]
        parts = rest.split("-")
        k, every = int(parts[0]), int(parts[1])
        alpha = float(parts[2]) if kind == "mix" else 0.0
        # neighbours of x_i among the x_j (forward: target mean h(x'_j)) and of x'_i among
        # the x'_j (backward, by reversibility: target mean h(x_j)); each includes i itself
        _, nf = cKDTree(a.numpy()).query(a.numpy(), k)
        _, nb = cKDTree(b.numpy()).query(b.numpy(), k)
        nf, nb = torch.from_numpy(nf.reshape(-1, k)), torch.from_numpy(nb.reshape(-1, k))
    t0 = time.perf_counter()
    f.train()
    sf = sb = None
    for step in range(steps):
        if kind != "base" and step % every == 0:
            with torch.no_grad():
                ha, hb_ = f(a), f(b)     # the current iterate's embeddings of all pairs
                sf, sb = hb_[nf].mean(1), ha[nb].mean(1)
        idx = torch.randint(a.shape[0], (batch,), generator=gen)
        rows = torch.cat([a[idx], b[idx]])
        hh = f(rows)
        h, hn = hh[:batch], hh[batch:]
        if kind == "base":
            loss, _ = whitened_loss(h, hn)
        else:
            tgt = torch.cat([sf[idx], sb[idx]])
            if kind == "mix":    # the paired view with its gradient, as the alignment has it
                tgt = alpha * torch.cat([hn, h]) + (1 - alpha) * tgt
            # the embeddings (with gradient) and their targets each whitened by their own
            # batch statistics ("own", knn_own_whitening.jsonl), or both by the embeddings'
            # map ("shared": degenerate, see the docstring; knn.jsonl)
            w, low, mu = _whiten(hh)
            tw = _whiten(tgt)[0] if own else \
                torch.linalg.solve_triangular(low, (tgt - mu).T, upper=False).T
            loss = (w - tw).square().sum(-1).mean() / d
        update(f, loss, opt, sched, avg)
    secs = time.perf_counter() - t0
    f.load_state_dict(avg.module.state_dict())
    model.eval()
    ho_align = whitened_alignment(*_embed_pairs(model.encoder, held))
    return dict(mixing=name, variant=variant, n=d, rho=suite.SUITE[name][2],
                r2_hz=pycheck.linear_r2(embed(model, xt.numpy()), zt),
                heldout_alignment=ho_align, seconds=secs)


def main() -> int:
    out = Path(sys.argv[1])
    for name in sys.argv[2].split(","):
        for variant in sys.argv[3].split(","):
            suite.record(out, run(name, variant))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
