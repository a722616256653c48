"""Checks for T4 (optimal latent planning): exact finite-horizon dynamic programming for the
translation problem ``P`` (``s' = s + v(a)``, stage cost ``‖s − g‖² + λ‖v(a)‖²``, terminal cost
``‖s − g‖²``) and for its conjugate ``P'`` through a linear map ``L`` of the latent and a
relabelling ``σ`` of the actions, built by :func:`conjugate` exactly as the Lean instance
``LeJEPA.Planning.translation_conjugate_perm`` builds it: action ``a'`` of ``P'`` moves by
``L v(σ⁻¹ a')``. For ``L = Q ∈ O(n)``, ``P'`` is the conjugate of ``P`` (Lean's
``ControlProblem.Conjugate``), so values agree and optimal plans correspond through ``σ``; for a
non-orthogonal ``L`` the costs are not preserved and they need not.
"""
from __future__ import annotations

import math

import numpy as np

from .. import theory as T
from ..validate import check_int
from . import CheckResult, check


def plan(s0: np.ndarray, goal: np.ndarray, actions: np.ndarray, horizon: int, lam: float
         ) -> tuple[float, tuple[int, ...]]:
    """Exact DP on the tree of reachable states for ``s_{t+1} = s_t + a_t``, cost
    ``Σ_{t<H} (‖s_t − g‖² + λ‖a_t‖²) + ‖s_H − g‖²``.

    Parameters
    ----------
    s0, goal : ndarray, shape (n,)
    actions : ndarray, shape (K, n) — the finite action set
    horizon : int — H

    Returns
    -------
    value : float — optimal cost ``V_0(s0)`` by backward Bellman recursion
    policy : tuple of int, length H — indices of an optimal action sequence (forward argmin)

    Raises ``ValueError`` unless ``H >= 0`` is an integer (``H = 0``: the terminal cost alone),
    ``s0`` and ``goal`` are finite of one shape ``(n,)``, ``actions`` is finite ``(K, n)``
    with ``K >= 1`` and ``lam`` is finite: ``H = -1`` returned ``(‖s0 − g‖², ())``, a NaN start
    ``(nan, (0, 0))`` and no actions a NumPy reduction error (session 43, a user's trial).
    """
    horizon = check_int("horizon", horizon, low=0)
    s0, goal = np.asarray(s0, dtype=float), np.asarray(goal, dtype=float)
    actions = np.asarray(actions, dtype=float)
    if s0.ndim != 1 or goal.shape != s0.shape or actions.ndim != 2 or len(actions) < 1 \
            or actions.shape[1] != len(s0):
        raise ValueError(f"need s0 and goal of shape (n,) and actions of shape (K >= 1, n), "
                         f"got {s0.shape}, {goal.shape} and {actions.shape}")
    if not (np.isfinite(s0).all() and np.isfinite(goal).all() and np.isfinite(actions).all()
            and math.isfinite(lam)):
        raise ValueError("s0, goal, actions and lam must be finite")
    states = [s0]                                     # states[t]: shape (K,)*t + (n,)
    for _ in range(horizon):
        states.append(states[-1][..., None, :] + actions)
    stage = [np.sum((s - goal) ** 2, axis=-1) for s in states]
    act = lam * np.sum(actions**2, axis=1)
    q_values, V = [], stage[horizon]
    for t in range(horizon - 1, -1, -1):
        q = stage[t][..., None] + act + V             # shape (K,)*(t+1): cost-to-go per action
        q_values.insert(0, q)
        V = q.min(axis=-1)
    policy: tuple[int, ...] = ()
    for t in range(horizon):
        policy += (int(np.argmin(q_values[t][policy])),)
    return float(V), policy


def sequence_costs(s0, goal, actions, horizon, lam) -> np.ndarray:
    """Brute force, no DP: the total cost of every one of the ``K^H`` action sequences by
    direct simulation, shape (K^H,) in lexicographic order of the sequences (the
    translation problem through :func:`all_sequence_costs`)."""
    actions = np.asarray(actions, dtype=float)
    return all_sequence_costs(
        lambda s, a: s + actions[a],
        lambda s, g, a: np.sum((s - g) ** 2, axis=1) + lam * np.sum(actions[a] ** 2, axis=1),
        lambda s, g: np.sum((s - g) ** 2, axis=1), s0, goal, len(actions), horizon)


