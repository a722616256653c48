"""One trained-encoder run, shared by the twod and scaling experiments.

:func:`train_and_measure` draws Gaussian-OU pairs, mixes them, fits an encoder on the
observations, and measures on fresh held-out pairs: ``R²(x -> z)``, ``R²(h -> z)`` and the
Theorem 3 quantities (``eps, delta, D, bound``), i.e. every key the ``bound`` experiment
reads from ``results/<name>/runs/*.json``.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import numpy as np


def train_and_measure(*, mixing: str, n: int, objective: str, seed: int, rho: float,
                      n_train: int, n_test: int, steps: int, batch_size: int, lr: float,
                      encoder: str = "mlp", options: dict | None = None,
                      keep_embedding: int = 0) -> dict:
    """Train one encoder and measure it; returns a JSON-able dict.

    ``encoder`` is ``"mlp"`` (fit_encoder's default MLP) or ``"realnvp"`` (the matched
    :class:`pycheck.encoders.RealNVPEncoder`, initialised with a seed different from the
    mixing's). ``keep_embedding > 0`` also stores that many test rows of ``z`` and
    ``h`` (for figures).
    """
    from ..encoders import RealNVPEncoder
    from ..metrics import linear_r2, t3_quantities
    from ..mixings import make_mixing
    from ..train import embed, fit_encoder
    from ..worlds import gaussian_ou_pairs

    rng = np.random.default_rng([seed, n, 0x7EA])
    z, z_next = gaussian_ou_pairs(n_train, n, rho, rng)
    zt, zt_next = gaussian_ou_pairs(n_test, n, rho, rng)
    g = make_mixing(mixing, n, seed)
    x, xt = g.forward(z), g.forward(zt)
    enc = RealNVPEncoder(n, seed=10_000 + seed) if encoder == "realnvp" else None
    t0 = time.perf_counter()
    model = fit_encoder(x, g.forward(z_next), objective, encoder=enc, steps=steps,
                        batch_size=batch_size, lr=lr, seed=seed, progress=False,
                        **(options or {}))
    secs = time.perf_counter() - t0
    h, h_next = embed(model, xt), embed(model, g.forward(zt_next))
    res = dict(experiment_run=f"{mixing}-{objective}-N{n}-seed{seed}", mixing=mixing,
               objective=objective, encoder=encoder, seed=seed, n_train=n_train,
               n_test=n_test, steps=steps, batch_size=batch_size,
               r2_xz=linear_r2(xt, zt), r2_hz=linear_r2(h, zt),
               train_seconds=secs, final_parts=model.history[-1][1],
               **t3_quantities(h, h_next, zt, rho))
    if keep_embedding:
        res["z"] = zt[:keep_embedding].tolist()
        res["x"] = xt[:keep_embedding].tolist()
        res["h"] = h[:keep_embedding].tolist()
    return res


@contextmanager
def torch_threads(cfg: dict):
    """Train with ``cfg['threads']`` (default 1) intra-op CPU threads; restore them after.

    On a shared, oversubscribed 2-core machine two threads were ten times slower per
    training step than one (0.55 s vs 0.05 s, 2D MLP + SIGReg), so the configs ask for 1;
    without contention 2 is slightly faster. Irrelevant on CUDA.
    """
    import torch
    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(cfg.get("threads", 1))))
    try:
        yield
    finally:
        torch.set_num_threads(old)
