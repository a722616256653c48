"""SIGReg against LeJEPA's reference computation compiled by torch.compile (session 49).

Issue 16's reference is the reference as users run it, eager. A user's trial (session 49)
pointed out that one line of ``torch.compile(fullgraph=True)`` around the reference makes
it much faster, and the README said nothing of it. This times, interleaved in one process
(:func:`pycheck.bench.interleaved`, the bench's own timer; forward + backward, the gradient
with respect to the embedding, single view, 256 slices, 17 knots, float32): the reference
eager, the reference compiled (``dynamic=False``: one kernel per size, its best case), the
kit's default SIGReg (the C++ node on CPU) and the floor (projection, one sincos per sample
and slice, the projection's backward matmul), as ``pycheck bench`` defines it.

    .venv/bin/python scripts/bench_compiled_reference.py [--threads 2] [--rounds 5]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

from pycheck import bench
from pycheck.objectives import SIGReg


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--sizes", nargs="+", default=["256x8", "512x64", "256x256", "1024x256",
                                                   "2048x256"])
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("PYCHECK_SIGREG_COMPILE", "1")
    from pycheck.train import keep_freed_memory
    keep_freed_memory()           # as pycheck bench does (it speeds the reference up)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.rounds} interleaved "
          f"rounds, {time.strftime('%Y-%m-%d %H:%M:%S')}; matmul "
          f"{bench.matmul_flops() / 1e9:.0f} GFLOP/s")
    print("| batch x N | reference ms | reference compiled ms | ours ms | floor ms | "
          "ref / ours | compiled ref / ours | ours / floor | stat rel diff vs compiled ref |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        batch, n = (int(v) for v in size.split("x"))
        g = torch.Generator().manual_seed(batch + n)
        h = torch.randn(batch, n, generator=g).requires_grad_()
        a = SIGReg().directions(n)
        compiled = torch.compile(bench.reference_sigreg, dynamic=False, fullgraph=True)
        t0 = time.perf_counter()
        compiled(h, a)
        torch.autograd.grad(compiled(h, a), h)
        compile_s = time.perf_counter() - t0
        fns = bench._sigreg_fns(h, a, fused=True)
        fns = {"reference": fns["reference"],
               "reference compiled": lambda: torch.autograd.grad(compiled(h, a), h),
               "ours": fns["compiled"], "floor": fns["floor"]}
        times = bench.interleaved(fns, args.rounds, min_seconds=0.1, min_reps=2,
                                  warmup_seconds=0.02)

        def ratio(x, y):
            r = np.array(times[x]) / np.array(times[y])
            return f"{np.median(r):.1f} ({r.min():.1f}-{r.max():.1f})"
        ms = {k: 1e3 * float(np.median(v)) for k, v in times.items()}
        ours = SIGReg().statistic(h, a).item()
        diff = abs(ours - compiled(h, a).item()) / abs(ours)
        print(f"| {batch} x {n} | {ms['reference']:.3f} | {ms['reference compiled']:.3f} | "
              f"{ms['ours']:.3f} | {ms['floor']:.3f} | {ratio('reference', 'ours')} | "
              f"{ratio('reference compiled', 'ours')} | {ratio('ours', 'floor')} | "
              f"{diff:.1e} (compile {compile_s:.0f} s) |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
