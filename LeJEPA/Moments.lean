/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Axioms
import LeJEPA.Polar
import Mathlib.Probability.Distributions.Gaussian.Fernique
import Mathlib.MeasureTheory.Function.L2Space

/-!
# Moments of `γₙ` and the first Wiener chaos

The first and second moments of the standard Gaussian, products of `L²(γₙ)` functions, the
degree-one chaos energy, and the characterization of the first Wiener chaos: a square-integrable
`f` has all its chaos energy in degree one iff it is almost everywhere a linear form
(`LeJEPA.chaosEnergy_eq_zero_iff`, manifest `L6`). That characterization was an axiom in earlier
versions; here it is proved from Parseval (`LeJEPA.hasSum_chaosEnergy`) and the moments of `γₙ`:
with `aᵢ = E[f zᵢ]`, `E (f - ∑ᵢ aᵢ zᵢ)² = E f² - ∑ᵢ aᵢ² = ∑_d e_d - e_1`.

## Main statements

* `LeJEPA.latentGaussian_linear_moments`: `∑ᵢ aᵢ zᵢ ∈ L²(γₙ)`, `E ∑ aᵢ zᵢ = 0`,
  `E (∑ aᵢ zᵢ)(∑ bᵢ zᵢ) = ∑ aᵢ bᵢ` (from Mathlib's Gaussian API, no axiom).
* `LeJEPA.integral_resid_mul_resid`: the bilinear moment identity.
* `LeJEPA.chaosEnergy_one_eq`: `e_1(f) = ∑ᵢ E[f(z) zᵢ]²` (no axiom).
* `LeJEPA.integral_sub_linear_sq`: `E (f - ∑ᵢ E[f zᵢ] zᵢ)² = E f² - e_1(f)` (no axiom).
* `LeJEPA.chaosEnergy_eq_zero_iff` (`L6`): the first Wiener chaos is the span of the coordinates
  (uses Parseval, `L3`).

## References

* D. Nualart, *The Malliavin Calculus and Related Topics*, 2nd ed., Springer 2006, §1.1.
* S. Janson, *Gaussian Hilbert Spaces*, Cambridge University Press 1997, Ch. 2.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory Matrix
open scoped InnerProductSpace

variable {n : ℕ}

/-! ### First and second moments of `γₙ` -/

-- Mathlib's own `Gaussian/Multivariate.lean` proves `covarianceBilin_stdGaussian` and rewrites
-- with `innerSL_apply_apply` under this option
set_option backward.isDefEq.respectTransparency false in
/-- **First and second moments of γₙ.** A linear form `z ↦ ∑ᵢ aᵢ zᵢ` of a standard Gaussian
vector is square integrable and centered, and `E[⟨a, z⟩⟨b, z⟩] = ⟨a, b⟩` (the covariance of `γₙ`
is the identity). Proved from Mathlib's `IsGaussian.memLp_dual`,
`integral_strongDual_stdGaussian` and `covarianceBilin_stdGaussian` (`= innerSL ℝ`), by writing
`∑ᵢ aᵢ zᵢ = ⟪a, z⟫` (`LeJEPA.Polar.euclidean_inner_eq_sum_mul`); it was an axiom in earlier
versions of this development. -/
theorem latentGaussian_linear_moments (a b : Fin n → ℝ) :
    MemLp (fun z : Latent n => ∑ i, a i * z i) 2 (latentGaussian n) ∧
      ∫ z, ∑ i, a i * z i ∂(latentGaussian n) = 0 ∧
      ∫ z, (∑ i, a i * z i) * (∑ i, b i * z i) ∂(latentGaussian n) = ∑ i, a i * b i := by
  -- vectors of `ℝⁿ` with prescribed coordinates
  have hvec : ∀ c : Fin n → ℝ, ∃ v : Latent n, ∀ k, v k = c k := by
    intro c
    first
    | exact ⟨WithLp.toLp 2 c, fun k => rfl⟩
    | exact ⟨(WithLp.equiv 2 (Fin n → ℝ)).symm c, fun k => rfl⟩
  -- a linear form is an inner product
  have hform : ∀ (v : Latent n) (c : Fin n → ℝ), (∀ k, v k = c k) →
      ∀ z : Latent n, ∑ i, c i * z i = ⟪v, z⟫_ℝ := by
    intro v c hv z
    rw [Polar.euclidean_inner_eq_sum_mul]
    simp only [hv]
  -- `E ⟪v, z⟫ = 0`: `⟪v, ·⟫ = innerSL ℝ v` is a continuous linear form (`innerSL ℝ v z = ⟪v, z⟫`
  -- holds by `rfl`; the rewriting alternatives do not rely on that unfolding)
  have hmean : ∀ v : Latent n, ∫ z, ⟪v, z⟫_ℝ ∂(latentGaussian n) = 0 := by
    intro v
    first
    | exact integral_strongDual_stdGaussian (innerSL ℝ v)
    | exact isCentered_stdGaussian (innerSL ℝ v)
    | (have h := integral_strongDual_stdGaussian (innerSL ℝ v)
       simp only [innerSL_apply_apply] at h
       exact h)
    | (have h := integral_strongDual_stdGaussian (innerSL ℝ v)
       simp only [coe_innerSL_apply] at h
       exact h)
  have hmemLp : ∀ v : Latent n, MemLp (fun z => ⟪v, z⟫_ℝ) 2 (latentGaussian n) := by
    intro v
    first
    | exact IsGaussian.memLp_dual (latentGaussian n) (innerSL ℝ v) 2 (by simp)
    | exact (IsGaussian.memLp_two_id (μ := latentGaussian n)).const_inner v
    | (have h := IsGaussian.memLp_dual (latentGaussian n) (innerSL ℝ v) 2 (by simp)
       simp only [coe_innerSL_apply] at h
       exact h)
  have hcov : ∀ v w : Latent n,
      ∫ z, ⟪v, z⟫_ℝ * ⟪w, z⟫_ℝ ∂(latentGaussian n) = ⟪v, w⟫_ℝ := by
    intro v w
    -- `covarianceBilin γₙ v w = cov[⟪v, ·⟫, ⟪w, ·⟫]` (centered by `hmean`), and
    -- `covarianceBilin γₙ = innerSL ℝ`; the second form is `covarianceBilin_apply`, centered by
    -- `integral_id_stdGaussian`. After rewriting with `covarianceBilin_stdGaussian`, `innerSL ℝ`
    -- sits behind the coercion of `E →L[ℝ] E →L[ℝ] ℝ` (not `E →L⋆[ℝ] …`), so
    -- `innerSL_apply_apply` is not used as a rewrite rule: the last step is `innerSL ℝ v w = ⟪v, w⟫`
    -- by unfolding (`exact`), or through `Eq.trans` with `innerSL_apply_apply`.
    first
    | (have h := covarianceBilin_apply_eq_cov (μ := latentGaussian n) IsGaussian.memLp_two_id v w
       rw [covarianceBilin_stdGaussian, covariance, hmean v, hmean w] at h
       simp only [sub_zero] at h
       first
       | exact h.symm
       | exact h.symm.trans (innerSL_apply_apply (𝕜 := ℝ) v w))
    | (have h := covarianceBilin_apply (μ := stdGaussian (Latent n)) IsGaussian.memLp_two_id v w
       simp only [id_eq, integral_id_stdGaussian, sub_zero] at h
       rw [covarianceBilin_stdGaussian] at h
       first
       | exact h.symm
       | exact h.symm.trans (innerSL_apply_apply (𝕜 := ℝ) v w))
    | (have h := covarianceBilin_apply_eq_cov (μ := latentGaussian n) IsGaussian.memLp_two_id v w
       simp only [covarianceBilin_stdGaussian, covariance, hmean v, hmean w, sub_zero] at h
       exact h.symm)
  obtain ⟨va, hva⟩ := hvec a
  obtain ⟨vb, hvb⟩ := hvec b
  have hfa : (fun z : Latent n => ∑ i, a i * z i) = fun z => ⟪va, z⟫_ℝ :=
    funext (hform va a hva)
  refine ⟨?_, ?_, ?_⟩
  · rw [hfa]
    exact hmemLp va
  · rw [hfa]
    exact hmean va
  · have hab : (fun z : Latent n => (∑ i, a i * z i) * (∑ i, b i * z i)) =
        fun z => ⟪va, z⟫_ℝ * ⟪vb, z⟫_ℝ := by
      funext z
      rw [hform va a hva z, hform vb b hvb z]
    rw [hab, hcov va vb, Polar.euclidean_inner_eq_sum_mul]
    simp only [hva, hvb]

/-- The `k`-th row of the identity matrix picks the `k`-th coordinate. -/
theorem sum_one_apply_mul (k : Fin n) (y : Latent n) :
    ∑ i, (1 : Matrix (Fin n) (Fin n) ℝ) k i * y i = y k := by
  first
  | (rw [Finset.sum_eq_single k (fun i _ hik => by simp [Matrix.one_apply_ne (Ne.symm hik)])
      (fun hk => absurd (Finset.mem_univ k) hk)]
     simp)
  | simp [Matrix.one_apply]

/-! #### Products of `L²(γₙ)` functions and the moments of `γₙ` -/

/-- The product of two `L²` functions is integrable (`|f g| ≤ f² + g²`), for any measure. -/
theorem integrable_mul_of_memLp {α : Type*} [MeasurableSpace α] {μ : Measure α} {f g : α → ℝ}
    (hf : MemLp f 2 μ) (hg : MemLp g 2 μ) :
    Integrable (fun z => f z * g z) μ := by
  have hsum : Integrable (fun z => f z ^ 2 + g z ^ 2) μ := by
    first
    | exact hf.integrable_sq.add hg.integrable_sq
    | exact hf.integrable_sq.fun_add hg.integrable_sq
  have hmeas : AEStronglyMeasurable (fun z => f z * g z) μ := by
    first
    | exact hf.aestronglyMeasurable.mul hg.aestronglyMeasurable
    | exact hf.aestronglyMeasurable.fun_mul hg.aestronglyMeasurable
  refine hsum.mono' hmeas (ae_of_all _ fun z => ?_)
  show ‖f z * g z‖ ≤ f z ^ 2 + g z ^ 2
  rw [Real.norm_eq_abs, abs_le]
  constructor
  · nlinarith [sq_nonneg (f z + g z), sq_nonneg (f z), sq_nonneg (g z)]
  · nlinarith [sq_nonneg (f z - g z), sq_nonneg (f z), sq_nonneg (g z)]

/-- A linear form `z ↦ ∑ᵢ cᵢ zᵢ` is in `L²(γₙ)`. -/
theorem memLp_linear (c : Fin n → ℝ) :
    MemLp (fun z : Latent n => ∑ i, c i * z i) 2 (latentGaussian n) :=
  (latentGaussian_linear_moments c c).1

/-- A coordinate `z ↦ zᵢ` is in `L²(γₙ)` (the linear form of the `i`-th row of `I`). -/
theorem memLp_coord (i : Fin n) : MemLp (fun z : Latent n => z i) 2 (latentGaussian n) := by
  have h := memLp_linear ((1 : Matrix (Fin n) (Fin n) ℝ) i)
  have he : (fun z : Latent n => ∑ j, (1 : Matrix (Fin n) (Fin n) ℝ) i j * z j) =
      fun z => z i :=
    funext fun z => sum_one_apply_mul i z
  first
  | (rw [he] at h; exact h)
  | exact he ▸ h
  | simpa only [sum_one_apply_mul] using h

/-- `E[f(z) ∑ᵢ cᵢ zᵢ] = ∑ᵢ cᵢ E[f(z) zᵢ]` for `f ∈ L²(γₙ)`. -/
theorem integral_mul_linear {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n))
    (c : Fin n → ℝ) :
    ∫ z, f z * ∑ i, c i * z i ∂(latentGaussian n) =
      ∑ i, c i * ∫ z, f z * z i ∂(latentGaussian n) := by
  have hpt : (fun z : Latent n => f z * ∑ i, c i * z i) =
      fun z => ∑ i, c i * (f z * z i) := by
    funext z
    rw [Finset.mul_sum]
    exact Finset.sum_congr rfl fun i _ => by ring
  have hint : ∀ i ∈ (Finset.univ : Finset (Fin n)),
      Integrable (fun z : Latent n => c i * (f z * z i)) (latentGaussian n) :=
    fun i _ => (integrable_mul_of_memLp hf (memLp_coord i)).const_mul (c i)
  rw [hpt, integral_finset_sum Finset.univ hint]
  exact Finset.sum_congr rfl fun i _ => integral_const_mul (c i) _

