/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Moments
import Mathlib.Algebra.Order.BigOperators.Ring.Finset
import Mathlib.Analysis.InnerProductSpace.Projection.FiniteDimensional
import Mathlib.Analysis.InnerProductSpace.Projection.Submodule

/-!
# Theorem 2: the converse (Gaussian uniqueness)

If an affine encoder `h(z) = W z + b`, `W` invertible, meets the LeJEPA constraint for a latent
law `p` — it pushes `p` forward to the standard Gaussian — then `p` is the image of `γₙ` under
the inverse affine map, hence `p = N(-W⁻¹ b, W⁻¹ W⁻ᵀ)` is Gaussian. Contrapositively, for a
non-Gaussian latent law no linear encoder is feasible, so linear identifiability fails.
No axiom is used: this is Mathlib's `Measure.map_map` and its `IsGaussian` instances for images
of Gaussian measures under translations and continuous linear equivalences.

The linear part need not be assumed invertible, and the encoder need only be affine `p`-almost
everywhere (`LeJEPA.isGaussian_of_ae_affine_map_eq`): if `h = A · + b` `p`-a.e. for a continuous
linear `A` and `p.map h = γₙ`, then `A` is bijective — otherwise some `u ≠ 0` is orthogonal to the
range of `A`, so `⟨u, h⟩ = ⟨u, b⟩` `p`-a.s. and `⟨u, y⟩` would be a.s. constant under `γₙ`,
against its variance `‖u‖² > 0` — and `p` is Gaussian. Hence, for a non-Gaussian latent law, no
feasible encoder is `p`-a.e. affine (`LeJEPA.map_ne_of_not_isGaussian`). The identification of
`p` as `N(-W⁻¹ b, W⁻¹ W⁻ᵀ)` is stated as the image of `γₙ` under `y ↦ W⁻¹ (y - b)`
(`LeJEPA.eq_map_of_affine_map_eq`), not through Mathlib's `multivariateGaussian`.

A quantitative companion: for independent standardized components with excess kurtosis `κ`, a
unit projection `u ⬝ z` has excess kurtosis `κ ∑ᵢ uᵢ⁴` (additivity of fourth cumulants), and
`∑ᵢ uᵢ⁴ ≥ 1 / n` on the unit sphere, so every projection is at least `|κ| / n` away from the
Gaussian value `0`. We formalize the inequality on the sphere; the cumulant identity
`E (u ⬝ X)⁴ = 3 (∑ uᵢ²)² + κ ∑ uᵢ⁴` is *not* formalized: it is checked numerically only (`pycheck`,
checks `T2.gennorm_projection_kurtosis`, `T2.laplace_uniform_kurtosis`), and the manifest says so.

## Main statements

* `LeJEPA.eq_map_of_affine_map_eq`: `p = (γₙ.map (· - b)).map W⁻¹`.
* `LeJEPA.isGaussian_of_affine_map_eq`: `p` is Gaussian.
* `LeJEPA.not_ae_linear_eq_const`: a nonzero linear form of `z ~ γₙ` is not a.s. constant.
* `LeJEPA.bijective_of_ae_affine_map_eq`, `LeJEPA.isGaussian_of_ae_affine_map_eq`: the general
  form (`A` any continuous linear map, `h = A · + b` only `p`-a.e.).
* `LeJEPA.map_ne_of_not_isGaussian`: the world-level corollary.
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
the standard Gaussian is itself Gaussian: the image of `γₙ` under `y ↦ W⁻¹ (y - b)`
(`eq_map_of_affine_map_eq`; that this law is `N(-W⁻¹ b, W⁻¹ W⁻ᵀ)` is linear algebra, not stated
here). -/
theorem isGaussian_of_affine_map_eq (W : Latent n ≃L[ℝ] Latent n) (b : Latent n)
    {p : Measure (Latent n)} (hp : p.map (fun z => W z + b) = latentGaussian n) : IsGaussian p := by
  rw [eq_map_of_affine_map_eq W b hp]
  infer_instance

