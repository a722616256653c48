"""Probes of two regularisers against the finite-sample gap of fit_encoder (issue 11, session 10).

    .venv/bin/python scripts/regularizer_probes.py MIXING VARIANT_JSON

One ``objective="whitened"``, ``lam=0`` fit (the default engine's first fit, weight average
on) on a mixing of ``scripts/suite.py``'s tuning half, with the default residual MLP
initialised as ``make_encoder("residual-mlp", n, n, seed=0)`` and, during training only:

* ``"noise": s``: Gaussian noise of standard deviation ``s`` added to the standardised
  input, independently for x and x' (a smoothness penalty ``s² E||J_f||²`` on the alignment);
* ``"dropout": p``: dropout with rate ``p`` after each hidden SiLU of the branch.

Printed and appended as one JSON line to ``results/fit_encoder/probes-s10/probes.jsonl``:
R²(h -> z) on the suite's test pairs, the held-out objective and the read-out selected.
Why: the suite's gap to the supervised ceiling is the finite sample (docs/FIT_STUDIES.md, "Where the
precision is lost"): the network fits the training pairs' innovation noise; neither
regulariser had been tried (weight decay, batch, lr, widths, ensembles had).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from suite import SUITE, _data, mix, record  # noqa: E402

OUT = Path("results/fit_encoder/probes-s10/probes.jsonl")


def make(n: int, noise: float, dropout: float) -> nn.Module:
    from pycheck.encoders import ResidualMLPEncoder
    from pycheck.train import make_encoder

    class Regularised(ResidualMLPEncoder):
        def forward(self, x):
            if self.training and noise > 0:
                x = x + noise * torch.randn_like(x)
            return super().forward(x)
    enc = make_encoder("residual-mlp", n, n, seed=0)
    reg = Regularised(n, n)
    reg.load_state_dict(enc.state_dict())
    if dropout > 0:
        layers = []
        for layer in reg.mlp:
            layers.append(layer)
            if isinstance(layer, nn.SiLU):
                layers.append(nn.Dropout(dropout))
        reg.mlp = nn.Sequential(*layers)
    return reg


def main(name: str, spec: str) -> dict:
    import pycheck
    from pycheck.train import embed
    torch.set_num_threads(1)
    torch.manual_seed(0)                     # the noise and dropout draws
    var = json.loads(spec)
    z, zn, zt = _data(name)
    _, n, rho, half = SUITE[name]
    assert half == "tuning" or var.pop("heldout_ok", False), "tuning half only"
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    enc = make(n, float(var.pop("noise", 0.0)), float(var.pop("dropout", 0.0)))
    t0 = time.time()
    fit = pycheck.fit_encoder(x, xn, encoder=enc, lam=0, progress=False, **var)
    return dict(mixing=name, var=spec, r2=pycheck.linear_r2(embed(fit, xt), zt),
                ho=getattr(fit, "heldout_objective", None), sel=getattr(fit, "selected", None),
                best_step=getattr(fit, "best_step", None), secs=time.time() - t0)


if __name__ == "__main__":
    record(OUT, main(sys.argv[1], sys.argv[2]))