/-- `E[(f(z) - a) ∑ᵢ cᵢ zᵢ] = ∑ᵢ cᵢ E[f(z) zᵢ]`: a linear form is centered. -/
theorem integral_sub_const_mul_linear {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n))
    (a : ℝ) (c : Fin n → ℝ) :
    ∫ z, (f z - a) * ∑ i, c i * z i ∂(latentGaussian n) =
      ∑ i, c i * ∫ z, f z * z i ∂(latentGaussian n) := by
  have hpt : (fun z : Latent n => (f z - a) * ∑ i, c i * z i) =
      fun z => f z * ∑ i, c i * z i - a * ∑ i, c i * z i :=
    funext fun z => sub_mul _ _ _
  have h1 : Integrable (fun z : Latent n => f z * ∑ i, c i * z i) (latentGaussian n) :=
    integrable_mul_of_memLp hf (memLp_linear c)
  have hI : Integrable (fun z : Latent n => ∑ i, c i * z i) (latentGaussian n) := by
    first
    | exact (memLp_linear c).integrable one_le_two
    | exact (memLp_linear c).integrable (by norm_num)
  have h2 : Integrable (fun z : Latent n => a * ∑ i, c i * z i) (latentGaussian n) :=
    hI.const_mul a
  rw [hpt, integral_sub h1 h2, integral_const_mul, (latentGaussian_linear_moments c c).2.1,
    mul_zero, sub_zero]
  exact integral_mul_linear hf c

