/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Spectral
import LeJEPA.Polar

/-!
# Theorem 3: approximate identifiability

When LeJEPA's two objectives are only nearly met, the encoder is nearly a rotation. We work at
the level of chaos coefficients. An encoder with a finite Hermite expansion (a polynomial
encoder) is

  `hₖ(z) = bₖ + ∑ᵢ Wₖᵢ zᵢ + ∑ⱼ Uₖⱼ φⱼ(z)`,

where `φⱼ` are orthonormal Hermite functions of degrees `deg j ≥ 2` (`LeJEPA.FiniteChaos`). By
orthonormality and Mehler's formula,

* the alignment is `L = 2 ∑ₖ (∑ᵢ (1 - ρ) Wₖᵢ² + ∑ⱼ (1 - ρ^{deg j}) Uₖⱼ²)`;
* the covariance is `Σ_h = W Wᵀ + U Uᵀ`, and the nonlinear energy is `E_nl = ∑ₖⱼ Uₖⱼ²`;
* for `Q ∈ O(n)` and `b = E h`, `E ‖h(z) - Q z - b‖² = ‖W - Q‖_F² + E_nl`, so the deviation from
  rotation `D(h) = min_{Q, b} E ‖h(z) - Q z - b‖²` is at most `‖W - Q‖_F² + E_nl` for every `Q`.

With `ε = L - 2 n (1 - ρ)`, `δ = ‖Σ_h - I‖_F` and `B = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))` we
prove `E_nl ≤ B` and `D(h) ≤ B + (δ + B)²` (the formula of manifest ID `T3`). The steps:
the spectral gap `1 - ρ^d ≥ (1 - ρ) + ρ (1 - ρ)` for `d ≥ 2` (`LeJEPA.Spectral`);
`n - tr Σ_h ≤ √n δ` (Cauchy–Schwarz on the diagonal); `‖W Wᵀ - I‖_F ≤ δ + ‖U Uᵀ‖_F ≤ δ + E_nl`;
and the nearest-orthogonal-matrix bound `min_Q ‖W - Q‖_F ≤ ‖W Wᵀ - I‖_F` (the theorem
`LeJEPA.exists_orthogonal_frobNorm_sub_le` of `LeJEPA/Polar.lean`, manifest `L5`). No axiom of
this development is used.

## Main statements

* `LeJEPA.FiniteChaos.nonlinearEnergy_le`: `E_nl ≤ B`.
* `LeJEPA.FiniteChaos.exists_deviation_le`: some `Q ∈ O(n)` has `‖W - Q‖_F² + E_nl ≤ B + (δ + B)²`.
* `LeJEPA.FiniteChaos.exists_deviation_le_of_cov_eq_one`: the whitened corollary, `δ = 0` gives
  `‖W - Q‖_F² + E_nl ≤ B + B²` with `B = ε / (2 ρ (1 - ρ))`.

Here `δ = ‖Σ_h - I‖_F` is a *covariance defect*: it measures how far the second moments are from
the whitening constraint, not a distance between laws.

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 3.
-/

noncomputable section

namespace LeJEPA

open Matrix

/-! ### Frobenius-norm inequalities -/