def _problem(rng: np.random.Generator, n: int, K: int):
    """A random translation problem: start ``~ N(0, I_n)``, goal ``~ N(0, 9 I_n)``, ``K``
    action vectors with i.i.d. N(0, 1) entries, action-cost weight ``λ ~ U(0.1, 1)``."""
    return (rng.standard_normal(n), 3 * rng.standard_normal(n),
            rng.standard_normal((K, n)), float(rng.uniform(0.1, 1.0)))


def conjugate(actions: np.ndarray, L: np.ndarray, sigma: np.ndarray | None = None) -> np.ndarray:
    """The action vectors of the learned-latent problem ``P'``, as Lean's
    ``translation_conjugate_perm L v λ σ`` defines it: action ``a'`` of ``P'`` moves by
    ``L v(σ⁻¹ a')``, so action ``a`` of ``P`` is action ``σ(a)`` of ``P'``.

    Parameters
    ----------
    actions : ndarray, shape (K, n) — the translations ``v(a)`` of ``P``
    L : ndarray, shape (n, n) — the map of the latent (``Q ∈ O(n)`` in the theorem)
    sigma : ndarray of int, shape (K,), optional — a permutation; ``sigma[a] = σ(a)``
        (default: the identity, Lean's ``translation_conjugate``)

    Returns
    -------
    ndarray, shape (K, n) — the translations ``v'(a')`` of ``P'``
    """
    mapped = actions @ L.T
    if sigma is None:
        return mapped
    sigma = np.asarray(sigma)
    if sorted(sigma.tolist()) != list(range(len(actions))):
        raise ValueError(f"sigma must be a permutation of 0..{len(actions) - 1}, got {sigma}")
    return mapped[np.argsort(sigma)]          # v'[σ(a)] = L v[a]


def conjugacy_residual(actions, L, sigma, lam, rng: np.random.Generator, trials: int = 20
                       ) -> float:
    """Largest violation, on random states, goals and actions, of the hypotheses of Lean's
    ``ControlProblem.Conjugate P P' L σ``: ``P'.step (L s) (σ a) = L (P.step s a)``, and stage and
    terminal costs of ``P'`` at ``(L s, L g, σ a)`` equal those of ``P`` at ``(s, g, a)``
    (relative to the size of the quantities)."""
    v2 = conjugate(actions, L, sigma)
    sig = np.arange(len(actions)) if sigma is None else np.asarray(sigma)
    worst = 0.0
    for _ in range(trials):
        s, g = rng.standard_normal(L.shape[1]), rng.standard_normal(L.shape[1])
        a = int(rng.integers(len(actions)))
        step = np.abs((L @ s + v2[sig[a]]) - L @ (s + actions[a])).max()
        term, term2 = np.sum((s - g) ** 2), np.sum((L @ s - L @ g) ** 2)
        cost = term + lam * np.sum(actions[a] ** 2)
        cost2 = term2 + lam * np.sum(v2[sig[a]] ** 2)
        worst = max(worst, step / (1 + np.abs(L @ s).max()), abs(cost2 - cost) / cost,
                    abs(term2 - term) / term)
    return float(worst)


def _straight_line_error(rng: np.random.Generator, n: int = 3, pairs: int = 10,
                         steps: int = 20) -> float:
    """T4's consequence as the experiments compute it: a bank of 300 random latents in ``n``
    dimensions plus, for ``pairs`` start-goal pairs among them, the ``steps − 1`` interior
    points of the segment between them. Embedded by ``h = z`` and by ``h = c Q z + b`` (Haar
    ``Q``, ``c = 2.5``, ``b ~ N(0, I)``), :func:`pycheck.planning.plan_cost` must decode every
    straight latent plan to that segment: cost ratio 1. Returns the largest ``|ratio − 1|``.
    This tests the planner's code (its line, its nearest-neighbour decoding, its length in
    ``z``), not what is special to rotations: with the segment's points in the bank any
    invertible affine embedding decodes them exactly (the image of the line is the line of
    the images); the DP part and ``T4.dp_nonorthogonal_counterexample`` hold the rotation
    specificity. (Until session 45 this part checked ``QᵀQ = I`` and never called the
    planner: a mutation trial walked the line backwards and passed.)"""
    from ..planning import plan_cost
    bank = [rng.standard_normal((300, n))]
    idx = rng.choice(300, size=(pairs, 2), replace=False)
    t = np.arange(1, steps)[:, None] / steps
    for a, b in idx:
        bank.append((1 - t) * bank[0][a] + t * bank[0][b])
    z = np.concatenate(bank)
    h = 2.5 * z @ T.random_rotation(rng, n).T + rng.standard_normal(n)
    ratios = np.concatenate([plan_cost(z, z, idx, steps), plan_cost(h, z, idx, steps)])
    return float(np.abs(ratios - 1).max())