/-- Expanding `E[(u₁ - u₂)(v₁ - v₂)]` for functions of `L²(γₙ)`. -/
theorem integral_sub_mul_sub {u₁ u₂ v₁ v₂ : Latent n → ℝ}
    (hu₁ : MemLp u₁ 2 (latentGaussian n)) (hu₂ : MemLp u₂ 2 (latentGaussian n))
    (hv₁ : MemLp v₁ 2 (latentGaussian n)) (hv₂ : MemLp v₂ 2 (latentGaussian n)) :
    ∫ z, (u₁ z - u₂ z) * (v₁ z - v₂ z) ∂(latentGaussian n) =
      ∫ z, u₁ z * v₁ z ∂(latentGaussian n) - ∫ z, u₁ z * v₂ z ∂(latentGaussian n) -
        (∫ z, u₂ z * v₁ z ∂(latentGaussian n) - ∫ z, u₂ z * v₂ z ∂(latentGaussian n)) := by
  have hpt : (fun z => (u₁ z - u₂ z) * (v₁ z - v₂ z)) =
      fun z => (u₁ z * v₁ z - u₁ z * v₂ z) - (u₂ z * v₁ z - u₂ z * v₂ z) := by
    funext z
    ring
  have I11 := integrable_mul_of_memLp hu₁ hv₁
  have I12 := integrable_mul_of_memLp hu₁ hv₂
  have I21 := integrable_mul_of_memLp hu₂ hv₁
  have I22 := integrable_mul_of_memLp hu₂ hv₂
  have J1 : Integrable (fun z => u₁ z * v₁ z - u₁ z * v₂ z) (latentGaussian n) := I11.sub I12
  have J2 : Integrable (fun z => u₂ z * v₁ z - u₂ z * v₂ z) (latentGaussian n) := I21.sub I22
  rw [hpt, integral_sub J1 J2, integral_sub I11 I12, integral_sub I21 I22]

