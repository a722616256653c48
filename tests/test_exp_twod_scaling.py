"""The twod and scaling experiments and `pycheck bench` run end to end, resumably."""
import json
from pathlib import Path

import numpy as np
import pytest

from pycheck import bench
from pycheck.experiments import scaling, twod

TINY = dict(rho=0.5, n_train=400, n_test=300, steps=3, batch_size=64, lr=1e-3)
RUN_KEYS = {"n", "rho", "r2_hz", "eps", "delta", "D", "bound", "objective", "mixing", "seed",
            "r2_xz", "train_seconds"}


def test_twod_runs_and_resumes(tmp_path):
    cfg = dict(TINY, options={"num_slices": 16})
    s1 = twod.run(cfg, tmp_path, [0])
    assert s1["runs_computed"] == 4 and s1["runs_reused"] == 0
    for ext in ("json", "csv", "md", "png"):
        assert (tmp_path / f"twod.{ext}").is_file()
    run = json.loads(next(p for p in (tmp_path / "runs").glob("*.json")
                          if p.name != "config.json").read_text())
    assert RUN_KEYS <= set(run)
    s2 = twod.run(cfg, tmp_path, [0])              # second call reuses every run
    assert s2["runs_computed"] == 0 and s2["runs_reused"] == 4
    assert s2["rows"] == s1["rows"]


def test_scaling_runs_and_resumes(tmp_path):
    cfg = dict(TINY, dims=[2, 4], steps={"default": 3, "4": 2})
    s1 = scaling.run(cfg, tmp_path, [0, 1])
    assert s1["runs_computed"] == 2 * 2 * 3
    rows = json.loads((tmp_path / "scaling.json").read_text())
    assert [r["N"] for r in rows] == [2, 4]
    assert {"r2_xz_mean", "sigreg_mean", "vicreg_std", "infonce_mean"} <= set(rows[0])
    for p in (tmp_path / "runs").glob("*.json"):
        if p.name == "config.json":                # the store's config stamp
            continue
        assert RUN_KEYS <= set(json.loads(p.read_text()))
    s2 = scaling.run(cfg, tmp_path, [0, 1])
    assert s2["runs_computed"] == 0 and s2["runs_reused"] == 12


def test_scaling_summary_judges_issue_11s_targets_per_n():
    """0.999 at N <= 8, 0.99 at N <= 64, nothing above (the flag had asked 0.999 at every N
    and read False beside a table that met the targets, session 44)."""
    rows = [dict(N=8, sigreg_mean=0.9991, vicreg_mean=0.9989),
            dict(N=64, sigreg_mean=0.9901, vicreg_mean=0.995),
            dict(N=256, sigreg_mean=0.5, vicreg_mean=0.7)]
    got = scaling.targets_met(rows, ["sigreg", "vicreg", "infonce"])
    assert got["targets_met"] == {"sigreg": True, "vicreg": False}
    rows[1]["sigreg_mean"] = 0.9899
    assert scaling.targets_met(rows, ["sigreg"])["targets_met"] == {"sigreg": False}


def test_scaling_config_change_recomputes_only_the_changed_runs(tmp_path):
    """Changing one objective's setting at one N (as session 26 did to SIGReg at N = 32)
    recomputes exactly those runs; every other run is reused bit for bit."""
    cfg = dict(TINY, dims=[2, 4], objectives=["sigreg", "vicreg"], supervised=True,
               options={"sigreg": {"num_slices": 8}})
    s1 = scaling.run(cfg, tmp_path, [0])
    assert s1["runs_computed"] == 6
    before = {p.name: p.read_bytes() for p in (tmp_path / "runs").glob("realnvp-*.json")}
    new = dict(cfg, options={"sigreg": {"num_slices": 8, "steps": {"default": 3, "4": 5}}})
    s2 = scaling.run(new, tmp_path, [0])
    assert (s2["runs_computed"], s2["runs_reused"]) == (1, 5)
    after = {p.name: p.read_bytes() for p in (tmp_path / "runs").glob("realnvp-*.json")}
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"realnvp-sigreg-N4-seed0.json"}
    assert json.loads(after["realnvp-sigreg-N4-seed0.json"])["steps"] == 5
    assert (tmp_path / "runs" / "replaced" / "realnvp-sigreg-N4-seed0.json").read_bytes() == \
        before["realnvp-sigreg-N4-seed0.json"]
    rows = {r["N"]: r for r in s2["rows"]}
    assert rows[2] == {r["N"]: r for r in s1["rows"]}[2]     # N = 2 untouched


