"""Held-out test strength: 30 hand-written, plausible one-line bugs (issue #17, item 3).

The mutation figures of ``mutmut`` and ``scripts/mutate_checks.py`` stopped being held out
once tests were written against their survivors. These bugs were written from the source of
the six mutated module groups and the paper only, without opening ``tests/`` or any survivor
list, and each is the kind of slip a researcher makes (a wrong axis, ``ddof``, a swapped
argument, a missing square root, a tolerance's direction, ``and`` for ``or``), not an
operator flip. Each entry names why it is not an equivalent mutant.

For every bug: ``git archive HEAD`` into a temporary folder (``.venv`` symlinked, the working
tree never written), the one edit applied there (its old text must occur exactly once), then
``pytest -x -q -p no:cacheprovider`` on ``[tool.mutmut] pytest_add_cli_args_test_selection``
with ``OMP_NUM_THREADS=1`` and a timeout; the verdict is killed (non-zero exit), survived
(exit 0) or timeout, with the first failing test. An unmutated baseline runs first and must
pass, else nothing is written.

``--verify`` runs ``pycheck verify`` (all checks; a non-zero exit is a kill) instead of the
tests and writes ``results/mutation/handwritten_s9_verify.txt``.

Usage, from the repository root (about 15 minutes on 2 cores with ``--jobs 2``)::

    nice -n 10 .venv/bin/python scripts/handwritten_mutants.py --jobs 2 \
        [--only T1 M2] [--verify] [--out FILE]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
TEST_FILES = tuple(tomllib.loads((ROOT / "pyproject.toml").read_text())
                   ["tool"]["mutmut"]["pytest_add_cli_args_test_selection"])
# the unmutated selection took 77 s on 2 shared cores, two bugs in parallel (the baseline
# line of results/mutation/handwritten_s9.txt): 900 s is ten times that, room for a slower
# mutant without letting an endless loop stall the run
TIMEOUT_S = 900


class Bug(NamedTuple):
    key: str
    path: str
    old: str
    new: str
    what: str          # the bug, and on which input it changes behaviour (not equivalent)


BUGS = (
    # ------------------------------------------------------------ theory
    Bug("T1", "pycheck/theory.py",
        "return float(2 * (e.sum(axis=0) * (1 - rho**d)).sum())",
        "return float(2 * (e.sum(axis=0) * (1 - rho**(d + 1))).sum())",
        "alignment_loss weights degree d by 1 - rho^(d+1) (off by one degree); any h with "
        "energy in degree >= 1 changes L"),
    Bug("T2", "pycheck/theory.py",
        "np.where(deg == 1, linear_scale / math.sqrt(n),",
        "np.where(deg == 1, linear_scale / n,",
        "random_encoder's linear block sd is linear_scale/n, not /sqrt(n) (missing sqrt); "
        "the draw law changes for every n >= 2"),
    Bug("T3", "pycheck/theory.py",
        "B = (eps + 2 * (1 - rho) * math.sqrt(n) * delta) / (2 * rho * (1 - rho))",
        "B = (eps + 2 * (1 - rho) * n * delta) / (2 * rho * (1 - rho))",
        "t3_bound uses n instead of sqrt(n) for the Cauchy-Schwarz factor (a looser, wrong "
        "bound); differs whenever n >= 2 and delta > 0"),
    Bug("T4", "pycheck/theory.py",
        "Q, _ = orthogonal_procrustes(np.eye(h.n), W)   # argmin_Q ‖I·Q − W‖_F",
        "Q, _ = orthogonal_procrustes(W, np.eye(h.n))   # argmin_Q ‖I·Q − W‖_F",
        "deviation_from_rotation with Procrustes' arguments swapped: Q is the transpose of "
        "the polar factor of W; differs for any non-symmetric W (n >= 2)"),
    Bug("T5", "pycheck/theory.py",
        "return alignment_loss(h, rho) - 2 * h.n * (1 - rho)",
        "return alignment_loss(h, rho) - 2 * h.n_out * (1 - rho)",
        "alignment_excess uses n_out for n (the wrong of two similar variables); differs "
        "for any non-square encoder"),
    # ------------------------------------------------------------ metrics
    Bug("M1", "pycheck/metrics.py",
        "sst = ((z[te] - z[te].mean(0)) ** 2).sum()",
        "sst = ((z[te] - z[tr].mean(0)) ** 2).sum()",
        "linear_r2's SST around the training mean instead of the held-out mean; differs "
        "whenever the two means differ (almost every sample)"),
    Bug("M2", "pycheck/metrics.py",
        "resid = z[te] - (mu_z + (h[te] - mu_h) @ coef)",
        "resid = z[tr] - (mu_z + (h[tr] - mu_h) @ coef)",
        "linear_r2 scores the residual on the training rows (in-sample R²); differs for "
        "any z that is not an exact affine function of h"),
    Bug("M3", "pycheck/metrics.py",
        "q, _ = orthogonal_procrustes(zc, hc)  # zc @ q ≈ hc",
        "q, _ = orthogonal_procrustes(hc, zc)  # zc @ q ≈ hc",
        "deviation_from_rotation (empirical) with Procrustes' arguments swapped: q maps h to "
        "z, then applied to z; differs for any non-symmetric optimal rotation"),
    Bug("M4", "pycheck/metrics.py",
        "eps = float(sq.mean() - 2.0 * n * (1.0 - rho))",
        "eps = float(sq.mean() / n - 2.0 * (1.0 - rho))",
        "t3_quantities' eps per coordinate (as the training loss normalises) instead of "
        "total; differs whenever n >= 2 and eps != 0"),
    Bug("M5", "pycheck/metrics.py",
        "hc, zc = h - h.mean(0), z - z.mean(0)",
        "hc, zc = h - h.mean(1, keepdims=True), z - z.mean(1, keepdims=True)",
        "deviation_from_rotation centres each row instead of each column (wrong axis); "
        "differs for any h, z with a non-zero column mean or n >= 2"),
    # ------------------------------------------------------------ objectives
    Bug("O1", "pycheck/objectives.py",
        "w[[0, -1]] = dt",
        "w[[0, 1]] = dt",
        "SIGReg trapezoid: the end weight dt put on knot 1 instead of the last knot; the "
        "statistic changes for any sample that is not exactly N(0, 1) in law"),
    Bug("O2", "pycheck/objectives.py",
        "cov = hc.T @ hc / (h.shape[0] - 1)",
        "cov = hc.T @ hc / h.shape[0]",
        "VICReg covariance with ddof 0 instead of 1; changes the loss for any batch with a "
        "non-zero covariance"),
    Bug("O3", "pycheck/objectives.py",
        "logits = sq / (-2 * sigma ** 2)",
        "logits = sq / (-2 * sigma)",
        "InfoNCE kernel width with sigma instead of sigma²; equal at sigma = 1 only, differs "
        "for any other sigma"),
    Bug("O4", "pycheck/objectives.py",
        "state[\"lam\"] = lam_start * (lam_end / lam_start) ** min(max(frac, 0.0), 1.0)",
        "state[\"lam\"] = lam_end * (lam_start / lam_end) ** min(max(frac, 0.0), 1.0)",
        "the lam ramp runs backwards (strong to weak); differs whenever lam_start != lam, "
        "e.g. at frac = 0 it gives lam instead of lam_start"),
    Bug("O5", "pycheck/objectives.py",
        "return grad_theta * ctx.t0, None, None, None",
        "return grad_theta, None, None, None",
        "eager SIGReg backward drops the chain-rule factor t0 = dθ/dy; the gradient is "
        "wrong whenever t_max/(K-1) != 1 (default 3/16)"),
    # ------------------------------------------------------------ planning + worlds
    Bug("P1", "pycheck/planning.py",
        "direct = np.linalg.norm(z_bank[pairs[:, 1]] - z_bank[pairs[:, 0]], axis=1)",
        "direct = np.linalg.norm(h_bank[pairs[:, 1]] - h_bank[pairs[:, 0]], axis=1)",
        "plan_cost normalises by the straight line in h instead of z (the wrong of two "
        "similar arrays); differs unless h is an isometry of z"),
    Bug("P2", "pycheck/planning.py",
        "ok = np.linalg.norm(z_bank[cand[:, 0]] - z_bank[cand[:, 1]], axis=1) >= min_dist",
        "ok = np.linalg.norm(z_bank[cand[:, 0]] - z_bank[cand[:, 1]], axis=1) <= min_dist",
        "sample_pairs keeps the pairs *closer* than min_dist (comparison inverted); differs "
        "for any bank with distances on both sides of min_dist"),
    Bug("W1", "pycheck/worlds.py",
        "scale = math.exp(0.5 * (special.gammaln(1 / alpha) - special.gammaln(3 / alpha)))",
        "scale = math.exp(special.gammaln(1 / alpha) - special.gammaln(3 / alpha))",
        "gennorm_law's scale is the variance ratio, not its square root (missing sqrt): the "
        "law is not standardized for any alpha != 2"),
    Bug("W2", "pycheck/worlds.py",
        "roll = trajectory_rollouts(-(-n_samples // horizon), dim, rng, horizon=horizon, **policy)",
        "roll = trajectory_rollouts(n_samples // horizon, dim, rng, horizon=horizon, **policy)",
        "trajectory_pairs floors the episode count instead of ceiling it: fewer than "
        "n_samples pairs (or none) whenever horizon does not divide n_samples"),
    Bug("W3", "pycheck/worlds.py",
        "return float((2.0 * val / math.sqrt(2.0 * math.pi)) ** 2)",
        "return float(2.0 * val / math.sqrt(2.0 * math.pi))",
        "copula_r2_ceiling returns the correlation, not R² = corr² (missing square); "
        "differs for every alpha != 2"),
    # ------------------------------------------------------------ checks: t1, t2, hermite
    Bug("C1", "pycheck/checks/t1.py",
        "ok = hyp_ok and worst[\"slack\"] >= -_LOWER_TOL and worst[\"infeasibility\"] <= _FEASIBLE_TOL",
        "ok = hyp_ok or worst[\"slack\"] >= -_LOWER_TOL and worst[\"infeasibility\"] <= _FEASIBLE_TOL",
        "T1.lower_bound's verdict with or: passes whenever the hypothesis phase passed, "
        "even with infeasible (unwhitened) encoders or a failing sweep"),
    Bug("C2", "pycheck/checks/t1.py",
        "passed=min_slack >= -tol and min_eps > tol and worst_infeasible <= _FEASIBLE_TOL,",
        "passed=min_slack >= -tol and min_eps > -tol and worst_infeasible <= _FEASIBLE_TOL,",
        "T1.nonlinear_gap's strictness test with the tolerance's sign flipped: eps = 0 "
        "(a rotation among the 'non-rotations') now passes"),
    Bug("C3", "pycheck/checks/t1.py",
        "c[::2] = 0.0",
        "c[1::2] = 0.0",
        "_band_map_l2 zeroes the odd Hermite coefficients of an odd function instead of the "
        "even ones (wrong parity): the exact L changes for every band"),
    Bug("C4", "pycheck/checks/t2.py",
        "ok = min(pvals.values()) >= 0.005",
        "ok = max(pvals.values()) >= 0.005",
        "T2.gaussian_positive_case passes if either test is at its nominal rate (max for "
        "min): a whitening that fails only one test passes"),
    Bug("C5", "pycheck/checks/hermite.py",
        "        if d >= 3:\n",
        "        if d >= 4:\n",
        "L1.degree_gap_exact skips the second gap w(3) - w(2) (off by one): a weight with "
        "w(3) <= w(2) but correct elsewhere passes"),
    # ------------------------------------------------------------ checks: t3, t4, anisotropic
    Bug("D1", "pycheck/checks/t3.py",
        "violations += min(se, sd) < -1e-9",
        "violations += max(se, sd) < -1e-9",
        "T3.bound_random_polynomials counts a violation only if both bounds are violated "
        "(max for min): a bound that fails only for D passes"),
    Bug("D2", "pycheck/checks/t3.py",
        "dominated = bool(np.all(arr[:, 4] <= arr[:, 3] * (1 + 1e-9)))",
        "dominated = bool(np.any(arr[:, 4] <= arr[:, 3] * (1 + 1e-9)))",
        "T3.bound_tightness: D <= bound required at some t instead of every t (any for "
        "all): a bound violated at a few t passes"),
    Bug("D3", "pycheck/checks/t4.py",
        "q = stage[t][..., None] + act + V",
        "q = stage[t][..., None] + V",
        "plan's Bellman step forgets the action cost lam ||a||^2: wrong values and plans "
        "for any lam > 0"),
    Bug("D4", "pycheck/checks/t4.py",
        "ok = max_rel > 1e-6 and changed > 0",
        "ok = max_rel > 1e-6 or changed > 0",
        "T4.dp_nonorthogonal_counterexample passes on a value change alone (or for and): "
        "a map that changes values but never a plan passes"),
    Bug("D5", "pycheck/checks/anisotropic.py",
        "ok = p_min >= 1e-3 and ex + 4 * ex_se < 0",
        "ok = p_min >= 1e-3 and ex - 4 * ex_se < 0",
        "A2.fold_beats_rotations' one-sided margin with the wrong sign: an excess within "
        "4 se of 0 (not significantly below the rotations) passes"),
)


def _apply(tree: Path, bug: Bug) -> None:
    """Write ``bug`` into the copy at ``tree``; its old text must occur exactly once."""
    f = tree / bug.path
    text = f.read_text()
    if text.count(bug.old) != 1:
        raise ValueError(f"{bug.key}: old text occurs {text.count(bug.old)} times in {bug.path}")
    f.write_text(text.replace(bug.old, bug.new))


def _copy_head(tmp: Path) -> None:
    """``git archive HEAD`` of the repository into ``tmp``, with ``.venv`` symlinked."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
    (tmp / ".venv").symlink_to(ROOT / ".venv")