/-- The integral of a constant under `γₙ`. -/
theorem integral_const_latent (c : ℝ) : ∫ _z : Latent n, c ∂(latentGaussian n) = c := by
  first
  | (simp; done)
  | (simp [integral_const, measureReal_univ_eq_one, smul_eq_mul]; done)
  | (rw [integral_const]; simp)

/-- `E[(f - a)(g - b)] = E[f g] - (E f) b - a E g + a b`. -/
theorem integral_sub_const_mul_sub_const {f g : Latent n → ℝ}
    (hf : MemLp f 2 (latentGaussian n)) (hg : MemLp g 2 (latentGaussian n)) (a b : ℝ) :
    ∫ z, (f z - a) * (g z - b) ∂(latentGaussian n) =
      ∫ z, f z * g z ∂(latentGaussian n) - (∫ z, f z ∂(latentGaussian n)) * b -
        a * ∫ z, g z ∂(latentGaussian n) + a * b := by
  have h : ∫ z, (f z - a) * (g z - b) ∂(latentGaussian n) =
      ∫ z, f z * g z ∂(latentGaussian n) - ∫ z, f z * b ∂(latentGaussian n) -
        (∫ z, a * g z ∂(latentGaussian n) - ∫ _z : Latent n, a * b ∂(latentGaussian n)) :=
    integral_sub_mul_sub hf (memLp_const a) hg (memLp_const b)
  -- the constant is given explicitly, so the pattern can only match `∫ _, a * b`
  rw [h, integral_const_latent (a * b), integral_mul_const, integral_const_mul]
  ring

