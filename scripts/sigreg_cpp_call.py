"""Issue 16, session 29: SIGReg forward + backward through its autograd Function (_FusedECF),
compiled (inductor) kernels against the opt-in C++ ones (pycheck.sigreg_cpp), interleaved, on
256 slices x batch B. Usage: python scripts/sigreg_cpp_call.py THREADS B.
Results: results/bench/sigreg_cpp_call_s29.txt."""
import time, torch, os, sys
torch.set_num_threads(int(sys.argv[1]))
from pycheck import objectives as O, sigreg_cpp
y = torch.randn(256, int(sys.argv[2]), requires_grad=True)
ind = O._fused_kernels(y, 17)
os.environ["PYCHECK_SIGREG_KERNEL"] = "cpp"
cpp = O._fused_kernels(y, 17)
assert cpp[0] is sigreg_cpp.forward
phi = torch.exp(-(torch.arange(17.) * 0.1875).square() / 2).double(); w = torch.ones(17).double()
def call(k):
    stat = O._FusedECF.apply(y, 0.1875, phi, w, k)
    g, = torch.autograd.grad(stat, y)
    return g
def tm(k, n=200):
    best = 1e9
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n): call(k)
        best = min(best, (time.perf_counter() - t) / n)
    return best * 1e3
print("grad rel diff", ((call(cpp) - call(ind)).norm() / call(ind).norm()).item())
for r in range(3):
    print(f"threads {sys.argv[1]} 256x{sys.argv[2]}: fwd+bwd through _FusedECF: inductor {tm(ind):.3f} ms, cpp {tm(cpp):.3f} ms")