def _first_failure(output: str) -> str:
    """The first ``FAILED``/``ERROR`` node id in pytest's ``-q`` summary, or the first failing
    check of ``pycheck verify``'s report, or ``-``."""
    m = re.search(r"^(?:FAILED|ERROR) (\S+)|^ +FAIL (\S+?):", output, re.M)
    return (m.group(1) or m.group(2)) if m else "-"


def run_one(bug: Bug | None, verify: bool = False) -> tuple[str, str, float]:
    """Verdict (killed/survived/timeout), first failing test and seconds for one bug
    (``None``: the unmutated baseline); ``verify``: run ``pycheck verify`` instead of the
    tests (non-zero exit = killed)."""
    with tempfile.TemporaryDirectory(prefix="handmut_") as d:
        tmp = Path(d)
        _copy_head(tmp)
        if bug is not None:
            _apply(tmp, bug)
        # the copy first on the path, so its pycheck (not the installed one) is imported;
        # verify's last-verify cache goes to the copy, not the user's ~/.cache
        env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(tmp),
                   PYTHONDONTWRITEBYTECODE="1", XDG_CACHE_HOME=str(tmp / ".cache"))
        cmd = ([str(tmp / ".venv/bin/pycheck"), "verify"] if verify else
               [str(tmp / ".venv/bin/python"), "-m", "pytest", "-x", "-q", "-p",
                "no:cacheprovider", *TEST_FILES])
        t0 = time.monotonic()
        try:
            out = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True,
                                 timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return "timeout", "-", time.monotonic() - t0
        secs = time.monotonic() - t0
        if out.returncode == 0:
            return "survived", "-", secs
        return "killed", _first_failure(out.stdout), secs


