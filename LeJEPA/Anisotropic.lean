/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Spectral
import Mathlib.Algebra.Order.BigOperators.Ring.Finset
import Mathlib.Tactic.Linarith

/-!
# Anisotropic worlds: the spectral core with weights `ρ ^ α` (manifest ID `A1`)

In the anisotropic Gaussian-OU world `z'ᵢ = ρᵢ zᵢ + √(1 - ρᵢ²) εᵢ` the Hermite function `He_α`
is an eigenfunction of the step with eigenvalue `ρ ^ α = ∏ ᵢ ρᵢ ^ αᵢ`. For a whitened encoder
`h` (`E h = 0`, `Cov h = I`, `n` outputs) write `a α = ∑ₖ c_{kα}²` for the energy that the
normalised basis function `α` carries across the outputs. The outputs are orthonormal, so
Bessel's inequality gives `0 ≤ a α ≤ 1`, and `∑_α a α = n` (the trace of `Cov h`); the
alignment is `L(h) = 2 (n - ∑_α ρ ^ α * a α)`, and a rotation has `L = 2 ∑ᵢ (1 - ρᵢ)`.
This file proves the finite, purely real-analytic core of the argument; the reduction of `h`
to the energies `a` is on paper (`pycheck/anisotropic.py`, module docstring).

