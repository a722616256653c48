"""Does an invertible encoder (affine couplings) overfit the suite's 20 000 stored pairs less?

    .venv/bin/python scripts/flow_encoder_probe.py OUT.jsonl MIXING[,MIXING...] [VARIANT ...]

Issue 11 item 1 (session 34). On 8 of the suite's 12 mixings the stored pairs are the limit
(docs/FIT_STUDIES.md, "How many stored pairs the defaults need"): the residual MLP fits the pairs' OU
innovation. The mixings are bijections, so an encoder that is a bijection by construction
(:class:`pycheck.encoders.RealNVPEncoder`, couplings with rotations absorbed by its linear
layer) is a stronger inductive bias. Each variant is run self-supervised (``fit_encoder``'s
defaults with that encoder) and supervised (the same encoder regressed on z: its own ceiling),
so the ratio is against the ceiling of the same encoder. One thread per process, two
processes. Variants: ``flow`` (4 couplings, hidden 128), ``flow8`` (8 couplings),
``flow-h64`` (4 couplings, hidden 64).
"""
from __future__ import annotations

import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = {"flow": dict(n_layers=4, hidden=128), "flow8": dict(n_layers=8, hidden=128),
            "flow-h64": dict(n_layers=4, hidden=64)}


def run(name: str, variant: str, supervised: bool) -> dict:
    import torch
    torch.set_num_threads(1)
    import pycheck
    from pycheck.encoders import RealNVPEncoder
    from pycheck.experiments._common import fit_supervised
    from pycheck.train import embed
    from suite import SUITE, _data, mix
    z, zn, zt = _data(name)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    enc0 = RealNVPEncoder(x.shape[1], seed=0, **VARIANTS[variant])
    t0 = time.perf_counter()
    if supervised:
        enc = fit_supervised(x, z, enc0, seed=0, steps=3000, batch_size=1024, lr=1e-3)
    else:
        enc = pycheck.fit_encoder(x, xn, encoder=enc0, progress=False)
    row = dict(mixing=name, n=SUITE[name][1], rho=SUITE[name][2], variant=variant,
               supervised=supervised, r2_hz=pycheck.linear_r2(embed(enc, xt), zt),
               seconds=time.perf_counter() - t0)
    for key in ("heldout_objective", "selected", "lam"):
        if hasattr(enc, key):
            row[key] = getattr(enc, key)
    return row


def main() -> int:
    from suite import record
    out, names = Path(sys.argv[1]), sys.argv[2].split(",")
    variants = sys.argv[3:] or ["flow"]
    tasks = [(m, v, s) for m in names for v in variants for s in (False, True)]
    with ProcessPoolExecutor(2) as ex:
        for row in ex.map(run, *zip(*tasks)):
            record(out, row)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
