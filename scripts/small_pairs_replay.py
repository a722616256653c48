"""Replay read-out selection rules on ``small_pairs_probe.py --candidates`` records.

    .venv/bin/python scripts/small_pairs_replay.py results/fit_encoder/small-pairs-s38/candidates-A.jsonl

For each rule: per run, the candidate each lam fit would select, then the lam whose selected
candidate has the lowest held-out alignment (as ``_fit_lams``); prints how many runs end
below R²(x -> z) and the mean R²(h -> z) - R²(x -> z). Rules (``pycheck.train._significant_best``):
"margin m": beat the linear map by m paired standard errors on the whole output (the rule
before session 38: m = 2); "prefix z": also, on every leading k outputs, be worse than the
linear map by at most z paired standard errors (z = 0: no worse); "+kurtosis": also the
:data:`pycheck.train.KURTOSIS_MAX` guard (records written since session 38's change carry each
candidate's kurtosis; older ones do not, and the guard is then skipped). "session 38" is
today's default: margin 2 and the kurtosis guard; "s38 intermediate" the rule that wrote
``new-seed2-*`` and ``new-20000-*`` (margin 1, prefix 0, kurtosis; not adopted). ``--ran NAME``
checks that rule NAME reproduces what fit_encoder selected in the records.
"""
import json
import math
import sys

from pycheck.train import KURTOSIS_MAX


def pick(call, z, margin, kurt=False):
    lin = next((c for c in call if c["name"].startswith("linear")), None)
    good = []
    for c in call:
        if lin is None or c is lin:
            good.append(c)
            continue
        g, se = c["gain"][-1], c["gain_se"][-1]
        if not g > margin * se:
            continue
        if z is not None and any(gk < -z * sk for gk, sk in zip(c["gain"][:-1], c["gain_se"][:-1])):
            continue
        if kurt and "kurtosis" in c and c["kurtosis"] > max(KURTOSIS_MAX, 2 * lin["kurtosis"]):
            continue
        good.append(c)
    return min(good, key=lambda c: c["full"] if math.isfinite(c["full"]) else math.inf)


def replay(rows, z, margin, kurt=False):
    out = []
    for r in rows:
        chosen = [pick(call, z, margin, kurt) for call in r["calls"]]
        out.append((r, min(chosen, key=lambda c: c["full"])))
    return out


RULES = [("margin 2 (before s38)", None, 2.0, False), ("session 38", None, 2.0, True),
         ("s38 intermediate", 0.0, 1.0, True)]
RULES += [(f"margin {m:g}", None, m, False) for m in (0, 1, 3)]
RULES += [(f"m{m:g} prefix {z:g}", z, m, False) for m in (0, 1, 2) for z in (0, 1)]


def main():
    args = sys.argv[1:]
    ran = args[args.index("--ran") + 1] if "--ran" in args else None
    files = [a for i, a in enumerate(args) if not a.startswith("--") and
             (i == 0 or args[i - 1] != "--ran")]
    rows = [json.loads(line) for f in files for line in open(f)]
    print(f"{len(rows)} runs ({', '.join(files)})")
    for name, z, m, kurt in RULES:
        res = replay(rows, z, m, kurt)
        below = [(r["world"], r["seed"], round(b["r2"] - r["r2_xz"], 5)) for r, b in res
                 if b["r2"] < r["r2_xz"] - 1e-6]
        kept = sum(b["name"].startswith("linear") for _, b in res)
        gain = sum(b["r2"] - r["r2_xz"] for r, b in res) / len(res)
        print(f"{name:<22} below {len(below):>2}  linear kept {kept:>2}  mean R²(h)-R²(x) "
              f"{gain:+.5f}  {below}")
    if ran is None:
        return
    rule = next(r for r in RULES if r[0] == ran)   # it must reproduce fit_encoder's choice
    for r, b in replay(rows, rule[1], rule[2], rule[3]):
        if abs(b["r2"] - r["r2_hz"]) > 1e-4:
            print("MISMATCH", r["world"], r["seed"], b["name"], r["selected"], b["r2"], r["r2_hz"])


if __name__ == "__main__":
    main()
