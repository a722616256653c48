/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Forward
import LeJEPA.Approximate
import Mathlib.MeasureTheory.Function.L2Space

/-!
# Theorem 3 for square-integrable encoders: the nonlinear-energy bound

`LeJEPA/Approximate.lean` proves Theorem 3 for encoders with a finite chaos expansion, with the
alignment, covariance and nonlinear energy *defined* by their chaos formulas. Here the first
half of Theorem 3, `E_nl ≤ B`, is proved for every encoder `h : ℝⁿ → ℝⁿ` whose components are in
`L²(γₙ)`, with the measure-theoretic alignment `LeJEPA.alignment` of `LeJEPA/Forward.lean` and
the covariance `Σ_h = E[h hᵀ] - E h (E h)ᵀ` defined by integrals:

* `LeJEPA.nonlinearEnergyL2 h = ∑ₖ ∑_{d ≥ 2} e_{k,d}`, the chaos energy of `h` in degrees `≥ 2`;
* `LeJEPA.covMatrix h`, the covariance matrix of `h(z)`, `z ~ γₙ`;
* `LeJEPA.nonlinearBoundL2 ρ h = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))` with
  `ε = L(h) - 2 n (1 - ρ)` and `δ = ‖Σ_h - I‖_F`.

The route: by Mehler (`LeJEPA.mehler_scalarAlignment`, from the axiom `mehler_correlation`) the alignment of the `k`-th
component is `2 ∑_d (1 - ρ ^ d) e_{k,d}`; the weight is `0` in degree `0`, `1 - ρ` in degree `1`
and at least `(1 - ρ) + ρ (1 - ρ)` from degree `2` on (`LeJEPA.Spectral.mul_one_sub_le_sub`);
by Parseval (axiom `LeJEPA.hasSum_chaosEnergy`) and `e_{k,0} = (E hₖ)²`
(`LeJEPA.chaosEnergy_zero`), `∑_{d ≥ 1} e_{k,d} = E hₖ² - (E hₖ)² = (Σ_h)ₖₖ`. Hence
`2 ρ (1 - ρ) E_nl ≤ L(h) - 2 (1 - ρ) tr Σ_h`, and `n - tr Σ_h ≤ √n δ`
(`LeJEPA.card_sub_trace_le`) gives `E_nl ≤ B`.

The second half, the deviation from rotation, is proved for the same encoders: with the linear
coefficients `W k i = E[hₖ(z) zᵢ]` and the residuals `gₖ = hₖ - E hₖ - ∑ᵢ W k i zᵢ`, the moments of
`γₙ` give `E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² = tr N + ‖W - Q‖_F²` and `Σ_h = W Wᵀ + N` for the residual
covariance `N = (E[gₖ gₗ])ₖₗ`; Cauchy–Schwarz gives `‖N‖_F ≤ tr N`; `He_{eᵢ}(z) = zᵢ` gives
`e_{k,1} = ∑ᵢ W k i²`, hence `tr N = E_nl`; the nearest orthogonal matrix (`L5`) finishes.

## Main statements

* `LeJEPA.nonlinearEnergyL2_eq`: `E_nl = ∑ₖ ((Σ_h)ₖₖ - e_{k,1})` (the Parseval form).
* `LeJEPA.two_mul_nonlinearEnergyL2_le`: `2 ρ (1 - ρ) E_nl ≤ L(h) - 2 (1 - ρ) tr Σ_h`.
* `LeJEPA.nonlinearEnergyL2_le`: **Theorem 3, nonlinear energy**, `E_nl ≤ B`.
* `LeJEPA.integral_deviation_eq`: `E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² = tr N + ‖W - Q‖_F²` for every `Q`.
* `LeJEPA.chaosEnergy_one_eq` (in `LeJEPA/Moments.lean`): `e_1(f) = ∑ᵢ E[f(z) zᵢ]²`.
* `LeJEPA.exists_deviationL2_le`: **Theorem 3, deviation from rotation**, some `Q ∈ O(n)` has
  `E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² ≤ B + (δ + B)²`.
* `LeJEPA.exists_deviationL2_le_of_cov_eq_one`: the whitened corollary, `Σ_h = I` (covariance
  defect `δ = 0`) gives `E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² ≤ B + B²` with `B = ε / (2 ρ (1 - ρ))`.

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 3.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory
open scoped Matrix

