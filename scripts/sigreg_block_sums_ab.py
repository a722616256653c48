"""Session 42: SIGReg's C++ node (forward + backward) with this checkout's source against
HEAD's, built side by side, interleaved (15 rounds, each pair twice: new/base and
new2/base2; base2/base shows the noise). Used to check that the blocked batch sums
(pycheck/sigreg_cpp.py, sums_blocked) cost nothing at the sizes below SUM_BLOCK.

Usage: python scripts/sigreg_block_sums_ab.py VxBxN ...   Results: results/bench/sigreg_block_sums_s42.txt"""
import subprocess, sys, numpy as np, torch
from pycheck import bench, objectives, sigreg_cpp
from pycheck.train import keep_freed_memory
torch.set_num_threads(2); keep_freed_memory()
src = subprocess.run(["git", "show", "HEAD:pycheck/sigreg_cpp.py"], check=True, capture_output=True, text=True).stdout
sp = {}; exec(compile(src, "b", "exec"), sp)
base = sigreg_cpp.build("sigregbase", sp["_SOURCE"], ["sigreg"], "base", "x")
new = sigreg_cpp._extension()
mod = objectives.SIGReg(); t0 = mod.t_max / 16
print('matmul', round(bench.matmul_flops()/1e9))
for size in sys.argv[1:]:
    v, b, n = (int(x) for x in size.split('x'))
    h = torch.randn(v, b, n).squeeze(0).requires_grad_(); a = mod.directions(n)
    f = lambda e: (lambda: torch.autograd.grad(e.sigreg(h, a, False, b, t0, mod.phi, mod.weights), h)[0])
    t = bench.interleaved({'base': f(base), 'new': f(new), 'base2': f(base), 'new2': f(new)}, 15, min_seconds=0.05, min_reps=3, warmup_seconds=0.01)
    r = [np.median(t['new'])/np.median(t['base']), np.median(t['new2'])/np.median(t['base2']), np.median(t['base2'])/np.median(t['base'])]
    print(size, 'new/base %.3f, new2/base2 %.3f, (base2/base %.3f)' % tuple(r), 'base ms %.3f' % (1e3*np.median(t['base'])))
