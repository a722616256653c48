"""How long inductor takes to compile SIGReg's kernels per knot count (session 35).

    .venv/bin/python scripts/compile_knots_probe.py K

One process per knot count (torch's on-disk cache as found: cold for a count never compiled
on the machine): wall and CPU seconds of ``pycheck.objectives._fused_kernels`` for float32 on
2 threads, or "eager" where it compiles nothing (above ``MAX_COMPILED_KNOTS``). Results:
``results/bench/compile_knots_s35.txt``.
"""
import sys
import time

import torch

from pycheck import objectives as O

K = int(sys.argv[1])
torch.set_num_threads(2)
t0, c0 = time.perf_counter(), time.process_time()
kernels = O._fused_kernels(torch.randn(8, 100), K)
print(K, "compiled" if kernels is not None else "eager",
      f"wall {time.perf_counter() - t0:.1f} cpu {time.process_time() - c0:.1f}", flush=True)