/-! ### Energies in degrees `≥ 2` (real analysis, no axiom) -/

namespace Spectral

/-- Removing degrees `0` and `1` from a summable energy sequence:
`∑_{d ≥ 2} e d = S - e 0 - e 1`. -/
theorem hasSum_ite_two_le {e : ℕ → ℝ} {S : ℝ} (hS : HasSum e S) :
    HasSum (fun d => if 2 ≤ d then e d else 0) (S - e 0 - e 1) := by
  have h : HasSum (fun d => e d - (if d = 0 then e 0 else 0) - (if d = 1 then e 1 else 0))
      (S - e 0 - e 1) :=
    (hS.sub (hasSum_ite_eq 0 (e 0))).sub (hasSum_ite_eq 1 (e 1))
  have hfun : (fun d => if 2 ≤ d then e d else 0) =
      fun d => e d - (if d = 0 then e 0 else 0) - (if d = 1 then e 1 else 0) := by
    funext d
    -- `match` keeps the literal patterns `0`, `1`, `d + 2` in the goal
    match d with
    | 0 =>
      first
      | (simp; done)
      | (rw [if_neg (show ¬(2 ≤ (0 : ℕ)) by omega), if_pos (show (0 : ℕ) = 0 from rfl),
          if_neg (show ¬((0 : ℕ) = 1) by omega)]
         ring)
    | 1 =>
      first
      | (simp; done)
      | (rw [if_neg (show ¬(2 ≤ (1 : ℕ)) by omega), if_neg (show ¬((1 : ℕ) = 0) by omega),
          if_pos (show (1 : ℕ) = 1 from rfl)]
         ring)
    | d + 2 =>
      rw [if_pos (show 2 ≤ d + 2 by omega), if_neg (show ¬(d + 2 = 0) by omega),
        if_neg (show ¬(d + 2 = 1) by omega)]
      ring
  first
  | (rw [hfun]; exact h)
  | exact hfun ▸ h
  | exact HasSum.congr_fun h fun d => congrFun hfun d

