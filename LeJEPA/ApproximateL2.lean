/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Forward
import LeJEPA.Approximate

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

The route: by Mehler (axiom `LeJEPA.mehler_scalarAlignment`) the alignment of the `k`-th
component is `2 ∑_d (1 - ρ ^ d) e_{k,d}`; the weight is `0` in degree `0`, `1 - ρ` in degree `1`
and at least `(1 - ρ) + ρ (1 - ρ)` from degree `2` on (`LeJEPA.Spectral.mul_one_sub_le_sub`);
by Parseval (axiom `LeJEPA.hasSum_chaosEnergy`) and `e_{k,0} = (E hₖ)²`
(`LeJEPA.chaosEnergy_zero`), `∑_{d ≥ 1} e_{k,d} = E hₖ² - (E hₖ)² = (Σ_h)ₖₖ`. Hence
`2 ρ (1 - ρ) E_nl ≤ L(h) - 2 (1 - ρ) tr Σ_h`, and `n - tr Σ_h ≤ √n δ`
(`LeJEPA.card_sub_trace_le`) gives `E_nl ≤ B`.

The deviation bound `D(h) ≤ B + (δ + B)²` remains proved for finite chaos expansions only
(`LeJEPA.FiniteChaos.exists_deviation_le`).

## Main statements

* `LeJEPA.nonlinearEnergyL2_eq`: `E_nl = ∑ₖ ((Σ_h)ₖₖ - e_{k,1})` (the Parseval form).
* `LeJEPA.two_mul_nonlinearEnergyL2_le`: `2 ρ (1 - ρ) E_nl ≤ L(h) - 2 (1 - ρ) tr Σ_h`.
* `LeJEPA.nonlinearEnergyL2_le`: **Theorem 3, nonlinear energy**, `E_nl ≤ B`.

## References

* D. Klindt, Y. LeCun, R. Balestriero, *When Does LeJEPA Learn a World Model?*, 2026, Thm. 3.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory

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
  rw [(Spectral.hasSum_ite_two_le (hasSum_chaosEnergy (hh k))).tsum_eq, chaosEnergy_zero,
    covMatrix_apply_self]

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

end LeJEPA
