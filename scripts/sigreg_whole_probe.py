"""SIGReg forward + backward (torch.autograd.grad of the statistic with respect to h) through
the one C++ autograd node of session 39 (``pycheck.sigreg_cpp.sigreg``, the default) against
the C++ kernels as session 38 called them (the projection in Python, then
``ecf_statistic`` through the Python autograd Function ``_FusedECF``), the reference and the
floor, interleaved in one process, 256 slices, 2 threads.

Usage: python scripts/sigreg_whole_probe.py [BATCHxN ...]   (run on a quiet machine)
Results: results/bench/sigreg_whole_s39.txt (made before the two-kernel path's backward took the
node's Horner polynomial, later in session 39: since then that column is not session 38's
code exactly)."""
import os
import sys

import numpy as np
import torch

os.environ.setdefault("PYCHECK_SIGREG_KERNEL", "cpp")
from pycheck import bench, objectives  # noqa: E402
from pycheck.train import keep_freed_memory  # noqa: E402

torch.set_num_threads(2)
keep_freed_memory()
sizes = sys.argv[1:] or ["256x8", "512x8", "1024x8", "256x64", "256x256", "512x256", "1024x256"]
print(f"matmul {bench.matmul_flops() / 1e9:.0f} GFLOP/s; ms are medians of 7 interleaved rounds "
      "(min-max)")
for size in sizes:
    b, n = (int(v) for v in size.split("x"))
    g = torch.Generator().manual_seed(b + n)
    h = torch.randn(b, n, generator=g).requires_grad_()
    mod = objectives.SIGReg()
    mod.fused = True
    a = mod.directions(n)
    t0 = mod.t_max / (mod.num_knots - 1)

    def two_kernels():
        y = (a.T @ h.reshape(-1, n).T.contiguous()).reshape(-1, b)
        stat = objectives.ecf_statistic(y, t0, mod.phi, mod.weights, True)
        return torch.autograd.grad(stat, h)
    fns = bench._sigreg_fns(h, a, True)
    fns = {"reference": fns["reference"], "floor": fns["floor"], "two kernels (s38)": two_kernels,
           "one node (s39)": fns["compiled"]}
    times = bench.interleaved(fns, 7, min_seconds=0.1, min_reps=2, warmup_seconds=0.02)
    print(f"{size:>9}: " + "; ".join(
        f"{k} {1e3 * np.median(v):.3f} ({1e3 * min(v):.3f}-{1e3 * max(v):.3f})"
        for k, v in times.items()))
