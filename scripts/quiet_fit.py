"""Wall and CPU seconds of fit_encoder's default (both fits) on suite mixings, with torch's
default threads: the quiet-machine timing in docs/FIT_STUDIES.md (results/fit_encoder/suite/quiet_fit_s8.jsonl).

    .venv/bin/python scripts/quiet_fit.py MIXING [MIXING ...]
"""
import json
import sys
import time
from pathlib import Path

import torch

import pycheck
from pycheck.train import embed

sys.path.insert(0, str(Path(__file__).parent))
from suite import _data, mix  # noqa: E402
for name in sys.argv[1:]:
    z, zn, zt = _data(name)
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    t0, c0 = time.perf_counter(), time.process_time()
    enc = pycheck.fit_encoder(x, xn, progress=False)
    row = dict(mixing=name, threads=torch.get_num_threads(), wall=time.perf_counter() - t0,
               cpu=time.process_time() - c0, r2=pycheck.linear_r2(embed(enc, xt), zt), lam=enc.lam)
    print(json.dumps(row), flush=True)
