/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Spectral
import LeJEPA.Mehler

/-!
# Theorem 1: the forward direction (linear identifiability)

In the Gaussian-OU world `z ~ γₙ`, `z' = ρ z + √(1 - ρ²) ε`, an encoder `h : ℝⁿ → ℝⁿ` is
*whitened* if `E h = 0` and `E h hᵀ = I`; every `h` with `h(z) ~ γₙ` is whitened
(`LeJEPA.whitened_of_map_eq`). The LeJEPA alignment is `L(h) = E ‖h(z') - h(z)‖²`.

We prove that every whitened `h` has `L(h) ≥ 2 n (1 - ρ)`, with equality iff `h(z) = Q z`
almost surely for an orthogonal `Q`, and that the minimizers of `L` over whitened encoders are
exactly these rotations. Only second moments of `h` enter: this is why the variance-covariance
regularizer of VICReg also identifies the latents.

The route: by Mehler's formula (`LeJEPA.mehler_scalarAlignment`, proved in `LeJEPA/Mehler.lean`
from the axiom `LeJEPA.mehler_correlation` and the stationarity of the OU step) the alignment of a
component is `2 ∑_d (1 - ρ ^ d) e_d`, its chaos energies sum to `1` (Parseval,
`LeJEPA.hasSum_chaosEnergy`), and the spectral core `LeJEPA.Spectral` does the rest. Components
with all energy in degree one are linear (`LeJEPA.chaosEnergy_eq_zero_iff`), and whitening makes
the coefficient matrix orthogonal (`LeJEPA.latentGaussian_linear_moments`, the first and second
moments of `γₙ`, proved in `LeJEPA/Moments.lean` from Mathlib's Gaussian API). The first-chaos
characterization `LeJEPA.chaosEnergy_eq_zero_iff` is proved there from Parseval (manifest `L6`).

## Main statements

* `LeJEPA.alignment_eq_sum_scalarAlignment`, `LeJEPA.alignment_eq_tsum` (manifest `L4`):
  `L(h) = ∑ₖ E (hₖ(z') - hₖ(z))² = ∑ₖ ∑_d 2 (1 - ρ ^ d) e_{k,d}`.
* `LeJEPA.two_mul_card_mul_le_alignment` (`T1`): `2 n (1 - ρ) ≤ L(h)` for whitened `h`.
* `LeJEPA.alignment_eq_iff` (`T1`): equality iff `h = Q z` a.e. with `Q ∈ O(n)`.
* `LeJEPA.isMinimizer_iff` (`T1`): the minimizers over whitened encoders are the rotations.
* `LeJEPA.whitened_of_map_eq` (`T1`): Gaussianity `h(z) ~ γₙ` implies whitening.
* `LeJEPA.isMinimizer_feasible_iff` (`T1`, the paper's form): among measurable encoders with
  `γₙ.map h = γₙ`, the minimizers of the alignment are exactly the a.e. rotations; the identity
  encoder is the comparison.
* `LeJEPA.latentGaussian_map_linearIsometryEquiv` (`L7`): `γₙ.map L = γₙ` for every linear
  isometry `L` of `ℝⁿ`, so rotations are feasible. (A matrix `Q ∈ O(n)` acting as `z ↦ Q z` is
  such an `L`; that step from matrices to `LinearIsometryEquiv` is not formalized here.)

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 1.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory Matrix
open scoped InnerProductSpace

variable {n : ℕ}

/-- The second-moment (whitening) constraint on an encoder: each component is in `L²(γₙ)`,
`E h = 0` and `E h hᵀ = I`. -/
structure Whitened (h : Latent n → Latent n) : Prop where
  /-- Each component is square integrable. -/
  memLp : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)
  /-- `E h = 0`. -/
  integral_eq_zero : ∀ k, ∫ z, h z k ∂(latentGaussian n) = 0
  /-- `E h hᵀ = I`. -/
  integral_mul : ∀ k l, ∫ z, h z k * h z l ∂(latentGaussian n) = if k = l then 1 else 0

/-- The LeJEPA alignment `L(h) = E ‖h(z') - h(z)‖²` in the Gaussian-OU world. -/
def alignment (ρ : ℝ) (h : Latent n → Latent n) : ℝ :=
  ∫ p, ‖h (ouStep ρ p.1 p.2) - h p.1‖ ^ 2 ∂(pairLaw n)

/-- A whitened component has unit second moment. -/
theorem Whitened.integral_sq {h : Latent n → Latent n} (hw : Whitened h) (k : Fin n) :
    ∫ z, h z k ^ 2 ∂(latentGaussian n) = 1 := by
  simpa [sq] using hw.integral_mul k k

/-- `Q * Qᵀ = 1` means `Q ∈ O(n)`. -/
theorem mem_orthogonalGroup_of_mul_transpose {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q * Qᵀ = 1) : Q ∈ Matrix.orthogonalGroup (Fin n) ℝ := by
  rw [Matrix.mem_orthogonalGroup_iff]
  -- `A * Aᵀ = 1` in recent Mathlib, `A * star A = 1` in older versions
  first
  | exact hQ
  | simpa [Matrix.star_eq_conjTranspose] using hQ

/-- An orthogonal matrix satisfies `Q * Qᵀ = 1`. -/
theorem mul_transpose_eq_one_of_mem {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q ∈ Matrix.orthogonalGroup (Fin n) ℝ) : Q * Qᵀ = 1 := by
  rw [Matrix.mem_orthogonalGroup_iff] at hQ
  first
  | exact hQ
  | simpa [Matrix.star_eq_conjTranspose] using hQ

/-! ### `L4`: the alignment as a weighted chaos energy -/

/-- The alignment splits over the components of the encoder. -/
theorem alignment_eq_sum_scalarAlignment {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1)
    {h : Latent n → Latent n} (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    alignment ρ h = ∑ k, scalarAlignment ρ (fun z => h z k) := by
  have hint : ∀ k ∈ (Finset.univ : Finset (Fin n)), Integrable
      (fun p : Latent n × Latent n => (h (ouStep ρ p.1 p.2) k - h p.1 k) ^ 2) (pairLaw n) :=
    fun k _ => (mehler_scalarAlignment hρ0 hρ1 (hh k)).1
  simp only [alignment, scalarAlignment]
  rw [← integral_finset_sum Finset.univ hint]
  congr 1
  ext p
  -- `‖x‖² = ∑ᵢ xᵢ²` on `EuclideanSpace ℝ ι` (`EuclideanSpace.real_norm_sq_eq`), and
  -- `(x - y) i = x i - y i` (`PiLp.sub_apply`, true by `rfl`)
  -- (`rw` itself may already close the goal by `with_reducible rfl` once `(x - y) i` unfolds,
  -- in which case a following tactic would fail on "no goals": hence the second alternative)
  first
  | (rw [EuclideanSpace.real_norm_sq_eq]; simp only [PiLp.sub_apply]; done)
  | (rw [EuclideanSpace.real_norm_sq_eq]; done)
  | (rw [EuclideanSpace.real_norm_sq_eq]; rfl)
  | (rw [PiLp.norm_sq_eq_of_L2]; simp only [PiLp.sub_apply, Real.norm_eq_abs, sq_abs]; done)

/-- **`L4`, alignment as a weighted chaos energy.** For an encoder with square-integrable
components, `L(h) = ∑ₖ ∑_d 2 (1 - ρ ^ d) e_{k,d}` where `e_{k,d}` is the degree-`d` chaos energy
of the `k`-th component. -/
theorem alignment_eq_tsum {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    alignment ρ h = ∑ k, ∑' d, 2 * ((1 - ρ ^ d) * chaosEnergy (fun z => h z k) d) := by
  rw [alignment_eq_sum_scalarAlignment hρ0 hρ1 hh]
  refine Finset.sum_congr rfl fun k _ => ?_
  have hA := ((mehler_scalarAlignment hρ0 hρ1 (hh k)).2).mul_left 2
  rw [hA.tsum_eq]
  ring

/-! ### The per-component bound -/

/-- A centered, unit-variance component has alignment at least `2 (1 - ρ)`. -/
theorem two_mul_one_sub_le_scalarAlignment {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1)
    {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n))
    (hmean : ∫ z, f z ∂(latentGaussian n) = 0) (hvar : ∫ z, f z ^ 2 ∂(latentGaussian n) = 1) :
    2 * (1 - ρ) ≤ scalarAlignment ρ f := by
  have hS := hasSum_chaosEnergy hf
  rw [hvar] at hS
  have h := Spectral.one_sub_mul_le_of_hasSum hρ0 hρ1 (chaosEnergy_nonneg f)
    (by simp [chaosEnergy_zero, hmean]) hS (mehler_scalarAlignment hρ0 hρ1 hf).2
  linarith

/-- A centered, unit-variance component attains the bound `2 (1 - ρ)` iff it is almost surely
linear. -/
theorem scalarAlignment_eq_iff {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {f : Latent n → ℝ}
    (hf : MemLp f 2 (latentGaussian n)) (hmean : ∫ z, f z ∂(latentGaussian n) = 0)
    (hvar : ∫ z, f z ^ 2 ∂(latentGaussian n) = 1) :
    scalarAlignment ρ f = 2 * (1 - ρ) ↔
      ∃ a : Fin n → ℝ, ∀ᵐ z ∂(latentGaussian n), f z = ∑ i, a i * z i := by
  have hS := hasSum_chaosEnergy hf
  rw [hvar] at hS
  have h := Spectral.hasSum_eq_one_sub_mul_iff hρ0 hρ1 (chaosEnergy_nonneg f)
    (by simp [chaosEnergy_zero, hmean]) hS (mehler_scalarAlignment hρ0.le hρ1.le hf).2
  rw [← chaosEnergy_eq_zero_iff hf, ← h]
  constructor <;> intro h' <;> linarith

/-! ### Rotations are whitened -/

/-- An encoder that is a.e. equal to an orthogonal map `z ↦ Q z` is whitened. -/
theorem whitened_of_orthogonal {Q : Matrix (Fin n) (Fin n) ℝ}
    (hQ : Q ∈ Matrix.orthogonalGroup (Fin n) ℝ) {h : Latent n → Latent n}
    (hh : ∀ z k, h z k = ∑ i, Q k i * z i) : Whitened h where
  memLp k := by
    simp only [hh]
    exact (latentGaussian_linear_moments (Q k) (Q k)).1
  integral_eq_zero k := by
    simp only [hh]
    exact (latentGaussian_linear_moments (Q k) (Q k)).2.1
  integral_mul k l := by
    simp only [hh]
    rw [(latentGaussian_linear_moments (Q k) (Q l)).2.2]
    have hkl := congrFun (congrFun (mul_transpose_eq_one_of_mem hQ) k) l
    simpa [Matrix.mul_apply, Matrix.one_apply] using hkl

/-- The identity encoder is whitened. -/
theorem whitened_id : Whitened (fun z : Latent n => z) :=
  whitened_of_orthogonal (one_mem _) fun z k => (sum_one_apply_mul k z).symm

/-! ### Theorem 1 -/

/-- `2 n (1 - ρ)` as a sum of `n` copies of `2 (1 - ρ)`. -/
theorem two_mul_card_mul_eq_sum (ρ : ℝ) :
    (2 * n * (1 - ρ) : ℝ) = ∑ _k : Fin n, 2 * (1 - ρ) := by
  rw [Finset.sum_const, Finset.card_univ, Fintype.card_fin, nsmul_eq_mul]
  ring

/-- **Theorem 1, lower bound.** In the Gaussian-OU world with `0 ≤ ρ ≤ 1`, every whitened
encoder has alignment `L(h) ≥ 2 n (1 - ρ)`. -/
theorem two_mul_card_mul_le_alignment {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1)
    {h : Latent n → Latent n} (hw : Whitened h) : 2 * n * (1 - ρ) ≤ alignment ρ h := by
  rw [alignment_eq_sum_scalarAlignment hρ0 hρ1 hw.memLp, two_mul_card_mul_eq_sum]
  exact Finset.sum_le_sum fun k _ => two_mul_one_sub_le_scalarAlignment hρ0 hρ1
    (hw.memLp k) (hw.integral_eq_zero k) (hw.integral_sq k)

/-- **Theorem 1, equality case.** For `0 < ρ < 1`, a whitened encoder attains
`L(h) = 2 n (1 - ρ)` iff `h(z) = Q z` for almost every `z`, for some orthogonal `Q`. -/
theorem alignment_eq_iff {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {h : Latent n → Latent n}
    (hw : Whitened h) :
    alignment ρ h = 2 * n * (1 - ρ) ↔
      ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
        ∀ᵐ z ∂(latentGaussian n), ∀ k, h z k = ∑ i, Q k i * z i := by
  have hlow : ∀ k, 2 * (1 - ρ) ≤ scalarAlignment ρ (fun z => h z k) := fun k =>
    two_mul_one_sub_le_scalarAlignment hρ0.le hρ1.le (hw.memLp k) (hw.integral_eq_zero k)
      (hw.integral_sq k)
  have hcomp := fun k => scalarAlignment_eq_iff hρ0 hρ1 (hw.memLp k) (hw.integral_eq_zero k)
    (hw.integral_sq k)
  rw [alignment_eq_sum_scalarAlignment hρ0.le hρ1.le hw.memLp, two_mul_card_mul_eq_sum]
  constructor
  · intro hL
    have hk : ∀ k, scalarAlignment ρ (fun z => h z k) = 2 * (1 - ρ) := by
      have h0 : ∑ k, (scalarAlignment ρ (fun z => h z k) - 2 * (1 - ρ)) = 0 := by
        rw [Finset.sum_sub_distrib, hL, sub_self]
      intro k
      have h1 : scalarAlignment ρ (fun z => h z k) - 2 * (1 - ρ) = 0 :=
        (Finset.sum_eq_zero_iff_of_nonneg fun k _ => sub_nonneg.2 (hlow k)).1 h0 k
          (Finset.mem_univ k)
      linarith
    choose a ha using fun k => (hcomp k).1 (hk k)
    have hrow : ∀ k l, ∑ i, a k i * a l i = if k = l then 1 else 0 := by
      intro k l
      rw [← hw.integral_mul k l, ← (latentGaussian_linear_moments (a k) (a l)).2.2]
      refine integral_congr_ae ?_
      filter_upwards [ha k, ha l] with z hzk hzl
      simp only [hzk, hzl]
    refine ⟨Matrix.of a, mem_orthogonalGroup_of_mul_transpose ?_, ?_⟩
    · ext k l
      simpa [Matrix.mul_apply, Matrix.one_apply] using hrow k l
    · refine ae_all_iff.2 fun k => ?_
      simpa only [Matrix.of_apply] using ha k
  · rintro ⟨Q, -, hQ⟩
    have hk : ∀ k, scalarAlignment ρ (fun z => h z k) = 2 * (1 - ρ) := fun k =>
      (hcomp k).2 ⟨Q k, hQ.mono fun z hz => hz k⟩
    simp only [hk]

/-- **Theorem 1, LeJEPA minimizers.** For `0 < ρ < 1`, a whitened encoder minimizes the
alignment among all whitened encoders iff it is almost surely a rotation `z ↦ Q z`,
`Q ∈ O(n)`. -/
theorem isMinimizer_iff {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {h : Latent n → Latent n}
    (hw : Whitened h) :
    (∀ h' : Latent n → Latent n, Whitened h' → alignment ρ h ≤ alignment ρ h') ↔
      ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
        ∀ᵐ z ∂(latentGaussian n), ∀ k, h z k = ∑ i, Q k i * z i := by
  rw [← alignment_eq_iff hρ0 hρ1 hw]
  have hid : alignment ρ (fun z : Latent n => z) = 2 * n * (1 - ρ) :=
    (alignment_eq_iff hρ0 hρ1 whitened_id).2
      ⟨1, one_mem _, ae_of_all _ fun z k => (sum_one_apply_mul k z).symm⟩
  constructor
  · intro hmin
    exact le_antisymm ((hmin _ whitened_id).trans hid.le)
      (two_mul_card_mul_le_alignment hρ0.le hρ1.le hw)
  · intro hL h' hw'
    rw [hL]
    exact two_mul_card_mul_le_alignment hρ0.le hρ1.le hw'

/-! ### Gaussianity implies whitening -/

/-- **Theorem 1, Gaussianity constraint.** If a measurable encoder pushes `γₙ` forward to `γₙ`,
i.e. `h(z) ~ N(0, Iₙ)`, then it is whitened; so the bounds above hold for every encoder meeting
the LeJEPA constraint. -/
theorem whitened_of_map_eq {h : Latent n → Latent n} (hh : Measurable h)
    (hmap : (latentGaussian n).map h = latentGaussian n) : Whitened h := by
  have hmom := fun k l : Fin n =>
    latentGaussian_linear_moments (n := n) (Pi.single k 1) (Pi.single l 1)
  have hL2 : ∀ k : Fin n, MemLp (fun y : Latent n => y k) 2 (latentGaussian n) := fun k => by
    simpa only [sum_single_one_mul] using (hmom k k).1
  have hmean : ∀ k : Fin n, ∫ y, y k ∂(latentGaussian n) = 0 := fun k => by
    simpa only [sum_single_one_mul] using (hmom k k).2.1
  have hcov : ∀ k l : Fin n, ∫ y, y k * y l ∂(latentGaussian n) = if k = l then 1 else 0 := by
    intro k l
    have h2 := (hmom k l).2.2
    simp only [sum_single_one_mul] at h2
    rw [h2, sum_single_mul_single]
  have transfer : ∀ g : Latent n → ℝ, AEStronglyMeasurable g (latentGaussian n) →
      ∫ z, g (h z) ∂(latentGaussian n) = ∫ y, g y ∂(latentGaussian n) := by
    intro g hg
    have hg' : AEStronglyMeasurable g ((latentGaussian n).map h) := by rw [hmap]; exact hg
    rw [← integral_map hh.aemeasurable hg', hmap]
  refine ⟨fun k => ?_, fun k => ?_, fun k l => ?_⟩
  · have hk : MemLp (fun y : Latent n => y k) 2 ((latentGaussian n).map h) := by
      rw [hmap]; exact hL2 k
    exact (memLp_map_measure_iff hk.aestronglyMeasurable hh.aemeasurable).1 hk
  · rw [transfer (fun y => y k) (hL2 k).aestronglyMeasurable, hmean k]
  · have hkl : AEStronglyMeasurable (fun y : Latent n => y k * y l) (latentGaussian n) := by
      first
      | exact (hL2 k).aestronglyMeasurable.mul (hL2 l).aestronglyMeasurable
      | exact (hL2 k).aestronglyMeasurable.fun_mul (hL2 l).aestronglyMeasurable
      | fun_prop
    rw [transfer (fun y => y k * y l) hkl, hcov k l]

/-! ### Theorem 1 under the Gaussianity constraint -/

/-- The LeJEPA constraint on an encoder: `h` is measurable and `h(z) ~ γₙ`, i.e. it pushes the
standard Gaussian forward to itself. -/
def Feasible (h : Latent n → Latent n) : Prop :=
  Measurable h ∧ (latentGaussian n).map h = latentGaussian n

/-- The identity encoder is feasible. -/
theorem feasible_id : Feasible (fun z : Latent n => z) := by
  refine ⟨by first | exact measurable_id | exact measurable_id', ?_⟩
  first
  | exact Measure.map_id
  | exact Measure.map_id'

/-- **Rotations preserve `γₙ` (`L7`).** For every linear isometry equivalence `L` of `ℝⁿ`
(for instance `z ↦ Q z` with `Q ∈ O(n)`), `γₙ.map L = γₙ`: Mathlib's `stdGaussian_map`. -/
theorem latentGaussian_map_linearIsometryEquiv (L : Latent n ≃ₗᵢ[ℝ] Latent n) :
    (latentGaussian n).map L = latentGaussian n :=
  stdGaussian_map L

/-- Rotations are feasible encoders. -/
theorem feasible_linearIsometryEquiv (L : Latent n ≃ₗᵢ[ℝ] Latent n) :
    Feasible (fun z => L z) :=
  ⟨L.continuous.measurable, latentGaussian_map_linearIsometryEquiv L⟩

/-- The identity encoder attains `L = 2 n (1 - ρ)`. -/
theorem alignment_id {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) :
    alignment ρ (fun z : Latent n => z) = 2 * n * (1 - ρ) :=
  (alignment_eq_iff hρ0 hρ1 whitened_id).2
    ⟨1, one_mem _, ae_of_all _ fun z k => (sum_one_apply_mul k z).symm⟩

/-- **Theorem 1, lower bound, Gaussianity form.** Every feasible encoder has
`L(h) ≥ 2 n (1 - ρ)`. -/
theorem two_mul_card_mul_le_alignment_of_feasible {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1)
    {h : Latent n → Latent n} (hf : Feasible h) : 2 * n * (1 - ρ) ≤ alignment ρ h :=
  two_mul_card_mul_le_alignment hρ0 hρ1 (whitened_of_map_eq hf.1 hf.2)

/-- **Theorem 1, the paper's statement.** For `0 < ρ < 1`, a measurable encoder `h` with
`γₙ.map h = γₙ` minimizes the alignment among all such encoders iff `h(z) = Q z` for almost
every `z`, for some `Q ∈ O(n)`. The comparison is the identity encoder, which is feasible. -/
theorem isMinimizer_feasible_iff {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {h : Latent n → Latent n}
    (hf : Feasible h) :
    (∀ h' : Latent n → Latent n, Feasible h' → alignment ρ h ≤ alignment ρ h') ↔
      ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
        ∀ᵐ z ∂(latentGaussian n), ∀ k, h z k = ∑ i, Q k i * z i := by
  have hw := whitened_of_map_eq hf.1 hf.2
  rw [← alignment_eq_iff hρ0 hρ1 hw]
  constructor
  · intro hmin
    exact le_antisymm ((hmin _ feasible_id).trans (alignment_id hρ0 hρ1).le)
      (two_mul_card_mul_le_alignment hρ0.le hρ1.le hw)
  · intro hL h' hf'
    rw [hL]
    exact two_mul_card_mul_le_alignment_of_feasible hρ0.le hρ1.le hf'

end LeJEPA
