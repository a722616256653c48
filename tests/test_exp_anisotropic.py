"""`pycheck reproduce anisotropic` end to end on a tiny config, and its input checks."""
import json

import numpy as np
import pytest

from pycheck.experiments import anisotropic as X

TINY = dict(rho_max=0.9, ratios={"2": [0.95]}, objectives=["vicreg"], mixing="realnvp",
            n_train=400, n_test=300, steps=5, batch_size=64, lr=1e-3, threads=1,
            keep_embedding=50, search_size=2000, search_rhos=[[0.9, 0.5]],
            options={"vicreg": {"lam": 0.1}})


def test_world_rhos_span_and_bad_ratio():
    rho = X.world_rhos(3, 0.9, 1.5)
    assert rho[0] == 0.9 and rho[-1] == pytest.approx(0.81 / 1.5) and np.all(np.diff(rho) < 0)
    with pytest.raises(ValueError, match="rho_max <= ratio"):
        X.world_rhos(2, 0.9, 0.5)          # rho_min = 1.62 would exceed rho_max
    with pytest.raises(ValueError, match=">= 2"):
        X.check_config(dict(TINY, ratios={"1": [0.95]}))
    # the slow rate first (session 43: [0.1, 0.7] ran with the table's labels swapped)
    with pytest.raises(ValueError, match=r"search_rhos\[0\] must be a pair \[rho_slow, "
                                         r"rho_fast\] with rho_slow >= rho_fast"):
        X.check_config(dict(TINY, search_rhos=[[0.1, 0.7]]))
    X.check_config(dict(TINY, search_rhos=[[0.5, 0.5]]))      # isotropic: allowed


def test_anisotropic_tiny_run_writes_tables_and_resumes(tmp_path):
    summary = X.run(dict(TINY), tmp_path, [0])
    for stem in ("anisotropic", "gaussian_search"):
        for ext in ("json", "csv", "md"):
            assert (tmp_path / f"{stem}.{ext}").is_file()
    assert (tmp_path / "anisotropic.png").is_file()
    rows = json.loads((tmp_path / "anisotropic.json").read_text())
    assert len(rows) == 1 and rows[0]["linear_optimal"] is True      # ratio 0.95 < 1
    search = json.loads((tmp_path / "gaussian_search.json").read_text())
    fold = next(r for r in search if r["map"] == "fold")
    # the quadrature value sits in the table next to its Monte-Carlo estimate (2000 pairs);
    # 6 standard errors: a false alarm has probability ~2e-9
    assert abs(fold["L"] - fold["L_exact"]) < 6 * fold["L_se"]
    assert summary["runs_computed"] == 3                  # search, fold quadrature, one training
    again = X.run(dict(TINY), tmp_path, [0])
    assert again["runs_computed"] == 0 and again["runs_reused"] == 3
    log = json.loads((tmp_path / "summary.json").read_text())["invocations"]
    assert [(e["runs_computed"], e["runs_reused"]) for e in log] == [(3, 0), (0, 3)]


def _measured(out, key: str) -> dict:
    r = json.loads((out / "runs" / f"{key}.json").read_text())
    r.pop("wall_s", None)
    r.pop("_task", None)
    r.pop("_sha256", None)      # the seal covers wall_s
    return r


def test_anisotropic_changed_setting_recomputes_only_its_runs_and_jobs_2_agrees(tmp_path):
    """Each run records the settings it reads (session 27): another objective reuses every
    stored run, a changed option of one objective recomputes that objective's runs only (the
    old file kept under runs/replaced/), a changed search size the search only; --jobs 2
    (two spawned workers, one thread each) stores the numbers of the in-process runs."""
    out = tmp_path / "a"
    X.run(dict(TINY), out, [0])
    cfg = dict(TINY, objectives=["vicreg", "infonce"],
               options={"vicreg": {"lam": 0.1}, "infonce": {"sigma": 1.0}})
    s = X.run(cfg, out, [0])
    assert (s["runs_computed"], s["runs_reused"]) == (1, 3)
    vic = "n2-r0.95-vicreg-seed0"
    before = (out / "runs" / f"{vic}.json").read_text()
    cfg = dict(cfg, options={"vicreg": {"lam": 0.2}, "infonce": {"sigma": 1.0}})
    s = X.run(cfg, out, [0])
    assert (s["runs_computed"], s["runs_reused"]) == (1, 3)
    assert (out / "runs" / "replaced" / f"{vic}.json").read_text() == before
    s = X.run(dict(cfg, search_size=1000), out, [0])
    assert (s["runs_computed"], s["runs_reused"]) == (1, 3)
    par = tmp_path / "p"
    X.run(dict(cfg, search_size=1000, jobs=2), par, [0])
    for key in ("search-seed0", "fold-quadrature", vic, "n2-r0.95-infonce-seed0"):
        assert _measured(par, key) == _measured(out, key), key
