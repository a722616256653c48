"""2D illustrations (paper, "2D illustrations"): four mixings, each inverted up to rotation.

For each mixing (spiral, parabolic shear, sinusoidal shear, RealNVP) and seed: Gaussian-OU
pairs in 2D, ``x = g(z)``, an MLP encoder trained with LeJEPA (alignment + SIGReg), and
``R²(h -> z)`` on held-out pairs (target >= 0.999). The configs start with a VICReg phase
(fit_encoder's ``warm_start``) and end with SIGReg; the table reports R² after each.
Figure: for each mixing, ``x`` (left) and ``h(x)`` after the best orthogonal alignment to
``z`` (right), points coloured by the polar angle (hue) and radius (saturation) of ``z``.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..store import RunStore, savefig, write_json, write_table
from . import entry
from ._common import (JOBS, check_fit_options, check_profile, check_rows, choice, count, flag,
                      list_of, number, table, torch_threads, train_and_measure)

THEOREMS = ("T1",)
MIXINGS = ("spiral", "parabolic", "sinusoidal", "realnvp")
FIGURE_POINTS = 3000


def _colors(z: np.ndarray) -> np.ndarray:
    from matplotlib.colors import hsv_to_rgb
    hue = (np.arctan2(z[:, 1], z[:, 0]) + np.pi) / (2 * np.pi)
    sat = np.clip(np.hypot(z[:, 0], z[:, 1]) / 2.5, 0.0, 1.0)
    return hsv_to_rgb(np.stack([hue, sat, np.full_like(hue, 0.9)], 1))


def _figure(runs: dict, out: Path, seed: int | None = None) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..metrics import best_rotation
    fig, axes = plt.subplots(2, 4, figsize=(13, 6.8))
    for i, name in enumerate(MIXINGS):
        r = runs[name]
        z, x, h = (np.asarray(r[k]) for k in ("z", "x", "h"))
        h_al = (h - h.mean(0)) @ best_rotation(h, z)
        c = _colors(z)
        ax_x, ax_h = axes[i // 2, 2 * (i % 2)], axes[i // 2, 2 * (i % 2) + 1]
        ax_x.scatter(x[:, 0], x[:, 1], c=c, s=2, lw=0)
        ax_x.set_title(f"{name}: x = g(z)\nR²(x→z) = {r['r2_xz']:.3f}", fontsize=9)
        ax_h.scatter(h_al[:, 0], h_al[:, 1], c=c, s=2, lw=0)
        ax_h.set_title(f"{name}: h(x), rotated to z\nR²(h→z) = {r['r2_hz']:.5f}", fontsize=9)
        for ax in (ax_x, ax_h):
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
    # which seed: the panels' values are one seed's, the table's are means (session 47)
    fig.suptitle("LeJEPA (alignment + SIGReg, after an alignment + VICReg warm start) inverts "
                 "2D mixings up to rotation" + (f" (seed {seed})" if seed is not None else "")
                 + ";\ncolour = polar angle (hue) and radius (saturation) of z", fontsize=10)
    fig.tight_layout()
    path = savefig(fig, out / "twod.png")
    plt.close(fig)
    return path


def check_config(cfg: dict) -> None:
    """Refuse a profile with a missing, unknown or out-of-range setting (``ValueError``)."""
    check_profile("twod", cfg, dict(
        rho=number(0, 1), n_train=count(2), n_test=count(3), steps=count(1),
        batch_size=count(2), lr=number(0)),
        optional=dict(mixings=list_of(choice(*MIXINGS)), options=table, threads=count(1),
                      progress=flag, **JOBS))
    check_fit_options("twod", "sigreg", cfg.get("options", {}), steps=cfg["steps"],
                      batch_size=cfg["batch_size"], lr=cfg["lr"], n_pairs=cfg["n_train"],
                      width=2)
    check_rows("twod", "n_test", cfg["n_test"], 2)


@entry
def run(cfg: dict, out: Path, seeds: list[int] | None = None) -> dict:
    """Run (resumably) every mixing x seed; write ``twod.{json,csv,md,png}`` and
    ``summary.json`` into ``out``; return the summary: ``rows`` (one per mixing: R²(x→z),
    R²(h→z) mean, spread and minimum over the seeds, D, the T3 bound, train seconds),
    ``all_at_target``, ``figure``, ``settings``,
    ``runs_computed`` / ``runs_reused`` / ``runs_replaced`` and ``invocations`` (each call's
    seeds and wall seconds)."""
    out = Path(out)
    check_config(cfg)
    if not seeds:
        raise ValueError("need at least one seed")
    mixings = list(cfg.get("mixings", MIXINGS))
    store = RunStore(out, cfg, per_run=True)   # every run is a run_many task
    keys = ("rho", "n_train", "n_test", "steps", "batch_size", "lr")
    params = {k: cfg[k] for k in keys}
    options = dict(cfg.get("options", {}))
    # the figure's runs keep their embedding: those of the profile's first seed, whatever
    # --seeds lists (it was the listed first seed, so `--seeds 1` or `--seeds 1 0` changed
    # every run's task and retrained stored runs; session 36)
    figure_seed = list(cfg.get("seeds", seeds))[0]
    tasks = {f"{m}-sigreg-N2-seed{s}": (train_and_measure, dict(
        mixing=m, n=2, objective="sigreg", seed=s, options=options,
        keep_embedding=FIGURE_POINTS if s == figure_seed else 0,
        progress=bool(cfg.get("progress", True)), **params))
        for m in mixings for s in seeds}
    # one torch thread in this process too, as in the workers (a 2-core machine gives each
    # of --jobs 2 one thread) and as gennorm, control, anisotropic and reacher do: --jobs 1
    # had run at torch's default thread count, whose sums are split otherwise (the same
    # seed's bits then depend on --jobs on larger sizes), and took 3 min 22 s for a run
    # that --jobs 2 did in 26 s (session 43, a user's determinism trial)
    with torch_threads(cfg):
        done = store.run_many(tasks, jobs=int(cfg.get("jobs", 1)), desc="twod")
    runs = {m: [done[f"{m}-sigreg-N2-seed{s}"] for s in seeds] for m in mixings}
    first = ({m: done[f"{m}-sigreg-N2-seed{figure_seed}"] for m in mixings}
             if figure_seed in seeds else {})
    rows = []
    for m in mixings:
        rs = runs[m]
        r2 = np.array([r["r2_hz"] for r in rs])
        rows.append(dict(mixing=m, seeds=len(rs), r2_xz=float(np.mean([r["r2_xz"] for r in rs])),
                         r2_hz_mean=float(r2.mean()),
                         r2_hz_std=float(r2.std(ddof=1)) if len(rs) > 1 else math.nan,
                         r2_hz_min=float(r2.min()),
                         **({"r2_hz_after_warm_start": float(np.mean([r["r2_hz_warm_start"] for r in rs]))}
                            if all("r2_hz_warm_start" in r for r in rs) else {}),
                         D=float(np.mean([r["D"] for r in rs])),
                         bound=float(np.mean([r["bound"] for r in rs])),
                         train_seconds=float(np.mean([r["train_seconds"] for r in rs]))))
    # each run's R² >= 0.999 is reached in its VICReg phase; SIGReg polishes (session 47:
    # the title said "(LeJEPA, SIGReg)")
    write_table(out, "twod", rows, title="2D mixings: linear identifiability R²(h→z) (LeJEPA: "
                "alignment + VICReg, then alignment + SIGReg)",
                note=f"profile {cfg.get('profile', '?')}; seeds {seeds}; rho {cfg['rho']}; "
                     f"{cfg['steps']} steps x {cfg['batch_size']} pairs; held-out "
                     f"{cfg['n_test']} pairs; options {options}. r2_hz_after_warm_start: R²(h→z) "
                     "after the warm-start phase (mean over seeds), when there is one. "
                     "Target R²(h→z) >= 0.999.")
    fig = _figure(first, out, figure_seed) if set(first) == set(MIXINGS) else None
    summary = dict(rows=rows, **store.accounting(out / "summary.json"),
                   figure=str(fig) if fig else None,
                   all_at_target=all(r["r2_hz_min"] >= 0.999 for r in rows))
    write_json(out / "summary.json", summary)
    return summary