/-- **Minkowski's inequality** for finite sums of squares:
`√(∑ (fᵢ - gᵢ)²) ≤ √(∑ fᵢ²) + √(∑ gᵢ²)`. -/
theorem sqrt_sum_sq_sub_le {ι : Type*} [Fintype ι] (f g : ι → ℝ) :
    Real.sqrt (∑ i, (f i - g i) ^ 2) ≤
      Real.sqrt (∑ i, f i ^ 2) + Real.sqrt (∑ i, g i ^ 2) := by
  have hF : 0 ≤ ∑ i, f i ^ 2 := Finset.sum_nonneg fun i _ => sq_nonneg (f i)
  have hG : 0 ≤ ∑ i, g i ^ 2 := Finset.sum_nonneg fun i _ => sq_nonneg (g i)
  have hsF := Real.sq_sqrt hF
  have hsG := Real.sq_sqrt hG
  have hpF := Real.sqrt_nonneg (∑ i, f i ^ 2)
  have hpG := Real.sqrt_nonneg (∑ i, g i ^ 2)
  have hcs : (∑ i, f i * g i) ^ 2 ≤
      (Real.sqrt (∑ i, f i ^ 2) * Real.sqrt (∑ i, g i ^ 2)) ^ 2 := by
    rw [mul_pow, hsF, hsG]
    exact Finset.sum_mul_sq_le_sq_mul_sq _ _ _
  have hfg : -(Real.sqrt (∑ i, f i ^ 2) * Real.sqrt (∑ i, g i ^ 2)) ≤ ∑ i, f i * g i := by
    nlinarith [mul_nonneg hpF hpG]
  have hexp : ∑ i, (f i - g i) ^ 2 = ∑ i, f i ^ 2 + ∑ i, g i ^ 2 - 2 * ∑ i, f i * g i := by
    rw [Finset.mul_sum, ← Finset.sum_add_distrib, ← Finset.sum_sub_distrib]
    exact Finset.sum_congr rfl fun i _ => by ring
  calc Real.sqrt (∑ i, (f i - g i) ^ 2)
      ≤ Real.sqrt ((Real.sqrt (∑ i, f i ^ 2) + Real.sqrt (∑ i, g i ^ 2)) ^ 2) := by
        apply Real.sqrt_le_sqrt
        rw [hexp, add_sq, hsF, hsG]
        linarith
    _ = Real.sqrt (∑ i, f i ^ 2) + Real.sqrt (∑ i, g i ^ 2) :=
        Real.sqrt_sq (add_nonneg hpF hpG)

variable {n : ℕ}

/-- The triangle inequality for the Frobenius norm, in the form `‖A - B‖_F ≤ ‖A‖_F + ‖B‖_F`. -/
theorem frobNorm_sub_le (A B : Matrix (Fin n) (Fin n) ℝ) :
    frobNorm (A - B) ≤ frobNorm A + frobNorm B := by
  simp only [frobNorm, frobSq_eq_sum_prod, Matrix.sub_apply]
  exact sqrt_sum_sq_sub_le (fun p => A p.1 p.2) (fun p => B p.1 p.2)

/-- The zero matrix has Frobenius norm zero. -/
theorem frobNorm_zero : frobNorm (0 : Matrix (Fin n) (Fin n) ℝ) = 0 := by
  have h : frobSq (0 : Matrix (Fin n) (Fin n) ℝ) = 0 := by
    first
    | (simp [frobSq]; done)
    | (rw [frobSq]
       exact Finset.sum_eq_zero fun i _ => Finset.sum_eq_zero fun j _ => by
         rw [Matrix.zero_apply]
         ring)
  rw [frobNorm, h, Real.sqrt_zero]