@check("T4.dp_rotation_invariance")
def dp_rotation_invariance(seed: int, *, transform=lambda rng, n: T.random_rotation(rng, n),
                           problems: int = 40, horizon: int = 4, K: int = 7) -> CheckResult:
    """Random translation problems ``P``, Haar ``Q ∈ O(n)`` (reflections included) and random
    action relabellings ``σ`` (the identity on every other problem): ``P'`` is built by
    :func:`conjugate` as in Lean's ``translation_conjugate_perm``; the hypotheses of
    ``ControlProblem.Conjugate`` hold numerically; the optimal value of ``P'`` from ``Q s0``
    towards ``Q g`` equals that of ``P`` from ``s0`` (``value_conj``) and the optimal plan of ``P'``
    is ``σ`` applied to the plan of ``P`` (``isOptimal_conj_iff``); the DP value and plan agree with
    brute-force simulation of all ``K^H`` sequences; on a ``Q``-orbit action set (planar rotation
    by ``2π j/K`` acting on ``{R^i a}``) ``P'`` has the *same* action vectors as ``P`` relabelled
    by ``i ↦ i + j``; and the planner the control experiment uses
    (:func:`pycheck.planning.plan_cost`: straight latent lines decoded by nearest neighbour)
    finds the straight line in ``z`` from an embedding ``cQz + b`` (:func:`_straight_line_error`)."""
    rng = np.random.default_rng(seed)
    max_rel, mismatches, min_gap, brute_err, conj_res = 0.0, 0, math.inf, 0.0, 0.0
    for i in range(problems):
        n = 2 + i % 3
        s0, g, acts, lam = _problem(rng, n, K)
        v, pol = plan(s0, g, acts, horizon, lam)
        Q = transform(rng, n)
        sigma = rng.permutation(K) if i % 2 else None
        vq, polq = plan(Q @ s0, Q @ g, conjugate(acts, Q, sigma), horizon, lam)
        conj_res = max(conj_res, conjugacy_residual(acts, Q, sigma, lam, rng))
        max_rel = max(max_rel, abs(vq - v) / v)
        mapped = pol if sigma is None else tuple(int(sigma[a]) for a in pol)
        mismatches += polq != mapped
        costs = sequence_costs(s0, g, acts, horizon, lam)
        best, second = np.partition(costs, 1)[:2]
        min_gap = min(min_gap, (second - best) / v)
        brute_err = max(brute_err, abs(best - v) / v,
                        abs(costs[np.ravel_multi_index(pol, (K,) * horizon)] - v) / v)
    # Q-orbit action set: R = rotation by 2π j/K permutes {R^i a0} as i -> i + j (mod K), so
    # conjugate(orbit, R) is the orbit itself with the labels shifted by j
    j = 2
    c, s = math.cos(2 * math.pi * j / K), math.sin(2 * math.pi * j / K)
    R = np.array([[c, -s], [s, c]])
    step = 2 * math.pi / K
    orbit = np.stack([[math.cos(i * step + 0.3), math.sin(i * step + 0.3)] for i in range(K)])
    shift = (np.arange(K) + j) % K
    same_set = float(np.abs(conjugate(orbit, R, shift) - orbit).max())
    s0, g = rng.standard_normal(2), 3 * rng.standard_normal(2)
    v, pol = plan(s0, g, orbit, horizon, 0.5)
    vr, polr = plan(R @ s0, R @ g, orbit, horizon, 0.5)
    orbit_ok = (abs(vr - v) <= 1e-10 * v and polr == tuple(int(shift[a]) for a in pol)
                and same_set <= 1e-12)
    line_err = _straight_line_error(rng)
    ok = (max_rel <= 1e-10 and mismatches == 0 and brute_err <= 1e-12 and orbit_ok
          and line_err <= 1e-12 and min_gap > 1e-8 and conj_res <= 1e-12)
    return CheckResult(
        passed=ok,
        summary=f"{problems} problems (n=2..4, {K}^{horizon} sequences, half with relabelled "
                f"actions): conjugacy residual {conj_res:.1e}, max rel. value diff "
                f"{max_rel:.1e}, policy mismatches {mismatches}; DP = brute force "
                f"({brute_err:.1e}); Q-orbit relabelling: {orbit_ok}; straight-line decode "
                f"error {line_err:.1e}",
        figures={"problems": problems, "horizon": horizon, "actions": K,
                 "conjugacy_residual": conj_res,
                 "max_rel_value_diff": max_rel, "policy_mismatches": int(mismatches),
                 "dp_vs_brute_force": float(brute_err), "min_rel_optimality_gap": float(min_gap),
                 "orbit_permutation_ok": bool(orbit_ok), "straight_line_error": line_err},
        tolerance="conjugacy hypotheses and values equal to 1e-12 / 1e-10 relative (float "
                  "rounding of Q s, a few ulps per DP step); optimal plans must match exactly, "
                  "which is meaningful because every optimum is unique by a margin > 1e-8 "
                  "relative (min_rel_optimality_gap)")