def test_bench_cli_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert bench.main(["--dims", "4", "--batch", "64", "--sigreg-batches", "32", "--rounds", "2",
                       "--parallel-seconds", "0", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["matmul_gflops"] > 0
    assert {r["objective"] for r in res["training"]} == {"sigreg", "vicreg", "infonce"}
    assert [(r["views"], r["batch"], r["N"]) for r in res["sigreg"]] == [(1, 32, 4), (2, 32, 4)]
    sig = res["sigreg"][1]
    # float32 agreement with the reference (the issue's 1e-5)
    assert sig["stat_rel_diff_eager"] < 1e-5 and sig["grad_rel_diff_eager"] < 1e-5
    assert np.isfinite(sig["speedup_eager"]["median"]) and sig["floor_ms"] > 0
    assert res["parallel_runs"] == []            # skipped: tested in test_sigreg_kernels.py
    assert "SIGReg" in capsys.readouterr().out


def test_bench_side_by_side_runs_at_every_n_with_their_matmul_fraction(monkeypatch, capsys):
    """Two one-thread runs are timed at every N (not only the smallest), and the pair's
    matmul fraction is its pairs/s times the step's FLOPs over the machine's ceiling."""
    import torch
    calls = []

    def fake_parallel(n, batch, seconds):
        calls.append(n)
        return [dict(objective=o, N=n, batch=batch, two_runs_pairs_per_s=1000.0 * n)
                for o in ("sigreg", "vicreg", "infonce")]
    monkeypatch.setattr(bench, "_parallel_runs", fake_parallel)
    # the ceiling as measured in turn: the start, each training round (3 objectives x 2 N,
    # one round), then before and after the pairs of each N
    ceilings = iter([2e9] * 7 + [1e9, 3e9, 4e9, 4e9])
    monkeypatch.setattr(bench, "matmul_flops", lambda **kw: next(ceilings))
    res = bench.run(dims=(2, 4), batch=16, sigreg_batches=(32,), rounds=1, parallel_seconds=1)
    assert calls == [2, 4]
    gflop = {(r["objective"], r["N"]): r["step_gflop"] for r in res["training"]}
    assert len(res["parallel_runs"]) == 6
    for r in res["parallel_runs"]:
        achieved = 1000.0 * r["N"] / 16 * gflop[r["objective"], r["N"]] * 1e9
        lo, hi = (1e9, 3e9) if r["N"] == 2 else (4e9, 4e9)
        assert r["matmul_fraction"] == pytest.approx(achieved / ((lo + hi) / 2), rel=1e-12)
        assert r["matmul_fraction_min"] == pytest.approx(achieved / hi, rel=1e-12)
        assert r["matmul_fraction_max"] == pytest.approx(achieved / lo, rel=1e-12)
        assert achieved > 0
    res["targets"] = bench.targets(res)
    bench._print(res)
    out = capsys.readouterr().out
    if torch.cuda.is_available():                  # the bench measured the GPU
        assert res["gpu"] == torch.cuda.get_device_name(0) and f"this run, on {res['gpu']}" in out
    else:                                          # issue 16 item 4 not run, and said so
        assert "matmul fraction of the pair" in out and res["gpu"] is None
        assert "GPU benchmark (item 4): not run (torch finds no CUDA device here)" in out


def test_bench_counts_issue_16_targets_as_the_readme_reports_them(capsys):
    """On session 28's committed run (results/bench/bench_s28_run1.json): >= 10x the
    reference at 2 of 12 single-view sizes, <= 2x the floor at 2 (512 x 256 is 2.05x),
    every step fraction at N = 256 >= 0.5; a step below 0.5, or the eager kernel when the
    compiled one is missing, is counted as such."""
    from pathlib import Path
    res = json.loads((Path(__file__).parent.parent / "results" / "bench" /
                      "bench_s28_run1.json").read_text())
    t = bench.targets(res)
    assert (t["kernel"], t["sizes"], t["speedup_met"], t["floor_met"]) == ("compiled", 12, 2, 2)
    assert "512x256" in t["floor_missed"] and "2048x256" not in t["floor_missed"]
    assert set(t["speedup_missed"]) == {f"{b}x{n}" for b in (256, 512, 1024, 2048)
                                        for n in (8, 64, 256)} - {"2048x8", "2048x64"}
    assert t["step_fraction"] == pytest.approx(dict(sigreg=0.518, vicreg=0.562,
                                                    infonce=0.532), abs=5e-4)
    assert t["step_met"] and t["rel_diff_met"] and t["max_rel_diff"] < 2e-6
    res["training"][-1]["matmul_fraction"] = 0.49
    assert not bench.targets(res)["step_met"]
    res["compiled"] = False
    assert bench.targets(res)["kernel"] == "eager" and bench.targets(res)["floor_met"] == 0
    for part in ("training", "parallel_runs"):
        res[part] = [r for r in res[part] if r["N"] < 256]
    assert bench.targets(res)["step_fraction"] is None
    bench._print(res)
    assert "training step at N >= 256: not measured" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--sigreg-batches", "1"], ["--parallel-seconds", "inf"],
                                  ["--parallel-seconds", "nan"], ["--parallel-seconds", "-1"],
                                  ["--dims", "8", "8"], ["--batch", "1"], ["--rounds", "0"]])
