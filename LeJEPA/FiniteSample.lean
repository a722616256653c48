/-
Copyright (c) 2026 LeJEPA identifiability kit contributors. All rights reserved.
Released under the MIT license as described in the file LICENSE.
-/
import Mathlib.Data.Real.Basic
import Mathlib.Tactic.Linarith
import Mathlib.Tactic.Ring

/-!
# Finite samples: what one direction beyond `z` costs (manifest ID `S1`)

Fitted on `n` pairs of a Gaussian-OU world with lag-one autocorrelation `ρ`, the exact
minimiser of the empirical alignment under empirical whitening in a fixed feature span (slow
feature analysis) tilts towards every other direction `j` of the span. To first order in `1/n`
each direction independent of `z`, with autocorrelation `ρⱼ < ρ`, adds
`(1 - ρ²) (1 - ρ ρⱼ) / (2 n (ρ - ρⱼ)²)` to the expected `1 - R²(h → z)`. That first-order
formula is derived on paper and checked by Monte Carlo only (`pycheck/sfa.py`,
`pycheck/checks/finite_sample.py`); it is not formalised here.

This file proves the elementary step behind the README's reading of it: the cost
`(1 - ρ ρⱼ) / (ρ - ρⱼ)²` does not decrease as `ρⱼ` grows in `[0, ρ)`, so among such
directions a fast one (`ρⱼ = 0`) is the cheapest, at `(1 - ρ²) / (2 n ρ²)`. It is stated
with the two positive denominators cleared, and proved from the factorisation
`(1 - ρb)(ρ - a)² - (1 - ρa)(ρ - b)² = (b - a) ((1 - ρ²)((ρ - a) + (ρ - b)) + ρ (ρ - a)(ρ - b))`.

## Main statements

* `LeJEPA.FiniteSample.cost_le_cost`: `(1 - ρ a) (ρ - b)² ≤ (1 - ρ b) (ρ - a)²` for
  `0 ≤ a ≤ b < ρ < 1`.
-/

namespace LeJEPA.FiniteSample

/-- **The cost of a direction does not fall as its autocorrelation grows.** For
`0 ≤ a ≤ b < ρ < 1`: `(1 - ρ a) / (ρ - a)² ≤ (1 - ρ b) / (ρ - b)²`, with the positive
denominators `(ρ - a)²` and `(ρ - b)²` cleared. -/
theorem cost_le_cost {ρ a b : ℝ} (ha : 0 ≤ a) (hab : a ≤ b) (hb : b < ρ) (hρ : ρ < 1) :
    (1 - ρ * a) * (ρ - b) ^ 2 ≤ (1 - ρ * b) * (ρ - a) ^ 2 := by
  have hρ0 : 0 < ρ := by linarith
  have h1 : 0 ≤ 1 - ρ ^ 2 := by nlinarith [mul_pos hρ0 (sub_pos.mpr hρ)]
  have h2 : 0 ≤ (ρ - a) + (ρ - b) := by linarith
  have h3 : 0 ≤ ρ * (ρ - a) * (ρ - b) :=
    mul_nonneg (mul_nonneg hρ0.le (by linarith)) (by linarith)
  have key : (1 - ρ * b) * (ρ - a) ^ 2 - (1 - ρ * a) * (ρ - b) ^ 2 =
      (b - a) * ((1 - ρ ^ 2) * ((ρ - a) + (ρ - b)) + ρ * (ρ - a) * (ρ - b)) := by
    ring
  rw [← sub_nonneg, key]
  exact mul_nonneg (sub_nonneg.mpr hab) (add_nonneg (mul_nonneg h1 h2) h3)

end LeJEPA.FiniteSample