@check("T4.dp_nonorthogonal_counterexample")
def dp_nonorthogonal_counterexample(seed: int, *, A=np.diag([3.0, 1 / 3]), problems: int = 20,
                                    horizon: int = 4, K: int = 7) -> CheckResult:
    """A non-orthogonal invertible ``A`` (default ``diag(3, 1/3)``, determinant 1): the problem
    built by :func:`conjugate` with ``A`` is not a conjugate of ``P`` (the costs are not
    preserved), and planning in it from ``A s0`` changes the optimal value and, on some
    problems, the optimal action sequence. Passes when such a difference is found."""
    rng = np.random.default_rng(seed)
    n = A.shape[0]
    max_rel, changed = 0.0, 0
    for _ in range(problems):
        s0, g, acts, lam = _problem(rng, n, K)
        v, pol = plan(s0, g, acts, horizon, lam)
        va, pola = plan(A @ s0, A @ g, conjugate(acts, A), horizon, lam)
        max_rel = max(max_rel, abs(va - v) / v)
        changed += pol != pola
    ok = max_rel > 1e-6 and changed > 0
    return CheckResult(
        passed=ok,
        summary=f"A = {np.round(A, 3).tolist()}: max rel. value difference {max_rel:.3f}; "
                f"optimal plan changed on {changed}/{problems} problems",
        figures={"problems": problems, "max_rel_value_diff": max_rel,
                 "plans_changed": int(changed),
                 "singular_values": np.linalg.svd(A, compute_uv=False).tolist()},
        tolerance="a difference counts if the value changes by > 1e-6 relative (far above "
                  "rounding, 1e-15) and at least one optimal plan changes")


def _general_problem(rng: np.random.Generator, n: int, K: int):
    """A control problem with nonlinear dynamics and costs invariant under all of ``O(n)``:
    step ``f(s, a) = s + v(a) + 0.5 tanh(M s)`` (``M`` random, so ``f`` commutes with no
    rotation), stage cost ``‖s − g‖² + 0.2 (‖s‖² − ‖g‖²)² + w(a)``, terminal ``‖s − g‖²``.
    Returns ``(step, stage, terminal)`` acting on batches of states (rows)."""
    v, M = rng.standard_normal((K, n)), rng.standard_normal((n, n)) / math.sqrt(n)
    w = rng.uniform(0.1, 1.0, K)

    def step(s, a):                        # s: (B, n), a: (B,) action indices
        return s + v[a] + 0.5 * np.tanh(s @ M.T)

    def stage(s, g, a):
        return (np.sum((s - g) ** 2, axis=1)
                + 0.2 * (np.sum(s**2, axis=1) - np.sum(g**2, axis=1)) ** 2 + w[a])

    def terminal(s, g):
        return np.sum((s - g) ** 2, axis=1)
    return step, stage, terminal


def latent_problem(step, L: np.ndarray):
    """The dynamics of the problem planned in the latent ``L s`` (Lean's
    ``ControlProblem.latentProblem``): ``s' ↦ L f(L⁻¹ s', a)``; the costs stay the same
    functions."""
    L_inv = np.linalg.inv(L)
    return lambda s, a: step(s @ L_inv.T, a) @ L.T


