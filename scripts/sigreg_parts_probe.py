"""Where SIGReg's forward + backward goes at small N: the C++ kernels' parts against the
bench's floor, interleaved rounds, 256 slices, 2 threads, the training workers' allocator
setting (session 41, issue 16 item 1: why 256 x 8 stays above 2x the floor on AVX2).

Columns (ms, medians over rounds): ``floor`` = the bench's floor (projection, torch.cos and
torch.sin, the projection's backward matmul); ``cos+sin`` = its torch.cos and torch.sin alone;
``fwd kernel`` = ``sigreg_cpp.forward`` (Cephes sincos, the 16 harmonics' batch sums, the
statistic; it also writes cos and sin, which the node does not); ``grad poly`` =
``sigreg_cpp.backward`` (the gradient's trigonometric polynomial, Horner in z^2, from stored
cos and sin); ``node`` = the one C++ node forward + backward through autograd (what the bench
times as ours); ``autograd`` = ``torch.autograd.grad`` of ``(2 h).sum()``, autograd's own cost
per call, which the node pays and the floor (no autograd) does not. The kernels' arithmetic
beyond one sincos is ``fwd kernel + grad poly - cos+sin``; when that alone exceeds the floor, no call overhead removed can bring the node
within 2x of the floor.

Usage: python scripts/sigreg_parts_probe.py [BATCHxN ...]   (run on a quiet machine)
Results: results/bench/sigreg_parts_s41.txt"""
import sys

import numpy as np
import torch

from pycheck import bench, objectives, sigreg_cpp
from pycheck.train import keep_freed_memory

torch.set_num_threads(2)
keep_freed_memory()
ext = sigreg_cpp._extension()
sizes = sys.argv[1:] or ["256x8", "512x8", "1024x8", "2048x8", "256x256"]
print(f"{torch.backends.cpu.get_cpu_capability()}; matmul {bench.matmul_flops() / 1e9:.0f} "
      "GFLOP/s; ms, medians of 9 interleaved rounds")
print(f"{'size':>9} {'floor':>7} {'cos+sin':>8} {'fwd kernel':>10} {'grad poly':>9} "
      f"{'node':>7} {'autograd':>8} | {'node/floor':>10} {'(kernels - cos+sin)/floor':>26}")
for size in sizes:
    b, n = (int(v) for v in size.split("x"))
    g = torch.Generator().manual_seed(b + n)
    h = torch.randn(b, n, generator=g).requires_grad_()
    mod = objectives.SIGReg()
    a = mod.directions(n)
    t0 = mod.t_max / (mod.num_knots - 1)
    y = (a.T @ h.detach().T).contiguous()
    c, s, dc, sm, _ = ext.forward(y, t0, mod.phi, mod.weights)
    fns = bench._sigreg_fns(h, a, True)
    fns = {"floor": fns["floor"], "cos+sin": lambda: (torch.cos(y), torch.sin(y)),
           "fwd kernel": lambda: ext.forward(y, t0, mod.phi, mod.weights),
           "grad poly": lambda: ext.backward(c, s, dc, sm, mod.weights, 1.0, t0),
           "node": fns["compiled"],
           "autograd": lambda: torch.autograd.grad((h * 2).sum(), h)}
    times = bench.interleaved(fns, 9, min_seconds=0.05, min_reps=2, warmup_seconds=0.01)
    m = {k: 1e3 * np.median(v) for k, v in times.items()}
    extra = m["fwd kernel"] + m["grad poly"] - m["cos+sin"]
    print(f"{size:>9} {m['floor']:7.3f} {m['cos+sin']:8.3f} {m['fwd kernel']:10.3f} "
          f"{m['grad poly']:9.3f} {m['node']:7.3f} {m['autograd']:8.3f} | "
          f"{m['node'] / m['floor']:10.2f} {extra / m['floor']:26.2f}")