def test_bench_rejects_bad_input(argv, capsys):
    """Refused before any timing (an infinite --parallel-seconds would never end)."""
    with pytest.raises(SystemExit) as e:
        bench.main(argv)
    err = capsys.readouterr().err
    # the message names the flag given (one combined message did not; session 42)
    assert e.value.code == 2 and ("must be" in err or "more than once" in err) and argv[0] in err
    assert len(err.strip().splitlines()) == 1       # no usage block first (session 36)


def test_bench_rejects_empty_json_path(capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--json", ""])
    assert e.value.code == 2 and "--json: empty path" in capsys.readouterr().err


def test_scaling_parallel_with_supervised_ceiling(tmp_path):
    """jobs=2 runs in worker processes, gives the same numbers as jobs=1, and the
    supervised budget ceiling is a column of the table that bound ignores."""
    from pycheck.experiments import bound
    cfg = dict(TINY, dims=[2], steps=3, objectives=["vicreg"], supervised=True)
    s_par = scaling.run(dict(cfg, jobs=2), tmp_path / "par", [0, 1])
    s_ser = scaling.run(cfg, tmp_path / "ser", [0, 1])
    assert s_par["runs_computed"] == 4 and s_ser["runs_computed"] == 4
    for a, b in zip(s_par["rows"], s_ser["rows"]):
        assert a["vicreg_mean"] == b["vicreg_mean"]
        assert a["supervised_mean"] == b["supervised_mean"]
        assert 0 < a["supervised_mean"] <= 1
    # the jobs setting is not part of the config stamp: a serial resume reuses everything
    assert scaling.run(cfg, tmp_path / "par", [0, 1])["runs_reused"] == 4
    runs, status = bound.load_runs(tmp_path, ["ser"])
    assert len(runs) == 2 and status["ser"]["skipped"] == []


def test_scaling_fresh_pairs_are_reproducible(tmp_path):
    """fresh = true (pairs drawn every step): the same numbers across processes, and a
    different encoder than the stored-sample run."""
    cfg = dict(TINY, dims=[2], steps=3, objectives=["vicreg"], supervised=True, fresh=True)
    s_par = scaling.run(dict(cfg, jobs=2), tmp_path / "par", [0, 1])
    s_ser = scaling.run(cfg, tmp_path / "ser", [0, 1])
    stored = scaling.run(dict(cfg, fresh=False), tmp_path / "stored", [0, 1])
    for col in ("vicreg_mean", "supervised_mean"):
        assert s_par["rows"][0][col] == s_ser["rows"][0][col]
        assert s_par["rows"][0][col] != stored["rows"][0][col]
    run = json.loads(next((tmp_path / "ser" / "runs").glob("*supervised*.json")).read_text())
    assert run["fresh"] is True


def test_scaling_settings_per_n_and_per_objective(tmp_path):
    """steps, batch_size, lr and any objective option may be tables keyed by N with a
    default; an objective's options may set its own steps, batch_size and lr; every run
    records what it used."""
    cfg = dict(TINY, dims=[2, 4], steps={"default": 2, "4": 3},
               batch_size={"default": 32, "4": 48}, objectives=["sigreg", "vicreg"],
               supervised=True,
               options={"sigreg": {"num_slices": 8, "lam": {"default": 0.5, "2": 0.25},
                                   "batch_size": {"default": 40, "2": 24}},
                        "vicreg": {"lr": {"default": 2e-3, "4": 4e-3}, "steps": {"default": 4}},
                        "supervised": {"batch_size": 16, "lr": 5e-3}})
    lr = TINY["lr"]
    settings = {n: scaling._run_settings(cfg, n, cfg["objectives"]) for n in (2, 4)}
    assert settings[2]["sigreg"] == (2, 24, lr, {"num_slices": 8, "lam": 0.25})
    assert settings[4]["sigreg"] == (3, 40, lr, {"num_slices": 8, "lam": 0.5})
    assert settings[2]["vicreg"] == (4, 32, 2e-3, {})
    assert settings[4]["vicreg"] == (4, 48, 4e-3, {})
    assert settings[4]["supervised"] == (3, 16, 5e-3, {})
    scaling.run(cfg, tmp_path, [0])
    runs = {p.stem: json.loads(p.read_text()) for p in (tmp_path / "runs").glob("realnvp-*.json")}
    assert runs["realnvp-sigreg-N2-seed0"]["batch_size"] == 24
    assert runs["realnvp-sigreg-N2-seed0"]["lr"] == lr
    assert runs["realnvp-vicreg-N4-seed0"]["batch_size"] == 48
    assert runs["realnvp-vicreg-N4-seed0"]["lr"] == 4e-3
    assert runs["realnvp-vicreg-N4-seed0"]["steps"] == 4
    assert runs["realnvp-supervised-N4-seed0"]["steps"] == 3
    assert runs["realnvp-supervised-N4-seed0"]["lr"] == 5e-3


@pytest.mark.parametrize("change, match", [
    (dict(batch_size={"4": 32}), "no entry for N = 2"),
    (dict(batch_size=0), "batch_size must be an integer >= 1"),
    (dict(steps={"default": 2.5}), "steps must be an integer >= 1"),
    (dict(options={"supervised": {"lam": 1.0}}), "supervised takes only"),
    (dict(options={"vicreg": {"lr": {"default": 0}}}), "vicreg lr must be a number > 0"),
    (dict(lr="fast"), "lr must be a number > 0"),
    (dict(options={"vicreg": {"steps": 1.5}}), "vicreg steps must be an integer"),
])
def test_scaling_bad_settings_refused_before_anything_is_written(tmp_path, change, match):
    cfg = dict(TINY, dims=[2], objectives=["vicreg"], supervised=True, **{})
    cfg.update(change)
    with pytest.raises(ValueError, match=match):
        scaling.run(cfg, tmp_path / "out", [0])
    assert not (tmp_path / "out").exists()


def test_twod_seed_subsets_and_order_reuse_every_stored_run(tmp_path):
    """Session 36: the figure's embedding was kept by the listed first seed, so `--seeds 1`
    (or `1 0`) changed every run's task and retrained stored runs; now the profile's first
    seed keeps it, whatever is listed."""
    cfg = dict(TINY, options={"num_slices": 16}, seeds=[0, 1], mixings=["spiral"])
    s1 = twod.run(cfg, tmp_path, [0, 1])
    assert s1["runs_computed"] == 2 and s1["figure"] is None     # one mixing: no figure
    s2 = twod.run(cfg, tmp_path, [1])
    assert (s2["runs_computed"], s2["runs_reused"], s2["runs_replaced"]) == (0, 1, 0)
    s3 = twod.run(cfg, tmp_path, [0, 1])
    assert (s3["runs_computed"], s3["runs_reused"]) == (0, 2) and s3["rows"] == s1["rows"]
    assert not (tmp_path / "runs" / "replaced").exists()


def test_bench_refuses_an_unwritable_json_folder_before_timing(tmp_path, capsys, monkeypatch):
    """Session 36: a read-only folder was found only when the results were written, after
    the whole bench. (root ignores permission bits, so os.access is made to say no.)"""
    import os
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, *a, **k: False if str(p) == str(tmp_path)
                        else real(p, mode, *a, **k))
    monkeypatch.setattr(bench, "run", lambda *a, **k: pytest.fail("timed"))
    with pytest.raises(SystemExit) as e:
        bench.main(["--json", str(tmp_path / "b.json")])
    assert e.value.code == 2 and "is not writable" in capsys.readouterr().err