/-- For a Gram matrix, `‖U Uᵀ‖_F ≤ tr (U Uᵀ) = ∑ₖⱼ Uₖⱼ²`. -/
theorem frobNorm_mul_transpose_le {ι : Type*} [Fintype ι] (U : Matrix (Fin n) ι ℝ) :
    frobNorm (U * Uᵀ) ≤ ∑ k, ∑ j, U k j ^ 2 := by
  have hE : 0 ≤ ∑ k, ∑ j, U k j ^ 2 :=
    Finset.sum_nonneg fun _ _ => Finset.sum_nonneg fun _ _ => sq_nonneg _
  have hrow : ∀ k l, (U * Uᵀ) k l ^ 2 ≤ (∑ j, U k j ^ 2) * ∑ j, U l j ^ 2 := by
    intro k l
    rw [Matrix.mul_apply]
    simpa only [Matrix.transpose_apply] using
      Finset.sum_mul_sq_le_sq_mul_sq Finset.univ (fun j => U k j) (fun j => U l j)
  have hsq : frobSq (U * Uᵀ) ≤ (∑ k, ∑ j, U k j ^ 2) ^ 2 := by
    calc frobSq (U * Uᵀ) = ∑ k, ∑ l, (U * Uᵀ) k l ^ 2 := rfl
      _ ≤ ∑ k, ∑ l, (∑ j, U k j ^ 2) * ∑ j, U l j ^ 2 :=
        Finset.sum_le_sum fun k _ => Finset.sum_le_sum fun l _ => hrow k l
      _ = (∑ k, ∑ j, U k j ^ 2) ^ 2 := by
        rw [sq, Finset.sum_mul]
        refine Finset.sum_congr rfl fun k _ => ?_
        rw [Finset.mul_sum]
  calc frobNorm (U * Uᵀ) ≤ Real.sqrt ((∑ k, ∑ j, U k j ^ 2) ^ 2) := Real.sqrt_le_sqrt hsq
    _ = ∑ k, ∑ j, U k j ^ 2 := Real.sqrt_sq hE

/-- **Trace versus Frobenius norm.** `n - tr M ≤ √n ‖M - I‖_F` (Cauchy–Schwarz on the
diagonal of `M - I`). -/
theorem card_sub_trace_le (M : Matrix (Fin n) (Fin n) ℝ) :
    (n : ℝ) - ∑ k, M k k ≤ Real.sqrt n * frobNorm (M - 1) := by
  have hn : (0 : ℝ) ≤ n := Nat.cast_nonneg n
  have hcs : (∑ k : Fin n, 1 * (1 - M k k)) ^ 2 ≤
      (∑ _k : Fin n, (1 : ℝ) ^ 2) * ∑ k : Fin n, (1 - M k k) ^ 2 :=
    Finset.sum_mul_sq_le_sq_mul_sq _ _ _
  have hsum : ∑ k : Fin n, 1 * (1 - M k k) = (n : ℝ) - ∑ k, M k k := by
    first
      | (simp [Finset.sum_sub_distrib]; done)
      | simp only [one_mul, Finset.sum_sub_distrib, Finset.sum_const, Finset.card_univ,
          Fintype.card_fin, nsmul_eq_mul, mul_one]
  have hone : ∑ _k : Fin n, (1 : ℝ) ^ 2 = n := by
    first
      | (simp; done)
      | simp only [one_pow, Finset.sum_const, Finset.card_univ, Fintype.card_fin,
          nsmul_eq_mul, mul_one]
  have hdiag : ∑ k : Fin n, (1 - M k k) ^ 2 ≤ frobSq (M - 1) := by
    rw [frobSq]
    refine Finset.sum_le_sum fun k _ => ?_
    have hk : (1 - M k k) ^ 2 = (M - 1) k k ^ 2 := by
      rw [Matrix.sub_apply, Matrix.one_apply_eq]
      ring
    rw [hk]
    first
    | exact Finset.single_le_sum (f := fun j => (M - 1) k j ^ 2) (fun j _ => sq_nonneg _)
        (Finset.mem_univ k)
    | exact Finset.single_le_sum (fun j _ => sq_nonneg ((M - 1) k j)) (Finset.mem_univ k)
  rw [hsum, hone] at hcs
  have hb : 0 ≤ Real.sqrt n * frobNorm (M - 1) :=
    mul_nonneg (Real.sqrt_nonneg _) (frobNorm_nonneg _)
  have key : ((n : ℝ) - ∑ k, M k k) ^ 2 ≤ (Real.sqrt n * frobNorm (M - 1)) ^ 2 := by
    rw [mul_pow, Real.sq_sqrt hn, frobNorm_sq]
    nlinarith [mul_le_mul_of_nonneg_left hdiag hn]
  nlinarith [key, hb]

/-! ### Encoders with a finite chaos expansion -/

