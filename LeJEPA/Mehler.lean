/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Moments
import Mathlib.MeasureTheory.Measure.CharacteristicFunction.Basic

/-!
# The Gaussian-OU step: stationarity and the alignment of one component (`L4`)

The only axiom about the OU step is Mehler's correlation identity
`LeJEPA.mehler_correlation`: `E[f(z) f(z')] = ∑_d ρ ^ d e_d(f)`. Everything else that the
alignment identity needs is proved here from Mathlib:

* **stationarity** (`LeJEPA.map_ouStep`): `z' = ρ z + √(1 - ρ²) ε` is again `γₙ`-distributed.
  The pair law pushed to `(ρ z, √(1 - ρ²) ε)` is a product, so the law of `z'` is the
  convolution of `γₙ.map (ρ • ·)` and `γₙ.map (√(1 - ρ²) • ·)`; its characteristic function is
  `exp (-ρ² ‖t‖² / 2) exp (-(1 - ρ²) ‖t‖² / 2) = exp (-‖t‖² / 2)` (`charFun_conv`,
  `charFun_map_smul`, `charFun_stdGaussian`), that of `γₙ` (`Measure.ext_of_charFun`);
* **integrability**: `f(z')` and `f(z)` are in `L²` of the pair law (the step and the first
  projection, which is the step at `ρ = 1`, preserve the measure), so `(f(z') - f(z))²` and
  `f(z) f(z')` are integrable;
* **the scalar alignment** (`LeJEPA.mehler_scalarAlignment`):
  `E (f(z') - f(z))² = 2 E f² - 2 E[f(z) f(z')] = 2 ∑_d (1 - ρ ^ d) e_d(f)`, by Parseval
  (`LeJEPA.hasSum_chaosEnergy`) and the correlation identity. It was an axiom in earlier versions.

## References

* D. Nualart, *The Malliavin Calculus and Related Topics*, 2nd ed., Springer 2006, §1.4.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory

variable {n : ℕ}

/-- `ρ² + (√(1 - ρ²))² = 1` for `0 ≤ ρ ≤ 1`. -/
theorem sq_add_sqrt_one_sub_sq {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) :
    ρ ^ 2 + Real.sqrt (1 - ρ ^ 2) ^ 2 = 1 := by
  rw [Real.sq_sqrt (by nlinarith)]
  ring

/-- The OU step is measurable. -/
theorem measurable_ouStep (ρ : ℝ) :
    Measurable (fun p : Latent n × Latent n => ouStep ρ p.1 p.2) := by
  show Measurable (fun p : Latent n × Latent n => ρ • p.1 + Real.sqrt (1 - ρ ^ 2) • p.2)
  first
  | fun_prop
  | exact (by fun_prop : Continuous
      (fun p : Latent n × Latent n => ρ • p.1 + Real.sqrt (1 - ρ ^ 2) • p.2)).measurable

