"""Where one SIGReg call's time goes at small sizes (issue 16, session 28).

    .venv/bin/python scripts/sigreg_call_breakdown.py [--threads 2]

For batch x N in (256 x 8, 256 x 64, 512 x 8), 256 slices, 17 knots, float32, the compiled
kernels: best of 5 repetitions of a mean over 200 calls, in ms, of

* ``full``: ``SIGReg()(h).backward()`` (fresh directions every call, as in training);
* ``dirs``: drawing the directions alone;
* ``stat``: projection + statistic + backward for given directions;
* ``kern``: :func:`pycheck.objectives.ecf_statistic` + backward on given projections;
* ``kf`` / ``kb``: the compiled forward / backward kernel alone (no autograd);
* ``floor``: the projection and one cos and one sin per sample and slice.

Wall clock; run it with nothing else on the machine. Prints one line per size.
"""
from __future__ import annotations

import argparse
import time

import torch

from pycheck import objectives as O


def best_ms(fn, n: int = 200) -> float:
    for _ in range(20):
        fn()
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        times.append((time.perf_counter() - t0) / n * 1e3)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    torch.set_num_threads(ap.parse_args().threads)
    torch.manual_seed(0)
    for batch, n in [(256, 8), (256, 64), (512, 8)]:
        sig = O.SIGReg()
        h = torch.randn(batch, n, requires_grad=True)
        d = sig.directions(n)
        t0 = sig.t_max / (sig.num_knots - 1)
        y = (d.T @ h.detach().T.contiguous()).requires_grad_()
        fwd, bwd = O._fused_kernels(y, sig.num_knots)

        def kf():
            with torch.no_grad():
                return fwd(y, t0, sig.phi, sig.weights)
        saved = kf()

        def kb():
            with torch.no_grad():
                bwd(*saved[:4], sig.weights, torch.ones(()), t0)

        def floor():
            yy = d.T @ h.detach().T.contiguous()
            torch.cos(yy)
            torch.sin(yy)
        cases = dict(full=lambda: sig(h).backward(), dirs=lambda: sig.directions(n),
                     stat=lambda: sig.statistic(h, d).backward(),
                     kern=lambda: O.ecf_statistic(y, t0, sig.phi, sig.weights).backward(),
                     kf=kf, kb=kb, floor=floor)
        print(f"{batch} x {n}: " + ", ".join(f"{k} {best_ms(f):.3f}" for k, f in cases.items()),
              flush=True)


if __name__ == "__main__":
    main()
