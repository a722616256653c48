"""``results/fit_encoder/probes-s8/probes.md`` from ``probes.jsonl`` (scripts/engine_probes.py)."""
import json
from pathlib import Path

DIR = Path("results/fit_encoder/probes-s8")
# the suite's previous default (two fits, no average), per mixing
PREVIOUS_RUNS = Path("results/fit_encoder/suite/defaults-s7/runs")


def main() -> None:
    rows = [json.loads(s) for s in (DIR / "probes.jsonl").read_text().splitlines()]
    previous = {p.stem: json.loads(p.read_text())["r2_hz"]
                for p in PREVIOUS_RUNS.glob("*.json") if p.stem != "config"}
    base = {r["mixing"]: r["r2"] for r in rows if json.loads(r["var"]) == {"lam": 0, "ema": 0}}
    out = ["## Engine probes, session 8 (`scripts/engine_probes.py`, `probes.jsonl`)", "",
           "Suite tuning half only (20 000 stored pairs), seed 0, one run each, 1 torch thread "
           "on a shared machine. `ema` 0 = the engine before this session. Δ = R²(h→z) minus "
           "the same mixing's `{\"lam\": 0, \"ema\": 0}` run, or, for rows without `lam` "
           "(both default fits), minus the previous default (`suite/defaults-s7`). wa = "
           "whitened alignment on 10 000 fresh pairs, of the encoder and of the true z.", "",
           "| mixing | variant | R²(h→z) | Δ | held-out obj. | wa fresh | wa of z | read-out | "
           "step |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        v = json.loads(r["var"])
        ref = (None if v.get("supervised") or "n_pairs" in v
               else base.get(r["mixing"]) if "lam" in v else previous.get(r["mixing"]))
        cells = [r["mixing"], f"`{r['var']}`", f"{r['r2']:.5f}",
                 "" if ref is None else f"{r['r2'] - ref:+.5f}",
                 "" if r.get("ho") is None else f"{r['ho']:.4f}", f"{r['wa_fresh']:.4f}",
                 f"{r['wa_z']:.4f}", r.get("sel") or "", str(r.get("best_step") or "")]
        out.append("| " + " | ".join(cells) + " |")
    (DIR / "probes.md").write_text("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
