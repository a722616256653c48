"""Does a narrower default encoder overfit the 20 000 stored pairs less? (issue 11, session 27)

The suite's stored-pair limit (docs/FIT_STUDIES.md, "How many stored pairs the defaults need") is the
network fitting the pairs' OU innovations. A narrower or shallower residual MLP has less
room to do so, and the issue's target is relative to the ceiling of the *same* encoder. One
probe per (mixing, width, depth): ``fit_encoder`` with its defaults but that encoder, and
the supervised ceiling with it (``scripts/suite.py``'s protocol: the same pairs, 3000 steps x
1024, lr 1e-3), R² on the suite's 10 000 test pairs. Tuning-half mixings only. One JSON line
per probe appended to ``results/fit_encoder/probes-s27/width.jsonl``.

Usage: python scripts/width_probe.py HIDDEN DEPTH MIXING [MIXING ...]
"""
import functools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import suite  # noqa: E402  (scripts/suite.py: the mixings and their data)

import pycheck  # noqa: E402
from pycheck import train as T  # noqa: E402
from pycheck.encoders import ResidualMLPEncoder  # noqa: E402
from pycheck.experiments._common import fit_supervised  # noqa: E402

T.set_threads(1)
hidden, depth = int(sys.argv[1]), int(sys.argv[2])
name = f"residual-mlp-h{hidden}d{depth}"
T.ENCODERS[name] = functools.partial(ResidualMLPEncoder, hidden=hidden, depth=depth)
out = Path(__file__).resolve().parents[1] / "results" / "fit_encoder" / "probes-s27"
out.mkdir(parents=True, exist_ok=True)
for mixing in sys.argv[3:]:
    assert suite.SUITE[mixing][3] == "tuning", "tuning-half mixings only"
    z, zn, zt = suite._data(mixing)
    x, xn, xt = (suite.mix(mixing, a) for a in (z, zn, zt))
    t0 = time.perf_counter()
    enc = pycheck.fit_encoder(x, xn, encoder=name, progress=False)
    t1 = time.perf_counter()
    sup = fit_supervised(x, z, T.make_encoder(name, x.shape[1], z.shape[1]), seed=0,
                         steps=3000, batch_size=1024, lr=1e-3)
    t2 = time.perf_counter()
    r2 = pycheck.linear_r2(T.embed(enc, xt), zt)
    ceil = pycheck.linear_r2(T.embed(sup, xt), zt)
    line = dict(mixing=mixing, hidden=hidden, depth=depth, r2_hz=r2, r2_ceiling=ceil,
                gap_ratio=(1 - r2) / (1 - ceil), lam=getattr(enc, "lam", None),
                selected=getattr(enc, "selected", None), fit_seconds=round(t1 - t0, 1),
                ceiling_seconds=round(t2 - t1, 1))
    print(json.dumps(line), flush=True)
    with open(out / "width.jsonl", "a") as f:
        f.write(json.dumps(line) + "\n")
