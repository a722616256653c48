"""The README's benchmark tables from two `pycheck bench --json` runs (run 1 / run 2).

Usage: .venv/bin/python scripts/bench_readme_tables.py results/bench/bench.json results/bench/bench_run2.json
"""
import json
import sys

a, b = (json.load(open(p)) for p in sys.argv[1:3])


def rng(d):
    return f"{d['median']:.1f}× ({d['min']:.1f}–{d['max']:.1f})"


print("| batch | N | reference ms | floor ms | compiled (then the default) ms | speed-up, run 1 | speed-up, run 2 "
      "| / floor, run 1 | / floor, run 2 | eager: speed-up |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r1, r2 in zip(a["sigreg"], b["sigreg"]):
    if r1["views"] != 1:
        continue
    assert (r1["batch"], r1["N"]) == (r2["batch"], r2["N"])
    fast = r1["speedup_compiled"]["median"] >= 10 and r2["speedup_compiled"]["median"] >= 10
    s1, s2 = rng(r1["speedup_compiled"]), rng(r2["speedup_compiled"])
    if not fast:
        s1, s2 = f"**{s1}**", f"**{s2}**"
    print(f"| {r1['batch']} | {r1['N']} | {r1['reference_ms']:.1f} / {r2['reference_ms']:.1f} | "
          f"{r1['floor_ms']:.2f} / {r2['floor_ms']:.2f} | {r1['compiled_ms']:.2f} / "
          f"{r2['compiled_ms']:.2f} | {s1} | {s2} | {rng(r1['over_floor_compiled'])} | "
          f"{rng(r2['over_floor_compiled'])} | {r1['speedup_eager']['median']:.1f}× / "
          f"{r2['speedup_eager']['median']:.1f}× |")
two = [(r1, r2) for r1, r2 in zip(a["sigreg"], b["sigreg"]) if r1["views"] == 2]
for name, runs in (("run 1", [p[0] for p in two]), ("run 2", [p[1] for p in two])):
    sp = [r["speedup_compiled"]["median"] for r in runs]
    fl = [r["over_floor_compiled"]["median"] for r in runs]
    print(f"two views, {name}: compiled {min(sp):.1f}–{max(sp):.0f}× the reference, "
          f"{min(fl):.1f}–{max(fl):.1f}× the floor")
diffs = [max(r[f"stat_rel_diff_{k}"], 0) for run in (a, b) for r in run["sigreg"] for k in ("compiled", "eager")]
gdiffs = [r[f"grad_rel_diff_{k}"] for run in (a, b) for r in run["sigreg"] for k in ("compiled", "eager")]
print(f"max stat rel diff {max(diffs):.1e}, max grad rel diff {max(gdiffs):.1e}")
print()
print("| objective | N = 8 | N = 64 | N = 256 |")
print("|---|---|---|---|")
for obj in ("sigreg", "vicreg", "infonce"):
    cells = []
    for n in (8, 64, 256):
        t1 = next(r for r in a["training"] if r["objective"] == obj and r["N"] == n)
        t2 = next(r for r in b["training"] if r["objective"] == obj and r["N"] == n)
        cells.append(f"{t1['pairs_per_s']:,.0f} ({t1['matmul_fraction']:.3f}; "
                     f"{t1['matmul_fraction_min']:.2f}–{t1['matmul_fraction_max']:.2f}) / "
                     f"{t2['pairs_per_s']:,.0f} ({t2['matmul_fraction']:.3f}; "
                     f"{t2['matmul_fraction_min']:.2f}–{t2['matmul_fraction_max']:.2f})".replace(",", " "))
    print(f"| {obj} | " + " | ".join(cells) + " |")
print()
print("two runs side by side, one thread each: total pairs/s over one run's, and (since "
      "session 21) the pair's matmul fraction, run 1 / run 2")
print("| objective | N = 8 | N = 64 | N = 256 |")
print("|---|---|---|---|")


def one_run(run, p):
    return next(t["pairs_per_s"] for t in run["training"]
                if t["objective"] == p["objective"] and t["N"] == p["N"])


for obj in ("sigreg", "vicreg", "infonce"):
    cells = []
    for n in (8, 64, 256):
        ps = [next((p for p in run["parallel_runs"] if p["objective"] == obj and p["N"] == n),
                   None) for run in (a, b)]
        cells.append(" / ".join(
            "–" if p is None else f"{p['two_runs_pairs_per_s'] / one_run(run, p):.2f}×"
            + (f" ({p['matmul_fraction']:.3f})" if "matmul_fraction" in p else "")
            for p, run in zip(ps, (a, b))))
    print(f"| {obj} | " + " | ".join(cells) + " |")
print("matmul GFLOP/s, run 1 / run 2:", f"{a['matmul_gflops']:.0f} / {b['matmul_gflops']:.0f}")
