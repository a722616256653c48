/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import LeJEPA.Defs
import Mathlib.LinearAlgebra.UnitaryGroup

/-!
# Axioms: standard facts not (yet) in Mathlib

This is the only file of the development that declares axioms. Each one is a classical
theorem, stated as narrowly as the proofs of `LeJEPA/Forward.lean` need, about objects that are
*defined* (in `LeJEPA/Defs.lean`, on top of Mathlib's `stdGaussian`), so that every axiom is a
concrete, checkable mathematical claim. (`Mathlib.LinearAlgebra.UnitaryGroup` is imported for
`LeJEPA/Forward.lean`, which uses `Matrix.orthogonalGroup`.)

| axiom | standard fact | manifest ID |
| --- | --- | --- |
| `hasSum_chaosEnergy` | Parseval for the Hermite basis of `L²(γₙ)` | `L3` |
| `mehler_correlation` | Mehler's formula: `E[f(z) f(z')] = ∑_d ρ ^ d e_d(f)` | `L2` |

All of them are Hermite / Wiener-chaos infrastructure on `γₙ`. The paper also axiomatized the
Mazur–Ulam theorem and weighted AM–GM. Both are in Mathlib
(`Mathlib/Analysis/Normed/Affine/MazurUlam.lean`, `Mathlib/Analysis/MeanInequalities.lean`) and
neither is needed here: encoders are compared through their chaos coefficients. The
nearest-orthogonal-matrix bound (`L5`), the first and second moments of `γₙ`
(`latentGaussian_linear_moments`) and the first-chaos characterization (`chaosEnergy_eq_zero_iff`,
`L6`, from Parseval and the moments) and the scalar alignment identity
(`mehler_scalarAlignment`, from `mehler_correlation`, Parseval and the stationarity of the OU step,
which is proved from Mathlib's characteristic functions), axioms in earlier versions of this file,
are now theorems (`LeJEPA/Polar.lean`, `LeJEPA/Moments.lean`, `LeJEPA/Mehler.lean`).

## References

* V. I. Bogachev, *Gaussian Measures*, AMS 1998.
* S. Janson, *Gaussian Hilbert Spaces*, Cambridge University Press 1997.
* D. Nualart, *The Malliavin Calculus and Related Topics*, 2nd ed., Springer 2006.
-/

namespace LeJEPA

open MeasureTheory ProbabilityTheory Matrix

/-- **Parseval identity for the Hermite basis (L3).** The normalized Hermite functions
`He_α / √α!` form an orthonormal basis of `L²(γₙ)`, so the chaos energies of a square-integrable
`f` sum to `E f²`.

Bogachev, *Gaussian Measures*, Ch. 1 (Hermite polynomials); Nualart, *The Malliavin
Calculus*, §1.1 (Wiener chaos decomposition); Janson, *Gaussian Hilbert Spaces*, Ch. 2–3. -/
axiom hasSum_chaosEnergy {n : ℕ} {f : Latent n → ℝ} (hf : MemLp f 2 (latentGaussian n)) :
    HasSum (chaosEnergy f) (∫ z, f z ^ 2 ∂(latentGaussian n))

/-- **Mehler's formula for the Gaussian-OU step (L2), as a correlation identity.** For
`0 ≤ ρ ≤ 1` and `f ∈ L²(γₙ)`, the Ornstein–Uhlenbeck operator `T_ρ f(z) = E[f(ρ z + √(1-ρ²) ε)]`
acts on the `d`-th Wiener chaos as multiplication by `ρ ^ d` (`E[He_α(z') | z] = ρ^|α| He_α(z)`),
so the correlation of `f` along one OU step is `E[f(z) f(z')] = ∑_d ρ ^ d e_d(f)`. Stationarity of
the step and the integrability of `f(z) f(z')` are *not* part of this axiom: they are proved in
`LeJEPA/Mehler.lean` from Mathlib (and make the integral on the right a genuine expectation).

Nualart, *The Malliavin Calculus*, §1.4 (the Ornstein–Uhlenbeck semigroup, Mehler's formula);
Bogachev, *Gaussian Measures*, Ch. 1 (Ornstein–Uhlenbeck semigroup);
Janson, *Gaussian Hilbert Spaces*, Ch. 4. -/
axiom mehler_correlation {n : ℕ} {ρ : ℝ} (hρ0 : 0 ≤ ρ) (hρ1 : ρ ≤ 1) {f : Latent n → ℝ}
    (hf : MemLp f 2 (latentGaussian n)) :
    HasSum (fun d => ρ ^ d * chaosEnergy f d)
      (∫ p, f p.1 * f (ouStep ρ p.1 p.2) ∂(pairLaw n))

end LeJEPA
