"""T4: optimal plans are invariant under orthogonal re-coding of the latent, not under
general linear re-coding."""
import numpy as np
import pytest

from pycheck import theory as T
from pycheck.checks import t4


def test_T4_checks_registered(checks_of):
    assert set(checks_of("T4")) == {"T4.dp_rotation_invariance",
                                    "T4.dp_nonorthogonal_counterexample",
                                    "T4.latent_problem_invariant_costs"}


def test_T4_dp_matches_brute_force():
    rng = np.random.default_rng(0)
    for _ in range(10):
        s0, g, acts, lam = t4._problem(rng, 3, 5)
        v, pol = t4.plan(s0, g, acts, 4, lam)
        costs = t4.sequence_costs(s0, g, acts, 4, lam)
        assert costs.shape == (5**4,) and abs(costs.min() - v) <= 1e-12 * v
        # replaying the DP policy step by step costs exactly v
        s, cost = s0.copy(), 0.0
        for a in pol:
            cost += np.sum((s - g) ** 2) + lam * np.sum(acts[a] ** 2)
            s = s + acts[a]
        assert abs(cost + np.sum((s - g) ** 2) - v) <= 1e-12 * v


def test_T4_dp_rotation_invariance_passes():
    r = t4.dp_rotation_invariance(0)
    assert r.passed and r.figures["policy_mismatches"] == 0


def test_T4_dp_rotation_invariance_fails_for_a_non_orthogonal_map():
    r = t4.dp_rotation_invariance(0, transform=lambda rng, n: np.diag(np.linspace(0.5, 2, n)),
                                  problems=10)
    assert not r.passed and r.figures["policy_mismatches"] > 0


@pytest.mark.parametrize("mutation", ["reversed_plan", "length_in_h"])
def test_T4_check_reaches_the_experiments_planner(monkeypatch, mutation):
    """Session 45's mutation trial: the straight-line part had checked Q^T Q = I only, so a
    planner that walks its line backwards or measures its path in h passed verify."""
    from pycheck import planning as P
    assert t4.dp_rotation_invariance(0, problems=4).figures["straight_line_error"] < 1e-12
    if mutation == "reversed_plan":
        real = P.straight_line_plans
        monkeypatch.setattr(P, "straight_line_plans", lambda hs, hg, k: real(hg, hs, k))
    else:
        real_cost = P.plan_cost

        def in_h(h_bank, z_bank, pairs, n_steps=20):     # lengths of the decoded path in h
            return real_cost(h_bank, h_bank, pairs, n_steps) * (
                np.linalg.norm(h_bank[pairs[:, 1]] - h_bank[pairs[:, 0]], axis=1)
                / np.linalg.norm(z_bank[pairs[:, 1]] - z_bank[pairs[:, 0]], axis=1))
        monkeypatch.setattr(P, "plan_cost", in_h)
    r = t4.dp_rotation_invariance(0, problems=4)
    assert not r.passed and r.figures["straight_line_error"] > 0.5


def test_T4_dp_nonorthogonal_counterexample_passes():
    assert t4.dp_nonorthogonal_counterexample(0).passed


def test_T4_dp_nonorthogonal_counterexample_fails_for_a_rotation():
    # an orthogonal A changes nothing, so no counterexample can be found
    Q = T.random_rotation(np.random.default_rng(1), 2)
    r = t4.dp_nonorthogonal_counterexample(0, A=Q)
    assert not r.passed and r.figures["plans_changed"] == 0


def test_T4_conjugate_is_the_lean_construction():
    # Lean `translation_conjugate_perm`: action σ(a) of P' moves by L v(a)
    rng = np.random.default_rng(2)
    acts, L = rng.standard_normal((5, 3)), rng.standard_normal((3, 3))
    sigma = np.array([2, 0, 4, 1, 3])
    v2 = t4.conjugate(acts, L, sigma)
    for a in range(5):
        assert np.allclose(v2[sigma[a]], L @ acts[a], rtol=0, atol=1e-12)
    assert np.array_equal(t4.conjugate(acts, L), acts @ L.T)


def test_T4_conjugate_rejects_a_non_permutation():
    with pytest.raises(ValueError, match="permutation"):
        t4.conjugate(np.ones((3, 2)), np.eye(2), np.array([0, 0, 1]))


def test_T4_relabelled_plan_is_sigma_of_the_plan():
    rng = np.random.default_rng(3)
    s0, g, acts, lam = t4._problem(rng, 3, 5)
    Q, sigma = T.random_rotation(rng, 3), np.array([4, 2, 0, 1, 3])
    v, pol = t4.plan(s0, g, acts, 3, lam)
    vq, polq = t4.plan(Q @ s0, Q @ g, t4.conjugate(acts, Q, sigma), 3, lam)
    assert abs(vq - v) <= 1e-10 * v      # float rounding of Q s only
    assert polq == tuple(int(sigma[a]) for a in pol)


def test_T4_conjugacy_hypotheses_hold_exactly_for_rotations_only():
    rng = np.random.default_rng(4)
    acts = rng.standard_normal((4, 2))
    Q = T.random_rotation(rng, 2)
    assert t4.conjugacy_residual(acts, Q, None, 0.3, rng) <= 1e-12
    assert t4.conjugacy_residual(acts, np.diag([2.0, 0.5]), None, 0.3, rng) > 1e-2


