"""SIGReg forward + backward (``torch.autograd.grad`` of the statistic with respect to h,
through the one C++ node ``pycheck.sigreg_cpp.sigreg``) with this checkout's C++ source
against the source at another git revision, built side by side in one process, with the
bench's reference and floor; interleaved rounds, 256 slices, 2 threads, the training
workers' allocator setting. Also the relative difference of the two versions' gradients.

Usage: python scripts/sigreg_node_ab.py REV|FILE.py [VIEWSxBATCHxN ...]   (run on a quiet machine)
Results: results/bench/sigreg_node_ab_s41.txt (session 41)."""
import subprocess
import sys

import numpy as np
import torch

from pycheck import bench, objectives, sigreg_cpp
from pycheck.train import keep_freed_memory

torch.set_num_threads(2)
keep_freed_memory()
rev = sys.argv[1]
sizes = sys.argv[2:] or [f"1x{b}x{n}" for n in (8, 64, 256) for b in (256, 512, 1024, 2048)]
if rev.endswith(".py"):                                      # a file: another version
    base_src = open(rev).read()
else:
    base_src = subprocess.run(["git", "show", f"{rev}:pycheck/sigreg_cpp.py"], check=True,
                              capture_output=True, text=True).stdout
space: dict = {}
exec(compile(base_src, "base_sigreg_cpp", "exec"), space)   # noqa: S102 -- our own file
base = sigreg_cpp.build("sigregbase", space["_SOURCE"], ["sigreg"], "base", "nothing")
new = sigreg_cpp._extension()
# the two products for the gradient of a row-major h (B, n): MKL's GY^T D^T against D GY
# transposed by a copy (D: n x S, GY: S x B), 2 threads
print("time of GY^T D^T / time of (D GY)^T copied, medians of 9 interleaved rounds")
for s_ in (128, 256, 512):
    for b_ in (256, 1024, 4096):
        row = []
        for n_ in (2, 8, 16, 32, 64, 128):
            d_, gy_ = torch.randn(n_, s_), torch.randn(s_, b_)
            t = bench.interleaved({"a": lambda: torch.mm(gy_.t(), d_.t()),
                                   "b": lambda: torch.mm(d_, gy_).t().contiguous()}, 9,
                                  min_seconds=0.02, min_reps=2, warmup_seconds=0.005)
            row.append(f"n {n_}: {np.median(t['a']) / np.median(t['b']):5.2f}")
        print(f"  S {s_:>3} B {b_:>4}: " + "  ".join(row))
print(f"base {rev}; matmul {bench.matmul_flops() / 1e9:.0f} GFLOP/s; ms are medians of 7 "
      "interleaved rounds (min-max)")
for size in sizes:
    v, b, n = (int(x) for x in size.split("x"))
    g = torch.Generator().manual_seed(b + n)
    h = torch.randn(v, b, n, generator=g).squeeze(0).requires_grad_()
    mod = objectives.SIGReg()
    a = mod.directions(n)
    t0 = mod.t_max / (mod.num_knots - 1)

    def node(ext):
        return lambda: torch.autograd.grad(ext.sigreg(h, a, False, b, t0, mod.phi,
                                                      mod.weights), h)[0]
    fns = bench._sigreg_fns(h, a, True)
    fns = {"reference": fns["reference"], "floor": fns["floor"], "base": node(base),
           "new": node(new)}
    g_base, g_new = node(base)(), node(new)()
    diff = ((g_base - g_new).norm() / g_base.norm()).item()
    times = bench.interleaved(fns, 7, min_seconds=0.1, min_reps=2, warmup_seconds=0.02)
    med = {k: np.median(t) for k, t in times.items()}
    print(f"{size:>10}: " + "; ".join(
        f"{k} {1e3 * med[k]:.3f} ({1e3 * min(t):.3f}-{1e3 * max(t):.3f})"
        for k, t in times.items())
        + f" | new/base {med['new'] / med['base']:.2f}, ref/new {med['reference'] / med['new']:.1f}"
          f", new/floor {med['new'] / med['floor']:.2f}; gradient diff {diff:.1e}")