With `lin` the degree-one indices (weights `ρᵢ ≥ m`) and `non` the higher ones (weights
`≤ M`), `gap_le_sub_sum` says that moving energy out of the linear indices costs at least
`(m - M)` per unit: with `m = min ρ` and `M = (max ρ)²` (`prod_pow_le_sq`), the excess
alignment over the rotations is at least `2 (min ρ - (max ρ)²)` times the nonlinear energy,
which is `2 ρ (1 - ρ)` (theorem T1's constant) when all `ρᵢ = ρ`.
`eq_zero_of_sum_eq` is the equality case; `harmonic_lt_rotation_iff` is the converse: once
`(max ρ)² > min ρ` the harmonic `He₂(z_max)/√2` in place of `z_min` beats every rotation.

## Main statements

* `LeJEPA.Anisotropic.gap_le_sub_sum`: the weighted spectral gap.
* `LeJEPA.Anisotropic.eq_zero_of_sum_eq`: equality forces zero nonlinear energy.
* `LeJEPA.Anisotropic.prod_pow_le_sq`: `∏ ᵢ ρᵢ ^ αᵢ ≤ r ^ 2` for `|α| ≥ 2`, `0 ≤ ρᵢ ≤ r ≤ 1`.
* `LeJEPA.Anisotropic.harmonic_lt_rotation_iff`: the counter-example beats the rotations
  exactly when `ρⱼ < ρᵢ ^ 2`.

## References

* L. Wiskott, T. Sejnowski, *Slow feature analysis*, Neural Computation 14 (2002).
* K. Fan, *On a theorem of Weyl concerning eigenvalues of linear transformations I*,
  PNAS 35 (1949).
-/

namespace LeJEPA.Anisotropic

variable {ι : Type*}

/-- **Weighted spectral gap.** Energies `a` with `a i ≤ 1` on the linear indices `lin`,
`0 ≤ a α` on the nonlinear indices `non`, and total `∑ a = card lin`; weights `w i ≥ m` on
`lin` and `w α ≤ M` on `non`. Then the weighted energy falls short of the rotations' value
`∑_{lin} w` by at least `(m - M)` times the nonlinear energy. -/
theorem gap_le_sub_sum (lin non : Finset ι) (a w : ι → ℝ) {m M : ℝ}
    (ha1 : ∀ i ∈ lin, a i ≤ 1) (ha0 : ∀ α ∈ non, 0 ≤ a α)
    (hm : ∀ i ∈ lin, m ≤ w i) (hM : ∀ α ∈ non, w α ≤ M)
    (hsum : ∑ i ∈ lin, a i + ∑ α ∈ non, a α = lin.card) :
    (m - M) * ∑ α ∈ non, a α ≤
      ∑ i ∈ lin, w i - (∑ i ∈ lin, w i * a i + ∑ α ∈ non, w α * a α) := by
  have hlin : m * ∑ i ∈ lin, (1 - a i) ≤ ∑ i ∈ lin, w i * (1 - a i) := by
    rw [Finset.mul_sum]
    exact Finset.sum_le_sum fun i hi =>
      mul_le_mul_of_nonneg_right (hm i hi) (by linarith [ha1 i hi])
  have hnon : ∑ α ∈ non, w α * a α ≤ M * ∑ α ∈ non, a α := by
    rw [Finset.mul_sum]
    exact Finset.sum_le_sum fun α hα => mul_le_mul_of_nonneg_right (hM α hα) (ha0 α hα)
  have hcard : ∑ i ∈ lin, (1 - a i) = ∑ α ∈ non, a α := by
    rw [Finset.sum_sub_distrib, Finset.sum_const, nsmul_eq_mul, mul_one]
    linarith
  have hsplit : ∑ i ∈ lin, w i * (1 - a i) = ∑ i ∈ lin, w i - ∑ i ∈ lin, w i * a i := by
    rw [← Finset.sum_sub_distrib]
    exact Finset.sum_congr rfl fun i _ => by ring
  rw [hcard, hsplit] at hlin
  have hexp : (m - M) * ∑ α ∈ non, a α = m * ∑ α ∈ non, a α - M * ∑ α ∈ non, a α := by ring
  linarith

/-- **Equality case.** If `M < m` and the weighted energy equals the rotations' value, all
nonlinear energy vanishes (the encoder is linear, hence a rotation). -/
theorem eq_zero_of_sum_eq (lin non : Finset ι) (a w : ι → ℝ) {m M : ℝ}
    (ha1 : ∀ i ∈ lin, a i ≤ 1) (ha0 : ∀ α ∈ non, 0 ≤ a α)
    (hm : ∀ i ∈ lin, m ≤ w i) (hM : ∀ α ∈ non, w α ≤ M)
    (hsum : ∑ i ∈ lin, a i + ∑ α ∈ non, a α = lin.card) (hMm : M < m)
    (heq : ∑ i ∈ lin, w i * a i + ∑ α ∈ non, w α * a α = ∑ i ∈ lin, w i) :
    ∀ α ∈ non, a α = 0 := by
  have hgap := gap_le_sub_sum lin non a w ha1 ha0 hm hM hsum
  have hS0 : 0 ≤ ∑ α ∈ non, a α := Finset.sum_nonneg ha0
  have hS : ∑ α ∈ non, a α ≤ 0 := by
    by_contra hlt
    have hpos := mul_pos (sub_pos.mpr hMm) (not_le.mp hlt)
    linarith
  exact (Finset.sum_eq_zero_iff_of_nonneg ha0).1 (le_antisymm hS hS0)

/-- **Weights of nonlinear indices.** If `0 ≤ ρ i ≤ r ≤ 1` for every coordinate and the
multi-index `α` has total degree at least two, then `ρ ^ α = ∏ i, ρ i ^ α i ≤ r ^ 2`. -/
theorem prod_pow_le_sq {κ : Type*} [Fintype κ] (ρ : κ → ℝ) (α : κ → ℕ) {r : ℝ}
    (h0 : ∀ i, 0 ≤ ρ i) (hle : ∀ i, ρ i ≤ r) (hr0 : 0 ≤ r) (hr1 : r ≤ 1)
    (hα : 2 ≤ ∑ i, α i) :
    ∏ i, ρ i ^ α i ≤ r ^ 2 := by
  have hprod : ∏ i, ρ i ^ α i ≤ ∏ i, r ^ α i :=
    Finset.prod_le_prod (fun i _ => pow_nonneg (h0 i) _) fun i _ => by
      first
        | exact pow_le_pow_left₀ (h0 i) (hle i) _
        | exact pow_le_pow_left (h0 i) (hle i) _
  have hpow : ∏ i, r ^ α i = r ^ ∑ i, α i := by
    first
      | exact Finset.prod_pow_eq_pow_sum _ _ _
      | exact Finset.prod_pow_eq_pow_sum
  rw [hpow] at hprod
  exact hprod.trans (LeJEPA.Spectral.degree_pow_le_sq hr0 hr1 hα)

/-- **The converse (counter-example).** Replacing the coordinate `j` of a rotation by the
normalised second harmonic `He₂(z_i)/√2` (weight `ρ i ^ 2`) changes the alignment
`∑ₖ 2 (1 - ρₖ)` by `2 (ρ j - ρ i ^ 2)`: it is strictly smaller exactly when `ρ j < ρ i ^ 2`. -/
theorem harmonic_lt_rotation_iff (s : Finset ι) (ρ : ι → ℝ) (i j : ι) :
    (∑ k ∈ s, 2 * (1 - ρ k)) - 2 * (1 - ρ j) + 2 * (1 - ρ i ^ 2) <
        ∑ k ∈ s, 2 * (1 - ρ k) ↔ ρ j < ρ i ^ 2 := by
  constructor <;> intro h <;> linarith

/-- With equal rates the anisotropic gap constant is theorem T1's: `ρ - ρ ^ 2 = ρ * (1 - ρ)`. -/
theorem sub_sq_eq_mul_one_sub (ρ : ℝ) : ρ - ρ ^ 2 = ρ * (1 - ρ) := by ring

end LeJEPA.Anisotropic