/-- **The bilinear moment identity.** For `f, g ∈ L²(γₙ)`, constants `a, b` and linear forms
`⟨c, z⟩, ⟨d, z⟩`: `E[(f - a - ⟨c, z⟩)(g - b - ⟨d, z⟩)] = E[f g] - (E f) b - a E g + a b
- ∑ᵢ dᵢ E[f zᵢ] - ∑ᵢ cᵢ E[g zᵢ] + ⟨c, d⟩`. -/
theorem integral_resid_mul_resid {f g : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n))
    (hg : MemLp g 2 (latentGaussian n)) (a b : ℝ) (c d : Fin n → ℝ) :
    ∫ z, (f z - a - ∑ i, c i * z i) * (g z - b - ∑ i, d i * z i) ∂(latentGaussian n) =
      (∫ z, f z * g z ∂(latentGaussian n) - (∫ z, f z ∂(latentGaussian n)) * b -
          a * ∫ z, g z ∂(latentGaussian n) + a * b) -
        ∑ i, d i * ∫ z, f z * z i ∂(latentGaussian n) -
        ∑ i, c i * ∫ z, g z * z i ∂(latentGaussian n) + ∑ i, c i * d i := by
  have hF : MemLp (fun z => f z - a) 2 (latentGaussian n) := hf.sub (memLp_const a)
  have hG : MemLp (fun z => g z - b) 2 (latentGaussian n) := hg.sub (memLp_const b)
  have h : ∫ z, (f z - a - ∑ i, c i * z i) * (g z - b - ∑ i, d i * z i) ∂(latentGaussian n) =
      ∫ z, (f z - a) * (g z - b) ∂(latentGaussian n) -
        ∫ z, (f z - a) * ∑ i, d i * z i ∂(latentGaussian n) -
        (∫ z, (∑ i, c i * z i) * (g z - b) ∂(latentGaussian n) -
          ∫ z, (∑ i, c i * z i) * ∑ i, d i * z i ∂(latentGaussian n)) :=
    integral_sub_mul_sub hF (memLp_linear c) hG (memLp_linear d)
  have hcomm : ∫ z, (∑ i, c i * z i) * (g z - b) ∂(latentGaussian n) =
      ∫ z, (g z - b) * ∑ i, c i * z i ∂(latentGaussian n) := by
    first
    | (congr 1; funext z; ring)
    | (refine congrArg (integral (latentGaussian n)) ?_; funext z; ring)
  rw [h, integral_sub_const_mul_sub_const hf hg a b, integral_sub_const_mul_linear hf a d, hcomm,
    integral_sub_const_mul_linear hg b c, (latentGaussian_linear_moments c d).2.2]
  ring

/-! #### The degree-one chaos energy -/

/-- The multi-index `eᵢ`: one in slot `i`, zero elsewhere. -/
def unitIndex (i j : Fin n) : ℕ := if j = i then 1 else 0

