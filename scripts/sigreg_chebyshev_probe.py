"""Probe (issue 16, session 14, not adopted): the harmonics cos/sin(k theta) by the Chebyshev
three-term recurrence (2 multiply-adds per harmonic) instead of the doubling tree (one complex
product per harmonic), inside the compiled SIGReg kernels; time (forward + backward, 2
threads, median of 5) and error against the float64 reference.

Usage: python scripts/sigreg_chebyshev_probe.py tree|cheb    (results/bench/sigreg_tried.txt item 12)
"""
import statistics as st
import sys

import torch

from pycheck import objectives as O
from pycheck.objectives import SIGReg
from pycheck.bench import reference_sigreg, _timeit
torch.set_num_threads(2)
mode = sys.argv[1]
def cheb(c, s, num_k):
    two_c = 2 * c
    powers = [(c, s), (two_c * c - 1, two_c * s)]
    for k in range(3, num_k + 1):
        (c1, s1), (c2, s2) = powers[-1], powers[-2]
        powers.append((two_c * c1 - c2, two_c * s1 - s2))
    return powers[:num_k]
if mode == "cheb":
    O._harmonics = cheb
mod = SIGReg(); mod.fused = True
out = []
for B, N in [(256, 8), (256, 64), (512, 8), (2048, 256)]:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(B, N, generator=g).requires_grad_()
    a = mod.directions(N)
    s1 = mod.statistic(h, a); g1, = torch.autograd.grad(s1, h)
    s2 = reference_sigreg(h.double(), a.double(), weight_dtype=torch.float64); g2, = torch.autograd.grad(s2, h)
    err = (abs(s1.item()-s2.item())/abs(s2.item()), ((g1-g2.float()).norm()/g2.norm()).item())
    t = st.median(_timeit(lambda: torch.autograd.grad(mod.statistic(h, a), h)) for _ in range(5))
    print(mode, B, N, f"{t*1e3:.3f} ms", f"stat {err[0]:.1e} grad {err[1]:.1e}", flush=True)