def test_scaling_options_take_a_warm_start_table_and_refuse_odd_per_n_keys():
    """A dict option that is not keyed by N (a warm_start) is a value; a per-N table's keys
    are N as written in dims or 'default' (session 37: warm_start was read as a per-N table
    and refused; "08" was ignored, so N = 8 silently took the default)."""
    import copy
    import tomllib
    from pathlib import Path
    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / "experiments" /
                         "scaling.toml").read_text())["quick"]
    ok = copy.deepcopy(cfg)
    ok["options"]["vicreg"]["warm_start"] = {"objective": "sigreg", "steps": 10}
    settings = scaling.check_config(ok)
    assert settings[8]["vicreg"][3]["warm_start"] == {"objective": "sigreg", "steps": 10}
    bad = copy.deepcopy(cfg)
    bad["options"]["sigreg"]["steps"] = {"08": 100, "default": 6000}
    with pytest.raises(ValueError, match=r"key\(s\) \['08'\] that are neither"):
        scaling.check_config(bad)


def test_a_profile_seeds_are_checked_even_when_given_seeds_replace_them(tmp_path):
    """twod ties its figure to the profile's first seed: an empty profile list with
    --seeds 0 raised IndexError after the run folder was made (session 37)."""
    import tomllib
    from pathlib import Path
    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / "experiments" /
                         "twod.toml").read_text())["quick"]
    with pytest.raises(ValueError, match=r"twod: seeds must be a non-empty list"):
        twod.run(dict(cfg, seeds=[]), tmp_path / "o", [0])
    assert not (tmp_path / "o").exists()


