/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import Mathlib.Probability.Distributions.Gaussian.Multivariate
import Mathlib.Data.Fin.Tuple.NatAntidiagonal

/-!
# The Gaussian-OU world, Hermite functions and chaos energies

The objects the theorems and the axioms of `LeJEPA/Axioms.lean` speak about. Everything here is
a definition or a lemma proved from Mathlib; no axiom is used.

## Main definitions

* `LeJEPA.Latent n`: the latent space `ℝⁿ`, as `EuclideanSpace ℝ (Fin n)`.
* `LeJEPA.latentGaussian n`: the standard Gaussian `γₙ = N(0, Iₙ)`, Mathlib's `stdGaussian`.
* `LeJEPA.ouStep ρ z ε = ρ • z + √(1 - ρ²) • ε`: one step of the stationary Gaussian-OU world.
* `LeJEPA.pairLaw n`: the law `γₙ ⊗ γₙ` of the pair `(z, ε)`.
* `LeJEPA.scalarAlignment ρ f = E (f z' - f z)²` for a real function `f` of the latent.
* `LeJEPA.probHermite k`: the probabilists' Hermite polynomial `He_k`, as a function `ℝ → ℝ`.
* `LeJEPA.hermiteFun α`: the normalized multivariate Hermite function `He_α / √α!`.
* `LeJEPA.hermiteCoeff f α = E[f · He_α / √α!]` and
  `LeJEPA.chaosEnergy f d = ∑_{|α| = d} (hermiteCoeff f α)²`.
* `LeJEPA.frobSq`, `LeJEPA.frobNorm`: the (squared) Frobenius norm of a square matrix.

## Implementation notes

`He_k` is defined by its three-term recurrence `He_{k+2} = x He_{k+1} - (k+1) He_k` rather
than through `Polynomial.hermite`, whose signature changed in recent Mathlib (the coefficient
ring became an explicit argument); the recurrence is all the axioms need.
-/

noncomputable section

namespace LeJEPA

open MeasureTheory ProbabilityTheory

/-- The latent space `ℝⁿ` of the world. -/
abbrev Latent (n : ℕ) : Type := EuclideanSpace ℝ (Fin n)