theorem unitIndex_injective : Function.Injective (unitIndex (n := n)) := by
  intro i i' hii'
  have h := congrFun hii' i
  by_contra hne
  change (if i = i then 1 else 0) = (if i = i' then 1 else 0) at h
  rw [if_pos rfl, if_neg hne] at h
  exact one_ne_zero h

/-- The multi-indices of degree one are the `eᵢ`. -/
theorem antidiagonalTuple_one_eq_image :
    Finset.Nat.antidiagonalTuple n 1 = Finset.univ.image (unitIndex (n := n)) := by
  ext x
  rw [Finset.Nat.mem_antidiagonalTuple, Finset.mem_image]
  constructor
  · intro hx
    obtain ⟨i, hi⟩ : ∃ i, x i ≠ 0 := by
      by_contra hcon
      push_neg at hcon
      rw [Finset.sum_eq_zero fun i _ => hcon i] at hx
      exact zero_ne_one hx
    have hle : ∀ j, x j ≤ 1 := by
      intro j
      have hj : x j ≤ ∑ k, x k := by
        first
        | exact Finset.single_le_sum (fun k _ => Nat.zero_le (x k)) (Finset.mem_univ j)
        | exact Finset.single_le_sum (f := x) (fun k _ => Nat.zero_le (x k))
            (Finset.mem_univ j)
      rw [hx] at hj
      exact hj
    refine ⟨i, Finset.mem_univ i, funext fun j => ?_⟩
    by_cases hj : j = i
    · rw [hj]
      show (if i = i then 1 else 0) = x i
      rw [if_pos rfl]
      have := hle i
      omega
    · have hpair : x i + x j ≤ 1 := by
        rw [← hx, ← Finset.sum_pair (Ne.symm hj)]
        first
        | exact Finset.sum_le_sum_of_subset (Finset.subset_univ _)
        | exact Finset.sum_le_sum_of_subset_of_nonneg (Finset.subset_univ _)
            fun _ _ _ => Nat.zero_le _
      show (if j = i then 1 else 0) = x j
      rw [if_neg hj]
      omega
  · rintro ⟨i, -, rfl⟩
    show ∑ j, (if j = i then 1 else 0) = 1
    first
    | (simp; done)
    | (rw [Finset.sum_ite_eq']; simp)

/-- `He_{eᵢ}(z) / √eᵢ! = zᵢ`. -/
theorem hermiteFun_unitIndex (i : Fin n) (z : Latent n) :
    hermiteFun (unitIndex i) z = z i := by
  have hprod : ∏ j, probHermite (unitIndex i j) (z j) = z i := by
    rw [Finset.prod_eq_single i]
    · show probHermite (if i = i then 1 else 0) (z i) = z i
      rw [if_pos rfl]
      first
      | rfl
      | simp [probHermite]
    · intro j _ hj
      show probHermite (if j = i then 1 else 0) (z j) = 1
      rw [if_neg hj]
      first
      | rfl
      | simp [probHermite]
    · intro hi
      exact absurd (Finset.mem_univ i) hi
  have hfact : ∏ j, ((unitIndex i j).factorial : ℝ) = 1 := by
    refine Finset.prod_eq_one fun j _ => ?_
    show (((if j = i then 1 else 0 : ℕ)).factorial : ℝ) = 1
    by_cases hj : j = i
    · rw [if_pos hj]
      simp
    · rw [if_neg hj]
      simp
  rw [hermiteFun, hprod, hfact, Real.sqrt_one, div_one]

/-- **The degree-one chaos energy** is `∑ᵢ E[f(z) zᵢ]²`. -/
theorem chaosEnergy_one_eq (f : Latent n → ℝ) :
    chaosEnergy f 1 = ∑ i, (∫ z, f z * z i ∂(latentGaussian n)) ^ 2 := by
  rw [chaosEnergy, antidiagonalTuple_one_eq_image]
  -- `Finset.sum_image` takes `Set.InjOn g s` (the set argument of `Function.Injective.injOn`
  -- is implicit in recent Mathlib, explicit in older versions)
  first
  | rw [Finset.sum_image unitIndex_injective.injOn]
  | rw [Finset.sum_image (unitIndex_injective.injOn _)]
  | rw [Finset.sum_image fun i _ i' _ hii' => unitIndex_injective hii']
  refine Finset.sum_congr rfl fun i _ => ?_
  rw [hermiteCoeff]
  simp only [hermiteFun_unitIndex]

/-! ### Basis vectors -/

/-- Contracting with the basis vector `Pi.single k 1` picks the `k`-th entry. -/
theorem sum_single_one_mul_apply (k : Fin n) (v : Fin n → ℝ) :
    ∑ i, (Pi.single k (1 : ℝ) : Fin n → ℝ) i * v i = v k := by
  first
  | (rw [Finset.sum_eq_single k (fun i _ hik => by simp [Pi.single_apply, hik])
      (fun hk => absurd (Finset.mem_univ k) hk)]
     simp)
  | simp [Pi.single_apply]

/-- The coordinate `z ↦ z k` as a linear form. -/
theorem sum_single_one_mul (k : Fin n) (y : Latent n) :
    ∑ i, (Pi.single k (1 : ℝ) : Fin n → ℝ) i * y i = y k :=
  sum_single_one_mul_apply k (fun i => y i)

/-- The basis vectors `Pi.single k 1` are orthonormal: `∑ᵢ δ_{ik} δ_{il} = δ_{kl}`. -/
theorem sum_single_mul_single (k l : Fin n) :
    ∑ i, (Pi.single k (1 : ℝ) : Fin n → ℝ) i * (Pi.single l (1 : ℝ) : Fin n → ℝ) i =
      if k = l then 1 else 0 := by
  rw [sum_single_one_mul_apply k (Pi.single l (1 : ℝ)), Pi.single_apply]

/-! ### The first Wiener chaos -/

/-- **Distance to the best linear form.** For `f ∈ L²(γₙ)` and `aᵢ = E[f(z) zᵢ]`,
`E (f(z) - ∑ᵢ aᵢ zᵢ)² = E f² - e_1(f)`. No axiom is used. -/
theorem integral_sub_linear_sq {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n))
    (a : Fin n → ℝ) (ha : ∀ i, a i = ∫ z, f z * z i ∂(latentGaussian n)) :
    ∫ z, (f z - 0 - ∑ i, a i * z i) * (f z - 0 - ∑ i, a i * z i) ∂(latentGaussian n) =
      ∫ z, f z ^ 2 ∂(latentGaussian n) - chaosEnergy f 1 := by
  have hsq : (fun z => f z * f z) = fun z => f z ^ 2 := funext fun z => (sq (f z)).symm
  have he1 : chaosEnergy f 1 = ∑ i, a i * a i := by
    rw [chaosEnergy_one_eq]
    exact Finset.sum_congr rfl fun i _ => by rw [ha i]; ring
  rw [integral_resid_mul_resid hf hf 0 0 a a, hsq, he1]
  simp only [← ha]
  ring

/-- **The first Wiener chaos (`L6`).** A square-integrable `f` has all of its chaos energy in
degree one (no mean, no component in degree `≠ 1`) iff it is almost everywhere a linear form
`z ↦ ∑ᵢ aᵢ zᵢ`. Proved from Parseval (`LeJEPA.hasSum_chaosEnergy`): if `e_d(f) = 0` for
`d ≠ 1`, then `E f² = e_1(f)`, so `f` equals `∑ᵢ E[f zᵢ] zᵢ` in `L²` by `integral_sub_linear_sq`;
conversely a linear form `g = ∑ᵢ aᵢ zᵢ` has `E g² = ∑ aᵢ² = e_1(g)`, so its other energies,
nonnegative and summing to `E g² - e_1(g) = 0`, vanish. -/
theorem chaosEnergy_eq_zero_iff {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n)) :
    (∀ d, d ≠ 1 → chaosEnergy f d = 0) ↔
      ∃ a : Fin n → ℝ, ∀ᵐ z ∂(latentGaussian n), f z = ∑ i, a i * z i := by
  constructor
  · intro h0
    obtain ⟨a, ha⟩ : ∃ a : Fin n → ℝ, ∀ i, a i = ∫ z, f z * z i ∂(latentGaussian n) :=
      ⟨fun i => ∫ z, f z * z i ∂(latentGaussian n), fun _ => rfl⟩
    refine ⟨a, ?_⟩
    have hS : ∫ z, f z ^ 2 ∂(latentGaussian n) = chaosEnergy f 1 :=
      (hasSum_chaosEnergy hf).unique (hasSum_single 1 h0)
    have hres : MemLp (fun z : Latent n => f z - 0 - ∑ i, a i * z i) 2 (latentGaussian n) :=
      (hf.sub (memLp_const 0)).sub (memLp_linear a)
    have hval : ∫ z, (f z - 0 - ∑ i, a i * z i) * (f z - 0 - ∑ i, a i * z i)
        ∂(latentGaussian n) = 0 := by
      rw [integral_sub_linear_sq hf a ha, hS, sub_self]
    have hae := (integral_eq_zero_iff_of_nonneg_ae
      (ae_of_all _ fun z => mul_self_nonneg (f z - 0 - ∑ i, a i * z i))
      (integrable_mul_of_memLp hres hres)).1 hval
    filter_upwards [hae] with z hz
    have hz' : (f z - 0 - ∑ i, a i * z i) * (f z - 0 - ∑ i, a i * z i) = 0 := hz
    have h1 := mul_self_eq_zero.1 hz'
    linarith
  · rintro ⟨a, ha⟩
    -- the chaos energies see `f` only through integrals, so `f` may be replaced by the form
    have hcoeff : ∀ α : Fin n → ℕ, hermiteCoeff f α =
        hermiteCoeff (fun z : Latent n => ∑ i, a i * z i) α := by
      intro α
      rw [hermiteCoeff, hermiteCoeff]
      refine integral_congr_ae (ha.mono fun z hz => ?_)
      first
      | simp only [hz]
      | (show f z * hermiteFun α z = (∑ i, a i * z i) * hermiteFun α z
         rw [hz])
    have hce : ∀ d, chaosEnergy f d = chaosEnergy (fun z : Latent n => ∑ i, a i * z i) d :=
      fun d => Finset.sum_congr rfl fun α _ => by rw [hcoeff α]
    -- `E[(∑ⱼ aⱼ zⱼ) zᵢ] = aᵢ`, so `e_1 = ∑ aᵢ²`; and `E (∑ⱼ aⱼ zⱼ)² = ∑ aᵢ²`
    have hcoord : ∀ i, ∫ z, (∑ j, a j * z j) * z i ∂(latentGaussian n) = a i := by
      intro i
      have h := (latentGaussian_linear_moments a (Pi.single i 1)).2.2
      simp only [sum_single_one_mul] at h
      rw [h]
      calc ∑ j, a j * (Pi.single i (1 : ℝ) : Fin n → ℝ) j
          = ∑ j, (Pi.single i (1 : ℝ) : Fin n → ℝ) j * a j :=
            Finset.sum_congr rfl fun j _ => mul_comm _ _
        _ = a i := sum_single_one_mul_apply i a
    have he1 : chaosEnergy (fun z : Latent n => ∑ i, a i * z i) 1 = ∑ i, a i * a i := by
      rw [chaosEnergy_one_eq]
      refine Finset.sum_congr rfl fun i _ => ?_
      first
      | (rw [hcoord i]; ring)
      | (simp only [hcoord i]; ring)
    have hsq : ∫ z, (∑ i, a i * z i) ^ 2 ∂(latentGaussian n) = ∑ i, a i * a i := by
      rw [← (latentGaussian_linear_moments a a).2.2]
      exact integral_congr_ae (ae_of_all _ fun z => sq _)
    have hS := hasSum_chaosEnergy (memLp_linear (n := n) a)
    -- the energies other than `e_1` are nonnegative and sum to `E g² - e_1(g) = 0`
    have hT := hS.sub (hasSum_ite_eq 1 (chaosEnergy (fun z : Latent n => ∑ i, a i * z i) 1))
    have h0 : ∫ z, (∑ i, a i * z i) ^ 2 ∂(latentGaussian n) -
        chaosEnergy (fun z : Latent n => ∑ i, a i * z i) 1 = 0 := by
      rw [hsq, he1, sub_self]
    rw [h0] at hT
    intro d hd
    rw [hce d]
    have hle := le_hasSum hT d fun k _ => by
      by_cases hk : k = 1
      · subst hk
        simp
      · simp [hk, chaosEnergy_nonneg]
    rw [if_neg hd, sub_zero] at hle
    exact le_antisymm hle (chaosEnergy_nonneg _ d)

end LeJEPA