def test_scaling_names_table_entries_for_an_n_not_in_dims():
    """Session 43 (a user's trial): `steps = { default = 6000, 7 = 5 }` with dims [2, 8] was
    taken without a word; the entry is named (a warning: shrinking dims for a quick look
    while keeping the tables is common). The shipped profiles have none."""
    import tomllib
    shipped = tomllib.loads((Path(scaling.__file__).parents[2] / "experiments" /
                             "scaling.toml").read_text())
    assert all(scaling.unused_n_keys(p) == [] for p in shipped.values())
    cfg = dict(dims=[2, 8], steps={"default": 60, "7": 5},
               options={"sigreg": {"lam": {"default": 0.1, "8": 0.2, "16": 0.3}},
                        "vicreg": {"warm_start": {"objective": "vicreg", "steps": 2}}})
    assert scaling.unused_n_keys(cfg) == ["steps: N = 7", "options.sigreg.lam: N = 16"]


def test_twod_trains_on_one_torch_thread_in_process(tmp_path, monkeypatch):
    """Session 43 (a user's determinism trial): twod and scaling with --jobs 1 trained at
    torch's default thread count, while --jobs 2's workers get one each on 2 cores; now
    both experiments train on one thread in process too (torch_threads, as gennorm does),
    and the caller's thread count is restored afterwards."""
    import torch

    from pycheck import train
    seen, real = [], train.fit_encoder

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real(*args, **kwargs)
    monkeypatch.setattr(train, "fit_encoder", spy)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        twod.run(dict(TINY, mixings=["spiral"], options={"num_slices": 16}), tmp_path, [0])
        assert seen and set(seen) == {1} and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