/-- **Stationarity of the Gaussian-OU step.** For `0 ≤ ρ ≤ 1`, if `z, ε` are independent standard
Gaussians then `ρ z + √(1 - ρ²) ε` is a standard Gaussian. -/
theorem map_ouStep {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) :
    (pairLaw n).map (fun p => ouStep ρ p.1 p.2) = latentGaussian n := by
  -- the step is "scale each coordinate, then add": the law is a convolution
  have hF : (fun p : Latent n × Latent n => ouStep ρ p.1 p.2) =
      (fun x : Latent n × Latent n => x.1 + x.2) ∘
        Prod.map (fun z : Latent n => ρ • z) (fun z : Latent n => Real.sqrt (1 - ρ ^ 2) • z) :=
    rfl
  have hconv : (pairLaw n).map (fun p => ouStep ρ p.1 p.2) =
      Measure.conv ((latentGaussian n).map (fun z => ρ • z))
        ((latentGaussian n).map (fun z => Real.sqrt (1 - ρ ^ 2) • z)) := by
    rw [hF, ← Measure.map_map, ← Measure.map_prod_map]
    all_goals first
      | rfl
      | (unfold Measure.conv; rfl)
      | fun_prop
      | exact (by fun_prop : Continuous (fun x : Latent n × Latent n => x.1 + x.2)).measurable
      | exact Measurable.prodMap (by fun_prop) (by fun_prop)
      | exact Measurable.prod_map (by fun_prop) (by fun_prop)
  apply Measure.ext_of_charFun
  funext t
  rw [hconv, charFun_conv, charFun_map_smul, charFun_map_smul, charFun_stdGaussian,
    charFun_stdGaussian, charFun_stdGaussian, ← Complex.exp_add]
  congr 1
  have h1 : ‖ρ • t‖ ^ 2 = ρ ^ 2 * ‖t‖ ^ 2 := by
    rw [norm_smul, mul_pow, Real.norm_eq_abs, sq_abs]
  have h2 : ‖Real.sqrt (1 - ρ ^ 2) • t‖ ^ 2 = Real.sqrt (1 - ρ ^ 2) ^ 2 * ‖t‖ ^ 2 := by
    rw [norm_smul, mul_pow, Real.norm_eq_abs, sq_abs]
  have key : -‖ρ • t‖ ^ 2 / 2 + -‖Real.sqrt (1 - ρ ^ 2) • t‖ ^ 2 / 2 = -‖t‖ ^ 2 / 2 := by
    rw [h1, h2]
    linear_combination (-‖t‖ ^ 2 / 2) * sq_add_sqrt_one_sub_sq hρ0 hρ1
  first
  | exact_mod_cast key
  | (have hc := congrArg (fun x : ℝ => (x : ℂ)) key
     push_cast at hc
     linear_combination hc)

/-- The OU step preserves the measure: it maps the pair law to `γₙ`. -/
theorem measurePreserving_ouStep {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) :
    MeasurePreserving (fun p : Latent n × Latent n => ouStep ρ p.1 p.2) (pairLaw n)
      (latentGaussian n) :=
  ⟨measurable_ouStep ρ, map_ouStep hρ0 hρ1⟩

/-- The first projection of the pair law is `γₙ`: it is the OU step at `ρ = 1`. -/
theorem measurePreserving_fst_pairLaw :
    MeasurePreserving (fun p : Latent n × Latent n => p.1) (pairLaw n) (latentGaussian n) := by
  have h := measurePreserving_ouStep (n := n) zero_le_one le_rfl
  have hfun : (fun p : Latent n × Latent n => ouStep 1 p.1 p.2) = fun p => p.1 := by
    funext p
    simp [ouStep]
  rwa [hfun] at h