def all_sequence_costs(step, stage, terminal, s0, goal, K: int, horizon: int) -> np.ndarray:
    """Brute force: the cost of every one of the ``K^H`` action sequences by simulation,
    shape (K^H,), in lexicographic order of the sequences."""
    seqs = np.stack(np.meshgrid(*[np.arange(K)] * horizon, indexing="ij"), -1).reshape(-1, horizon)
    s = np.repeat(np.asarray(s0, dtype=float)[None], len(seqs), axis=0)
    g = np.repeat(np.asarray(goal, dtype=float)[None], len(seqs), axis=0)
    cost = np.zeros(len(seqs))
    for t in range(horizon):
        cost += stage(s, g, seqs[:, t])
        s = step(s, seqs[:, t])
    return cost + terminal(s, g)


@check("T4.latent_problem_invariant_costs")
def latent_problem_invariant_costs(seed: int, *, transform=lambda rng, n: T.random_rotation(rng, n),
                                   problems: int = 30, horizon: int = 4, K: int = 5,
                                   A=np.diag([3.0, 1 / 3])) -> CheckResult:
    """The paper's hypothesis, Lean's ``ControlProblem.value_latentProblem``: a problem with
    nonlinear dynamics and ``O(n)``-invariant costs (:func:`_general_problem`), planned in the
    latent ``Q s`` (Haar ``Q ∈ O(n)``, n = 2..4) with the same cost functions and the dynamics
    carried over (:func:`latent_problem`), has the same optimal value from ``Q s0`` towards
    ``Q g`` and the same optimal action sequence, by brute force over all ``K^H`` sequences;
    and every sequence costs the same in both (Lean's ``seqCost_conj``). Control: the same
    construction with the non-orthogonal ``A`` (costs not invariant) changes the values."""
    problems = check_int("problems", problems)
    horizon = check_int("horizon", horizon)
    K = check_int("K", K, low=2)            # a unique optimum needs a second-best plan
    rng = np.random.default_rng(seed)
    max_rel, mismatches, min_gap, max_rel_a, max_plan = 0.0, 0, math.inf, 0.0, 0.0
    for i in range(problems):
        n = 2 + i % 3
        step, stage, terminal = _general_problem(rng, n, K)
        s0, g = rng.standard_normal(n), 2 * rng.standard_normal(n)
        costs = all_sequence_costs(step, stage, terminal, s0, g, K, horizon)
        Q = transform(rng, n)
        costs_q = all_sequence_costs(latent_problem(step, Q), stage, terminal, Q @ s0, Q @ g,
                                     K, horizon)
        best, second = np.partition(costs, 1)[:2]
        min_gap = min(min_gap, (second - best) / best)
        max_rel = max(max_rel, abs(costs_q.min() - best) / best)
        max_plan = max(max_plan, float(np.max(np.abs(costs_q - costs) / costs)))
        mismatches += int(np.argmin(costs_q) != np.argmin(costs))
        if n == 2:
            costs_a = all_sequence_costs(latent_problem(step, A), stage, terminal, A @ s0,
                                         A @ g, K, horizon)
            max_rel_a = max(max_rel_a, abs(costs_a.min() - best) / best)
    ok = (max_rel <= 1e-10 and max_plan <= 1e-10 and mismatches == 0 and min_gap > 1e-8
          and max_rel_a > 1e-6)
    return CheckResult(
        passed=ok,
        summary=f"{problems} problems with nonlinear dynamics and O(n)-invariant costs "
                f"(n=2..4, {K}^{horizon} sequences by brute force): max rel. value diff "
                f"{max_rel:.1e} (every plan's cost: {max_plan:.1e}), optimal-plan mismatches "
                f"{mismatches}; non-orthogonal control "
                f"changes the value by up to {max_rel_a:.2f}",
        figures={"problems": problems, "horizon": horizon, "actions": K,
                 "max_rel_value_diff": max_rel, "max_rel_plan_cost_diff": max_plan,
                 "plan_mismatches": int(mismatches),
                 "min_rel_optimality_gap": float(min_gap),
                 "nonorthogonal_max_rel_value_diff": max_rel_a},
        tolerance="values and every plan's cost equal to 1e-10 relative (float rounding of Q s "
                  "and Q^T s', a few ulps "
                  "per step through tanh); optimal plans must match exactly, meaningful because "
                  "every optimum is unique by > 1e-8 relative (min_rel_optimality_gap); the "
                  "non-orthogonal control must move a value by > 1e-6 (rounding is 1e-15)")
