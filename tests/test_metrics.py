"""Metrics: linear R², deviation from rotation, Theorem 3 quantities."""
import numpy as np
import pytest
from scipy.stats import special_ortho_group

from pycheck.metrics import best_rotation, deviation_from_rotation, linear_r2, t3_quantities
from pycheck.worlds import gaussian_ou_pairs


def test_linear_r2_extremes():
    rng = np.random.default_rng(0)
    z = rng.standard_normal((4000, 3))
    a = rng.standard_normal((3, 3))
    assert linear_r2(z @ a + 5.0, z) == pytest.approx(1.0, abs=1e-10)
    assert abs(linear_r2(rng.standard_normal((4000, 3)), z)) < 0.01   # independent: ~0
    assert 0.3 < linear_r2(np.tanh(2 * z), z) < 0.95


def test_deviation_from_rotation():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((20000, 4))
    q = special_ortho_group.rvs(4, random_state=2)
    assert deviation_from_rotation(z @ q.T + 3.0, z) == pytest.approx(0.0, abs=1e-20)
    # h = c Q z: D = (1 - c)^2 E||z||^2 = (1 - c)^2 n, up to sampling error of E||z||^2
    assert deviation_from_rotation(0.5 * z @ q.T, z) == pytest.approx(0.25 * 4, rel=0.02)
    np.testing.assert_allclose(best_rotation(z @ q.T, z), q, atol=1e-10)


def test_t3_quantities_rotation_and_bound():
    rho, n = 0.5, 3
    z, zn = gaussian_ou_pairs(50000, n, rho, np.random.default_rng(3))
    q = special_ortho_group.rvs(n, random_state=4)
    r = t3_quantities(z @ q.T, zn @ q.T, z, rho)
    assert r["n"] == n and abs(r["eps"]) < 0.05 and r["delta"] < 0.05 and r["D"] < 1e-12
    # a nonlinear encoder: the bound must hold (T3)
    h, hn = np.tanh(z), np.tanh(zn)
    r = t3_quantities(h, hn, z, rho)
    assert r["D"] > 0.01 and r["D"] <= r["bound"]
    assert set(r) >= {"n", "rho", "eps", "delta", "D", "bound"}


def test_metric_input_errors():
    with pytest.raises(ValueError, match="same number of rows"):
        linear_r2(np.zeros((10, 2)), np.zeros((11, 2)))
    with pytest.raises(ValueError, match="same dimension"):
        deviation_from_rotation(np.zeros((10, 2)), np.zeros((10, 3)))


def test_refusals_found_in_session_36():
    """Each was accepted with a wrong or meaningless answer, or failed with an unhelpful
    error: h_next of another width (broadcast), rho outside (0, 1) in T3's bound, a 1-D or
    narrow z in the Hermite basis, NaN features and a fractional n in SFA, a negative chunk
    in sfa_excess_delta (returned 0.0), a NaN junk autocorrelation."""
    import numpy as np
    import pytest

    from pycheck import sfa, theory
    from pycheck.metrics import t3_quantities
    z = np.random.default_rng(0).standard_normal((500, 3))
    with pytest.raises(ValueError, match="one shape"):
        t3_quantities(z, z[:, :1], z, 0.5)
    for rho in (1.2, -0.3, 0.0, 1.0, float("nan")):
        with pytest.raises(ValueError, match="0 < rho < 1"):
            theory.t3_bound(0.1, 0.1, 2, rho)
    h = theory.random_encoder(np.random.default_rng(1), 2, 2)
    for bad in (np.zeros(5), np.zeros((5, 1))):
        with pytest.raises(ValueError, match=r"shape \(N, n\) with n = 2"):
            h(bad)
    nan = z.copy()
    nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="phi contains NaN"):
        sfa.sfa_readout(nan, z, 2)
    with pytest.raises(ValueError, match="n must be an integer"):
        sfa.sfa_readout(z, z + 0.1, 2.5)
    with pytest.raises(ValueError, match="chunk must be an integer"):
        sfa.sfa_excess_delta(z, z + 0.1, 1, 500, chunk=-1)
    with pytest.raises(ValueError, match="finite"):
        sfa.sfa_excess_independent(0.9, [np.nan], 100)


