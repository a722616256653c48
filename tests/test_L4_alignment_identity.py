"""L4: L(h) = 2 Σ_k Σ_{d≥1} (1 − ρ^d) e_{k,d}."""
import numpy as np
import pytest

from pycheck import theory as T
from pycheck.checks.hermite import alignment_identity
from spies import record_calls


def test_L4_checks_registered(checks_of):
    assert checks_of("L4") == ("L4.alignment_identity",)


def test_L4_alignment_identity_passes():
    r = alignment_identity(0)
    assert r.passed and r.figures["max_rel_error_quadrature"] < 1e-12


def _weighted(h, rho, shift):
    e = T.chaos_energies(h)
    d = np.arange(e.shape[1])
    return float(2 * (e.sum(axis=0) * (1 - rho ** (d + shift)) * (d >= 1)).sum())


def test_L4_alignment_identity_fails_with_weights_of_the_wrong_degree():
    # ρ^{d+1} instead of ρ^d
    assert not alignment_identity(0, formula=lambda h, rho: _weighted(h, rho, 1)).passed


def test_L4_alignment_identity_fails_with_linear_weights_everywhere():
    # 2(1 − ρ) Σ e: what L would be if every degree cost like degree 1
    r = alignment_identity(0, formula=lambda h, rho: 2 * (1 - rho) * T.chaos_energies(h)[:, 1:].sum())
    assert not r.passed


def test_L4_encoders_have_unit_mean_scale_and_nonlinear_scale_0_7(monkeypatch):
    seen, real = [], T.random_encoder

    def random_encoder(rng, n, degree, **scales):
        seen.append(scales)
        return real(rng, n, degree, **scales)
    monkeypatch.setattr(T, "random_encoder", random_encoder)
    assert alignment_identity(0, size=1_000).passed
    assert seen == [{"mean_scale": 1.0, "nonlinear_scale": 0.7}] * 8


@pytest.mark.parametrize("seed", [0, 6])
def test_L4_figures_are_the_worst_z_and_the_worst_quadrature_error(monkeypatch, seed):
    """Recomputed from the encoders, their Monte-Carlo estimates and the docstring's
    integrand ``v = ‖h(ρz + sqrt(1 − ρ²)ε) − h(z)‖²`` under the tensor rule of degree + 1
    nodes per variable, for the encoders with ``2n <= 4``: the same float operations, so
    equal. The z-score's standard error is the exact ``sqrt(Var v / size)``, ``E v²`` by
    the rule of ``2·degree + 1`` nodes (session 36; it was the sample's). The quadrature
    error is rounding only; at seed 6 its largest value depends on the integrand's float
    operations (``ρz − sqrt(1 − ρ²)ε``, exact in reals on the symmetric rule, gives
    1.55e-15 instead of 1.39e-15)."""
    calls = record_calls(monkeypatch, T, "alignment_monte_carlo")
    r = alignment_identity(seed, size=1_000)
    zs, rel = [], []
    for (h, rho, _, _), (mc, se) in calls:
        closed = T.alignment_loss(h, rho)
        nodes, w = T.gauss_hermite(2 * int(h.degrees.max()) + 1, 2 * h.n)
        v = np.sum((h(rho * nodes[:, :h.n] + np.sqrt(1 - rho**2) * nodes[:, h.n:])
                    - h(nodes[:, :h.n])) ** 2, axis=1)
        exact_se = np.sqrt((w @ v**2 - (w @ v) ** 2) / 1_000)
        zs.append(abs(mc - closed) / exact_se)
        if h.n <= 2:
            nodes, w = T.gauss_hermite(int(h.degrees.max()) + 1, 2 * h.n)
            z, e = nodes[:, :h.n], nodes[:, h.n:]
            quad = float(w @ np.sum((h(rho * z + np.sqrt(1 - rho**2) * e) - h(z)) ** 2, axis=1))
            rel.append(abs(quad - closed) / quad)
    assert len(zs) == 8 and len(rel) == 5
    assert r.figures["max_abs_z"] == pytest.approx(max(zs), rel=1e-12)
    assert r.figures["max_rel_error_quadrature"] == max(rel)


def test_L4_fails_on_a_closed_form_off_by_1e_6_on_one_encoder():
    """1e-6 relative on the 1-D encoder at ρ = 0.05 alone: far below the Monte-Carlo noise,
    so only the largest quadrature error can see it."""
    r = alignment_identity(0, size=1_000, formula=lambda h, rho: T.alignment_loss(h, rho)
                           * (1 + 1e-6 * (rho == 0.05)))
    assert not r.passed and r.figures["max_rel_error_quadrature"] > 1e-7