def _imports_copy() -> bool:
    """Whether a subprocess with the runner's environment imports pycheck from the copy."""
    with tempfile.TemporaryDirectory(prefix="handmut_") as d:
        tmp = Path(d)
        _copy_head(tmp)
        code = "import pycheck, sys; print(pycheck.__file__)"
        out = subprocess.run([str(tmp / ".venv/bin/python"), "-c", code], cwd=tmp,
                             env=dict(os.environ, PYTHONPATH=str(tmp)), capture_output=True,
                             text=True, check=True).stdout.strip()
        return Path(out).resolve().is_relative_to(tmp.resolve())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1, help="bugs run in parallel")
    ap.add_argument("--only", nargs="*", help="keys of the bugs to run (default: all)")
    ap.add_argument("--verify", action="store_true",
                    help="run `pycheck verify` on each bug instead of the tests")
    ap.add_argument("--out", type=Path, default=None,
                    help="default results/mutation/handwritten_s9[_verify].txt")
    args = ap.parse_args(argv)
    bugs = [b for b in BUGS if not args.only or b.key in args.only]
    if args.only and len(bugs) != len(args.only):
        print(f"unknown bug key in {args.only}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as d:
        for b in bugs:                       # every edit applies before anything runs
            f = Path(d) / b.path
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text((ROOT / b.path).read_text())
            _apply(Path(d), b)
    if not _imports_copy():
        print("the test run would not import the mutated copy", file=sys.stderr)
        return 1
    out = args.out or ROOT / ("results/mutation/handwritten_s9"
                              f"{'_verify' if args.verify else ''}.txt")
    rows = []
    with ThreadPoolExecutor(args.jobs) as pool:     # the baseline runs alongside the bugs
        runs = pool.map(lambda b: run_one(b, args.verify), [None, *bugs])
        for b, (verdict, first, secs) in zip([None, *bugs], runs):
            if b is None:
                print(f"baseline: {verdict} in {secs:.0f} s", flush=True)
                base = (verdict, first, secs)
                continue
            rows.append(f"{b.key:<6} {verdict:<9} {secs:5.0f}  {b.path}: {b.what}  | {first}")
            print(rows[-1], flush=True)
    if base[0] != "survived":
        print(f"the unmutated selection does not pass ({base}); nothing written",
              file=sys.stderr)
        return 1
    lines = [f"# handwritten mutants at {_head()}; baseline (unmutated) passes in "
             f"{base[2]:.0f} s; run: "
             + ("pycheck verify" if args.verify else
                "[tool.mutmut] pytest_add_cli_args_test_selection, pytest -x"),
             f"# {'key':<4} {'verdict':<9} {'secs':>5}  file: description  | first failing test",
             *rows]
    caught = sum(" killed " in l or " timeout " in l for l in lines[2:])
    lines.append(f"total: {caught}/{len(bugs)} killed or timed out "
                 f"({100 * caught / len(bugs):.1f}%)")
    print(lines[-1])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    return 0


def _head() -> str:
    return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