/-- The standard Gaussian `γₙ = N(0, Iₙ)` on the latent space (Mathlib's `stdGaussian`). -/
abbrev latentGaussian (n : ℕ) : Measure (Latent n) := stdGaussian (Latent n)

/-- One step of the stationary Gaussian-OU world: `z' = ρ z + √(1 - ρ²) ε`. -/
def ouStep {n : ℕ} (ρ : ℝ) (z ε : Latent n) : Latent n :=
  ρ • z + Real.sqrt (1 - ρ ^ 2) • ε

/-- The law of the pair `(z, ε)` of two independent standard Gaussians; the positive pair of
the world is `(z, ouStep ρ z ε)`. -/
abbrev pairLaw (n : ℕ) : Measure (Latent n × Latent n) := (latentGaussian n).prod (latentGaussian n)

/-- The alignment of a real function of the latent, `E (f(z') - f(z))²` in the Gaussian-OU
world. -/
def scalarAlignment {n : ℕ} (ρ : ℝ) (f : Latent n → ℝ) : ℝ :=
  ∫ p, (f (ouStep ρ p.1 p.2) - f p.1) ^ 2 ∂(pairLaw n)

/-- The probabilists' Hermite polynomial `He_k`, evaluated at `x`:
`He_0 = 1`, `He_1 = x`, `He_{k+2} = x He_{k+1} - (k+1) He_k`. -/
def probHermite : ℕ → ℝ → ℝ
  | 0, _ => 1
  | 1, x => x
  | k + 2, x => x * probHermite (k + 1) x - (k + 1 : ℝ) * probHermite k x

/-- The normalized multivariate Hermite function `He_α(z) / √α!` for a multi-index `α`,
with `He_α(z) = ∏ᵢ He_{αᵢ}(zᵢ)` and `α! = ∏ᵢ αᵢ!`. -/
def hermiteFun {n : ℕ} (α : Fin n → ℕ) (z : Latent n) : ℝ :=
  (∏ i, probHermite (α i) (z i)) / Real.sqrt (∏ i, ((α i).factorial : ℝ))

/-- The Hermite coefficient `E[f(z) He_α(z) / √α!]` of `f` under `γₙ`. -/
def hermiteCoeff {n : ℕ} (f : Latent n → ℝ) (α : Fin n → ℕ) : ℝ :=
  ∫ z, f z * hermiteFun α z ∂(latentGaussian n)

/-- The degree-`d` chaos energy `e_d(f) = ∑_{|α| = d} (hermiteCoeff f α)²`, the squared norm of
the projection of `f` onto the `d`-th Wiener chaos. -/
def chaosEnergy {n : ℕ} (f : Latent n → ℝ) (d : ℕ) : ℝ :=
  ∑ α ∈ Finset.Nat.antidiagonalTuple n d, hermiteCoeff f α ^ 2

/-- The squared Frobenius norm `∑ᵢⱼ Mᵢⱼ²`. -/
def frobSq {n : ℕ} (M : Matrix (Fin n) (Fin n) ℝ) : ℝ :=
  ∑ i, ∑ j, M i j ^ 2

/-- The Frobenius norm `‖M‖_F = √(∑ᵢⱼ Mᵢⱼ²)`. -/
def frobNorm {n : ℕ} (M : Matrix (Fin n) (Fin n) ℝ) : ℝ :=
  Real.sqrt (frobSq M)

variable {n : ℕ}

/-- Chaos energies are nonnegative. -/
theorem chaosEnergy_nonneg (f : Latent n → ℝ) (d : ℕ) : 0 ≤ chaosEnergy f d :=
  Finset.sum_nonneg fun _ _ => sq_nonneg _

/-- The Hermite function of the zero multi-index is the constant `1`. -/
theorem hermiteFun_zero (z : Latent n) : hermiteFun (0 : Fin n → ℕ) z = 1 := by
  simp [hermiteFun, probHermite]

/-- The degree-zero chaos energy is the squared mean. -/
theorem chaosEnergy_zero (f : Latent n → ℝ) :
    chaosEnergy f 0 = (∫ z, f z ∂(latentGaussian n)) ^ 2 := by
  rw [chaosEnergy, Finset.Nat.antidiagonalTuple_zero_right, Finset.sum_singleton, hermiteCoeff]
  simp only [hermiteFun_zero, mul_one]

/-- The squared Frobenius norm is nonnegative. -/
theorem frobSq_nonneg (M : Matrix (Fin n) (Fin n) ℝ) : 0 ≤ frobSq M :=
  Finset.sum_nonneg fun _ _ => Finset.sum_nonneg fun _ _ => sq_nonneg _

/-- The Frobenius norm is nonnegative. -/
theorem frobNorm_nonneg (M : Matrix (Fin n) (Fin n) ℝ) : 0 ≤ frobNorm M :=
  Real.sqrt_nonneg _

/-- The squared Frobenius norm as one sum over index pairs. -/
theorem frobSq_eq_sum_prod (M : Matrix (Fin n) (Fin n) ℝ) :
    frobSq M = ∑ p : Fin n × Fin n, M p.1 p.2 ^ 2 := by
  rw [frobSq]
  -- the function argument of `Fintype.sum_prod_type'` is explicit in recent Mathlib and was
  -- implicit in older versions
  first
  | exact (Fintype.sum_prod_type' (fun i j => M i j ^ 2)).symm
  | exact (Fintype.sum_prod_type' (f := fun i j => M i j ^ 2)).symm
  | exact (Fintype.sum_prod_type (f := fun p : Fin n × Fin n => M p.1 p.2 ^ 2)).symm
  | exact (Fintype.sum_prod_type (fun p : Fin n × Fin n => M p.1 p.2 ^ 2)).symm

/-- The square of the Frobenius norm is the squared Frobenius norm. -/
theorem frobNorm_sq (M : Matrix (Fin n) (Fin n) ℝ) : frobNorm M ^ 2 = frobSq M :=
  Real.sq_sqrt (frobSq_nonneg M)

end LeJEPA
