/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import Mathlib.Analysis.InnerProductSpace.PiL2
import Mathlib.Tactic.Linarith

/-!
# Theorem 4: optimal latent-space planning

A finite-horizon deterministic control problem on a state space `S` with actions `A` has
dynamics `step : S → A → S`, a stage cost `cost s g a` (state `s`, goal `g`, action `a`) and a
terminal cost `terminal s g`. With a finite, nonempty action set the optimal value with `t`
steps to go is computed by dynamic programming, and an action sequence is optimal if no
sequence of the same length is cheaper.

The learned latent is `Q z` with `Q ∈ O(n)`. Planning in it is planning in a *second* problem
`P'`, the conjugate of the true problem `P` through `Q`: `P'.step (Q s) (σ a) = Q (P.step s a)`,
and the costs of `P'` at `(Q s, Q g, σ a)` are those of `P` at `(s, g, a)`, where `σ : A ≃ A'`
relabels the actions (the identity when both problems use the same action labels). Then the
optimal values agree through `Q`, and the optimal plans correspond through `σ`. `Q` need not be
invertible. No axiom is used.

The instance that matters: translation dynamics `s + v(a)` with costs `‖s - g‖² + λ ‖v(a)‖²`
(terminal `‖s - g‖²`) on a real normed space, and its image under a linear isometry `L` (for
`Q ∈ O(n)`, `L z = Q z`), the problem that moves by `L (v a)`. This is the construction the
numeric check `T4.dp_rotation_invariance` plans with (`pycheck/checks/t4.py`, `conjugate`).
(Dynamics that commute with `Q` *inside one problem*, `P.step (Q s) a = Q (P.step s a)`, would
force `Q v(a) = v(a)` for translation dynamics; that is not the paper's setting.)

## Main definitions

* `LeJEPA.Planning.ControlProblem`, its `value`, `seqCost` and `IsOptimal`.
* `LeJEPA.Planning.ControlProblem.Conjugate P P' Q σ`: `P'` is `P` seen through `Q` and `σ`.
* `LeJEPA.Planning.translation v λ`, `LeJEPA.Planning.translation_conjugate`,
  `LeJEPA.Planning.translation_conjugate_perm`: translation dynamics with quadratic costs, and
  its conjugate under a linear isometry (with the action labels kept, or relabelled by `σ`).

## Main statements

* `LeJEPA.Planning.ControlProblem.value_le_seqCost`, `exists_seqCost_eq_value`,
  `isOptimal_iff_seqCost_eq_value`: the dynamic-programming value `V_t` is the least cost of an
  action sequence of length `t`, and the optimal sequences are those that cost `V_t`.
* `LeJEPA.Planning.ControlProblem.value_conj`: `V'_t(Q s, Q g) = V_t(s, g)`.
* `LeJEPA.Planning.ControlProblem.seqCost_conj`: the cost of `as.map σ` in `P'` from `Q s` is
  the cost of `as` in `P` from `s`.
* `LeJEPA.Planning.ControlProblem.isOptimal_conj_iff`: `as.map σ` is optimal in `P'` from
  `Q s` iff `as` is optimal in `P` from `s`; `isOptimal_conj_iff'` for plans of `P'`.
* `LeJEPA.Planning.value_translation_map`, `LeJEPA.Planning.isOptimal_translation_map_iff`:
  the O(n) instance; `LeJEPA.Planning.value_translation_perm` with relabelled actions.
* `LeJEPA.Planning.ControlProblem.latentProblem_conjugate`, `value_latentProblem`: the paper's
  hypothesis. A problem whose costs are invariant under an isometry `L` (for instance under all of
  `O(n)`), planned in the latent `L s` with the same cost functions and the dynamics carried over
  by `L`, is the conjugate of the true problem; so values and optimal plans agree.
* `LeJEPA.Planning.ControlProblem.value_latentProblem_matrix`: the same with the rotation as a
  matrix, `Q ∈ O(n)` as `Qᵀ * Q = 1`, on `Fin n → ℝ` (no isometry API needed). Both are
  instances of `latentProblemOf_conjugate` / `value_latentProblemOf`, which ask only that the
  coordinate map have a left inverse (`latentProblem L` is `latentProblemOf L L.symm`).
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

variable {S A S' A' : Type*}

/-- The optimal value `V_t(s, g)` with `t` steps to go, by dynamic programming over a finite,
nonempty action set. -/
noncomputable def value (P : ControlProblem S A) [Fintype A] [Nonempty A] : ℕ → S → S → ℝ
  | 0, s, g => P.terminal s g
  | t + 1, s, g =>
    Finset.univ.inf' Finset.univ_nonempty fun a => P.cost s g a + value P t (P.step s a) g

/-- The cost of executing the action sequence `as` from state `s` towards goal `g`. -/
noncomputable def seqCost (P : ControlProblem S A) : List A → S → S → ℝ
  | [], s, g => P.terminal s g
  | a :: as, s, g => P.cost s g a + seqCost P as (P.step s a) g

/-- An action sequence of length `t` is optimal from `s` towards `g` if no sequence of length `t`
is cheaper. -/
def IsOptimal (P : ControlProblem S A) (t : ℕ) (as : List A) (s g : S) : Prop :=
  as.length = t ∧ ∀ bs : List A, bs.length = t → P.seqCost as s g ≤ P.seqCost bs s g

/-- **Dynamic programming is correct, lower bound.** No plan of length `t` costs less than the
dynamic-programming value `V_t`. -/
theorem value_le_seqCost [Fintype A] [Nonempty A] (P : ControlProblem S A) (as : List A)
    (s g : S) : P.value as.length s g ≤ P.seqCost as s g := by
  induction as generalizing s with
  | nil => simp only [List.length_nil, value, seqCost, le_refl]
  | cons a as ih =>
    have h1 : P.value (as.length + 1) s g ≤
        P.cost s g a + P.value as.length (P.step s a) g := by
      simp only [value]
      first
      | exact Finset.inf'_le _ (Finset.mem_univ a)
      | exact Finset.inf'_le (Finset.mem_univ a)
    have h2 := ih (P.step s a)
    simp only [List.length_cons, seqCost]
    linarith

/-- **Dynamic programming is correct, attained.** Some plan of length `t` costs exactly `V_t`
(pick a minimising action at every stage, which a finite nonempty action set allows). -/
theorem exists_seqCost_eq_value [Fintype A] [Nonempty A] (P : ControlProblem S A) (t : ℕ)
    (s g : S) : ∃ as : List A, as.length = t ∧ P.seqCost as s g = P.value t s g := by
  induction t generalizing s with
  | zero => exact ⟨[], rfl, by simp only [seqCost, value]⟩
  | succ t ih =>
    have hmin : ∃ a : A, a ∈ (Finset.univ : Finset A) ∧
        Finset.univ.inf' Finset.univ_nonempty
            (fun b => P.cost s g b + P.value t (P.step s b) g) =
          P.cost s g a + P.value t (P.step s a) g := by
      first
      | exact Finset.exists_mem_eq_inf' Finset.univ_nonempty
          (fun b => P.cost s g b + P.value t (P.step s b) g)
      | exact Finset.exists_mem_eq_inf' _
      | exact Finset.exists_mem_eq_inf'
    obtain ⟨a, -, ha⟩ := hmin
    obtain ⟨as, hlen, hcost⟩ := ih (P.step s a)
    refine ⟨a :: as, by rw [List.length_cons, hlen], ?_⟩
    simp only [seqCost, value, hcost]
    exact ha.symm

/-- **Optimal plans are the plans that attain the dynamic-programming value.** So `value_conj`
speaks of the least cost of a plan of length `t`, the quantity `IsOptimal` is about. -/
theorem isOptimal_iff_seqCost_eq_value [Fintype A] [Nonempty A] (P : ControlProblem S A)
    (t : ℕ) (as : List A) (s g : S) :
    P.IsOptimal t as s g ↔ as.length = t ∧ P.seqCost as s g = P.value t s g := by
  constructor
  · rintro ⟨hlen, hopt⟩
    obtain ⟨bs, hbs, hcost⟩ := P.exists_seqCost_eq_value t s g
    refine ⟨hlen, le_antisymm ?_ ?_⟩
    · rw [← hcost]
      exact hopt bs hbs
    · subst hlen
      exact P.value_le_seqCost as s g
  · rintro ⟨hlen, hcost⟩
    refine ⟨hlen, fun bs hbs => ?_⟩
    rw [hcost]
    subst hbs
    exact P.value_le_seqCost bs s g

/-- `P'` is the conjugate of `P` through the state map `Q` and the action map `σ`: dynamics
intertwine, `P'.step (Q s) (σ a) = Q (P.step s a)`, and running and terminal costs are preserved
jointly in state and goal. -/
structure Conjugate (P : ControlProblem S A) (P' : ControlProblem S' A') (Q : S → S')
    (σ : A → A') : Prop where
  /-- The dynamics intertwine. -/
  step_map : ∀ s a, P'.step (Q s) (σ a) = Q (P.step s a)
  /-- Stage costs are preserved. -/
  cost_map : ∀ s g a, P'.cost (Q s) (Q g) (σ a) = P.cost s g a
  /-- Terminal costs are preserved. -/
  terminal_map : ∀ s g, P'.terminal (Q s) (Q g) = P.terminal s g

variable {P : ControlProblem S A} {P' : ControlProblem S' A'} {Q : S → S'}

/-- The cost of every action sequence is preserved by a conjugacy (for any action map `σ`). -/
theorem seqCost_conj {σ : A → A'} (hP : P.Conjugate P' Q σ) (as : List A) (s g : S) :
    P'.seqCost (as.map σ) (Q s) (Q g) = P.seqCost as s g := by
  induction as generalizing s with
  | nil => simp only [List.map_nil, seqCost, hP.terminal_map]
  | cons a as ih => simp only [List.map_cons, seqCost, hP.step_map, hP.cost_map, ih]

/-- Relabelling a list by `σ.symm` and back gives the list. -/
theorem map_map_symm (σ : A ≃ A') (l : List A') : (l.map σ.symm).map σ = l := by
  induction l with
  | nil => rfl
  | cons a l ih => simp only [List.map_cons, Equiv.apply_symm_apply, ih]

/-- **Theorem 4, value function.** If `P'` is the conjugate of `P` through `Q` and an action
relabelling `σ : A ≃ A'`, the optimal values agree: `V'_t(Q s, Q g) = V_t(s, g)`. -/
theorem value_conj [Fintype A] [Nonempty A] [Fintype A'] [Nonempty A'] {σ : A ≃ A'}
    (hP : P.Conjugate P' Q σ) (t : ℕ) (s g : S) :
    P'.value t (Q s) (Q g) = P.value t s g := by
  induction t generalizing s with
  | zero => simp only [value, hP.terminal_map]
  | succ t ih =>
    -- the action `a` of `P` is the action `σ a` of `P'`, and every action of `P'` is one
    have hterm : ∀ a : A, P'.cost (Q s) (Q g) (σ a) + P'.value t (P'.step (Q s) (σ a)) (Q g) =
        P.cost s g a + P.value t (P.step s a) g := fun a => by
      rw [hP.step_map, hP.cost_map, ih]
    simp only [value]
    -- `Finset.le_inf'` / `Finset.inf'_le` take the nonemptiness proof and the function
    -- explicitly in recent Mathlib; the alternatives cover implicit forms
    apply le_antisymm
    · first
      | refine Finset.le_inf' _ _ fun a _ => ?_
      | refine (Finset.le_inf'_iff _ _).2 fun a _ => ?_
      | refine Finset.le_inf'_iff.2 fun a _ => ?_
      try beta_reduce
      rw [← hterm a]
      first
      | exact Finset.inf'_le _ (Finset.mem_univ (σ a))
      | exact Finset.inf'_le (Finset.mem_univ (σ a))
    · first
      | refine Finset.le_inf' _ _ fun a' _ => ?_
      | refine (Finset.le_inf'_iff _ _).2 fun a' _ => ?_
      | refine Finset.le_inf'_iff.2 fun a' _ => ?_
      have h := hterm (σ.symm a')
      rw [Equiv.apply_symm_apply] at h
      try beta_reduce
      rw [h]
      first
      | exact Finset.inf'_le _ (Finset.mem_univ (σ.symm a'))
      | exact Finset.inf'_le (Finset.mem_univ (σ.symm a'))

/-- **Theorem 4, optimal plans.** If `P'` is the conjugate of `P` through `Q` and an action
relabelling `σ : A ≃ A'`, the relabelled sequence `as.map σ` is optimal in `P'` from `Q s`
towards `Q g` iff `as` is optimal in `P` from `s` towards `g`. -/
theorem isOptimal_conj_iff {σ : A ≃ A'} (hP : P.Conjugate P' Q σ) (t : ℕ) (as : List A)
    (s g : S) : P'.IsOptimal t (as.map σ) (Q s) (Q g) ↔ P.IsOptimal t as s g := by
  simp only [IsOptimal, List.length_map, seqCost_conj hP]
  constructor
  · rintro ⟨hlen, hopt⟩
    refine ⟨hlen, fun bs hbs => ?_⟩
    have h := hopt (bs.map σ) (by rw [List.length_map]; exact hbs)
    rwa [seqCost_conj hP] at h
  · rintro ⟨hlen, hopt⟩
    refine ⟨hlen, fun bs' hbs' => ?_⟩
    have h := hopt (bs'.map σ.symm) (by rw [List.length_map]; exact hbs')
    rw [← map_map_symm σ bs', seqCost_conj hP]
    exact h

/-- **Theorem 4, plans of the learned problem.** Every plan of `P'` is the relabelling of a plan
of `P`: a sequence `bs'` is optimal in `P'` from `Q s` iff `bs'.map σ.symm` is optimal in `P`
from `s`. -/
theorem isOptimal_conj_iff' {σ : A ≃ A'} (hP : P.Conjugate P' Q σ) (t : ℕ) (bs' : List A')
    (s g : S) : P'.IsOptimal t bs' (Q s) (Q g) ↔ P.IsOptimal t (bs'.map σ.symm) s g := by
  rw [← isOptimal_conj_iff hP, map_map_symm]

/-- The infimum of the costs of the plans of length `t` from `s` towards `g`, for *any* action
type (`value` needs a finite, nonempty one). With finitely many actions it is `value` and is
attained (`infValue_eq_value`). With infinitely many (continuous controls, as in the paper's
Reacher) it need not be attained, and it is the least cost only where the costs of these plans
are bounded below and some plan exists: ℝ's `⨅` of a family unbounded below, or of no plans
(an empty action type and `t > 0`), is `0` by convention. -/
noncomputable def infValue (P : ControlProblem S A) (t : ℕ) (s g : S) : ℝ :=
  ⨅ as : {l : List A // l.length = t}, P.seqCost as.1 s g

/-- For finite, nonempty action sets the infimum over plans is the dynamic-programming value. -/
theorem infValue_eq_value [Fintype A] [Nonempty A] (P : ControlProblem S A) (t : ℕ)
    (s g : S) : P.infValue t s g = P.value t s g := by
  obtain ⟨as, hlen, hcost⟩ := P.exists_seqCost_eq_value t s g
  have hlow : ∀ l : {l : List A // l.length = t}, P.value t s g ≤ P.seqCost l.1 s g := by
    intro l
    have h := P.value_le_seqCost l.1 s g
    have hl : l.1.length = t := l.2
    rwa [hl] at h
  have hbdd : BddBelow (Set.range fun l : {l : List A // l.length = t} => P.seqCost l.1 s g) := by
    refine ⟨P.value t s g, ?_⟩
    rintro _ ⟨l, rfl⟩
    exact hlow l
  haveI : Nonempty {l : List A // l.length = t} := ⟨⟨as, hlen⟩⟩
  have hle := ciInf_le hbdd (⟨as, hlen⟩ : {l : List A // l.length = t})
  have hge := le_ciInf hlow
  apply le_antisymm
  · rw [← hcost]
    first
    | exact hle
    | (unfold infValue
       exact hle)
  · first
    | exact hge
    | (unfold infValue
       exact hge)

/-- Relabelling by `σ` maps the plans of length `t` of one action type bijectively onto those of
the other. -/
def relabelPlans (σ : A ≃ A') (t : ℕ) :
    {l : List A // l.length = t} ≃ {l : List A' // l.length = t} where
  toFun l := ⟨l.1.map σ, by rw [List.length_map]; exact l.2⟩
  invFun l := ⟨l.1.map σ.symm, by rw [List.length_map]; exact l.2⟩
  left_inv l := Subtype.ext (by
    first
    | exact map_map_symm σ.symm l.1
    | simp only [List.map_map, Equiv.symm_comp_self, List.map_id])
  right_inv l := Subtype.ext (map_map_symm σ l.1)

/-- **Theorem 4, values, for any action type.** If `P'` is the conjugate of `P` through `Q` and
an action relabelling `σ : A ≃ A'`, the infima over plans agree: relabelling by `σ` is a
bijection between the plans of length `t` of the two problems (`relabelPlans`), and it preserves
every plan's cost (`seqCost_conj`). No finiteness of the actions and no bound on the costs is
needed. -/
theorem infValue_conj {σ : A ≃ A'} (hP : P.Conjugate P' Q σ) (t : ℕ) (s g : S) :
    P'.infValue t (Q s) (Q g) = P.infValue t s g := by
  have hcomp : (⨅ l : {l : List A // l.length = t},
      P'.seqCost (relabelPlans σ t l).1 (Q s) (Q g)) =
      ⨅ l' : {l : List A' // l.length = t}, P'.seqCost l'.1 (Q s) (Q g) :=
    -- `Equiv.iInf_comp` is stated for any `InfSet` (ℝ's conditional infimum) in 2025-26
    -- Mathlib; the last alternative is its proof
    by first
      | exact (relabelPlans σ t).iInf_comp (g := fun l' => P'.seqCost l'.1 (Q s) (Q g))
      | exact (relabelPlans σ t).surjective.iInf_comp (fun l' => P'.seqCost l'.1 (Q s) (Q g))
      | (simp only [iInf]
         congr 1
         exact (relabelPlans σ t).surjective.range_comp
           (fun l' : {l : List A' // l.length = t} => P'.seqCost l'.1 (Q s) (Q g)))
  have hcost : (⨅ l : {l : List A // l.length = t},
      P'.seqCost (relabelPlans σ t l).1 (Q s) (Q g)) =
      ⨅ l : {l : List A // l.length = t}, P.seqCost l.1 s g :=
    by first
      | exact iInf_congr fun l => seqCost_conj hP l.1 s g
      | exact congrArg iInf (funext fun l => seqCost_conj hP l.1 s g)
  first
  | exact hcomp.symm.trans hcost
  | (unfold infValue
     exact hcomp.symm.trans hcost)

end ControlProblem

section Translation

variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E] {A : Type*}

/-- Translation dynamics `s ↦ s + v(a)` with stage cost `‖s - g‖² + λ ‖v(a)‖²` and terminal
cost `‖s - g‖²`: the control problem of the paper's Theorem 4 and of `T4.dp_rotation_invariance`. -/
def translation (v : A → E) (lam : ℝ) : ControlProblem E A where
  step s a := s + v a
  cost s g a := ‖s - g‖ ^ 2 + lam * ‖v a‖ ^ 2
  terminal s g := ‖s - g‖ ^ 2

/-- Linear isometries, such as `z ↦ Q z` for `Q ∈ O(n)`, preserve the distance `‖s - g‖` that
goal-conditioned costs are built from. -/
theorem norm_map_sub_map (L : E →ₗᵢ[ℝ] E) (s g : E) : ‖L s - L g‖ = ‖s - g‖ := by
  rw [← map_sub, L.norm_map]

/-- **The O(n) instance.** The translation problem that moves by `L (v a)` is the conjugate,
through the linear isometry `L` and the identity on actions, of the one that moves by `v a`. -/
theorem translation_conjugate (L : E →ₗᵢ[ℝ] E) (v : A → E) (lam : ℝ) :
    (translation v lam).Conjugate (translation (fun a => L (v a)) lam) L (Equiv.refl A) where
  step_map s a := by
    show L s + L (v a) = L (s + v a)
    rw [map_add]
  cost_map s g a := by
    show ‖L s - L g‖ ^ 2 + lam * ‖L (v a)‖ ^ 2 = ‖s - g‖ ^ 2 + lam * ‖v a‖ ^ 2
    rw [norm_map_sub_map, L.norm_map]
  terminal_map s g := by
    show ‖L s - L g‖ ^ 2 = ‖s - g‖ ^ 2
    rw [norm_map_sub_map]

/-- **The O(n) instance with relabelled actions.** The translation problem whose action `a'`
moves by `L (v (σ.symm a'))` is the conjugate, through `L` and the relabelling `σ : A ≃ A'`, of
the one that moves by `v a`. (`T4.dp_rotation_invariance` builds exactly this problem,
`pycheck.checks.t4.conjugate`.) -/
theorem translation_conjugate_perm {A' : Type*} (L : E →ₗᵢ[ℝ] E) (v : A → E) (lam : ℝ)
    (σ : A ≃ A') :
    (translation v lam).Conjugate (translation (fun a' => L (v (σ.symm a'))) lam) L σ where
  step_map s a := by
    show L s + L (v (σ.symm (σ a))) = L (s + v a)
    rw [Equiv.symm_apply_apply, map_add]
  cost_map s g a := by
    show ‖L s - L g‖ ^ 2 + lam * ‖L (v (σ.symm (σ a)))‖ ^ 2 = ‖s - g‖ ^ 2 + lam * ‖v a‖ ^ 2
    rw [Equiv.symm_apply_apply, norm_map_sub_map, L.norm_map]
  terminal_map s g := by
    show ‖L s - L g‖ ^ 2 = ‖s - g‖ ^ 2
    rw [norm_map_sub_map]

/-- **Theorem 4, O(n) instance with relabelled actions.** Values agree, and `as` is optimal for
the original problem iff `as.map σ` is optimal for the conjugate one. -/
theorem value_translation_perm [Fintype A] [Nonempty A] {A' : Type*} [Fintype A'] [Nonempty A']
    (L : E →ₗᵢ[ℝ] E) (v : A → E) (lam : ℝ) (σ : A ≃ A') (t : ℕ) (s g : E) :
    (translation (fun a' => L (v (σ.symm a'))) lam).value t (L s) (L g) =
        (translation v lam).value t s g ∧
      ∀ as : List A, (translation (fun a' => L (v (σ.symm a'))) lam).IsOptimal t (as.map σ)
          (L s) (L g) ↔ (translation v lam).IsOptimal t as s g :=
  ⟨ControlProblem.value_conj (translation_conjugate_perm L v lam σ) t s g,
    fun as => ControlProblem.isOptimal_conj_iff (translation_conjugate_perm L v lam σ) t as s g⟩

/-- **Theorem 4, O(n) instance, values.** Planning with translations `L (v a)` from `L s` towards
`L g` has the optimal value of planning with `v a` from `s` towards `g`. -/
theorem value_translation_map [Fintype A] [Nonempty A] (L : E →ₗᵢ[ℝ] E) (v : A → E)
    (lam : ℝ) (t : ℕ) (s g : E) :
    (translation (fun a => L (v a)) lam).value t (L s) (L g) = (translation v lam).value t s g :=
  ControlProblem.value_conj (translation_conjugate L v lam) t s g

/-- **Theorem 4, O(n) instance, plans.** The same action sequence is optimal in both. -/
theorem isOptimal_translation_map_iff (L : E →ₗᵢ[ℝ] E) (v : A → E) (lam : ℝ) (t : ℕ)
    (as : List A) (s g : E) :
    (translation (fun a => L (v a)) lam).IsOptimal t as (L s) (L g) ↔
      (translation v lam).IsOptimal t as s g := by
  have h := ControlProblem.isOptimal_conj_iff (translation_conjugate L v lam) t as s g
  first
  | (rwa [show as.map (Equiv.refl A) = as from List.map_id as] at h)
  | simpa using h

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

end Translation

section LatentMap

variable {S A : Type*}

/-- The problem `P` planned in the coordinates `f s`, where `f'` undoes `f`
(`f' (f s) = s`): the dynamics carried over, `s' ↦ f (P.step (f' s') a)`, and the *same* cost
functions, evaluated on latent states. This is planning in the learned latent space with the
true cost formula. `latentProblem` is the case of a linear isometry; `value_latentProblem_matrix`
the case `f = Q *ᵥ ·`, `f' = Qᵀ *ᵥ ·` of a matrix `Q ∈ O(n)`. -/
def ControlProblem.latentProblemOf (P : ControlProblem S A) (f f' : S → S) :
    ControlProblem S A where
  step s a := f (P.step (f' s) a)
  cost := P.cost
  terminal := P.terminal

/-- **The paper's hypothesis gives the conjugacy, for any map with a left inverse.** If the costs
of `P` are invariant under `f`, and `f' (f s) = s`, the problem planned in the coordinates `f s`
with the same cost functions is the conjugate of `P` through `f`. -/
theorem ControlProblem.latentProblemOf_conjugate (P : ControlProblem S A) {f f' : S → S}
    (hf : ∀ s, f' (f s) = s) (hcost : ∀ s g a, P.cost (f s) (f g) a = P.cost s g a)
    (hterm : ∀ s g, P.terminal (f s) (f g) = P.terminal s g) :
    P.Conjugate (P.latentProblemOf f f') f (Equiv.refl A) where
  -- `show` unfolds the structure's fields and `⇑(Equiv.refl A) a` to `a` (as in
  -- `translation_conjugate`); the `simp only` alternatives unfold them by name
  step_map s a := by
    first
    | (show f (P.step (f' (f s)) a) = f (P.step s a)
       rw [hf s])
    | simp only [ControlProblem.latentProblemOf, Equiv.refl_apply, hf]
  cost_map s g a := by
    first
    | (show P.cost (f s) (f g) a = P.cost s g a
       exact hcost s g a)
    | (simp only [ControlProblem.latentProblemOf, Equiv.refl_apply]
       exact hcost s g a)
  terminal_map s g := by
    first
    | (show P.terminal (f s) (f g) = P.terminal s g
       exact hterm s g)
    | (simp only [ControlProblem.latentProblemOf]
       exact hterm s g)

/-- **Theorem 4 under the paper's hypothesis, for any map with a left inverse.** Planning in the
coordinates `f s` with the same cost functions and the carried-over dynamics has the optimal value
of the true problem (the least cost of a plan of length `t`, `isOptimal_iff_seqCost_eq_value`),
and the same plans are optimal. -/
theorem ControlProblem.value_latentProblemOf [Fintype A] [Nonempty A] (P : ControlProblem S A)
    {f f' : S → S} (hf : ∀ s, f' (f s) = s)
    (hcost : ∀ s g a, P.cost (f s) (f g) a = P.cost s g a)
    (hterm : ∀ s g, P.terminal (f s) (f g) = P.terminal s g) (t : ℕ) (s g : S) :
    (P.latentProblemOf f f').value t (f s) (f g) = P.value t s g ∧
      ∀ as : List A, (P.latentProblemOf f f').IsOptimal t as (f s) (f g) ↔
        P.IsOptimal t as s g := by
  have hP := P.latentProblemOf_conjugate hf hcost hterm
  refine ⟨ControlProblem.value_conj hP t s g, fun as => ?_⟩
  have h := ControlProblem.isOptimal_conj_iff hP t as s g
  first
  | (rwa [show as.map (Equiv.refl A) = as from List.map_id as] at h)
  | simpa using h

end LatentMap

section Latent

variable {E : Type*} [NormedAddCommGroup E] [NormedSpace ℝ E] {A : Type*}

/-- The problem `P` planned in the learned coordinates `L s`: the dynamics carried over by `L`,
`s' ↦ L (P.step (L⁻¹ s') a)`, and the *same* cost functions (`latentProblemOf L L.symm`). -/
def ControlProblem.latentProblem (P : ControlProblem E A) (L : E ≃ₗᵢ[ℝ] E) :
    ControlProblem E A :=
  P.latentProblemOf L L.symm

/-- **The paper's hypothesis gives the conjugacy.** If the costs of `P` are invariant under the
isometry `L` (the paper: invariant under `O(n)`), the problem planned in the latent coordinates
`L s` with the same cost functions is the conjugate of `P` through `L`. -/
theorem ControlProblem.latentProblem_conjugate (P : ControlProblem E A) (L : E ≃ₗᵢ[ℝ] E)
    (hcost : ∀ s g a, P.cost (L s) (L g) a = P.cost s g a)
    (hterm : ∀ s g, P.terminal (L s) (L g) = P.terminal s g) :
    P.Conjugate (P.latentProblem L) L (Equiv.refl A) :=
  -- `latentProblem` unfolds to `latentProblemOf` (a definition, unfolded by `exact`'s defeq
  -- check; `unfold` is the fallback)
  by first
    | exact P.latentProblemOf_conjugate (f := L) (f' := L.symm) L.symm_apply_apply hcost hterm
    | (unfold ControlProblem.latentProblem
       exact P.latentProblemOf_conjugate (f := L) (f' := L.symm) L.symm_apply_apply hcost
         hterm)

/-- **Theorem 4 under the paper's hypothesis.** For a control problem on a real normed
space whose costs are invariant under the isometry `L` (e.g. `z ↦ Q z`, `Q ∈ O(n)`), planning in
the latent `L s` with the same cost functions and the carried-over dynamics has the optimal value
of the true problem (the least cost of a plan of length `t`, `isOptimal_iff_seqCost_eq_value`),
and the same plans are optimal. -/
theorem ControlProblem.value_latentProblem [Fintype A] [Nonempty A] (P : ControlProblem E A)
    (L : E ≃ₗᵢ[ℝ] E) (hcost : ∀ s g a, P.cost (L s) (L g) a = P.cost s g a)
    (hterm : ∀ s g, P.terminal (L s) (L g) = P.terminal s g) (t : ℕ) (s g : E) :
    (P.latentProblem L).value t (L s) (L g) = P.value t s g ∧
      ∀ as : List A, (P.latentProblem L).IsOptimal t as (L s) (L g) ↔ P.IsOptimal t as s g := by
  first
  | exact P.value_latentProblemOf (f := L) (f' := L.symm) L.symm_apply_apply hcost hterm t s g
  | (unfold ControlProblem.latentProblem
     exact P.value_latentProblemOf (f := L) (f' := L.symm) L.symm_apply_apply hcost hterm t s g)

end Latent

section LatentMatrix

variable {A : Type*}

/-- `Qᵀ` undoes `Q` on vectors when `Qᵀ * Q = 1` (for a square matrix, `Q ∈ O(n)`). -/
theorem transpose_mulVec_mulVec {n : ℕ} {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q.transpose * Q = 1) (s : Fin n → ℝ) : Q.transpose.mulVec (Q.mulVec s) = s := by
  first
  | rw [Matrix.mulVec_mulVec, hQ, Matrix.one_mulVec]
  | simp only [Matrix.mulVec_mulVec, hQ, Matrix.one_mulVec]

/-- **Theorem 4 under the paper's hypothesis, with the rotation as a matrix.** Let `Q` be an
orthogonal matrix (`Qᵀ * Q = 1`, i.e. `Q ∈ O(n)`) and `P` a control problem on `ℝⁿ` (as
`Fin n → ℝ`) whose running and terminal costs are invariant under `z ↦ Q z` (the paper: under
all of `O(n)`). Planning in the learned latent `Q s` with the same cost functions and the
dynamics carried over (`s' ↦ Q (P.step (Qᵀ s') a)`) has the true problem's optimal values, and
the same plans are optimal. -/
theorem ControlProblem.value_latentProblem_matrix {n : ℕ} [Fintype A] [Nonempty A]
    (P : ControlProblem (Fin n → ℝ) A) {Q : Matrix (Fin n) (Fin n) ℝ} (hQ : Q.transpose * Q = 1)
    (hcost : ∀ s g a, P.cost (Q.mulVec s) (Q.mulVec g) a = P.cost s g a)
    (hterm : ∀ s g, P.terminal (Q.mulVec s) (Q.mulVec g) = P.terminal s g) (t : ℕ)
    (s g : Fin n → ℝ) :
    (P.latentProblemOf Q.mulVec Q.transpose.mulVec).value t (Q.mulVec s) (Q.mulVec g) =
        P.value t s g ∧
      ∀ as : List A, (P.latentProblemOf Q.mulVec Q.transpose.mulVec).IsOptimal t as (Q.mulVec s)
        (Q.mulVec g) ↔ P.IsOptimal t as s g :=
  P.value_latentProblemOf (f := Q.mulVec) (f' := Q.transpose.mulVec)
    (transpose_mulVec_mulVec hQ) hcost hterm t s g

/-- `Qᵀ` undoes `Q` on `EuclideanSpace ℝ (Fin n)` (T1's latent space `Latent n`) when
`Qᵀ * Q = 1`, with the matrices acting through `Matrix.toEuclideanLin`. -/
theorem toEuclideanLin_transpose_apply {n : ℕ} {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q.transpose * Q = 1) (s : EuclideanSpace ℝ (Fin n)) :
    Matrix.toEuclideanLin Q.transpose (Matrix.toEuclideanLin Q s) = s := by
  -- `toEuclideanLin` is `toLpLin 2 2` in 2025-26 Mathlib (applied: `toLp (M *ᵥ ofLp v)`);
  -- older versions state `toEuclideanLin_apply` through `WithLp.equiv`
  -- each alternative must close the goal (`done`): a `simp only` that made progress and
  -- left a goal would otherwise end the `first` with unsolved goals
  first
  | (show WithLp.toLp 2 (Q.transpose.mulVec
          (WithLp.ofLp (WithLp.toLp 2 (Q.mulVec (WithLp.ofLp s))))) = s
     rw [WithLp.ofLp_toLp, Matrix.mulVec_mulVec, hQ, Matrix.one_mulVec, WithLp.toLp_ofLp])
  | (simp only [Matrix.toLpLin_apply, WithLp.ofLp_toLp, Matrix.mulVec_mulVec, hQ,
      Matrix.one_mulVec, WithLp.toLp_ofLp]; done)
  | (simp only [Matrix.toEuclideanLin_apply, WithLp.ofLp_toLp, Matrix.mulVec_mulVec, hQ,
      Matrix.one_mulVec, WithLp.toLp_ofLp]; done)
  | (simp only [Matrix.toEuclideanLin_apply, Equiv.apply_symm_apply, Matrix.mulVec_mulVec, hQ,
      Matrix.one_mulVec, Equiv.symm_apply_apply]; done)
  | (simp [Matrix.toEuclideanLin_apply, Matrix.mulVec_mulVec, hQ]; done)
  | (simp [Matrix.toLpLin_apply, Matrix.mulVec_mulVec, hQ]; done)

/-- **Theorem 4 under the paper's hypothesis, on T1's latent space.** The matrix form of
`value_latentProblem_matrix` on `EuclideanSpace ℝ (Fin n)` (`LeJEPA.Latent n`, where T1's
encoder recovers `Q z`): for an orthogonal matrix `Q` (`Qᵀ * Q = 1`) acting by
`Matrix.toEuclideanLin` and a control problem whose costs are invariant under it, planning in
`Q s` with the same cost functions and the carried-over dynamics has the true problem's optimal
values, and the same plans are optimal. -/
theorem ControlProblem.value_latentProblem_euclidean {n : ℕ} [Fintype A] [Nonempty A]
    (P : ControlProblem (EuclideanSpace ℝ (Fin n)) A) {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q.transpose * Q = 1)
    (hcost : ∀ s g a, P.cost (Matrix.toEuclideanLin Q s) (Matrix.toEuclideanLin Q g) a =
      P.cost s g a)
    (hterm : ∀ s g, P.terminal (Matrix.toEuclideanLin Q s) (Matrix.toEuclideanLin Q g) =
      P.terminal s g) (t : ℕ) (s g : EuclideanSpace ℝ (Fin n)) :
    (P.latentProblemOf (Matrix.toEuclideanLin Q) (Matrix.toEuclideanLin Q.transpose)).value t
        (Matrix.toEuclideanLin Q s) (Matrix.toEuclideanLin Q g) = P.value t s g ∧
      ∀ as : List A, (P.latentProblemOf (Matrix.toEuclideanLin Q)
          (Matrix.toEuclideanLin Q.transpose)).IsOptimal t as (Matrix.toEuclideanLin Q s)
          (Matrix.toEuclideanLin Q g) ↔ P.IsOptimal t as s g :=
  P.value_latentProblemOf (f := Matrix.toEuclideanLin Q) (f' := Matrix.toEuclideanLin Q.transpose)
    (toEuclideanLin_transpose_apply hQ) hcost hterm t s g

end LatentMatrix

end LeJEPA.Planning
