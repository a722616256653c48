"""How far the reference itself is above the floor, per size, in stored bench runs (issue 16).

    .venv/bin/python scripts/bench_ref_floor.py results/bench/bench_s33_run1.json ...

For each single-view size: reference ms / floor ms (medians of that run), and the ratio to
the floor our kernel would need to be 10x the reference, (ref / floor) / 10. Where that is
below 1, 10x the reference is out of reach for any implementation that does the floor's work
(the projection matmul forward and backward and one sincos per sample and slice).
"""
import json
import sys


def main() -> int:
    for path in sys.argv[1:]:
        d = json.load(open(path))
        rows = [r for r in d["sigreg"] if r["views"] == 1]
        print(f"{path}  (matmul {d['matmul_gflops']:.0f} GFLOP/s, kernel "
              f"{d.get('sigreg_kernel', 'compiled')})")
        for r in rows:
            rf = r["reference_ms"] / r["floor_ms"]
            ours = r.get("compiled_ms") or r["eager_ms"]
            print(f"  {r['batch']:>5} x {r['N']:<4} ref/floor {rf:5.1f}   10x needs <= "
                  f"{rf / 10:4.2f}x the floor{'  (below 1: out of reach)' if rf < 10 else ''}"
                  f"   ours {ours / r['floor_ms']:4.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
