"""Issue 16, session 30: SIGReg forward + backward through its autograd Function (_FusedECF) on
256 slices x batch B, interleaved in one process: the compiled (inductor) kernels, session 29's
C++ kernels (at::cos and at::sin on a theta tensor; built from the source at commit bd26425)
and the current ones (their own Cephes sincos per slice). Prints each one's statistic and
gradient against the compiled kernels', then 3 rounds of best-of-5 means over 200 calls, in ms.

Usage: python scripts/sigreg_cpp_sincos.py THREADS B   (run with nothing else on the machine)
Results: results/bench/sigreg_cpp_sincos_s30.txt.
"""
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

torch.set_num_threads(int(sys.argv[1]))
from pycheck import objectives as O, sigreg_cpp  # noqa: E402

root = Path(__file__).resolve().parents[1]
old_src = subprocess.run(["git", "show", "bd26425:pycheck/sigreg_cpp.py"], cwd=root, check=True,
                         capture_output=True, text=True).stdout
path = Path(tempfile.mkdtemp()) / "sigreg_cpp_s29.py"
path.write_text(old_src)
spec = importlib.util.spec_from_file_location("sigreg_cpp_s29", path)
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
y = torch.randn(256, int(sys.argv[2]), requires_grad=True)
assert old.kernels(y, 17) and sigreg_cpp.kernels(y, 17)
ks = dict(inductor=O._fused_kernels(y, 17), cpp_s29=(old.forward, old.backward),
          cpp_s30=(sigreg_cpp.forward, sigreg_cpp.backward))
phi = torch.exp(-(torch.arange(17.) * 0.1875).square() / 2).double()
w = torch.ones(17).double()


def call(k):
    stat = O._FusedECF.apply(y, 0.1875, phi, w, k)
    g, = torch.autograd.grad(stat, y)
    return stat, g


def ms(k, n=200):
    best = 1e9
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            call(k)
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e3


s0, g0 = call(ks["inductor"])
for name, k in ks.items():
    s, g = call(k)
    print(f"{name}: statistic rel diff {abs((s - s0) / s0).item():.2e}, "
          f"gradient rel diff {((g - g0).norm() / g0.norm()).item():.2e}")
for _ in range(3):
    print(f"threads {sys.argv[1]} 256x{sys.argv[2]}: "
          + ", ".join(f"{name} {ms(k):.3f}" for name, k in ks.items()) + " ms")
