"""Probes of fit_encoder's engine on the suite's tuning half (issue 11, session 8).

    .venv/bin/python scripts/engine_probes.py MIXING VARIANT_JSON

One fit on a mixing of ``scripts/suite.py`` (its 20 000 training and 10 000 test pairs),
printed and appended as one JSON line to ``results/fit_encoder/probes-s8/probes.jsonl``:
R²(h -> z) on the test pairs, the whitened alignment on the training pairs (``wa_train``),
on 10 000 fresh pairs (``wa_fresh``) and of the true z on them (``wa_z``, the T1 optimum),
the held-out objective, read-out and step selected. ``VARIANT_JSON`` holds fit_encoder
options (``ema`` defaults to 0 here, the engine before this session) and these probe-only
keys:

* ``"supervised": true``: the suite's supervised ceiling instead;
* ``"wd": w``: AdamW with decoupled weight decay ``w`` instead of Adam;
* ``"phase2": {...}``: a second fit_encoder phase from the first one's encoder;
* ``"mode": "joint" | "both"``: SIGReg of the pair ``(w(h), w(h'))`` whitened jointly in
  2n dimensions (joint Gaussianity of the transition) instead of (or with) SIGReg of ``w(h)``;
* ``"hidden"``, ``"depth"``: another size of the default residual MLP;
* ``"n_pairs": k``: ``k`` training pairs drawn afresh instead of the suite's 20 000.
"""
from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from suite import SUITE, _data, mix, record  # noqa: E402

OUT = Path("results/fit_encoder/probes-s8/probes.jsonl")


def joint_loss(mode: str, n: int):
    """Whitened alignment plus ``lam`` times SIGReg of the jointly whitened pair."""
    from pycheck.objectives import SIGReg
    from pycheck.train import default_num_slices
    jreg = SIGReg(default_num_slices(2 * n), seed=11)

    def loss(h, h_next, sigreg=None, lam=0.0):
        b, d = h.shape
        both = torch.cat([h, h_next])
        c = torch.cov(both.T).reshape(d, d) + 1e-6 * torch.eye(d, dtype=h.dtype)
        hw = torch.linalg.solve_triangular(torch.linalg.cholesky(c), (both - both.mean(0)).T,
                                           upper=False).T
        align = (hw[b:] - hw[:b]).square().sum(-1).mean() / d
        if not lam:
            return align, {"loss": align.item()}
        pair = torch.cat([torch.cat([hw[:b], hw[b:]], 1), torch.cat([hw[b:], hw[:b]], 1)])
        cj = torch.cov(pair.T) + 1e-6 * torch.eye(2 * d, dtype=h.dtype)
        pw = torch.linalg.solve_triangular(torch.linalg.cholesky(cj),
                                           (pair - pair.mean(0)).T, upper=False).T
        reg = jreg(pw) + (sigreg(hw) if mode == "both" else 0)
        total = align + lam * reg
        return total, {"alignment": align.item(), "sigreg": reg.item(), "loss": total.item()}
    return loss


def main(name: str, spec: str) -> dict:
    import pycheck
    import pycheck.train as T
    from pycheck.train import embed, whitened_alignment
    from pycheck.worlds import gaussian_ou_pairs
    torch.set_num_threads(1)
    var = json.loads(spec)
    z, zn, zt = _data(name)
    _, n, rho, _ = SUITE[name]
    if "n_pairs" in var:
        k = var.pop("n_pairs")
        z, zn = gaussian_ou_pairs(k, n, rho, np.random.default_rng([2026, 99, k]))
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    zf, zfn = gaussian_ou_pairs(10000, n, rho, np.random.default_rng(7))
    xf, xfn = mix(name, zf), mix(name, zfn)
    if "wd" in var:
        T.torch.optim.Adam = functools.partial(torch.optim.AdamW, weight_decay=var.pop("wd"))
    if "mode" in var:
        T.whitened_loss = joint_loss(var.pop("mode"), n)
    if "hidden" in var or "depth" in var:
        from pycheck.encoders import ResidualMLPEncoder
        torch.manual_seed(0)   # make_encoder's initialisation for seed 0
        var["encoder"] = ResidualMLPEncoder(n, n, hidden=var.pop("hidden", 128),
                                            depth=var.pop("depth", 3))
    var.setdefault("ema", 0.0)
    t0 = time.time()
    if var.pop("supervised", False):
        from pycheck.experiments._common import fit_supervised
        from pycheck.train import make_encoder
        enc = fit_supervised(x, z, make_encoder("residual-mlp", n, n), seed=0, steps=3000,
                             batch_size=1024, lr=1e-3)
    else:
        phase2 = var.pop("phase2", None)
        enc = pycheck.fit_encoder(x, xn, progress=False, **var)
        if phase2:
            enc = pycheck.fit_encoder(x, xn, progress=False, encoder=enc.encoder,
                                      ema=var["ema"], **phase2)
    return dict(mixing=name, var=spec, r2=pycheck.linear_r2(embed(enc, xt), zt),
                wa_train=whitened_alignment(embed(enc, x), embed(enc, xn)),
                wa_fresh=whitened_alignment(embed(enc, xf), embed(enc, xfn)),
                wa_z=whitened_alignment(zf, zfn), ho=getattr(enc, "heldout_objective", None),
                sel=getattr(enc, "selected", None), best_step=getattr(enc, "best_step", None),
                secs=time.time() - t0)


if __name__ == "__main__":
    record(OUT, main(sys.argv[1], sys.argv[2]))
