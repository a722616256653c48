"""The bench's training-step fraction of the matmul ceiling (``pycheck.bench._training``,
batch 2 x 512, 5 rounds, 2 threads, glibc malloc as in the workers) for the pycheck found at
``ROOT`` (a checkout, put first on PYTHONPATH); run alternately for two checkouts to compare
them on a shared host (session 40: before / after the C++ coupling kernels):

    for r in 1 2 3; do for t in /tmp/base /work/main; do
      PYTHONPATH=$t .venv/bin/python scripts/step_fraction_ab.py $t 256; done; done

Prints ``{objective: [fraction, step ms]}``.
"""
import sys, torch, json
torch.set_num_threads(2)
from pycheck.train import keep_freed_memory; keep_freed_memory()
from pycheck import bench
import pycheck; assert pycheck.__file__.startswith(sys.argv[1]), pycheck.__file__
rows = bench._training([int(sys.argv[2])], 512, 5, "cpu")
print(json.dumps({r["objective"]: [round(r["matmul_fraction"], 3), round(r["step_ms"], 2)]
                  for r in rows}))