/-- **Spectral gap with a degree-zero part.** For nonnegative energies `e` summing to `S` with
`∑ (1 - ρ ^ d) e d = A` (degree `0` has weight `0`):
`ρ (1 - ρ) (S - e 0 - e 1) ≤ A - (1 - ρ) (S - e 0)`. -/
theorem gap_ite_of_hasSum {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {e : ℕ → ℝ} {S A : ℝ}
    (he : ∀ d, 0 ≤ e d) (hS : HasSum e S) (hA : HasSum (fun d => (1 - ρ ^ d) * e d) A) :
    ρ * (1 - ρ) * (S - e 0 - e 1) ≤ A - (1 - ρ) * (S - e 0) := by
  have hL : HasSum (fun d => ρ * (1 - ρ) * (if 2 ≤ d then e d else 0))
      (ρ * (1 - ρ) * (S - e 0 - e 1)) :=
    (hasSum_ite_two_le hS).mul_left _
  have hR : HasSum (fun d => (1 - ρ ^ d) * e d - (1 - ρ) * (e d - if d = 0 then e 0 else 0))
      (A - (1 - ρ) * (S - e 0)) :=
    hA.sub ((hS.sub (hasSum_ite_eq 0 (e 0))).mul_left _)
  refine hasSum_le (fun d => ?_) hL hR
  match d with
  | 0 =>
    first
    | (simp; done)
    | (rw [if_neg (show ¬(2 ≤ (0 : ℕ)) by omega), if_pos (show (0 : ℕ) = 0 from rfl), pow_zero]
       linarith)
  | 1 =>
    first
    | (simp; done)
    | (rw [if_neg (show ¬(2 ≤ (1 : ℕ)) by omega), if_neg (show ¬((1 : ℕ) = 0) by omega),
        pow_one]
       linarith)
  | d + 2 =>
    rw [if_pos (show 2 ≤ d + 2 by omega), if_neg (show ¬(d + 2 = 0) by omega)]
    have hgap := mul_one_sub_le_sub hρ0 hρ1 (d := d + 2) (by omega)
    have hed := he (d + 2)
    nlinarith [mul_le_mul_of_nonneg_right hgap hed]

end Spectral

/-! ### Definitions for an `L²` encoder -/

variable {n : ℕ}

/-- The nonlinear energy `E_nl = ∑ₖ ∑_{d ≥ 2} e_{k,d}` of an encoder: the chaos energy of its
components in degrees `≥ 2`. -/
def nonlinearEnergyL2 (h : Latent n → Latent n) : ℝ :=
  ∑ k, ∑' d : ℕ, (if 2 ≤ d then chaosEnergy (fun z => h z k) d else 0)

/-- The covariance matrix `Σ_h = E[h hᵀ] - E h (E h)ᵀ` of `h(z)`, `z ~ γₙ`. -/
def covMatrix (h : Latent n → Latent n) : Matrix (Fin n) (Fin n) ℝ :=
  Matrix.of fun k l => ∫ z, h z k * h z l ∂(latentGaussian n) -
    (∫ z, h z k ∂(latentGaussian n)) * ∫ z, h z l ∂(latentGaussian n)

/-- The bound `B = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))` of Theorem 3, with the alignment excess
`ε = L(h) - 2 n (1 - ρ)` and the whitening defect `δ = ‖Σ_h - I‖_F`. -/
def nonlinearBoundL2 (ρ : ℝ) (h : Latent n → Latent n) : ℝ :=
  (alignment ρ h - 2 * n * (1 - ρ) + 2 * (1 - ρ) * Real.sqrt n * frobNorm (covMatrix h - 1)) /
    (2 * ρ * (1 - ρ))

/-- The diagonal of the covariance is the variance: `(Σ_h)ₖₖ = E hₖ² - (E hₖ)²`. -/
theorem covMatrix_apply_self (h : Latent n → Latent n) (k : Fin n) :
    covMatrix h k k =
      ∫ z, h z k ^ 2 ∂(latentGaussian n) - (∫ z, h z k ∂(latentGaussian n)) ^ 2 := by
  first
  | (simp only [covMatrix, Matrix.of_apply, sq]; done)
  | (rw [covMatrix, Matrix.of_apply]; simp only [sq])
  | simp [covMatrix, sq]

/-- **Parseval form of the nonlinear energy.** `E_nl = ∑ₖ ((Σ_h)ₖₖ - e_{k,1})`: the chaos energy
of `hₖ` in degrees `≥ 2` is its variance minus its degree-one energy. -/
theorem nonlinearEnergyL2_eq {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    nonlinearEnergyL2 h = ∑ k, (covMatrix h k k - chaosEnergy (fun z => h z k) 1) := by
  rw [nonlinearEnergyL2]
  refine Finset.sum_congr rfl fun k _ => ?_
  -- the second alternative closes by `exact` (up to defeq) if the `tsum` in the goal does not
  -- match the `HasSum`'s function syntactically
  first
  | (rw [(Spectral.hasSum_ite_two_le (hasSum_chaosEnergy (hh k))).tsum_eq, chaosEnergy_zero,
      covMatrix_apply_self]; done)
  | (have h2 := Spectral.hasSum_ite_two_le (hasSum_chaosEnergy (hh k))
     rw [chaosEnergy_zero] at h2
     rw [covMatrix_apply_self]
     exact h2.tsum_eq)

/-! ### The bound -/

/-- The spectral gap of one component `f ∈ L²(γₙ)`:
`2 ρ (1 - ρ) ∑_{d ≥ 2} e_d(f) ≤ E (f(z') - f(z))² - 2 (1 - ρ) Var f`. -/
theorem two_mul_nonlinearChaos_le {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {f : Latent n → ℝ}
    (hf : MemLp f 2 (latentGaussian n)) :
    2 * ρ * (1 - ρ) * ∑' d : ℕ, (if 2 ≤ d then chaosEnergy f d else 0) ≤
      scalarAlignment ρ f - 2 * (1 - ρ) *
        (∫ z, f z ^ 2 ∂(latentGaussian n) - (∫ z, f z ∂(latentGaussian n)) ^ 2) := by
  have hS := hasSum_chaosEnergy hf
  have h := Spectral.gap_ite_of_hasSum (e := chaosEnergy f) hρ0 hρ1 (chaosEnergy_nonneg f) hS
    (mehler_scalarAlignment hρ0 hρ1 hf).2
  rw [chaosEnergy_zero] at h
  rw [(Spectral.hasSum_ite_two_le hS).tsum_eq, chaosEnergy_zero]
  first
  | linarith
  | nlinarith [h]

/-- **Spectral gap for an `L²` encoder.** `2 ρ (1 - ρ) E_nl ≤ L(h) - 2 (1 - ρ) tr Σ_h`. -/
theorem two_mul_nonlinearEnergyL2_le {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1)
    {h : Latent n → Latent n} (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    2 * ρ * (1 - ρ) * nonlinearEnergyL2 h ≤
      alignment ρ h - 2 * (1 - ρ) * ∑ k, covMatrix h k k := by
  calc 2 * ρ * (1 - ρ) * nonlinearEnergyL2 h
      = ∑ k, 2 * ρ * (1 - ρ) *
          ∑' d : ℕ, (if 2 ≤ d then chaosEnergy (fun z => h z k) d else 0) := by
        rw [nonlinearEnergyL2, Finset.mul_sum]
    _ ≤ ∑ k, (scalarAlignment ρ (fun z => h z k) - 2 * (1 - ρ) * covMatrix h k k) :=
        Finset.sum_le_sum fun k _ => by
          rw [covMatrix_apply_self]
          exact two_mul_nonlinearChaos_le hρ0 hρ1 (hh k)
    _ = alignment ρ h - 2 * (1 - ρ) * ∑ k, covMatrix h k k := by
        rw [Finset.sum_sub_distrib, ← Finset.mul_sum,
          alignment_eq_sum_scalarAlignment hρ0 hρ1 hh]

/-- **Theorem 3, nonlinear energy, for every `L²` encoder.** For `0 < ρ < 1` and an encoder
whose components are in `L²(γₙ)`, the chaos energy in degrees `≥ 2` is at most
`B = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))`, with `ε = L(h) - 2 n (1 - ρ)` and
`δ = ‖Σ_h - I‖_F`. -/
theorem nonlinearEnergyL2_le {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    nonlinearEnergyL2 h ≤ nonlinearBoundL2 ρ h := by
  have hgap := two_mul_nonlinearEnergyL2_le hρ0.le hρ1.le hh
  have htr := card_sub_trace_le (covMatrix h)
  have h1ρ : 0 < 1 - ρ := by linarith
  have hpos : 0 < 2 * ρ * (1 - ρ) := mul_pos (mul_pos two_pos hρ0) h1ρ
  rw [nonlinearBoundL2, le_div_iff₀ hpos]
  first
  | linarith [mul_le_mul_of_nonneg_left htr h1ρ.le]
  | nlinarith [mul_le_mul_of_nonneg_left htr h1ρ.le]

/-! ### Theorem 3, deviation from rotation, for every `L²` encoder

The encoder is split as `hₖ(z) = E hₖ + ∑ᵢ W k i zᵢ + gₖ(z)` with the linear coefficients
`W k i = E[hₖ(z) zᵢ]` (`LeJEPA.linCoeff`) and the residual `gₖ` (`LeJEPA.residual`). Everything
below is computed from the moments of `γₙ` (`LeJEPA.latentGaussian_linear_moments`) and
integrability of products of `L²` functions (both in `LeJEPA/Moments.lean`); the chaos axioms enter only through
`LeJEPA.nonlinearEnergyL2_le` and `LeJEPA.nonlinearEnergyL2_eq`.

* `E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² = tr N + ‖W - Q‖_F²` for every matrix `Q`, with the residual
  covariance `N k l = E[gₖ gₗ]` (`LeJEPA.integral_deviation_eq`);
* `Σ_h = W Wᵀ + N` (`LeJEPA.covMatrix_eq`) and `‖N‖_F ≤ tr N` (Cauchy–Schwarz,
  `LeJEPA.frobNorm_residualCov_le`);
* `tr N = E_nl`, since the degree-one chaos energy of `hₖ` is `∑ᵢ W k i²`
  (`LeJEPA.chaosEnergy_one_eq`, from `He_{eᵢ}(z) = zᵢ`);
* the nearest orthogonal matrix (`LeJEPA.exists_orthogonal_frobNorm_sub_le`) then gives
  `‖W - Q‖_F ≤ ‖W Wᵀ - I‖_F ≤ δ + E_nl ≤ δ + B`. -/

/-! #### The linear part and the residual of an encoder -/

/-- The linear coefficients `W k i = E[hₖ(z) zᵢ]` of an encoder (its degree-one Hermite
coefficients, `LeJEPA.chaosEnergy_one_eq`). -/
def linCoeff (h : Latent n → Latent n) : Matrix (Fin n) (Fin n) ℝ :=
  Matrix.of fun k i => ∫ z, h z k * z i ∂(latentGaussian n)

/-- The nonlinear residual `gₖ(z) = hₖ(z) - E hₖ - ∑ᵢ W k i zᵢ` of an encoder. -/
def residual (h : Latent n → Latent n) (k : Fin n) (z : Latent n) : ℝ :=
  h z k - ∫ w, h w k ∂(latentGaussian n) - ∑ i, linCoeff h k i * z i

/-- The covariance `N k l = E[gₖ gₗ]` of the residuals. -/
def residualCov (h : Latent n → Latent n) : Matrix (Fin n) (Fin n) ℝ :=
  Matrix.of fun k l => ∫ z, residual h k z * residual h l z ∂(latentGaussian n)

theorem linCoeff_apply (h : Latent n → Latent n) (k i : Fin n) :
    linCoeff h k i = ∫ z, h z k * z i ∂(latentGaussian n) := rfl

theorem residualCov_apply' (h : Latent n → Latent n) (k l : Fin n) :
    residualCov h k l = ∫ z, residual h k z * residual h l z ∂(latentGaussian n) := rfl

theorem covMatrix_apply (h : Latent n → Latent n) (k l : Fin n) :
    covMatrix h k l = ∫ z, h z k * h z l ∂(latentGaussian n) -
      (∫ z, h z k ∂(latentGaussian n)) * ∫ z, h z l ∂(latentGaussian n) := rfl

/-- The residuals are in `L²(γₙ)`. -/
theorem memLp_residual {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) (k : Fin n) :
    MemLp (residual h k) 2 (latentGaussian n) := by
  have h1 : MemLp (fun z => h z k - ∫ w, h w k ∂(latentGaussian n) -
      ∑ i, linCoeff h k i * z i) 2 (latentGaussian n) :=
    ((hh k).sub (memLp_const (∫ w, h w k ∂(latentGaussian n)))).sub
      (memLp_linear (linCoeff h k))
  exact h1

/-- `N k l = (Σ_h)ₖₗ - ∑ᵢ W k i W l i`. -/
theorem residualCov_apply {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) (k l : Fin n) :
    residualCov h k l = covMatrix h k l - ∑ i, linCoeff h k i * linCoeff h l i := by
  have hB := integral_resid_mul_resid (hh k) (hh l) (∫ w, h w k ∂(latentGaussian n))
    (∫ w, h w l ∂(latentGaussian n)) (linCoeff h k) (linCoeff h l)
  have hW : ∀ m i, ∫ z, h z m * z i ∂(latentGaussian n) = linCoeff h m i := fun _ _ => rfl
  have hs : ∑ i, linCoeff h l i * linCoeff h k i = ∑ i, linCoeff h k i * linCoeff h l i :=
    Finset.sum_congr rfl fun i _ => mul_comm _ _
  rw [residualCov_apply', covMatrix_apply]
  -- the integrand of `hB` is that of `residualCov` with `residual` unfolded; the second
  -- alternative restates `hB` with `residual` folded (a definitional `show`)
  first
  | (simp only [residual]; rw [hB])
  | rw [show ∫ z, residual h k z * residual h l z ∂(latentGaussian n) = _ from hB]
  simp only [hW]
  rw [hs]
  ring

/-- **The covariance splits** as `Σ_h = W Wᵀ + N`. -/
theorem covMatrix_eq {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    covMatrix h = linCoeff h * (linCoeff h)ᵀ + residualCov h := by
  ext k l
  rw [Matrix.add_apply, Matrix.mul_apply, residualCov_apply hh k l]
  simp only [Matrix.transpose_apply]
  ring

/-! #### Cauchy–Schwarz for the residual covariance -/

/-- If `s² a + 2 s t b + t² c ≥ 0` for all real `s, t`, then `b² ≤ a c`. -/
theorem sq_le_mul_of_forall_quadratic_nonneg {a b c : ℝ}
    (H : ∀ s t : ℝ, 0 ≤ s ^ 2 * a + 2 * s * t * b + t ^ 2 * c) : b ^ 2 ≤ a * c := by
  have ha : 0 ≤ a := by nlinarith [H 1 0]
  have hc : 0 ≤ c := by nlinarith [H 0 1]
  have h1 := H b (-a)
  have h2 := H c (-b)
  have h3 := H 1 (-b)
  rcases ha.lt_or_eq with ha' | ha'
  · -- `a (a c - b²) ≥ 0` with `a > 0`
    first
    | exact not_lt.mp fun hlt => by linarith [mul_pos ha' (sub_pos.2 hlt)]
    | nlinarith
    | exact not_lt.mp fun hlt => by nlinarith [mul_pos ha' (sub_pos.2 hlt)]
  · rcases hc.lt_or_eq with hc' | hc'
    · -- `c (a c - b²) ≥ 0` with `c > 0`
      first
      | exact not_lt.mp fun hlt => by linarith [mul_pos hc' (sub_pos.2 hlt)]
      | nlinarith
      | exact not_lt.mp fun hlt => by nlinarith [mul_pos hc' (sub_pos.2 hlt)]
    · rw [← ha', ← hc'] at h3 ⊢
      nlinarith

/-- `N k l² ≤ N k k N l l` (Cauchy–Schwarz for `E[gₖ gₗ]`). -/
theorem residualCov_sq_le {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) (k l : Fin n) :
    residualCov h k l ^ 2 ≤ residualCov h k k * residualCov h l l := by
  have hg := memLp_residual hh
  refine sq_le_mul_of_forall_quadratic_nonneg fun s t => ?_
  have J1 : Integrable (fun z => s ^ 2 * (residual h k z * residual h k z)) (latentGaussian n) :=
    (integrable_mul_of_memLp (hg k) (hg k)).const_mul (s ^ 2)
  have J2 : Integrable (fun z => 2 * s * t * (residual h k z * residual h l z))
      (latentGaussian n) :=
    (integrable_mul_of_memLp (hg k) (hg l)).const_mul (2 * s * t)
  have J3 : Integrable (fun z => t ^ 2 * (residual h l z * residual h l z)) (latentGaussian n) :=
    (integrable_mul_of_memLp (hg l) (hg l)).const_mul (t ^ 2)
  have J23 : Integrable (fun z => 2 * s * t * (residual h k z * residual h l z) +
      t ^ 2 * (residual h l z * residual h l z)) (latentGaussian n) := by
    first
    | exact J2.add J3
    | exact J2.fun_add J3
  have hpt : (fun z => (s * residual h k z + t * residual h l z) ^ 2) =
      fun z => s ^ 2 * (residual h k z * residual h k z) +
        (2 * s * t * (residual h k z * residual h l z) +
          t ^ 2 * (residual h l z * residual h l z)) := by
    funext z
    ring
  have hint : ∫ z, (s * residual h k z + t * residual h l z) ^ 2 ∂(latentGaussian n) =
      s ^ 2 * residualCov h k k + 2 * s * t * residualCov h k l +
        t ^ 2 * residualCov h l l := by
    rw [hpt, integral_add J1 J23, integral_add J2 J3, integral_const_mul, integral_const_mul,
      integral_const_mul, residualCov_apply', residualCov_apply', residualCov_apply']
    ring
  rw [← hint]
  exact integral_nonneg fun z => sq_nonneg _

/-- The diagonal of `N` is nonnegative. -/
theorem residualCov_self_nonneg (h : Latent n → Latent n) (k : Fin n) :
    0 ≤ residualCov h k k := by
  rw [residualCov_apply']
  exact integral_nonneg fun z => mul_self_nonneg _

/-- `‖N‖_F ≤ tr N`. -/
theorem frobNorm_residualCov_le {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    frobNorm (residualCov h) ≤ ∑ k, residualCov h k k := by
  have hT : 0 ≤ ∑ k, residualCov h k k :=
    Finset.sum_nonneg fun k _ => residualCov_self_nonneg h k
  have hsq : frobSq (residualCov h) ≤ (∑ k, residualCov h k k) ^ 2 := by
    calc frobSq (residualCov h) = ∑ k, ∑ l, residualCov h k l ^ 2 := rfl
      _ ≤ ∑ k, ∑ l, residualCov h k k * residualCov h l l :=
        Finset.sum_le_sum fun k _ => Finset.sum_le_sum fun l _ => residualCov_sq_le hh k l
      _ = (∑ k, residualCov h k k) ^ 2 := by
        rw [sq, Finset.sum_mul]
        refine Finset.sum_congr rfl fun k _ => ?_
        rw [Finset.mul_sum]
  calc frobNorm (residualCov h) ≤ Real.sqrt ((∑ k, residualCov h k k) ^ 2) :=
        Real.sqrt_le_sqrt hsq
    _ = ∑ k, residualCov h k k := Real.sqrt_sq hT

/-- `‖W Wᵀ - I‖_F ≤ δ + ‖N‖_F`, from `W Wᵀ - I = (Σ_h - I) - N`. -/
theorem frobNorm_linCoeff_mul_transpose_sub_one_le {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    frobNorm (linCoeff h * (linCoeff h)ᵀ - 1) ≤
      frobNorm (covMatrix h - 1) + frobNorm (residualCov h) := by
  have hsplit : linCoeff h * (linCoeff h)ᵀ - 1 = (covMatrix h - 1) - residualCov h := by
    rw [covMatrix_eq hh]
    abel
  rw [hsplit]
  exact frobNorm_sub_le _ _

/-- **`tr N = E_nl`**: the residual variance is the chaos energy in degrees `≥ 2`. -/
theorem sum_residualCov_eq {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    ∑ k, residualCov h k k = nonlinearEnergyL2 h := by
  rw [nonlinearEnergyL2_eq hh]
  refine Finset.sum_congr rfl fun k _ => ?_
  rw [residualCov_apply hh k k, chaosEnergy_one_eq]
  first
  | (congr 1
     exact Finset.sum_congr rfl fun i _ => (sq (∫ z, h z k * z i ∂(latentGaussian n))).symm)
  | simp only [linCoeff_apply, sq]

/-! #### The deviation from a rotation -/

/-- **The deviation identity.** For every matrix `Q`,
`E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² = tr N + ‖W - Q‖_F²`. -/
theorem integral_deviation_eq {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) (Q : Matrix (Fin n) (Fin n) ℝ) :
    ∫ z, ∑ k, (h z k - ∑ i, Q k i * z i - ∫ w, h w k ∂(latentGaussian n)) ^ 2
        ∂(latentGaussian n) =
      ∑ k, residualCov h k k + frobSq (linCoeff h - Q) := by
  have hint : ∀ k ∈ (Finset.univ : Finset (Fin n)), Integrable
      (fun z : Latent n => (h z k - ∑ i, Q k i * z i - ∫ w, h w k ∂(latentGaussian n)) ^ 2)
      (latentGaussian n) := by
    intro k _
    have hm : MemLp (fun z : Latent n => h z k - ∑ i, Q k i * z i -
        ∫ w, h w k ∂(latentGaussian n)) 2 (latentGaussian n) :=
      ((hh k).sub (memLp_linear (Q k))).sub (memLp_const (∫ w, h w k ∂(latentGaussian n)))
    exact hm.integrable_sq
  rw [integral_finset_sum Finset.univ hint, frobSq, ← Finset.sum_add_distrib]
  refine Finset.sum_congr rfl fun k _ => ?_
  have hsq : ∫ z, (h z k - ∑ i, Q k i * z i - ∫ w, h w k ∂(latentGaussian n)) ^ 2
        ∂(latentGaussian n) =
      ∫ z, (h z k - ∫ w, h w k ∂(latentGaussian n) - ∑ i, Q k i * z i) *
        (h z k - ∫ w, h w k ∂(latentGaussian n) - ∑ i, Q k i * z i) ∂(latentGaussian n) := by
    first
    | (congr 1; funext z; ring)
    | (refine congrArg (integral (latentGaussian n)) ?_; funext z; ring)
  have hW : ∀ i, ∫ z, h z k * z i ∂(latentGaussian n) = linCoeff h k i := fun _ => rfl
  have hexp : ∑ j, (linCoeff h - Q) k j ^ 2 =
      ∑ i, linCoeff h k i * linCoeff h k i - 2 * ∑ i, Q k i * linCoeff h k i +
        ∑ i, Q k i * Q k i := by
    rw [Finset.mul_sum, ← Finset.sum_sub_distrib, ← Finset.sum_add_distrib]
    refine Finset.sum_congr rfl fun i _ => ?_
    rw [Matrix.sub_apply]
    ring
  rw [hsq, integral_resid_mul_resid (hh k) (hh k) _ _ (Q k) (Q k), residualCov_apply hh k k,
    covMatrix_apply, hexp]
  simp only [hW]
  ring

/-- **Theorem 3, deviation from rotation, for every `L²` encoder.** For `0 < ρ < 1` and an
encoder whose components are in `L²(γₙ)` there is an orthogonal `Q` with
`E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² ≤ B + (δ + B)²`, where
`B = (ε + 2 (1 - ρ) √n δ) / (2 ρ (1 - ρ))` (`LeJEPA.nonlinearBoundL2`) and
`δ = ‖Σ_h - I‖_F`. -/
theorem exists_deviationL2_le {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1) {h : Latent n → Latent n}
    (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n)) :
    ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
      ∫ z, ∑ k, (h z k - ∑ i, Q k i * z i - ∫ w, h w k ∂(latentGaussian n)) ^ 2
          ∂(latentGaussian n) ≤
        nonlinearBoundL2 ρ h + (frobNorm (covMatrix h - 1) + nonlinearBoundL2 ρ h) ^ 2 := by
  obtain ⟨Q, hQ, hWQ⟩ := exists_orthogonal_frobNorm_sub_le (linCoeff h)
  refine ⟨Q, hQ, ?_⟩
  have hE := nonlinearEnergyL2_le hρ0 hρ1 hh
  have htr := sum_residualCov_eq hh
  have hN := frobNorm_residualCov_le hh
  have hWW := frobNorm_linCoeff_mul_transpose_sub_one_le hh
  have h0 := frobNorm_nonneg (linCoeff h - Q)
  have hx : frobNorm (linCoeff h - Q) ≤
      frobNorm (covMatrix h - 1) + nonlinearBoundL2 ρ h := by
    linarith
  rw [integral_deviation_eq hh Q, ← frobNorm_sq]
  -- `(δ + B)² - x² = (δ + B - x)² + 2 x (δ + B - x)` with `x = ‖W - Q‖_F`: linear in the hints
  first
  | linarith [mul_nonneg h0 (sub_nonneg.2 hx), mul_nonneg (sub_nonneg.2 hx) (sub_nonneg.2 hx)]
  | nlinarith [mul_nonneg h0 (sub_nonneg.2 hx), mul_nonneg (sub_nonneg.2 hx) (sub_nonneg.2 hx)]

/-- **Theorem 3, whitened corollary, for every `L²` encoder.** If `Σ_h = I` (covariance defect
`δ = 0`), then with `B = ε / (2 ρ (1 - ρ))`, `ε = L(h) - 2 n (1 - ρ)`, some `Q ∈ O(n)` has
`E ∑ₖ (hₖ(z) - (Q z)ₖ - E hₖ)² ≤ B + B²`. -/
theorem exists_deviationL2_le_of_cov_eq_one {ρ : ℝ} (hρ0 : 0 < ρ) (hρ1 : ρ < 1)
    {h : Latent n → Latent n} (hh : ∀ k, MemLp (fun z => h z k) 2 (latentGaussian n))
    (hcov : covMatrix h = 1) :
    ∃ Q ∈ Matrix.orthogonalGroup (Fin n) ℝ,
      ∫ z, ∑ k, (h z k - ∑ i, Q k i * z i - ∫ w, h w k ∂(latentGaussian n)) ^ 2
          ∂(latentGaussian n) ≤
        (alignment ρ h - 2 * n * (1 - ρ)) / (2 * ρ * (1 - ρ)) +
          ((alignment ρ h - 2 * n * (1 - ρ)) / (2 * ρ * (1 - ρ))) ^ 2 := by
  have hδ : frobNorm (covMatrix h - 1) = 0 := by
    rw [hcov, sub_self]
    exact frobNorm_zero
  have hB : nonlinearBoundL2 ρ h = (alignment ρ h - 2 * n * (1 - ρ)) / (2 * ρ * (1 - ρ)) := by
    rw [nonlinearBoundL2, hδ, mul_zero, add_zero]
  obtain ⟨Q, hQ, hdev⟩ := exists_deviationL2_le hρ0 hρ1 hh
  refine ⟨Q, hQ, ?_⟩
  rw [hB, hδ, zero_add] at hdev
  exact hdev

end LeJEPA
