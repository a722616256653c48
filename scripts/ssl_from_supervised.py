"""Diagnosis for the scaling table: does self-supervised training keep a good solution?

    .venv/bin/python scripts/ssl_from_supervised.py N OBJECTIVE '{"lr": 3e-4, ...}' STEPS

Scaling-experiment data (RealNVP mixing, seed 0, rho 0.5, 20000 / 5000 pairs). The matched
RealNVP encoder is first regressed on the true z (3000 steps x 256, lr 3e-3: the
"supervised" budget ceiling of the table), then trained for STEPS steps of 256 pairs with
fit_encoder(OBJECTIVE, **options). Prints R²(h -> z) before and after. A drop means the
self-supervised gradient moves the encoder *away* from the inverse at this batch size
and lr (results/scaling/diagnosis.md).
"""
import json
import sys

import torch

from pycheck.experiments._common import _data, _encoder, fit_supervised
from pycheck.metrics import linear_r2
from pycheck.train import embed, fit_encoder

torch.set_num_threads(1)
n, obj, kw, steps = int(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
g, z, zn, zt, _ = _data("realnvp", n, 0, 0.5, 20000, 5000)
x, xn, xt = g.forward(z), g.forward(zn), g.forward(zt)
m = fit_supervised(x, z, _encoder("realnvp", n, 0), steps=3000, batch_size=256, lr=3e-3, seed=0)
print("supervised R2 %.4f" % linear_r2(embed(m, xt), zt), flush=True)
# continue self-supervised from the inner encoder (fit_encoder re-fits the same diag whitening)
m2 = fit_encoder(x, xn, obj, encoder=m.encoder, steps=steps, progress=False,
                 **{"batch_size": 256, **kw})
print(n, obj, kw, "after SSL R2 %.4f" % linear_r2(embed(m2, xt), zt), m2.history[-1][1],
      flush=True)
