"""Probe (issue 16, session 14, not adopted): SIGReg forward + backward as ONE compiled call.

The projection, the statistic and its gradient with respect to h are computed in the
forward of an autograd.Function (the gradient for an upstream 1, saved); backward only
scales it. Meant to cut the fixed cost of the default design (an autograd matmul node, two
compiled calls and their guards) that dominates at batch 256 x N = 8. Compared with the
default `SIGReg.statistic` (compiled kernels) and the bench's floor (`pycheck.bench`'s
closure and timer), medians of 3 interleaved rounds.

Usage: python scripts/sigreg_one_call_probe.py [THREADS]     (result: results/bench/sigreg_tried.txt item 11)
"""
import sys

import torch

from pycheck import bench
from pycheck import objectives as O
from pycheck.objectives import SIGReg, _ecf_forward, _ecf_backward
torch.set_num_threads(int(sys.argv[1]) if len(sys.argv)>1 else 2)

def _proj_rows(h, d):
    # h (V, B, n), d (n, S) -> y (S V, B): row s V + v
    V, B, n = h.shape
    y = (h.reshape(V * B, n) @ d).reshape(V, B, -1).permute(2, 0, 1).reshape(-1, B)
    return y

def fused_fwd_grad(h, d, t0: float, phi, weights):
    V, B, n = h.shape
    y = _proj_rows(h, d)
    c, s, dc, sin_m, stat = _ecf_forward(y, t0, phi.to(y.dtype), weights.to(y.dtype))
    rows = dc.shape[0]
    g = _ecf_backward(c, s, dc, sin_m, weights.to(y.dtype), torch.full((rows,), 1.0 / rows, dtype=y.dtype, device=y.device), t0)
    # g (S V, B) -> (V, B, S) then @ d.T -> (V, B, n)
    gy = g.reshape(-1, V, B).permute(1, 2, 0)
    grad_h = gy @ d.T
    return stat.mean(), grad_h

def fused_fwd(h, d, t0: float, phi, weights):
    y = _proj_rows(h, d)
    return _ecf_forward(y, t0, phi.to(y.dtype), weights.to(y.dtype))[-1].mean()

K = {}
def kern():
    if not K:
        K["fg"] = torch.compile(fused_fwd_grad, dynamic=True, fullgraph=True, options=O._CPU_THREADS)
        K["f"] = torch.compile(fused_fwd, dynamic=True, fullgraph=True, options=O._CPU_THREADS)
    return K

class F1(torch.autograd.Function):
    @staticmethod
    def forward(ctx, h, d, t0, phi, w):
        if ctx.needs_input_grad[0]:
            stat, gh = kern()["fg"](h, d, t0, phi, w)
            ctx.save_for_backward(gh)
            return stat
        return kern()["f"](h, d, t0, phi, w)
    @staticmethod
    def backward(ctx, go):
        gh, = ctx.saved_tensors
        return gh * go, None, None, None, None

def new_stat(mod, h, d):
    h3 = h if h.dim() == 3 else h.unsqueeze(0)
    t0 = mod.t_max / (mod.num_knots - 1)
    return F1.apply(h3, d, t0, mod.phi, mod.weights)

mod = SIGReg(); mod.fused = True
for V in (1, 2):
  for B, N in [(256, 8), (256, 64), (256,256), (512, 8), (512,64), (2048, 256)]:
    g = torch.Generator().manual_seed(0)
    h = torch.randn(V, B, N, generator=g).squeeze(0).requires_grad_()
    a = mod.directions(N)
    s_old = mod.statistic(h, a); g_old, = torch.autograd.grad(s_old, h)
    s_new = new_stat(mod, h, a); g_new, = torch.autograd.grad(s_new, h)
    rel = ((g_new-g_old).norm()/g_old.norm()).item()
    floor = bench._sigreg_fns(h, a, True)["floor"]          # the bench's floor, as it times it
    res = []
    for r in range(3):
        res.append(tuple(1e3 * bench._timeit(f) for f in (
            lambda: torch.autograd.grad(mod.statistic(h, a), h),
            lambda: torch.autograd.grad(new_stat(mod, h, a), h), floor)))
    import statistics as st
    o, n_, f = (st.median(x) for x in zip(*res))
    print(f"V{V} {B}x{N}: old {o:.3f} new {n_:.3f} floor {f:.3f}  old/floor {o/f:.2f} new/floor {n_/f:.2f}  stat diff {abs(s_old.item()-s_new.item())/s_old.item():.1e} grad {rel:.1e}", flush=True)
