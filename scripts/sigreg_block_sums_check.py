"""Session 42: the C++ kernels' blocked sums (float32 over at most 4096 samples and 1024
rows, the blocks in float64) against the source at another revision, built side by side:
bit-identical statistic and gradient where no block boundary is crossed (batch <= 4096,
slices x views <= 1024), and the error against a float64 computation of the same statistic
beyond it (a user's trial had found 4.8e-5 at batch 65 536 and 3.2e-3 at 262 144).

Usage: python scripts/sigreg_block_sums_check.py REV     Results: results/bench/sigreg_block_sums_s42.txt"""
import subprocess
import sys

import torch

from pycheck import objectives, sigreg_cpp

torch.set_num_threads(2)
rev = sys.argv[1]
src = subprocess.run(["git", "show", f"{rev}:pycheck/sigreg_cpp.py"], check=True,
                     capture_output=True, text=True).stdout
space: dict = {}
exec(compile(src, "base_sigreg_cpp", "exec"), space)   # noqa: S102 -- our own file
base = sigreg_cpp.build("sigregbase", space["_SOURCE"], ["sigreg", "forward"], "base", "x")
new = sigreg_cpp._extension()
mod = objectives.SIGReg()
t0 = mod.t_max / (mod.num_knots - 1)


def run(ext, h, a, batch, dtype=torch.float32):
    h = h.to(dtype).detach().requires_grad_()
    s = ext.sigreg(h, a.to(dtype), False, batch, t0, mod.phi, mod.weights)
    g, = torch.autograd.grad(s, h)
    return s.detach(), g


def exact(h, a):
    """The same statistic in float64 by the eager path (agrees with the reference to 1e-14)."""
    h = h.double().detach().requires_grad_()
    m = objectives.SIGReg(a.shape[1])
    m.fused = False
    s = m.statistic(h, a.double())
    g, = torch.autograd.grad(s, h)
    return s.detach(), g


print(f"base {rev}: bit-identical where no block boundary is crossed")
same = 0
for views in (1, 2):
    for batch in (2, 17, 256, 1000, 2048, 4096):
        for n, slices in ((2, 4), (8, 128), (64, 256), (16, 512)):
            gen = torch.Generator().manual_seed(batch * 131 + n + views)
            h = torch.randn(views, batch, n, generator=gen).squeeze(0)
            a = torch.nn.functional.normalize(torch.randn(n, slices, generator=gen), dim=0)
            (sb, gb), (sn, gn) = run(base, h, a, batch), run(new, h, a, batch)
            assert torch.equal(sb, sn) and torch.equal(gb, gn), (views, batch, n, slices)
            same += 1
print(f"  {same} cases (views 1-2, batch 2-4096, N 2-64, 4-512 slices): all equal")
print("relative error against float64 (statistic; gradient: max|diff| / max|grad|)")
for batch, n, slices, scale in ((65536, 2, 4, 1.0), (262144, 2, 4, 1.0),
                                (16, 2, 16384, 1e-6), (16, 2, 65536, 1e-6)):
    gen = torch.Generator().manual_seed(batch + slices)
    h = scale * torch.randn(batch, n, generator=gen, dtype=torch.float64)
    a = torch.nn.functional.normalize(torch.randn(n, slices, generator=gen,
                                                  dtype=torch.float64), dim=0)
    se, ge = exact(h, a)
    row = []
    for name, ext in (("base", base), ("new", new)):
        s, g = run(ext, h, a.float(), batch)
        row.append(f"{name} {abs(s.double() - se).item() / se.abs().item():.1e} / "
                   f"{(g.double() - ge).abs().max().item() / ge.abs().max().item():.1e}")
    print(f"  batch {batch:>6}, N {n}, {slices:>5} slices, scale {scale:g}: " + ";  ".join(row))
