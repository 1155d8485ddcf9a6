"""RMSprop and Adam against their reference rates: the fits' checks and each conclusion branch."""

import math

import numpy as np
import pytest
from study_checks import assert_numbers_are_facts

from jaxopt_hw.studies.theory import adaptive

KAPPAS = (10, 100, 1000)


def test_half_slopes_tell_a_line_from_a_curve():
    steps = np.arange(1, 2001)
    line = 0.95**steps + 1e-300
    assert adaptive.is_linear(*adaptive.half_slopes(line, steps))
    curved = np.exp(-1e-5 * steps**2) + 1e-300  # log-distance bends down, as Adam's at κ = 1000
    first, second = adaptive.half_slopes(curved, steps)
    assert second / first > 1 + adaptive.LINEAR_TOL and not adaptive.is_linear(first, second)
    stalled = 0.05 + 0.95 * 0.9**steps  # never below the window's start
    assert all(math.isnan(s) for s in adaptive.half_slopes(stalled, steps))
    assert not adaptive.is_linear(*adaptive.half_slopes(stalled, steps))


def test_rebound_and_jacobi_reference():
    assert adaptive.rebound([1.0, 1e-3, 1e-15, 1e-11, 1e-12]) == pytest.approx(1e4)
    assert adaptive.rebound([1.0, 0.5, 0.25]) == 1.0
    x = np.random.default_rng(0).standard_normal((200, 3)) * np.array([1.0, 10.0, 100.0])
    kappa_d, rho_d = adaptive.jacobi_reference(x)  # axis scaling is what D removes
    assert kappa_d < 2 and rho_d == pytest.approx((kappa_d - 1) / (kappa_d + 1))


def _facts(rmsprop: dict, adam: dict) -> dict:
    """Synthetic facts: per method ``{κ: rate}`` for the κ with a linear rate (ρ_D 0.9, √β₁
    as Adam's)."""
    rows = []
    for kappa in KAPPAS:
        for method, rates in (("rmsprop", rmsprop), ("adam", adam)):
            rate = rates.get(kappa, math.nan)
            rows.append(
                {
                    "kappa": kappa,
                    "kappa_d": 19.0,
                    "rho_d": 0.9,
                    "method": method,
                    "lr": 0.1 if kappa in rates else math.nan,
                    "linear": kappa in rates,
                    "measured": rate,
                    "halves_ratio": 1.01 if kappa in rates else math.nan,
                    "rebound": 1e4,
                    "final": {"0.01": 0.005, "0.03": 0.01, "0.1": 0.07},
                }
            )
    kappas = {f"kappa_{k}": k for k in KAPPAS}  # the study's own facts
    return {"n_kappas": len(KAPPAS), **kappas, **adaptive.adaptive_facts(rows)}


B1 = math.sqrt(adaptive.ADAM_B1)
CASES = {
    "none_none": ({}, {}, ["RMSprop has no linear rate", "Adam has no linear rate"]),
    "none_b1_prefix": ({}, {10: B1, 100: B1}, ["stalls at", "up to κ = 100, not above", "√β₁"]),
    "none_b1_all": ({}, {k: B1 for k in KAPPAS}, ["Adam decays linearly at every κ", "√β₁"]),
    "none_b1_gap": ({}, {10: B1, 1000: B1}, ["at 2 of 3 κ"]),
    "jacobi_jacobi": (
        {k: 0.9 for k in KAPPAS},
        {k: 0.905 for k in KAPPAS},
        ["RMSprop decays linearly at every κ, at the Jacobi rate", "Adam decays linearly at every"],
    ),
    "some_neither": ({100: 0.5}, {10: 0.99}, ["RMSprop decays linearly at 1 of 3 κ", "neither"]),
}


@pytest.mark.parametrize("case", CASES)
def test_adaptive_conclusion_branches(case):
    rmsprop, adam, wanted = CASES[case]
    facts = _facts(rmsprop, adam)
    sentence = adaptive.adaptive_short(facts)
    for words in wanted:
        assert words in sentence, (words, sentence)
    assert len(sentence.split()) <= 45, sentence
    assert_numbers_are_facts(sentence, facts)
    assert_numbers_are_facts(adaptive.adaptive_detail(facts, KAPPAS), facts)
    if not adam:
        assert "Adam decays" not in sentence
    if adam and all(abs(v - B1) < 1e-12 for v in adam.values()):
        assert "Jacobi" not in sentence and facts["adam_at_b1_count"] == len(adam)
