"""Issue 11 item 2, session 39: a held-out share of 0.2 instead of 0.1 at 2 000 pairs, on the 12
worlds with more channels than latents (scripts/small_pairs_probe.py OVER), seeds 0-2, against
session 38's records replayed with the default rule (margin 2 + kurtosis guard).

    .venv/bin/python scripts/holdout_share_compare.py > results/fit_encoder/small-pairs-s39-holdout/compare.txt
"""
import glob
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import small_pairs_probe as P  # noqa: E402
import small_pairs_replay as R  # noqa: E402

base_files = ["candidates-A", "candidates-B", "new-seed2-A", "new-seed2-B"]
rows = [json.loads(l) for f in base_files for l in open(ROOT / f"results/fit_encoder/small-pairs-s38/{f}.jsonl")]
rows = [r for r in rows if r["world"] in P.OVER and r["pairs"] == 2000]
base = {(r["world"], r["seed"]): (r["r2_xz"], b["r2"], b["name"]) for r, b in R.replay(rows, None, 2.0, True)}
new = {}
for f in glob.glob(str(ROOT / "results/fit_encoder/small-pairs-s39-holdout/ho20-*.jsonl")):
    for l in open(f):
        r = json.loads(l); new[(r["world"], r["seed"])] = (r["r2_xz"], r["r2_hz"], r["selected"])
print(f"{'world':16s} seed  R2(x->z)   holdout 0.1 (s38 rule)        holdout 0.2")
nb = nn = 0
gb, gn = [], []
for k in sorted(new):
    xb, hb, sb = base[k]; xn, hn, sn = new[k]
    assert abs(xb - xn) < 1e-9, k
    gb.append(hb - xb); gn.append(hn - xn)
    nb += hb < xb - 1e-6; nn += hn < xn - 1e-6
    print(f"{k[0]:16s} {k[1]}  {xb:.5f}  {hb - xb:+.5f} {sb[:18]:18s}  {hn - xn:+.5f} {sn[:18]}")
print(f"{len(new)} runs: below R2(x->z): holdout 0.1 {nb}, holdout 0.2 {nn}; mean gain {sum(gb)/len(gb):+.5f} vs {sum(gn)/len(gn):+.5f}; linear kept {sum(base[k][2].startswith('linear') for k in new)} vs {sum(new[k][2].startswith('linear') for k in new)}")
