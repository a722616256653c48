"""Contracts of the objectives that hold for any correct implementation of their kernels
(issue #17, survivors of the mutation run in results/mutation/): defaults, the documented
options of make_objective, argument checks with their messages, and closed forms at
parameters where a plausible slip (σ² vs 2σ, a wrong default) changes the value."""
import math

import numpy as np
import pytest
import torch

from pycheck import objectives as O


def _pair(seed=0, B=16, n=3):
    g = torch.Generator().manual_seed(seed)
    h = torch.randn(B, n, generator=g, dtype=torch.float64)
    return h, h + 0.3 * torch.randn(B, n, generator=g, dtype=torch.float64)


def _infonce_by_hand(h, hn, sigma):
    L = -((h[:, None, :] - hn[None, :, :]) ** 2).sum(-1) / (2 * sigma ** 2)
    rows = -(np.diag(L) - np.log(np.exp(L).sum(1)))
    cols = -(np.diag(L) - np.log(np.exp(L).sum(0)))
    return 0.5 * (rows.mean() + cols.mean())


@pytest.mark.parametrize("sigma", [0.5, 1.0, 3.0])
def test_infonce_closed_form_over_sigma(sigma):
    """σ = 2 cannot tell σ² from 2σ; 0.5, 1 and 3 can. σ = 1 is also the default."""
    h, hn = _pair(1, B=5, n=2)
    want = _infonce_by_hand(h.numpy(), hn.numpy(), sigma)
    assert O.infonce(h, hn, sigma).item() == pytest.approx(want, rel=1e-12)
    if sigma == 1.0:
        assert O.infonce(h, hn).item() == pytest.approx(want, rel=1e-12)
        loss, parts = O.make_objective("infonce")(h, hn)
        assert loss.item() == pytest.approx(want, rel=1e-12)
        align = ((hn - h) ** 2).sum(1).mean().item() / 2      # per coordinate
        assert parts["alignment"] == pytest.approx(align, rel=1e-12)


def test_infonce_sigma_must_be_positive():
    with pytest.raises(ValueError, match=r"sigma must be a finite number > 0, got 0"):
        O.make_objective("infonce", sigma=0)


@pytest.mark.parametrize("name, opts, match", [
    ("infonce", {"sigma": float("inf")}, "sigma must be a finite number > 0"),
    ("vicreg", {"lam": float("inf")}, "lam must be a finite number > 0"),
    ("vicreg", {"cov_weight": float("nan")}, "cov_weight must be a finite number >= 0"),
    ("vicreg", {"cov_weight": -1}, "cov_weight must be a finite number >= 0"),
    ("sigreg", {"t_max": float("inf")}, "finite t_max > 0"),
    ("sigreg", {"num_knots": 17.0}, "integers num_knots >= 2"),
    ("sigreg", {"num_slices": 2.5}, "integers num_knots >= 2"),
])
def test_options_that_made_the_loss_inf_nan_or_constant_are_refused(name, opts, match):
    """Session 36: each was accepted and gave an inf, NaN or constant loss, or failed inside
    torch with a TypeError."""
    with pytest.raises(ValueError, match=match):
        O.make_objective(name, **opts)


def test_vicreg_refuses_a_batch_of_one_and_views_of_two_shapes():
    """Session 36: a batch of 1 gave NaN, an (8, 1) view beside an (8, 3) one a finite loss."""
    with pytest.raises(ValueError, match="B >= 2"):
        O.vicreg(torch.randn(1, 3))
    with pytest.raises(ValueError, match="one shape"):
        O.make_objective("vicreg")(torch.randn(8, 3), torch.randn(8, 1))
    with pytest.raises(ValueError, match="finite fraction"):
        O.make_objective("vicreg").set_progress(float("nan"))


def test_vicreg_default_covariance_weight_is_one():
    h, hn = _pair(2)
    assert O.vicreg(h).item() == O.vicreg(h, cov_weight=1.0).item()
    _, parts = O.make_objective("vicreg")(h, hn)
    want = 0.5 * (O.vicreg(h, cov_weight=1.0) + O.vicreg(hn, cov_weight=1.0)).item()
    assert parts["vicreg"] == pytest.approx(want, rel=1e-12)


