"""Does another optimiser fit the scaling experiment's encoder faster? (issue 11, session 30.)

Issue 11 item 3 misses N = 64 because the matched RealNVP encoder cannot be fitted past
R² 0.99 in the quick profile's budget, labels or not (then the README's "Why N = 64 stays below
0.99"; now docs/SCALING.md, "What capped N = 64 before session 32"). Every training in the
kit uses Adam. This probe swaps ``pycheck.train.optimiser``
for Muon (``torch.optim.Muon``: the momentum of every weight matrix orthogonalised by
Newton-Schulz iterations) on the 2-D weights, with Adam (fused, as the kit's) on the
biases, the same warm-up + cosine schedule on both, and runs one training exactly as
``pycheck reproduce scaling`` (quick profile) runs it otherwise.

Usage: python scripts/muon_probe.py N SEED STEPS BATCH OBJECTIVE OPTIM [MUON_LR [ADJUST]]
  OBJECTIVE: supervised | sigreg | vicreg | infonce
  OPTIM: adam (the kit's, unchanged) | muon
  MUON_LR: Muon's peak lr (default: the profile's lr); ADJUST: ``match_rms_adamw``
  (default: Moonshot's scaling, meant to reuse Adam's lr) or ``original`` (Keller's).
One JSON line appended to results/scaling/probes_s30.jsonl.
"""
import json
import sys
import time
import tomllib
from pathlib import Path

import torch

from pycheck.experiments._common import supervised_reference, train_and_measure
from pycheck.experiments.scaling import _run_settings
from pycheck.train import set_threads

set_threads(1)
n, seed, steps, batch = map(int, sys.argv[1:5])
obj, optim = sys.argv[5], sys.argv[6]
root = Path(__file__).resolve().parents[1]
cfg = tomllib.loads((root / "experiments" / "scaling.toml").read_text())["quick"]
_, _, lr, opts = _run_settings(cfg, n, ["vicreg" if obj == "supervised" else obj])[
    "supervised" if obj == "supervised" else obj]
muon_lr = float(sys.argv[7]) if len(sys.argv) > 7 else lr
adjust = sys.argv[8] if len(sys.argv) > 8 else "match_rms_adamw"


_Adam = torch.optim.Adam


class MuonAdam(torch.optim.Optimizer):
    """Muon on the 2-D weights, Adam on the rest, as one optimiser: ``param_groups`` are
    both optimisers' groups (the same dicts), so the kit's warm-up + cosine schedule
    (``LambdaLR``) scales both lrs."""

    def __init__(self, params, lr=1e-3, **_):
        params = list(params)
        self.muon = torch.optim.Muon([p for p in params if p.ndim == 2], lr=muon_lr,
                                     weight_decay=0.0, adjust_lr_fn=adjust)
        self.adam = _Adam([p for p in params if p.ndim != 2], lr=lr)
        self.param_groups = self.muon.param_groups + self.adam.param_groups
        self.defaults, self.state = {}, {}
        self._optimizer_step_pre_hooks, self._optimizer_step_post_hooks = {}, {}

    def step(self, closure=None):
        self.muon.step()
        self.adam.step()

    def zero_grad(self, set_to_none=True):
        self.muon.zero_grad(set_to_none=set_to_none)
        self.adam.zero_grad(set_to_none=set_to_none)


if optim == "muon":
    torch.optim.Adam = MuonAdam      # both pycheck.train.optimiser and fit_supervised's loop
elif optim != "adam":
    raise SystemExit(f"OPTIM must be adam or muon, got {optim!r}")
t0 = time.perf_counter()
common = dict(mixing="realnvp", n=n, seed=seed, rho=cfg["rho"], n_train=cfg["n_train"],
              n_test=cfg["n_test"], steps=steps, batch_size=batch, lr=lr, encoder="realnvp",
              fresh=True, qmc=True)
if obj == "supervised":
    r = supervised_reference(**common)
else:
    r = train_and_measure(objective=obj, options=opts, antithetic=True, **common)
line = dict(probe="optimiser", n=n, obj=obj, seed=seed, steps=steps, batch=batch, lr=lr,
            optim=optim, muon_lr=muon_lr if optim == "muon" else None,
            adjust=adjust if optim == "muon" else None, opts=opts, r2_hz=r["r2_hz"],
            train_seconds=round(r["train_seconds"], 1), wall=round(time.perf_counter() - t0, 1))
print(json.dumps(line), flush=True)
with open(root / "results" / "scaling" / "probes_s30.jsonl", "a") as fh:
    fh.write(json.dumps(line) + "\n")
