"""One scaling-experiment run at seed 0 (RealNVP mixing, rho 0.5, 20 000 stored pairs), printed
as one JSON line: the probes behind `experiments/scaling.toml`'s choices
(`results/scaling/probes_n8.jsonl`).

Usage: python scripts/scaling_probe.py N OBJECTIVE STEPS LR BATCH FRESH(0|1|2) [OPTIONS_JSON]
(OBJECTIVE may be "supervised", the budget ceiling; FRESH 2 = fresh antithetic pairs,
train_and_measure(antithetic=True), for the self-supervised objectives).
"""
import sys, time, json
from pycheck.experiments._common import train_and_measure, supervised_reference
import torch; torch.set_num_threads(1)
n, obj, steps, lr, bs, fresh = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6] in ("1", "2")
antithetic = sys.argv[6] == "2"
kw = dict(mixing="realnvp", n=n, seed=0, rho=0.5, n_train=20000, n_test=5000, steps=steps, batch_size=bs, lr=lr, encoder="realnvp", fresh=fresh)
t=time.time()
if obj == "supervised":
    r = supervised_reference(**kw)
else:
    r = train_and_measure(objective=obj, antithetic=antithetic, options=json.loads(sys.argv[7]) if len(sys.argv)>7 else {"num_slices":128} if obj=="sigreg" else {"sigma":1.0} if obj=="infonce" else {}, **kw)
print(json.dumps(dict(n=n,obj=obj,steps=steps,lr=lr,bs=bs,fresh=fresh,antithetic=antithetic,r2=r["r2_hz"],opts=sys.argv[7:],secs=round(time.time()-t,1))), flush=True)