def test_more_refusals_found_in_session_36():
    """Unhelpful errors or silent results on edge arguments: embed's batch_size 0 / -1,
    RealNVPEncoder's hidden 0 and max_log_scale 0, hermite's negative degree, complex input to
    the metrics (imaginary part dropped), r2_summary of nothing ("nan ± nan")."""
    import numpy as np
    import pytest

    from pycheck import theory
    from pycheck.encoders import RealNVPEncoder
    from pycheck.metrics import linear_r2, r2_summary
    from pycheck.train import embed, make_encoder
    enc = make_encoder("residual-mlp", 2, 2)
    for b in (0, -1, 2.5):
        with pytest.raises(ValueError, match="batch_size must be an integer in"):
            embed(enc, np.zeros((4, 2)), batch_size=b)
    for kw in ({"hidden": 0}, {"max_log_scale": 0.0}, {"n_layers": 0}):
        with pytest.raises(ValueError, match="RealNVPEncoder needs n_layers >= 1"):
            RealNVPEncoder(2, **kw)
    with pytest.raises(ValueError, match=r"the degree k must be an integer in \[0, 2\^63\)"):
        theory.hermite(-1, np.zeros(3))
    z = np.random.default_rng(0).standard_normal((50, 2))
    with pytest.raises(ValueError, match="h must be real"):
        linear_r2(z + 1j * z, z)
    with pytest.raises(ValueError, match="at least one value"):
        r2_summary([])


def test_boolean_arrays_are_refused_like_fit_encoder_refuses_them():
    """Session 43: a boolean h (a mask passed by mistake) scored R² = 0.447."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 2))
    with pytest.raises(ValueError, match=r"^h is boolean; it must hold real numbers"):
        linear_r2(z > 0, z)
    with pytest.raises(ValueError, match=r"^z is boolean"):
        deviation_from_rotation(z, (z > 0).tolist())
    with pytest.raises(ValueError, match=r"^h_next is boolean"):
        t3_quantities(z, z > 0, z, 0.5)
    assert 0.3 < linear_r2((z > 0).astype(float), z) < 0.9     # cast on purpose: allowed


def test_linear_r2_takes_what_fit_encoder_takes_and_refuses_the_same(tmp_path):
    """Session 46 (an API trial): a tensor that needs a gradient or is bfloat16 raised torch's
    own errors, a masked array was scored on the values under its mask, numeric strings were
    parsed and a negative or fractional seed gave NumPy's unnamed errors."""
    import torch
    from pycheck.metrics import linear_r2
    rng = np.random.default_rng(0)
    z = rng.standard_normal((200, 2))
    h = z @ rng.standard_normal((2, 3))
    assert linear_r2(torch.tensor(h, requires_grad=True), z) == linear_r2(h, z)
    assert linear_r2(torch.tensor(h).bfloat16(), torch.tensor(z)) > 0.999
    masked = np.ma.masked_array(h, mask=np.zeros_like(h, dtype=bool))
    masked.mask[3, 1] = True
    for bad, kw, msg in [(masked, {}, "1 masked entries"), (h.astype(str), {}, "holds text"),
                         (h, {"seed": -1}, "seed must be an integer"),
                         (h, {"seed": 1.5}, "seed must be an integer")]:
        with pytest.raises(ValueError, match=msg):
            linear_r2(bad, z, **kw)


def test_a_one_dimensional_latent_is_told_how_to_pass():
    """Session 51, a user's trial: linear_r2(h, z) with a 1-D z was refused without saying
    how to pass a single column."""
    h = np.random.default_rng(0).standard_normal((100, 2))
    with pytest.raises(ValueError, match=r"got \(100, 2\) and \(100,\) \(a single column: "
                                         r"pass z\[:, None\]\)"):
        linear_r2(h, h[:, 0])
    assert linear_r2(h, h[:, :1]) == pytest.approx(1.0)
