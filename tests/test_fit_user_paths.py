"""fit_encoder and `pycheck fit` where a user's trial (session 49) found them wrong: a
SIGReg fit of a module of another width, the coverage warning on an embedding that is not
white, too few training pairs, pairs that are one observation twice, an SFA read-out with
nothing held out, the progress bar's held-out value, the width warning before a refusal,
interleaved episode ids, the CLI's words, lam lists, a sampler's return, NumPy input."""
import json
import warnings

import numpy as np
import pytest
import torch
import torch.nn as nn

import pycheck
import pycheck.train as T
from pycheck.cli import main
from pycheck.fitcmd import cli_words
from pycheck.worlds import gaussian_ou_pairs


def _pairs(n=1000, d=3, rho=0.6, seed=0):
    z, zn = gaussian_ou_pairs(n, d, rho, np.random.default_rng(seed))
    return np.tanh(z) + 0.3 * z, np.tanh(zn) + 0.3 * zn


def test_sigreg_fit_of_a_module_of_another_width_trains():
    """A 5-output module of 3 columns: its held-out SIGReg criterion was built for 3
    outputs and failed at the first evaluation (mat1 and mat2 shapes cannot be
    multiplied); 2 outputs failed the same way."""
    x, xn = _pairs()
    for width in (5, 2):
        torch.manual_seed(0)
        module = nn.Sequential(nn.Linear(3, 32), nn.Tanh(), nn.Linear(32, width))
        enc = pycheck.fit_encoder(x, xn, "sigreg", encoder=module, steps=60, progress=False)
        assert enc.criterion == "sigreg loss" and np.isfinite(enc.heldout_objective)
        assert T.embed(enc, x[:7]).shape == (7, width)


def test_coverage_whitens_an_embedding_before_its_neighbours():
    """An embedding that keeps every latent but is stretched 10x along two of three
    oblique directions (InfoNCE's covariance eigenvalues were 0.89, 9.6, 10.0 in the trial):
    standardised per column, its nearest neighbours ignored the short direction and the fit
    was warned of a dropped latent. Whitened, it predicts the slow directions as x does."""
    x, xn = _pairs(6000, 3, 0.8, seed=1)
    data = torch.from_numpy(np.stack([x, xn]))
    data = (data - data[0].mean(0)) / data[0].std(0)
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(2),
                                       dtype=torch.float64))
    stretch = nn.Linear(3, 3, bias=False).double()
    with torch.no_grad():
        stretch.weight.copy_(q @ torch.diag(torch.tensor([1.0, 10.0, 10.0],
                                                         dtype=torch.float64)) @ q.T)
    cov = T.slow_direction_coverage(stretch, data[:, :5000], data[:, 5000:], seed=0)
    assert cov["flagged"] == []
    gaps = np.array(cov["r2_from_x"]) - np.array(cov["r2_from_embedding"])
    # the same neighbours in other coordinates of one affine image: only the whitening's
    # estimation on 5000 rows differs from x's (x itself is standardised, not whitened)
    assert np.abs(gaps).max() < 0.03
    # and an embedding that did drop the third direction is still flagged
    drop = nn.Linear(3, 2, bias=False).double()
    with torch.no_grad():
        drop.weight.copy_(q[:, :2].T)
    cov = T.slow_direction_coverage(drop, data[:, :5000], data[:, 5000:], seed=0)
    assert cov["flagged"] != []


def test_too_few_training_pairs_are_refused():
    """3 training pairs (holdout 0.9 of 33) had trained on a singular batch covariance and
    returned outputs of spread ~5e5 without a word; so had 3 pairs with holdout 0."""
    x, xn = _pairs(33)
    with pytest.raises(ValueError, match=r"more training pairs than the embedding's width "
                                         r"\(3\); 3 of the 33 pairs train"):
        pycheck.fit_encoder(x, xn, holdout=0.9, steps=5, lam=0, progress=False)
    with pytest.raises(ValueError, match="3 of the 3 pairs train"):
        pycheck.fit_encoder(x[:3], xn[:3], holdout=0, steps=5, progress=False)
    # the ZCA input whitening needs more pairs than columns whatever the objective
    with pytest.raises(ValueError, match="3 training pairs cannot fit the ZCA input "
                                         "whitening of 3 columns"):
        pycheck.fit_encoder(x[:3], xn[:3], "vicreg", holdout=0, steps=5, progress=False)
    # "diag" scales each column: 3 pairs of 3 columns train (a review's find: refused)
    enc = pycheck.fit_encoder(x[:3], xn[:3], "vicreg", holdout=0, steps=5, whiten="diag",
                              progress=False)
    assert np.isfinite(T.embed(enc, x[:3])).all()


