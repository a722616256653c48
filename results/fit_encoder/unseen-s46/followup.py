"""Follow-up (trial hA): where the defaults kept the linear map, what R² did the network
itself reach? Same data as trial.py; readout="trained", lam=0 (the lam chosen there).
    .venv/bin/python trial_hA/followup.py WORLD:N_PAIRS ...   # appends to followup.jsonl"""
import json, sys, time, warnings
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(1)
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from worlds_new import WORLDS, mix
from trial import ou_pairs, r2_ols
import pycheck
from pycheck.train import embed
from pycheck.fitcmd import sample_hint

for arg in sys.argv[1:]:
    name, npairs = arg.split(":")
    family, n, rho = WORLDS[name]
    rng = np.random.default_rng([0, list(WORLDS).index(name)])
    z, zn = ou_pairs(20000, n, rho, rng)
    zt, _ = ou_pairs(10000, n, rho, rng)
    z2, z2n = ou_pairs(2000, n, rho, rng)
    if npairs == "2k":
        z, zn = z2, z2n
    x, xn, xt = mix(name, z), mix(name, zn), mix(name, zt)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        enc = pycheck.fit_encoder(x, xn, readout="trained", lam=0)
    row = dict(world=name, pairs=npairs, options="readout=trained, lam=0",
               seconds=time.perf_counter() - t0,
               warnings=[str(w.message) for w in caught],
               selected=enc.selected if hasattr(enc, "selected") else None,
               heldout_objective=getattr(enc, "heldout_objective", None),
               best_step=getattr(enc, "best_step", None),
               r2_hz=r2_ols(embed(enc, xt), zt)[0], r2_xz=r2_ols(xt, zt)[0],
               hint=sample_hint(enc, 3000))
    print(json.dumps(row), flush=True)
    with (HERE / "followup.jsonl").open("a") as f:
        f.write(json.dumps(row) + "\n")
