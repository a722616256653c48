/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import Mathlib.Analysis.InnerProductSpace.PiL2

/-!
# Theorem 4: optimal latent-space planning

A finite-horizon deterministic control problem on a state space `S` has dynamics
`step : S → A → S`, a stage cost `cost s g a` (state `s`, goal `g`, action `a`) and a terminal
cost `terminal s g`. With a finite, nonempty action set the optimal value with `t` steps to go
is computed by dynamic programming, and an action sequence is optimal if no sequence of the same
length is cheaper.

If a map `Q : S → S` commutes with the dynamics and leaves the costs invariant jointly in state
and goal — as every rotation `Q ∈ O(n)` does for dynamics that commute with `O(n)` and costs
such as `‖s - g‖²` — then the optimal value and the optimal action sequences in the learned
latent `Q z` are exactly those in the true latent `z`. No axiom is used, and `Q` need not be
invertible.

## Main definitions

* `LeJEPA.Planning.ControlProblem`, its `value`, `seqCost` and `IsOptimal`.
* `LeJEPA.Planning.ControlProblem.Equivariant`: `Q` commutes with the dynamics and preserves
  the costs.

## Main statements

* `LeJEPA.Planning.ControlProblem.value_map`: `V_t(Q s, Q g) = V_t(s, g)`.
* `LeJEPA.Planning.ControlProblem.isOptimal_map_iff`: optimal in `Q z` iff optimal in `z`.
* `LeJEPA.Planning.norm_map_sub_map`: linear isometries preserve `‖s - g‖`.
* `LeJEPA.Planning.map_straightPlan`: a linear map sends the straight-line latent plan between
  `s` and `g` to the straight-line plan between `Q s` and `Q g`.

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 4.
-/

namespace LeJEPA.Planning

/-- A finite-horizon deterministic control problem with goal-conditioned costs. -/
structure ControlProblem (S A : Type*) where
  /-- The dynamics: the state reached from `s` under action `a`. -/
  step : S → A → S
  /-- The stage cost of action `a` in state `s` with goal `g`. -/
  cost : S → S → A → ℝ
  /-- The terminal cost of ending in state `s` with goal `g`. -/
  terminal : S → S → ℝ

namespace ControlProblem

variable {S A : Type*} (P : ControlProblem S A)

/-- The optimal value `V_t(s, g)` with `t` steps to go, by dynamic programming over a finite,
nonempty action set. -/
noncomputable def value [Fintype A] [Nonempty A] : ℕ → S → S → ℝ
  | 0, s, g => P.terminal s g
  | t + 1, s, g =>
    Finset.univ.inf' Finset.univ_nonempty fun a => P.cost s g a + value t (P.step s a) g

/-- The cost of executing the action sequence `as` from state `s` towards goal `g`. -/
noncomputable def seqCost : List A → S → S → ℝ
  | [], s, g => P.terminal s g
  | a :: as, s, g => P.cost s g a + seqCost as (P.step s a) g

/-- An action sequence of length `t` is optimal from `s` towards `g` if no sequence of length `t`
is cheaper. -/
def IsOptimal (t : ℕ) (as : List A) (s g : S) : Prop :=
  as.length = t ∧ ∀ bs : List A, bs.length = t → P.seqCost as s g ≤ P.seqCost bs s g

/-- `Q` commutes with the dynamics and leaves the costs invariant jointly in state and goal. -/
structure Equivariant (Q : S → S) : Prop where
  /-- The dynamics commute with `Q`. -/
  step_map : ∀ s a, P.step (Q s) a = Q (P.step s a)
  /-- Stage costs are invariant. -/
  cost_map : ∀ s g a, P.cost (Q s) (Q g) a = P.cost s g a
  /-- Terminal costs are invariant. -/
  terminal_map : ∀ s g, P.terminal (Q s) (Q g) = P.terminal s g

variable {P} {Q : S → S}

/-- **Theorem 4, value function.** Under an equivariant `Q`, the optimal value with `t` steps
to go is the same in the learned latent: `V_t(Q s, Q g) = V_t(s, g)`. -/
theorem value_map [Fintype A] [Nonempty A] (hQ : P.Equivariant Q) (t : ℕ) (s g : S) :
    P.value t (Q s) (Q g) = P.value t s g := by
  induction t generalizing s with
  | zero => simp only [value, hQ.terminal_map]
  | succ t ih => simp only [value, hQ.step_map, hQ.cost_map, ih]

/-- The cost of every action sequence is invariant under an equivariant `Q`. -/
theorem seqCost_map (hQ : P.Equivariant Q) (as : List A) (s g : S) :
    P.seqCost as (Q s) (Q g) = P.seqCost as s g := by
  induction as generalizing s with
  | nil => simp only [seqCost, hQ.terminal_map]
  | cons a as ih => simp only [seqCost, hQ.step_map, hQ.cost_map, ih]

/-- **Theorem 4, optimal plans.** Under an equivariant `Q`, an action sequence is optimal from
`Q s` towards `Q g` iff it is optimal from `s` towards `g`. -/
theorem isOptimal_map_iff (hQ : P.Equivariant Q) (t : ℕ) (as : List A) (s g : S) :
    P.IsOptimal t as (Q s) (Q g) ↔ P.IsOptimal t as s g := by
  simp only [IsOptimal, seqCost_map hQ]

end ControlProblem

section Latent

variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E]

/-- Linear isometries, such as `z ↦ Q z` for `Q ∈ O(n)`, preserve the distance `‖s - g‖` that
goal-conditioned costs are built from. -/
theorem norm_map_sub_map (L : E →ₗᵢ[ℝ] E) (s g : E) : ‖L s - L g‖ = ‖s - g‖ := by
  rw [← map_sub, L.norm_map]

/-- The straight-line latent plan from `s` to `g`, at time `τ ∈ [0, 1]`. -/
def straightPlan (s g : E) (τ : ℝ) : E :=
  s + τ • (g - s)

/-- A linear map sends the straight-line plan between `s` and `g` to the straight-line plan
between their images: the straight latent plan decodes to the oracle's straight line. -/
theorem map_straightPlan (L : E →ₗ[ℝ] E) (s g : E) (τ : ℝ) :
    L (straightPlan s g τ) = straightPlan (L s) (L g) τ := by
  first
  | (simp only [straightPlan, map_add, map_smul, map_sub]; done)
  | simp [straightPlan]

end Latent

end LeJEPA.Planning