/-- The chaos coefficients of an encoder `h : ℝⁿ → ℝⁿ` with a finite Hermite expansion
`hₖ(z) = bₖ + ∑ᵢ Wₖᵢ zᵢ + ∑ⱼ Uₖⱼ φⱼ(z)`, where the `φⱼ` are orthonormal Hermite functions of
degree `deg j ≥ 2`. (The mean `b` plays no role: it is removed by the optimal translation in
`D(h)` and does not enter the alignment or the covariance.) -/
structure FiniteChaos (n : ℕ) (ι : Type*) [Fintype ι] where
  /-- The degree-one coefficients. -/
  W : Matrix (Fin n) (Fin n) ℝ
  /-- The coefficients of the nonlinear Hermite functions. -/
  U : Matrix (Fin n) ι ℝ
  /-- The degree of each nonlinear Hermite function. -/
  deg : ι → ℕ
  /-- Nonlinear Hermite functions have degree at least two. -/
  two_le_deg : ∀ j, 2 ≤ deg j

namespace FiniteChaos

variable {ι : Type*} [Fintype ι] (c : FiniteChaos n ι)

/-- Half the alignment contributed by the `k`-th component:
`∑ᵢ (1 - ρ) Wₖᵢ² + ∑ⱼ (1 - ρ^{deg j}) Uₖⱼ²`. -/
def rowAlignment (ρ : ℝ) (k : Fin n) : ℝ :=
  ∑ i, (1 - ρ) * c.W k i ^ 2 + ∑ j, (1 - ρ ^ c.deg j) * c.U k j ^ 2

/-- The alignment `L = 2 ∑ₖ (∑ᵢ (1 - ρ) Wₖᵢ² + ∑ⱼ (1 - ρ^{deg j}) Uₖⱼ²)` (`L4` and Mehler's
formula for a finite expansion). -/
def alignment (ρ : ℝ) : ℝ :=
  2 * ∑ k, c.rowAlignment ρ k

/-- The covariance `Σ_h = W Wᵀ + U Uᵀ`. -/
def cov : Matrix (Fin n) (Fin n) ℝ :=
  c.W * c.Wᵀ + c.U * c.Uᵀ

/-- The nonlinear energy `E_nl = ∑ₖ ∑_{d ≥ 2} e_{k,d} = ∑ₖⱼ Uₖⱼ²`. -/
def nonlinearEnergy : ℝ :=
  ∑ k, ∑ j, c.U k j ^ 2

/-- `E ‖h(z) - Q z - E h‖² = ‖W - Q‖_F² + E_nl`, the squared distance to the rotation `Q`; the
deviation from rotation `D(h)` is the minimum of this over `Q ∈ O(n)`. -/
def deviation (Q : Matrix (Fin n) (Fin n) ℝ) : ℝ :=
  frobSq (c.W - Q) + c.nonlinearEnergy

/-- The alignment excess `ε = L - 2 n (1 - ρ)`. -/
def excess (ρ : ℝ) : ℝ :=
  c.alignment ρ - 2 * n * (1 - ρ)

/-- The whitening (covariance) defect `δ = ‖Σ_h - I‖_F`: the distance of the covariance from the
identity, i.e. of the second moments from the whitening constraint. -/
def whiteningDefect : ℝ :=
  frobNorm (c.cov - 1)

/-- The bound `B = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))` of Theorem 3. -/
def nonlinearBound (ρ : ℝ) : ℝ :=
  (c.excess ρ + 2 * (1 - ρ) * Real.sqrt n * c.whiteningDefect) / (2 * ρ * (1 - ρ))

