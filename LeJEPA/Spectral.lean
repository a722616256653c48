/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import Mathlib.Algebra.Order.BigOperators.Ring.Finset
import Mathlib.Tactic.Linarith
import Mathlib.Topology.Algebra.InfiniteSum.Group
import Mathlib.Topology.Algebra.InfiniteSum.Order
import Mathlib.Topology.Algebra.InfiniteSum.Real
import Mathlib.Topology.Algebra.InfiniteSum.Ring

/-!
# The spectral core: degree energies under the weights `ρ ^ d` (manifest ID `L1`)

Under the standard Gaussian, an encoder component `f` splits into Wiener chaoses; the squared
norm of its degree-`d` part is the *degree energy* `e d ≥ 0`. The Gaussian-OU transition
multiplies the degree-`d` chaos by `ρ ^ d` (Mehler), so the alignment loss weighs `e d` by
`1 - ρ ^ d`. This file contains the purely real-analytic part of the argument; it uses no
probability and no axiom.

For `0 < ρ < 1` the weight `1 - ρ ^ d` is smallest, among degrees `d ≥ 1`, exactly at `d = 1`,
and it is at least `1 - ρ ^ 2` from degree two on. Hence a unit of energy placed in a
nonlinear degree costs at least `ρ * (1 - ρ)` more alignment than in the linear degree.

Energies are indexed by `ℕ` and summed with `HasSum`, which covers both finitely supported
energies (polynomial encoders) and general square-integrable encoders.

## Main statements

* `LeJEPA.Spectral.one_sub_le_one_sub_pow`: `1 - ρ ≤ 1 - ρ ^ d` for `d ≥ 1`.
* `LeJEPA.Spectral.one_sub_pow_eq_one_sub_iff`: equality holds only for `d = 1`.
* `LeJEPA.Spectral.one_sub_sq_le_one_sub_pow`: `1 - ρ ^ 2 ≤ 1 - ρ ^ d` for `d ≥ 2`.
* `LeJEPA.Spectral.one_sub_mul_sum_le`: the finite inequality
  `(1 - ρ) * ∑ e d ≤ ∑ (1 - ρ ^ d) * e d`.
* `LeJEPA.Spectral.one_sub_mul_le_of_hasSum`: the same for summable energies.
* `LeJEPA.Spectral.gap_of_hasSum`: the spectral gap
  `ρ * (1 - ρ) * ∑_{d ≥ 2} e d ≤ ∑ (1 - ρ ^ d) * e d - (1 - ρ) * ∑ e d`.
* `LeJEPA.Spectral.hasSum_eq_one_sub_mul_iff`: equality holds iff all energy is in degree one.

## References

* D. Nualart, *The Malliavin Calculus and Related Topics*, 2nd ed., Springer 2006, §1.1.
* S. Janson, *Gaussian Hilbert Spaces*, Cambridge University Press 1997, Ch. 2–4.
-/

namespace LeJEPA.Spectral

variable {ρ : ℝ}

/-- Powers of a number in `[0, 1]` stay at most one. -/
theorem degree_pow_le_one (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) : ∀ k : ℕ, ρ ^ k ≤ 1
  | 0 => by
    first
    | simp
    | exact (pow_zero ρ).le
  | k + 1 => by
    have hk := degree_pow_le_one hρ0 hρ1 k
    have hk0 : 0 ≤ ρ ^ k := pow_nonneg hρ0 k
    rw [pow_succ]
    nlinarith