/-- Integrals against `γₙ` transported along a measure-preserving map. -/
theorem integral_comp_of_measurePreserving {α : Type*} [MeasurableSpace α] {μ : Measure α}
    {F : α → Latent n} (hF : MeasurePreserving F μ (latentGaussian n)) {g : Latent n → ℝ}
    (hg : AEStronglyMeasurable g (latentGaussian n)) :
    ∫ x, g (F x) ∂μ = ∫ z, g z ∂(latentGaussian n) := by
  have hg' : AEStronglyMeasurable g (μ.map F) := by
    rw [hF.map_eq]
    exact hg
  rw [← integral_map hF.measurable.aemeasurable hg', hF.map_eq]

/-- **`L4` for one component (formerly an axiom).** For `0 ≤ ρ ≤ 1` and `f ∈ L²(γₙ)`,
`(f(z') - f(z))²` is integrable and `∑_d (1 - ρ ^ d) e_d(f) = E (f(z') - f(z))² / 2`: from
stationarity (`map_ouStep`), Parseval (`hasSum_chaosEnergy`) and Mehler's correlation identity
(`mehler_correlation`). -/
theorem mehler_scalarAlignment {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {f : Latent n → ℝ}
    (hf : MemLp f 2 (latentGaussian n)) :
    Integrable (fun p : Latent n × Latent n => (f (ouStep ρ p.1 p.2) - f p.1) ^ 2) (pairLaw n) ∧
      HasSum (fun d => (1 - ρ ^ d) * chaosEnergy f d) (scalarAlignment ρ f / 2) := by
  have hmp := measurePreserving_ouStep (n := n) hρ0 hρ1
  have hf1 : MemLp (fun p : Latent n × Latent n => f (ouStep ρ p.1 p.2)) 2 (pairLaw n) :=
    hf.comp_measurePreserving hmp
  have hf0 : MemLp (fun p : Latent n × Latent n => f p.1) 2 (pairLaw n) :=
    hf.comp_measurePreserving measurePreserving_fst_pairLaw
  have hsub : MemLp (fun p : Latent n × Latent n => f (ouStep ρ p.1 p.2) - f p.1) 2
      (pairLaw n) := hf1.sub hf0
  refine ⟨hsub.integrable_sq, ?_⟩
  -- `E f(z')² = E f(z)² = E f²`
  have hsq : AEStronglyMeasurable (fun z => f z ^ 2) (latentGaussian n) :=
    hf.integrable_sq.aestronglyMeasurable
  have h1 : ∫ p, f (ouStep ρ p.1 p.2) ^ 2 ∂(pairLaw n) = ∫ z, f z ^ 2 ∂(latentGaussian n) :=
    integral_comp_of_measurePreserving hmp hsq
  have h0 : ∫ p, f p.1 ^ 2 ∂(pairLaw n) = ∫ z, f z ^ 2 ∂(latentGaussian n) :=
    integral_comp_of_measurePreserving measurePreserving_fst_pairLaw hsq
  -- `E (f(z') - f(z))² = 2 E f² - 2 E[f(z) f(z')]`
  have I1 : Integrable (fun p : Latent n × Latent n => f (ouStep ρ p.1 p.2) ^ 2) (pairLaw n) :=
    hf1.integrable_sq
  have I0 : Integrable (fun p : Latent n × Latent n => f p.1 ^ 2) (pairLaw n) :=
    hf0.integrable_sq
  have I10 : Integrable (fun p : Latent n × Latent n => f p.1 * f (ouStep ρ p.1 p.2))
      (pairLaw n) := integrable_mul_of_memLp hf0 hf1
  have Iadd : Integrable
      (fun p : Latent n × Latent n => f (ouStep ρ p.1 p.2) ^ 2 + f p.1 ^ 2) (pairLaw n) := by
    first
    | exact I1.add I0
    | exact I1.fun_add I0
  have Imul : Integrable
      (fun p : Latent n × Latent n => 2 * (f p.1 * f (ouStep ρ p.1 p.2))) (pairLaw n) :=
    I10.const_mul 2
  have hpt : (fun p : Latent n × Latent n => (f (ouStep ρ p.1 p.2) - f p.1) ^ 2) =
      fun p => (f (ouStep ρ p.1 p.2) ^ 2 + f p.1 ^ 2) - 2 * (f p.1 * f (ouStep ρ p.1 p.2)) := by
    funext p
    ring
  have hexp : scalarAlignment ρ f = 2 * ∫ z, f z ^ 2 ∂(latentGaussian n) -
      2 * ∫ p, f p.1 * f (ouStep ρ p.1 p.2) ∂(pairLaw n) := by
    rw [scalarAlignment, hpt, integral_sub Iadd Imul, integral_add I1 I0, integral_const_mul,
      h1, h0]
    ring
  -- Parseval minus Mehler's correlation identity
  have h := (hasSum_chaosEnergy hf).sub (mehler_correlation hρ0 hρ1 hf)
  have hfun : (fun d => chaosEnergy f d - ρ ^ d * chaosEnergy f d) =
      fun d => (1 - ρ ^ d) * chaosEnergy f d := funext fun d => by ring
  rw [hfun] at h
  rw [hexp]
  convert h using 1
  ring

end LeJEPA