/-- The diagonal of the covariance: `(Σ_h)ₖₖ = ∑ᵢ Wₖᵢ² + ∑ⱼ Uₖⱼ²`. -/
theorem cov_apply_self (k : Fin n) :
    c.cov k k = ∑ i, c.W k i ^ 2 + ∑ j, c.U k j ^ 2 := by
  first
    | (simp [cov, Matrix.add_apply, Matrix.mul_apply, sq]; done)
    | (rw [cov, Matrix.add_apply, Matrix.mul_apply, Matrix.mul_apply];
       simp only [Matrix.transpose_apply, sq])

/-- The nonlinear energy is nonnegative. -/
theorem nonlinearEnergy_nonneg : 0 ≤ c.nonlinearEnergy :=
  Finset.sum_nonneg fun _ _ => Finset.sum_nonneg fun _ _ => sq_nonneg _

/-- The spectral gap of one component: `ρ (1 - ρ) ∑ⱼ Uₖⱼ² ≤ rowAlignment - (1 - ρ) (Σ_h)ₖₖ`. -/
theorem rowAlignment_gap {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) (k : Fin n) :
    ρ * (1 - ρ) * ∑ j, c.U k j ^ 2 ≤ c.rowAlignment ρ k - (1 - ρ) * c.cov k k := by
  have hid : c.rowAlignment ρ k - (1 - ρ) * c.cov k k =
      ∑ j, ((1 - ρ ^ c.deg j) * c.U k j ^ 2 - (1 - ρ) * c.U k j ^ 2) := by
    rw [c.cov_apply_self k, rowAlignment, Finset.sum_sub_distrib, mul_add, Finset.mul_sum,
      Finset.mul_sum]
    ring
  rw [hid, Finset.mul_sum]
  refine Finset.sum_le_sum fun j _ => ?_
  have hgap := Spectral.mul_one_sub_le_sub hρ0 hρ1 (c.two_le_deg j)
  nlinarith [mul_le_mul_of_nonneg_right hgap (sq_nonneg (c.U k j))]

/-- **Spectral gap (`L1` for a finite expansion).**
`ρ (1 - ρ) E_nl ≤ L / 2 - (1 - ρ) tr Σ_h`. -/
theorem nonlinearEnergy_gap {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) :
    ρ * (1 - ρ) * c.nonlinearEnergy ≤ c.alignment ρ / 2 - (1 - ρ) * ∑ k, c.cov k k := by
  calc ρ * (1 - ρ) * c.nonlinearEnergy = ∑ k, ρ * (1 - ρ) * ∑ j, c.U k j ^ 2 := by
        rw [nonlinearEnergy, Finset.mul_sum]
    _ ≤ ∑ k, (c.rowAlignment ρ k - (1 - ρ) * c.cov k k) :=
        Finset.sum_le_sum fun k _ => c.rowAlignment_gap hρ0 hρ1 k
    _ = c.alignment ρ / 2 - (1 - ρ) * ∑ k, c.cov k k := by
        rw [Finset.sum_sub_distrib, ← Finset.mul_sum, alignment]
        ring

/-- **Theorem 3, nonlinear energy.** For `0 < ρ < 1`, `E_nl ≤ B`. -/
theorem nonlinearEnergy_le {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) :
    c.nonlinearEnergy ≤ c.nonlinearBound ρ := by
  have hgap := c.nonlinearEnergy_gap hρ0.le hρ1.le
  have htr := card_sub_trace_le c.cov
  have h1ρ : 0 < 1 - ρ := by linarith
  have hpos : 0 < 2 * ρ * (1 - ρ) := mul_pos (mul_pos two_pos hρ0) h1ρ
  rw [nonlinearBound, le_div_iff₀ hpos, excess, whiteningDefect]
  -- linear in the monomials once `(1 - ρ) (n - tr Σ_h) ≤ (1 - ρ) √n δ` is supplied
  first
  | linarith [mul_le_mul_of_nonneg_left htr h1ρ.le]
  | nlinarith [mul_le_mul_of_nonneg_left htr h1ρ.le]