/-- For `ρ ∈ [0, 1]` and `d ≥ 1`, `ρ ^ d ≤ ρ`. -/
theorem degree_pow_le_self (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {d : ℕ} (hd : 1 ≤ d) : ρ ^ d ≤ ρ := by
  obtain ⟨k, rfl⟩ : ∃ k, d = k + 1 := ⟨d - 1, by omega⟩
  have hk := degree_pow_le_one hρ0 hρ1 k
  rw [pow_succ]
  nlinarith

/-- For `ρ ∈ [0, 1]` and `d ≥ 2`, `ρ ^ d ≤ ρ ^ 2`. -/
theorem degree_pow_le_sq (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {d : ℕ} (hd : 2 ≤ d) : ρ ^ d ≤ ρ ^ 2 := by
  obtain ⟨k, rfl⟩ : ∃ k, d = k + 2 := ⟨d - 2, by omega⟩
  have hk := degree_pow_le_one hρ0 hρ1 k
  have hsq : 0 ≤ ρ ^ 2 := sq_nonneg ρ
  rw [pow_add]
  nlinarith

/-- **Degree-one weight is minimal.** For `ρ ∈ [0, 1]` and every degree `d ≥ 1`,
`1 - ρ ≤ 1 - ρ ^ d`. -/
theorem one_sub_le_one_sub_pow (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {d : ℕ} (hd : 1 ≤ d) :
    1 - ρ ≤ 1 - ρ ^ d := by
  linarith [degree_pow_le_self hρ0 hρ1 hd]

/-- For `d ≥ 2`, the weight `1 - ρ ^ d` is at least `1 - ρ ^ 2`. -/
theorem one_sub_sq_le_one_sub_pow (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {d : ℕ} (hd : 2 ≤ d) :
    1 - ρ ^ 2 ≤ 1 - ρ ^ d := by
  linarith [degree_pow_le_sq hρ0 hρ1 hd]

/-- For `d ≥ 2`, the weight `1 - ρ ^ d` exceeds the degree-one weight `1 - ρ` by at least
`ρ * (1 - ρ)`. -/
theorem mul_one_sub_le_sub (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {d : ℕ} (hd : 2 ≤ d) :
    ρ * (1 - ρ) ≤ (1 - ρ ^ d) - (1 - ρ) := by
  have h := degree_pow_le_sq hρ0 hρ1 hd
  nlinarith

/-- **Equality case of the weights.** For `0 < ρ < 1` and `d ≥ 1`, `1 - ρ ^ d = 1 - ρ` holds
exactly for `d = 1`. -/
theorem one_sub_pow_eq_one_sub_iff (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {d : ℕ} (hd : 1 ≤ d) :
    1 - ρ ^ d = 1 - ρ ↔ d = 1 := by
  constructor
  · intro h
    by_contra hne
    have h2 : 2 ≤ d := by omega
    have hgap := mul_one_sub_le_sub hρ0.le hρ1.le h2
    have hpos : 0 < ρ * (1 - ρ) := mul_pos hρ0 (by linarith)
    linarith
  · rintro rfl
    simp

/-- **Finite spectral inequality.** For energies `e d ≥ 0` on a finite set of degrees `d ≥ 1`,
`(1 - ρ) * ∑ e d ≤ ∑ (1 - ρ ^ d) * e d`. -/
theorem one_sub_mul_sum_le (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) (s : Finset ℕ) (e : ℕ → ℝ)
    (hs : ∀ d ∈ s, 1 ≤ d) (he : ∀ d ∈ s, 0 ≤ e d) :
    (1 - ρ) * ∑ d ∈ s, e d ≤ ∑ d ∈ s, (1 - ρ ^ d) * e d := by
  rw [Finset.mul_sum]
  exact Finset.sum_le_sum fun d hd =>
    mul_le_mul_of_nonneg_right (one_sub_le_one_sub_pow hρ0 hρ1 (hs d hd)) (he d hd)

variable {e : ℕ → ℝ} {S A : ℝ}

/-- **Spectral inequality for summable energies.** If `e` is a nonnegative energy sequence with
no degree-zero part, summing to `S`, and `∑ (1 - ρ ^ d) * e d = A`, then `(1 - ρ) * S ≤ A`. -/
theorem one_sub_mul_le_of_hasSum (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) (he : ∀ d, 0 ≤ e d)
    (he0 : e 0 = 0) (hS : HasSum e S) (hA : HasSum (fun d => (1 - ρ ^ d) * e d) A) :
    (1 - ρ) * S ≤ A := by
  refine hasSum_le (fun d => ?_) (hS.mul_left (1 - ρ)) hA
  match d with
  | 0 =>
    first
    | (simp [he0]; done)
    | (show (1 - ρ) * e 0 ≤ (1 - ρ ^ 0) * e 0
       rw [he0]
       linarith)
  | d + 1 =>
    exact mul_le_mul_of_nonneg_right (one_sub_le_one_sub_pow hρ0 hρ1 (by omega)) (he (d + 1))

/-- **Spectral gap.** Under the hypotheses of `one_sub_mul_le_of_hasSum`, the excess alignment
over the linear optimum controls the nonlinear energy `S - e 1 = ∑_{d ≥ 2} e d`:
`ρ * (1 - ρ) * (S - e 1) ≤ A - (1 - ρ) * S`. -/
theorem gap_of_hasSum (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) (he : ∀ d, 0 ≤ e d) (he0 : e 0 = 0)
    (hS : HasSum e S) (hA : HasSum (fun d => (1 - ρ ^ d) * e d) A) :
    ρ * (1 - ρ) * (S - e 1) ≤ A - (1 - ρ) * S := by
  have hL : HasSum (fun d => ρ * (1 - ρ) * (e d - if d = 1 then e 1 else 0))
      (ρ * (1 - ρ) * (S - e 1)) :=
    (hS.sub (hasSum_ite_eq 1 (e 1))).mul_left _
  have hR : HasSum (fun d => (1 - ρ ^ d) * e d - (1 - ρ) * e d) (A - (1 - ρ) * S) :=
    hA.sub (hS.mul_left _)
  refine hasSum_le (fun d => ?_) hL hR
  -- `match` keeps the literal patterns `0`, `1`, `d + 2` in the goal (no `Nat.succ` forms)
  match d with
  | 0 =>
    first
    | (simp [he0]; done)
    | (have h01 : ¬((0 : ℕ) = 1) := by omega
       show ρ * (1 - ρ) * (e 0 - if (0 : ℕ) = 1 then e 1 else 0) ≤
         (1 - ρ ^ 0) * e 0 - (1 - ρ) * e 0
       rw [if_neg h01, he0]
       linarith)
  | 1 =>
    first
    | (simp; done)
    | (show ρ * (1 - ρ) * (e 1 - if (1 : ℕ) = 1 then e 1 else 0) ≤
         (1 - ρ ^ 1) * e 1 - (1 - ρ) * e 1
       rw [if_pos rfl, pow_one]
       linarith)
  | d + 2 =>
    have hgap := mul_one_sub_le_sub hρ0 hρ1 (d := d + 2) (by omega)
    have hed := he (d + 2)
    have hne : d + 2 ≠ 1 := by omega
    rw [if_neg hne, sub_zero]
    nlinarith [mul_le_mul_of_nonneg_right hgap hed]

/-- **Equality case.** For `0 < ρ < 1`, equality `A = (1 - ρ) * S` in
`one_sub_mul_le_of_hasSum` holds iff every energy outside degree one vanishes. -/
theorem hasSum_eq_one_sub_mul_iff (hρ0 : 0 < ρ) (hρ1 : ρ < 1) (he : ∀ d, 0 ≤ e d) (he0 : e 0 = 0)
    (hS : HasSum e S) (hA : HasSum (fun d => (1 - ρ ^ d) * e d) A) :
    A = (1 - ρ) * S ↔ ∀ d, d ≠ 1 → e d = 0 := by
  constructor
  · intro hAeq d hd
    have hgap := gap_of_hasSum hρ0.le hρ1.le he he0 hS hA
    have hpos : 0 < ρ * (1 - ρ) := mul_pos hρ0 (by linarith)
    have hle : S - e 1 ≤ 0 := by
      by_contra hlt
      have := mul_pos hpos (not_le.mp hlt)
      linarith
    have hT : HasSum (fun k => e k - if k = 1 then e 1 else 0) (S - e 1) :=
      hS.sub (hasSum_ite_eq 1 (e 1))
    have hd' : e d - (if d = 1 then e 1 else 0) ≤ S - e 1 :=
      le_hasSum hT d fun k _ => by
        by_cases hk : k = 1
        · subst hk
          simp
        · simp [hk, he k]
    rw [if_neg hd, sub_zero] at hd'
    exact le_antisymm (by linarith) (he d)
  · intro h
    have hS' : HasSum e (e 1) := hasSum_single 1 h
    have hA' : HasSum (fun d => (1 - ρ ^ d) * e d) ((1 - ρ ^ 1) * e 1) :=
      hasSum_single 1 fun d hd => by simp [h d hd]
    rw [hS.unique hS', hA.unique hA', pow_one]

end LeJEPA.Spectral
