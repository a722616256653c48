/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Defs
import Mathlib.Algebra.Order.BigOperators.Ring.Finset

/-!
# Theorem 2: the converse (Gaussian uniqueness)

If an affine encoder `h(z) = W z + b`, `W` invertible, meets the LeJEPA constraint for a latent
law `p` — it pushes `p` forward to the standard Gaussian — then `p` is the image of `γₙ` under
the inverse affine map, hence `p = N(-W⁻¹ b, W⁻¹ W⁻ᵀ)` is Gaussian. Contrapositively, for a
non-Gaussian latent law no linear encoder is feasible, so linear identifiability fails.
No axiom is used: this is Mathlib's `Measure.map_map` and its `IsGaussian` instances for images
of Gaussian measures under translations and continuous linear equivalences.

A quantitative companion: for independent standardized components with excess kurtosis `κ`, a
unit projection `u ⬝ z` has excess kurtosis `κ ∑ᵢ uᵢ⁴` (additivity of fourth cumulants), and
`∑ᵢ uᵢ⁴ ≥ 1 / n` on the unit sphere, so every projection is at least `|κ| / n` away from the
Gaussian value `0`. We formalize the inequality on the sphere; the cumulant identity is checked
numerically (`pycheck`, check `T2.gennorm_projection_kurtosis`).

## Main statements

* `LeJEPA.eq_map_of_affine_map_eq`: `p = (γₙ.map (· - b)).map W⁻¹`.
* `LeJEPA.isGaussian_of_affine_map_eq`: `p` is Gaussian.
* `LeJEPA.one_le_card_mul_sum_pow_four`, `LeJEPA.abs_div_card_le_abs_mul_sum_pow_four`:
  `∑ᵢ uᵢ⁴ ≥ 1 / n` on the unit sphere and the resulting kurtosis gap.

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 2.
-/

namespace LeJEPA

open MeasureTheory ProbabilityTheory

variable {n : ℕ}

/-- **Theorem 2.** If the affine map `z ↦ W z + b` (`W` a continuous linear equivalence) pushes
the latent law `p` forward to the standard Gaussian, then `p` is the image of the standard
Gaussian under the inverse map `y ↦ W⁻¹ (y - b)`. -/
theorem eq_map_of_affine_map_eq (W : Latent n ≃L[ℝ] Latent n) (b : Latent n)
    {p : Measure (Latent n)} (hp : p.map (fun z => W z + b) = latentGaussian n) :
    p = ((latentGaussian n).map (fun y => y - b)).map W.symm := by
  have hf : Measurable (fun z : Latent n => W z + b) := by
    first
    | fun_prop
    | exact (W.continuous.add continuous_const).measurable
  have hs : Measurable (fun y : Latent n => y - b) := by
    first
    | fun_prop
    | exact (continuous_id.sub continuous_const).measurable
  have hW : Measurable (W.symm : Latent n → Latent n) := by
    first
    | fun_prop
    | exact W.symm.continuous.measurable
  have hid : (W.symm : Latent n → Latent n) ∘ ((fun y : Latent n => y - b) ∘
      (fun z : Latent n => W z + b)) = id := by
    funext z
    simp
  have hsf : Measurable ((fun y : Latent n => y - b) ∘ (fun z : Latent n => W z + b)) := by
    first
    | exact hs.comp hf
    | fun_prop
  rw [← hp, Measure.map_map hs hf, Measure.map_map hW hsf, hid, Measure.map_id]

/-- **Theorem 2, Gaussian uniqueness.** A latent law that an invertible affine encoder maps to
the standard Gaussian is itself Gaussian (it is `N(-W⁻¹ b, W⁻¹ W⁻ᵀ)`). -/
theorem isGaussian_of_affine_map_eq (W : Latent n ≃L[ℝ] Latent n) (b : Latent n)
    {p : Measure (Latent n)} (hp : p.map (fun z => W z + b) = latentGaussian n) : IsGaussian p := by
  rw [eq_map_of_affine_map_eq W b hp]
  infer_instance

/-- On the unit sphere, `∑ᵢ uᵢ⁴ ≥ 1 / n`, in the form `1 ≤ n ∑ᵢ uᵢ⁴` (Cauchy–Schwarz). -/
theorem one_le_card_mul_sum_pow_four (u : Fin n → ℝ) (hu : ∑ i, u i ^ 2 = 1) :
    1 ≤ (n : ℝ) * ∑ i, u i ^ 4 := by
  have hcs : (∑ i : Fin n, 1 * u i ^ 2) ^ 2 ≤
      (∑ _i : Fin n, (1 : ℝ) ^ 2) * ∑ i : Fin n, (u i ^ 2) ^ 2 :=
    Finset.sum_mul_sq_le_sq_mul_sq _ _ _
  have h1 : ∑ i : Fin n, 1 * u i ^ 2 = 1 := by simpa using hu
  have h2 : ∑ _i : Fin n, (1 : ℝ) ^ 2 = n := by simp
  have h3 : ∑ i : Fin n, (u i ^ 2) ^ 2 = ∑ i, u i ^ 4 :=
    Finset.sum_congr rfl fun i _ => by ring
  rw [h1, h2, h3, one_pow] at hcs
  exact hcs

/-- **Kurtosis gap.** If every unit projection of a latent with independent standardized
components of excess kurtosis `κ` has excess kurtosis `κ ∑ᵢ uᵢ⁴`, then each is at least
`|κ| / n` away from the Gaussian value `0`. -/
theorem abs_div_card_le_abs_mul_sum_pow_four (hn : 0 < n) (κ : ℝ) (u : Fin n → ℝ)
    (hu : ∑ i, u i ^ 2 = 1) : |κ| / n ≤ |κ * ∑ i, u i ^ 4| := by
  have hn' : (0 : ℝ) < n := by exact_mod_cast hn
  have hs : 0 ≤ ∑ i, u i ^ 4 := Finset.sum_nonneg fun i _ => by positivity
  have h := one_le_card_mul_sum_pow_four u hu
  rw [abs_mul, abs_of_nonneg hs, div_le_iff₀ hn']
  have hκ := abs_nonneg κ
  nlinarith

end LeJEPA