/-- `‖W Wᵀ - I‖_F ≤ δ + E_nl`. -/
theorem frobNorm_mul_transpose_sub_one_le :
    frobNorm (c.W * c.Wᵀ - 1) ≤ c.whiteningDefect + c.nonlinearEnergy := by
  have hsplit : c.W * c.Wᵀ - 1 = (c.cov - 1) - c.U * c.Uᵀ := by
    rw [cov]
    abel
  have hU : frobNorm (c.U * c.Uᵀ) ≤ c.nonlinearEnergy := frobNorm_mul_transpose_le c.U
  rw [hsplit]
  calc frobNorm ((c.cov - 1) - c.U * c.Uᵀ) ≤ frobNorm (c.cov - 1) + frobNorm (c.U * c.Uᵀ) :=
        frobNorm_sub_le _ _
    _ ≤ c.whiteningDefect + c.nonlinearEnergy := by
        rw [whiteningDefect]
        linarith

/-- **Theorem 3, deviation from rotation.** For `0 < ρ < 1` there is an orthogonal `Q` with
`‖W - Q‖_F² + E_nl ≤ B + (δ + B)²`; hence `D(h) ≤ B + (δ + B)²`. -/
theorem exists_deviation_le {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) :
    ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
      c.deviation Q ≤ c.nonlinearBound ρ + (c.whiteningDefect + c.nonlinearBound ρ) ^ 2 := by
  obtain ⟨Q, hQ, hWQ⟩ := exists_orthogonal_frobNorm_sub_le c.W
  refine ⟨Q, hQ, ?_⟩
  have hE := c.nonlinearEnergy_le hρ0 hρ1
  have hWW := c.frobNorm_mul_transpose_sub_one_le
  have h0 := frobNorm_nonneg (c.W - Q)
  have hx : frobNorm (c.W - Q) ≤ c.whiteningDefect + c.nonlinearBound ρ := by linarith
  have hdev : c.deviation Q = frobNorm (c.W - Q) ^ 2 + c.nonlinearEnergy := by
    rw [deviation, frobNorm_sq]
  rw [hdev]
  -- `(δ + B)² - x² = (δ + B - x)² + 2 x (δ + B - x)` with `x = ‖W - Q‖_F`: linear in the hints
  first
  | linarith [mul_nonneg h0 (sub_nonneg.2 hx), mul_nonneg (sub_nonneg.2 hx) (sub_nonneg.2 hx)]
  | nlinarith [mul_nonneg h0 (sub_nonneg.2 hx), mul_nonneg (sub_nonneg.2 hx) (sub_nonneg.2 hx)]

/-- The whitening defect of a whitened encoder (`Σ_h = I`) is zero. -/
theorem whiteningDefect_eq_zero (hcov : c.cov = 1) : c.whiteningDefect = 0 := by
  rw [whiteningDefect, hcov, sub_self]
  exact frobNorm_zero

/-- **Theorem 3, whitened corollary.** If `Σ_h = I` (covariance defect `δ = 0`), then with
`B = ε / (2 ρ (1 - ρ))` some `Q ∈ O(n)` has `‖W - Q‖_F² + E_nl ≤ B + B²`. -/
theorem exists_deviation_le_of_cov_eq_one {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1)
    (hcov : c.cov = 1) :
    ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
      c.deviation Q ≤ c.excess ρ / (2 * ρ * (1 - ρ)) + (c.excess ρ / (2 * ρ * (1 - ρ))) ^ 2 := by
  have hB : c.nonlinearBound ρ = c.excess ρ / (2 * ρ * (1 - ρ)) := by
    rw [nonlinearBound, c.whiteningDefect_eq_zero hcov, mul_zero, add_zero]
  obtain ⟨Q, hQ, hdev⟩ := c.exists_deviation_le hρ0 hρ1
  refine ⟨Q, hQ, ?_⟩
  rw [hB, c.whiteningDefect_eq_zero hcov, zero_add] at hdev
  exact hdev

end FiniteChaos

end LeJEPA