def test_alignment_of_stacked_views_sums_the_last_axis():
    """(V, B, n) inputs: squared distance over coordinates, mean over everything else."""
    h, hn = _pair(3)
    both, both_n = torch.stack([h, hn]), torch.stack([hn, h])
    assert O.alignment(both, both_n).item() == pytest.approx(
        ((hn - h) ** 2).sum(1).mean().item(), rel=1e-12)


@pytest.mark.parametrize("kwargs", [dict(num_knots=1), dict(num_slices=0), dict(t_max=0.0),
                                    dict(t_max=-1.0)])
def test_sigreg_refuses_degenerate_settings(kwargs):
    with pytest.raises(ValueError,
                       match=r"^SIGReg needs integers num_knots >= 2, num_slices >= 1 and "
                             r"seed, and a finite t_max > 0; got "):
        O.SIGReg(**kwargs)


def test_sigreg_accepts_the_smallest_settings():
    """Two knots, one slice and a small t_max are a valid (coarse) statistic: at h ≡ 0 it is
    B w₀ (1 − 1)² + B w₁ (1 − φ(T))² with w₁ = T φ(T) (the end-knot trapezoid weight, doubled)."""
    T = 0.5
    got = O.SIGReg(num_slices=1, num_knots=2, t_max=T)(torch.zeros(4, 2, dtype=torch.float64))
    phi = math.exp(-T * T / 2)
    assert got.item() == pytest.approx(4 * T * phi * (1 - phi) ** 2, rel=1e-12)


def test_sigreg_module_defaults():
    """SIGReg() is 256 slices from seed 0, 17 knots on [0, 3] (LeJEPA's defaults)."""
    h, _ = _pair(4, B=32)
    assert O.SIGReg()(h).item() == O.SIGReg(256, 17, 3.0, seed=0)(h).item()
    assert O.SIGReg()(h).item() != O.SIGReg(seed=1)(h).item()


def test_sigreg_objective_is_sigreg_over_both_views():
    """make_objective('sigreg') regularises with SIGReg's statistic (one draw of directions
    for both views, averaged over them), from the same seed as a fresh SIGReg; every
    documented option reaches it."""
    h, hn = _pair(5)
    opts = dict(num_slices=12, num_knots=9, t_max=2.5, seed=7)
    obj = O.make_objective("sigreg", lam=2.0, lam_start=0.5, **opts)
    obj.set_progress(1.0)
    loss, parts = obj(h, hn)
    mod = O.SIGReg(**opts)
    a = mod.directions(3, dtype=torch.float64)
    want = 0.5 * (mod.statistic(h, a) + mod.statistic(hn, a)).item()
    assert parts["sigreg"] == pytest.approx(want, rel=1e-12)
    align = ((hn - h) ** 2).sum(1).mean().item() / 3
    assert loss.item() == pytest.approx(align + 2.0 * want, rel=1e-12)


@pytest.mark.parametrize("lam, lam_start, which", [(0.0, 1.0, "lam"), (1.0, 0.0, "lam_start")])
def test_lejepa_weights_must_be_positive_each(lam, lam_start, which):
    with pytest.raises(ValueError, match=rf"^{which} must be a finite number > 0, got 0\.0$"):
        O.make_objective("vicreg", lam=lam, lam_start=lam_start)


def test_unknown_objective_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown objective 'simclr'; valid: sigreg, vicreg, infonce$"):
        O.make_objective("simclr")


def test_sigreg_at_a_point_mass_with_a_non_binary_knot_spacing():
    """K = 4 knots on [0, 1]: dt = 1/3 is not a float32 number, so weights built in float32
    would show at 1e-8. h ≡ 0: B Σ_k w_k (1 − φ(t_k))², trapezoid weights doubled."""
    t = np.linspace(0, 1, 4)
    w = 2 * (1 / 3) * np.exp(-t ** 2 / 2)
    w[[0, -1]] /= 2
    want = 5 * float((w * (1 - np.exp(-t ** 2 / 2)) ** 2).sum())
    got = O.SIGReg(num_slices=3, num_knots=4, t_max=1.0)(torch.zeros(5, 2, dtype=torch.float64))
    assert got.item() == pytest.approx(want, rel=1e-13)