/-- **A nonzero linear form of `γₙ` is not a.s. constant.** If `∑ᵢ uᵢ² ≠ 0`, then
`z ↦ ∑ᵢ uᵢ zᵢ` is not `γₙ`-a.s. equal to a constant: its mean is `0` and its second moment is
`∑ᵢ uᵢ² > 0` (`LeJEPA.latentGaussian_linear_moments`). -/
theorem not_ae_linear_eq_const {u : Fin n → ℝ} (hu : ∑ i, u i ^ 2 ≠ 0) (c : ℝ) :
    ¬ ∀ᵐ y ∂(latentGaussian n), ∑ i, u i * y i = c := by
  intro hae
  have hmom := latentGaussian_linear_moments u u
  have hae' : (fun y : Latent n => ∑ i, u i * y i) =ᵐ[latentGaussian n] fun _ => c := hae
  have hc : c = 0 := by
    have h1 : ∫ y, ∑ i, u i * y i ∂(latentGaussian n) = c :=
      (integral_congr_ae hae').trans (integral_const_latent c)
    rw [← h1]
    exact hmom.2.1
  have hsq : (fun y : Latent n => (∑ i, u i * y i) * (∑ i, u i * y i)) =ᵐ[latentGaussian n]
      fun _ => c * c := hae.mono fun y hy => by
    first
    | (show (∑ i, u i * y i) * (∑ i, u i * y i) = c * c
       rw [hy])
    | simp only [hy]
  have h2 : ∑ i, u i * u i = c * c := by
    rw [← hmom.2.2]
    exact (integral_congr_ae hsq).trans (integral_const_latent (c * c))
  apply hu
  rw [hc, mul_zero] at h2
  rw [← h2]
  exact Finset.sum_congr rfl fun i _ => sq (u i)

/-- **Theorem 2, the linear part is invertible.** If `h = A · + b` `p`-almost everywhere for a
continuous linear map `A` (not assumed invertible) and `p.map h = γₙ`, then `A` is bijective. -/
theorem bijective_of_ae_affine_map_eq (A : Latent n →L[ℝ] Latent n) (b : Latent n)
    {p : Measure (Latent n)} {h : Latent n → Latent n} (hh : h =ᵐ[p] fun z => A z + b)
    (hp : p.map h = latentGaussian n) : Function.Bijective A := by
  have hg : Measurable (fun z : Latent n => A z + b) := by
    first
    | fun_prop
    | exact (A.continuous.add continuous_const).measurable
  have hp' : p.map (fun z => A z + b) = latentGaussian n := by
    rw [← Measure.map_congr hh]
    exact hp
  have hsurj : Function.Surjective A := by
    by_contra hns
    -- a nonzero `u` orthogonal to the range of `A`
    have hne : (LinearMap.range (A : Latent n →ₗ[ℝ] Latent n))ᗮ ≠ ⊥ := by
      intro hbot
      exact hns (LinearMap.range_eq_top.1 (Submodule.orthogonal_eq_bot_iff.1 hbot))
    obtain ⟨u, hu, hu0⟩ : ∃ u ∈ (LinearMap.range (A : Latent n →ₗ[ℝ] Latent n))ᗮ, u ≠ 0 := by
      first
      | exact (Submodule.ne_bot_iff _).1 hne
      | exact Submodule.exists_mem_ne_zero_of_ne_bot hne
    have horth : ∀ z, ∑ i, A z i * u i = 0 := fun z => by
      rw [← Polar.euclidean_inner_eq_sum_mul (A z) u]
      -- the linear map named: `_` would have to be found through the two coercions
      first
      | exact Submodule.inner_right_of_mem_orthogonal
          (LinearMap.mem_range_self (A : Latent n →ₗ[ℝ] Latent n) z) hu
      | exact Submodule.inner_right_of_mem_orthogonal (LinearMap.mem_range_self _ z) hu
    -- so `⟨u, A z + b⟩ = ⟨u, b⟩` for every `z`, and `⟨u, y⟩` is `γₙ`-a.s. constant
    have hconst : ∀ z, ∑ i, u i * (A z + b) i = ∑ i, u i * b i := fun z => by
      have hsplit : ∑ i, u i * (A z + b) i = ∑ i, A z i * u i + ∑ i, u i * b i := by
        rw [← Finset.sum_add_distrib]
        refine Finset.sum_congr rfl fun i _ => ?_
        first
        | (rw [PiLp.add_apply]; ring)
        | (simp only [PiLp.add_apply]; ring)
        | (show u i * (A z i + b i) = A z i * u i + u i * b i
           ring)
      rw [hsplit, horth z, zero_add]
    have hS : MeasurableSet {y : Latent n | ∑ i, u i * y i = ∑ i, u i * b i} := by
      first
      | exact measurableSet_eq_fun (by fun_prop) measurable_const
      | exact (isClosed_eq (by fun_prop) continuous_const).measurableSet
      | (apply measurableSet_eq_fun <;> fun_prop)
      -- without `fun_prop` on coordinates: the linear form is `⟪u, ·⟫`
      | (have hm : Measurable (fun y : Latent n => ∑ i, u i * y i) := by
           simp only [← Polar.euclidean_inner_eq_sum_mul u]
           exact (continuous_const.inner continuous_id).measurable
         exact measurableSet_eq_fun hm measurable_const)
    have hae : ∀ᵐ y ∂(latentGaussian n), ∑ i, u i * y i = ∑ i, u i * b i := by
      rw [← hp']
      exact (ae_map_iff hg.aemeasurable hS).2 (ae_of_all _ hconst)
    have hu2 : ∑ i, u i ^ 2 ≠ 0 := by
      rw [← EuclideanSpace.real_norm_sq_eq]
      exact pow_ne_zero 2 (norm_ne_zero_iff.2 hu0)
    exact not_ae_linear_eq_const hu2 _ hae
  first
  | exact ⟨(LinearMap.injective_iff_surjective
      (f := (A : Latent n →ₗ[ℝ] Latent n))).2 hsurj, hsurj⟩
  | exact ⟨LinearMap.injective_iff_surjective.2 hsurj, hsurj⟩

/-- **Theorem 2, general form.** If `h = A · + b` `p`-almost everywhere for a continuous linear
map `A` and `p.map h = γₙ`, then `A` is bijective and `p` is Gaussian: it is the image of `γₙ`
under `y ↦ A⁻¹ (y - b)` (whose mean `-A⁻¹ b` and covariance `A⁻¹ A⁻ᵀ` are not stated here). -/
theorem isGaussian_of_ae_affine_map_eq (A : Latent n →L[ℝ] Latent n) (b : Latent n)
    {p : Measure (Latent n)} {h : Latent n → Latent n} (hh : h =ᵐ[p] fun z => A z + b)
    (hp : p.map h = latentGaussian n) :
    Function.Bijective A ∧ IsGaussian p := by
  have hbij := bijective_of_ae_affine_map_eq A b hh hp
  refine ⟨hbij, ?_⟩
  let W : Latent n ≃L[ℝ] Latent n :=
    (LinearEquiv.ofBijective (A : Latent n →ₗ[ℝ] Latent n) hbij).toContinuousLinearEquiv
  have hW : (fun z => W z + b) = fun z => A z + b := by
    first
    | rfl
    | (funext z; simp [W])
  have hp' : p.map (fun z => W z + b) = latentGaussian n := by
    rw [hW, ← Measure.map_congr hh]
    exact hp
  exact isGaussian_of_affine_map_eq W b hp'

/-- **Theorem 2, world level.** For a non-Gaussian latent law `p`, no encoder that is `p`-a.e.
affine meets the LeJEPA constraint `p.map h = γₙ`. -/
theorem map_ne_of_not_isGaussian {p : Measure (Latent n)} (hp : ¬ IsGaussian p)
    (A : Latent n →L[ℝ] Latent n) (b : Latent n) {h : Latent n → Latent n}
    (hh : h =ᵐ[p] fun z => A z + b) : p.map h ≠ latentGaussian n :=
  fun heq => hp (isGaussian_of_ae_affine_map_eq A b hh heq).2

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

/-- **Kurtosis gap, the inequality.** On the unit sphere, `|κ| / n ≤ |κ ∑ᵢ uᵢ⁴|`. (Used with
the cumulant identity, not formalized here, that a unit projection of a latent with independent
standardized components of excess kurtosis `κ` has excess kurtosis `κ ∑ᵢ uᵢ⁴`: then each is at
least `|κ| / n` away from the Gaussian value `0`.) -/
theorem abs_div_card_le_abs_mul_sum_pow_four (hn : 0 < n) (κ : ℝ) (u : Fin n → ℝ)
    (hu : ∑ i, u i ^ 2 = 1) : |κ| / n ≤ |κ * ∑ i, u i ^ 4| := by
  have hn' : (0 : ℝ) < n := by exact_mod_cast hn
  have hs : 0 ≤ ∑ i, u i ^ 4 := Finset.sum_nonneg fun i _ => by positivity
  have h := one_le_card_mul_sum_pow_four u hu
  rw [abs_mul, abs_of_nonneg hs, div_le_iff₀ hn']
  have hκ := abs_nonneg κ
  nlinarith

end LeJEPA