def test_T4_optimality_gap_is_between_the_two_cheapest_sequences(monkeypatch):
    """``min_rel_optimality_gap`` is ``(second − best) / v`` for the two cheapest sequences,
    whatever the order of the others: every cost but the two smallest is raised to the
    largest (ties; the optimum, the plan's cost and the gap are unchanged), so the check still
    passes and reports the gap recomputed from the sorted costs. (NumPy's SIMD selection
    leaves the entries below a ``kth`` of 2 unordered on such arrays.)"""
    real, gaps = t4.sequence_costs, []

    def ties_above_the_two_cheapest(s0, goal, actions, horizon, lam):
        costs = real(s0, goal, actions, horizon, lam)
        cheapest = np.argsort(costs)[:2]
        out = np.full_like(costs, costs.max())
        out[cheapest] = costs[cheapest]
        best, second = np.sort(out)[:2]
        gaps.append((second - best) / t4.plan(s0, goal, actions, horizon, lam)[0])
        return out
    monkeypatch.setattr(t4, "sequence_costs", ties_above_the_two_cheapest)
    r = t4.dp_rotation_invariance(0, problems=10)
    assert len(gaps) == 10 and r.passed
    assert r.figures["min_rel_optimality_gap"] == min(gaps)


@pytest.mark.parametrize("change, match", [
    (dict(horizon=-1), "horizon must be an integer"),        # returned (2.0, ())
    (dict(horizon=2.0), "horizon must be an integer"),
    (dict(s0=np.array([np.nan, 0.0])), "must be finite"),    # returned (nan, (0, 0))
    (dict(goal=np.array([np.inf, 0.0])), "must be finite"),
    (dict(actions=np.array([[np.nan, 0.0]])), "must be finite"),
    (dict(lam=float("nan")), "must be finite"),
    (dict(actions=np.zeros((0, 2))), r"actions of shape \(K >= 1, n\)"),  # zero-size error
    (dict(actions=np.eye(3)), r"actions of shape \(K >= 1, n\)"),
    (dict(goal=np.ones(3)), r"s0 and goal of shape \(n,\)"),
])
def test_T4_plan_refuses_bad_inputs(change, match):
    """Session 43, a user's trial: these gave a value, NaN or a NumPy reduction error."""
    args = dict(s0=np.zeros(2), goal=np.ones(2), actions=np.eye(2), horizon=2, lam=0.5)
    with pytest.raises(ValueError, match=match):
        t4.plan(**{**args, **change})


def test_T4_plan_with_horizon_zero_is_the_terminal_cost():
    assert t4.plan(np.zeros(2), np.array([1.0, 2.0]), np.eye(2), 0, 0.5) == (5.0, ())


def test_T4_latent_problem_invariant_costs_passes():
    r = t4.latent_problem_invariant_costs(0)
    assert r.passed and r.figures["plan_mismatches"] == 0
    assert r.figures["max_rel_value_diff"] < 1e-12


def test_T4_latent_problem_fails_for_a_non_orthogonal_map():
    """A map with singular values 0.5..2 breaks the invariance of the costs: values differ."""
    r = t4.latent_problem_invariant_costs(
        0, transform=lambda rng, n: np.diag(np.linspace(0.5, 2, n)) @ T.random_rotation(rng, n))
    assert not r.passed and r.figures["max_rel_value_diff"] > 1e-6


def test_T4_latent_problem_fails_when_the_dynamics_are_not_carried_over(monkeypatch):
    """Mutation: the latent dynamics applied to the latent state without mapping back,
    ``s' -> L f(s', a)``: not Lean's latentProblem, and the check must see it."""
    monkeypatch.setattr(t4, "latent_problem", lambda step, L: lambda s, a: step(s, a) @ L.T)
    r = t4.latent_problem_invariant_costs(0)
    assert not r.passed and r.figures["max_rel_value_diff"] > 1e-6


def test_T4_latent_problem_control_must_differ(monkeypatch):
    """With an orthogonal 'control' map the control cannot move the values, so the check fails:
    it cannot pass without the non-orthogonal control doing its job."""
    r = t4.latent_problem_invariant_costs(0, A=np.array([[0.0, 1.0], [-1.0, 0.0]]))
    assert not r.passed and r.figures["nonorthogonal_max_rel_value_diff"] < 1e-12


def test_T4_general_dynamics_commute_with_no_rotation():
    """The test problem's dynamics are not rotation-equivariant, so the check exercises the
    carried-over dynamics and not an equivariance of f itself."""
    rng = np.random.default_rng(0)
    step, _, _ = t4._general_problem(rng, 3, 5)
    Q = T.random_rotation(rng, 3)
    s, a = rng.standard_normal((4, 3)), np.arange(4)
    assert np.abs(step(s @ Q.T, a) - step(s, a) @ Q.T).max() > 1e-2


@pytest.mark.parametrize("kw", [dict(horizon=0), dict(K=1), dict(problems=0), dict(K=2.0)])
def test_T4_latent_problem_refuses_arguments_that_measure_nothing(kw):
    """horizon 0 and K 1 failed with NumPy's messages, problems 0 reported a FAIL with
    figures as if measured (session 46 review)."""
    with pytest.raises(ValueError, match="must be an integer"):
        t4.latent_problem_invariant_costs(0, **kw)


def test_T4_latent_problem_compares_every_plan_not_only_the_best(monkeypatch):
    """seqCost_conj: every plan's cost is the same in both problems. A latent problem that
    keeps the optimum but changes a worse plan's cost fails on the plan-cost figure."""
    real = t4.all_sequence_costs
    calls = []

    def perturbed(*args):
        costs = real(*args)
        calls.append(1)
        if len(calls) % 2 == 0:                 # one side or the other of each problem
            worst = int(np.argmax(costs))
            costs = costs.copy()
            costs[worst] *= 1 + 1e-6
        return costs
    monkeypatch.setattr(t4, "all_sequence_costs", perturbed)
    r = t4.latent_problem_invariant_costs(0, problems=3)
    assert r.figures["max_rel_value_diff"] < 1e-12 and r.figures["plan_mismatches"] == 0
    assert r.figures["max_rel_plan_cost_diff"] > 5e-7 and not r.passed