def test_compile_switch_reads_its_environment_variable(monkeypatch):
    """The compiled kernels are the default: unset or any value but "0" means on,
    PYCHECK_SIGREG_COMPILE=0 means the eager kernel."""
    monkeypatch.delenv("PYCHECK_SIGREG_COMPILE", raising=False)
    assert O.compile_enabled() is True
    for value, want in (("1", True), ("0", False), ("yes", True)):
        monkeypatch.setenv("PYCHECK_SIGREG_COMPILE", value)
        assert O.compile_enabled() is want


def test_the_weight_in_force_is_reported_and_stays_at_lam_start_without_set_progress():
    """Session 43 (a user's trial): make_objective("sigreg", lam=1.0) in a user's own loop
    trained at 0.003, and nothing said so. The docstring now says the loop drives the ramp,
    ``parts["weight"]`` reports the weight in force, and InfoNCE has a set_progress too."""
    h, hn = _pair(4)
    for opts, want in [({"lam": 1.0}, 0.003), ({"lam": 1.0, "lam_start": 1.0}, 1.0),
                       ({}, 0.003)]:
        obj = O.make_objective("sigreg", num_slices=8, **opts)
        _, p = obj(h, hn)
        assert p["weight"] == pytest.approx(want, rel=1e-12)
        assert (p["loss"] - p["alignment"]) / p["sigreg"] == pytest.approx(want, rel=1e-9)
        obj.set_progress(1.0)
        assert obj(h, hn)[1]["weight"] == pytest.approx(opts.get("lam", 3.0), rel=1e-12)
    assert "lam_start" in O.make_objective.__doc__ and "set_progress" in O.make_objective.__doc__
    nce = O.make_objective("infonce")
    before = nce(h, hn)[0].item()
    nce.set_progress(0.5)
    assert nce(h, hn)[0].item() == before
    with pytest.raises(ValueError, match="finite fraction"):
        nce.set_progress(float("inf"))


@pytest.mark.parametrize("fn, args, match", [
    (O.alignment, (torch.zeros(4, 3), torch.ones(1, 3)), "one shape"),
    (O.alignment, (torch.zeros(4, 1), torch.ones(4, 3)), "one shape"),
    (O.sigreg, (np.zeros((8, 2), np.float32),), "takes a .* tensor, got ndarray"),
    (O.SIGReg(), (np.zeros((8, 2), np.float32),), "got ndarray"),
    (O.sigreg, (torch.ones(8, 2, dtype=torch.int64),), "floating-point embedding"),
    (O.sigreg, (torch.ones(8),), "B >= 1 rows and n >= 1"),
    (O.sigreg, (torch.ones(8, 0),), "B >= 1 rows and n >= 1"),
    (O.SIGReg(), ([torch.ones(8, 2), torch.ones(8, 2, dtype=torch.float64)],), "one dtype"),
    (O.infonce_per_pair, (torch.randn(6, 3), torch.randn(6, 3), 0.0), "sigma must be"),
    (O.infonce_per_pair, (torch.randn(6, 3), torch.randn(6, 3), -1.0), "sigma must be"),
    (O.infonce_per_pair, (torch.randn(6, 3), torch.randn(5, 3)), "one shape"),
    (O.make_objective("sigreg", num_slices=8),
     (torch.ones(6, 3, dtype=torch.int64), torch.ones(6, 3, dtype=torch.int64)),
     "needs floating-point views"),
    (O.vicreg, (torch.randn(6, 3),), None),
])
def test_direct_calls_name_bad_inputs(fn, args, match):
    """Session 43 (a user's trial): each of these broadcast silently, gave NaN, or failed
    with torch's or NumPy's own message (IndexError, "truth value ... ambiguous", a C++
    check). The last row is a valid call, for contrast."""
    if match is None:
        assert torch.isfinite(fn(*args))
        return
    with pytest.raises(ValueError, match=match):
        fn(*args)


@pytest.mark.parametrize("opts, match", [({"cov_weight": -1.0}, "cov_weight must be"),
                                         ({"eps": -1.0}, "eps must be"),
                                         ({"eps": float("nan")}, "eps must be")])
def test_functional_vicreg_checks_its_options_as_make_objective_does(opts, match):
    with pytest.raises(ValueError, match=match):
        O.vicreg(torch.randn(6, 3), **opts)