def test_pairs_that_are_one_observation_twice_are_refused(tmp_path, capsys):
    x, xn = _pairs(400)
    with pytest.raises(ValueError, match="x_next equals x"):
        pycheck.fit_encoder(x, x.copy(), steps=5, progress=False)
    np.savez(tmp_path / "p.npz", x=x, x_next=xn, obs=x)
    np.savez(tmp_path / "t.npz", x=x, x_next=x)
    capsys.readouterr()
    assert main(["fit", str(tmp_path / "p.npz"), "--x", "obs", "--x-next", "obs",
                 "--out", str(tmp_path / "o")]) == 2
    assert "x_next equals x" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "p.npz"), "--test", str(tmp_path / "t.npz"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "x_next equals x" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_sfa_readout_needs_held_out_pairs():
    """holdout=0 with readout='sfa': nothing competed, the outputs came neither white nor
    ordered, and the fit reported readout 'sfa'. Refused; left unset, 'trained'."""
    x, xn = _pairs(400)
    with pytest.raises(ValueError, match="readout='sfa' chooses the read-out on held-out"):
        pycheck.fit_encoder(x, xn, holdout=0, readout="sfa", lam=0, steps=5, progress=False)
    enc = pycheck.fit_encoder(x, xn, holdout=0, lam=0, steps=5, progress=False)
    assert enc.readout == "trained"


def test_progress_bar_keeps_the_latest_held_out_value(monkeypatch):
    """The bar's postfix was replaced by the training parts every 100 steps, so the
    held-out value showed about a fifth of the time."""
    import tqdm.auto
    shown = []

    class Bar(tqdm.auto.tqdm):
        def set_postfix(self, ordered_dict=None, refresh=True, **kwargs):
            shown.append(dict(ordered_dict))
    monkeypatch.setattr(tqdm.auto, "tqdm", Bar)
    x, xn = _pairs(600)
    pycheck.fit_encoder(x, xn, lam=0, steps=420, batch_size=64, progress=True)
    first = next(i for i, p in enumerate(shown) if "heldout" in p)
    assert len(shown) - first > 3 and all("heldout" in p for p in shown[first:])


def test_width_warning_comes_only_with_a_fit_that_starts(recwarn):
    """A constant column in redundant channels: the WidthReduced advice had come before the
    refusal; now the refusal alone. Without the constant column the default fit warns once."""
    x, xn = _pairs(600)
    a = np.random.default_rng(3).standard_normal((3, 5))
    wide, wide_next = x @ a, xn @ a
    bad, bad_next = wide.copy(), wide_next.copy()
    bad[:, 0] = bad_next[:, 0] = 1.0
    with pytest.raises(ValueError, match="constant"):
        pycheck.fit_encoder(bad, bad_next, steps=5, progress=False)
    assert not [w for w in recwarn if issubclass(w.category, T.WidthReduced)]
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        pycheck.fit_encoder(wide, wide_next, steps=5, progress=False)
    assert len([w for w in got if issubclass(w.category, T.WidthReduced)]) == 1


def test_interleaved_episode_ids_are_named(tmp_path, capsys):
    """np.tile(np.arange(4), 1500) read "no episode has two rows" (each had 1500)."""
    obs = np.random.default_rng(0).standard_normal((6000, 2))
    np.savez(tmp_path / "e.npz", obs=obs, ep=np.tile(np.arange(4), 1500))
    assert main(["fit", str(tmp_path / "e.npz"), "--sequence", "obs", "--episode", "ep",
                 "--out", str(tmp_path / "o")]) == 2
    assert ("episode 0 has 1500 rows but no two of them consecutive"
            in capsys.readouterr().err)


def test_cli_words_name_the_commands_flags():
    assert cli_words("drop them, or pass whiten='none'") == \
        "drop them, or pass --option 'whiten=\"none\"'"
    assert cli_words("call torch.set_num_threads(1) first to reproduce one") == \
        "pass --threads 1 to reproduce one"
    assert cli_words("pass dim_out=6 for 6") == "pass --dim-out 6 for 6"
    # the dropped-latent and linear-map warnings named Python (session 51, a user's trial)
    import types
    import warnings

    from pycheck.train import _warn_uncovered
    model = types.SimpleNamespace(coverage=dict(
        flagged=True, r2_from_embedding=[0.1], r2_from_x=[0.9], slowness=[0.5]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warn_uncovered(model)
    said = cli_words(str(caught[0].message))
    assert "--objective infonce" in said and "fit.json's coverage" in said, said
    assert "objective='" not in said and "model." not in said, said
    assert cli_words("fit objective='infonce' too and compare; model.coverage has the "
                     "figures") == ("fit --objective infonce too and compare; fit.json's "
                                    "coverage has the figures")
    assert cli_words("(enc.selected = 'linear'; enc.candidates has each read-out's "
                     "held-out value)") == ("(fit.json's selected = 'linear'; its candidates "
                                            "have each read-out's held-out value)")


def test_constant_column_refusal_names_the_cli_option(tmp_path, capsys):
    x, xn = _pairs(400)
    x[:, 1] = xn[:, 1] = 2.0
    np.savez(tmp_path / "c.npz", x=x, x_next=xn)
    assert main(["fit", str(tmp_path / "c.npz"), "--out", str(tmp_path / "o")]) == 2
    assert "pass --option 'whiten=\"none\"'" in capsys.readouterr().err


def test_lam_lists_sampler_returns_and_numpy_rows():
    x, xn = _pairs(400)
    with pytest.raises(ValueError, match=r"lam lists a value twice: \[0, 0\]"):
        pycheck.fit_encoder(x, xn, lam=[0, 0], steps=5, progress=False)
    enc = pycheck.fit_encoder(x, xn, lam=np.array([0.0, 0.3]), steps=5, progress=False)
    assert sorted(enc.lam_fits) == [0.0, 0.3]

    def one_array(batch):
        return np.zeros((batch, 3))
    with pytest.raises(ValueError, match=r"must return a pair \(x, x_next\) of arrays, got "
                                         "ndarray of length"):
        pycheck.fit_encoder(x, xn, sampler=one_array, steps=5, lam=0, progress=False)
    # a stacked (2, B, d) array is a pair (a review's find: it had been refused)
    stacked = pycheck.fit_encoder(x, xn, sampler=lambda b: np.stack([x[:b], xn[:b]]),
                                  steps=5, lam=0, batch_size=64, progress=False)
    listed = pycheck.fit_encoder(x, xn, sampler=lambda b: (x[:b], xn[:b]),
                                 steps=5, lam=0, batch_size=64, progress=False)
    assert np.array_equal(T.embed(stacked, x[:9]), T.embed(listed, x[:9]))
    # NumPy integers as lam values (np.int64(1) was refused)
    assert pycheck.fit_encoder(x, xn, lam=list(np.arange(2)), steps=5,
                               progress=False).lam_fits.keys() == {0.0, 1.0}
    with pytest.raises(TypeError, match="pycheck.train.embed"):
        enc(x[:3])
    assert torch.equal(enc(torch.from_numpy(x[:3])), torch.from_numpy(T.embed(enc, x[:3])))


def test_history_plot_uses_a_log_axis_for_positive_losses():
    x, xn = _pairs(400)
    enc = pycheck.fit_encoder(x, xn, lam=0, steps=60, progress=False)
    assert T.plot_history(enc).axes[0].get_yscale() == "log"
    json.dumps(enc.history)              # and the history stays plain numbers


def test_a_held_out_criterion_never_finite_is_said():
    """A module with a constant output under the whitened objective: every held-out value
    was NaN, nothing was selected and the fit reported readout 'sfa', without a word."""
    class WithConstant(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 3))

        def forward(self, x):
            return torch.cat([self.net(x), torch.zeros(len(x), 1)], 1)
    x, xn = _pairs(1500)
    torch.manual_seed(0)
    with pytest.warns(T.HeldOutUndefined, match="was not finite at any evaluation"):
        enc = pycheck.fit_encoder(x, xn, "vicreg", encoder=WithConstant(), steps=40,
                                  progress=False)
    assert enc.readout == "trained" and getattr(enc, "best_step", None) is None


def test_cli_words_name_holdout_and_readout(tmp_path, capsys):
    x, xn = _pairs(60)
    np.savez(tmp_path / "few.npz", x=x, x_next=xn)
    assert main(["fit", str(tmp_path / "few.npz"), "--holdout", "0.05", "--dim-out", "3",
                 "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "a smaller --dim-out, or --holdout 0" in err and "dim_out" not in err
    assert main(["fit", str(tmp_path / "few.npz"), "--holdout", "0", "--option",
                 'readout="sfa"', "--out", str(tmp_path / "o")]) == 2
    assert "pass --holdout > 0 or leave out --option readout" in capsys.readouterr().err


def test_a_transposed_sequence_is_named(tmp_path, capsys):
    """(3, 3000) with a (3000,) --z, and without --z, had been blamed on --z and on pairs
    and batch_size."""
    obs = np.random.default_rng(1).standard_normal((3, 3000))
    np.savez(tmp_path / "s.npz", obs=obs, z=np.arange(3000.0))
    for extra in (["--z", "z"], []):
        assert main(["fit", str(tmp_path / "s.npz"), "--sequence", "obs", *extra,
                     "--out", str(tmp_path / "o")]) == 2
        assert "transposed" in capsys.readouterr().err
