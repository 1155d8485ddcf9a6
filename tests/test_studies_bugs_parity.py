"""The ``homework_bugs`` and ``parity`` studies, quick versions (each run once per module).

Checked: figures are PNG files that exist, every number in the conclusions and the text
is ``fmt`` of a fact, the results round-trip through JSON, and the measurements say
what they must (bugs that break the optimizer do break it, the harmless ones do not;
our optimizers match optax to round-off).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import jaxopt_hw as jh
from jaxopt_hw.studies import homework_bugs, parity
from study_checks import check_study_output



@pytest.fixture(scope="module")
def bugs(quick_study):
    return quick_study("homework_bugs")  # the quick report's run (tests/conftest.py)


@pytest.fixture(scope="module")
def parity_result(quick_study):
    return quick_study("parity")  # the quick report's run (tests/conftest.py)


def test_homework_bugs_report(bugs):
    settings, result = bugs
    check_study_output(settings, result, homework_bugs)
    assert len(result.conclusions) >= 6


def test_homework_bugs_measurements(bugs):
    _, result = bugs
    f = result.facts
    m = homework_bugs.MAIN
    zero = f[f"{m}.zero_excess"]
    for optimizer in ("rmsprop", "adam"):
        correct, assigned = f[f"{m}.{optimizer}.correct.mean"], f[f"{m}.{optimizer}.assign_step.mean"]
        # bug 1 breaks the method: stuck next to the zero vector, far above the correct run
        assert correct < 1e-2 * assigned
        assert abs(assigned / zero - 1) < 0.2
        assert f[f"{m}.{optimizer}.assign_step.max_abs_w"] <= f["assign_bound"] * (1 + 1e-5)
        # bug 4 is divided out by the adaptive methods (up to ε)
        assert f[f"{m}.{optimizer}.grad_over_n.mean"] == pytest.approx(correct, rel=1e-2)
        # the notebook as written: stuck too
        assert f[f"{m}.{optimizer}.notebook.mean"] > 0.5 * zero
    # bug 3 reports the starting point, whatever the optimizer
    assert f[f"{m}.momentum.returns_initial.mean"] == f[f"{m}.adam.returns_initial.mean"] > zero
    # Momentum has neither bug 1 nor bug 2; its "as written" is bug 4
    assert f[f"{m}.momentum.notebook.mean"] == f[f"{m}.momentum.grad_over_n.mean"]
    assert f[f"{m}.momentum.assign_step.mean"] == f[f"{m}.momentum.correct.mean"]
    # the correct Adam converges (the homework problem's noise floor is far below 1)
    assert f[f"{m}.adam.correct.mean"] < 0.05
    assert f["bias_factor"] == pytest.approx(math.sqrt(1 - 0.999) / (1 - 0.9))
    assert f[f"{m}.grad_scale"] == 32 / 10_000


def test_parity_report(parity_result):
    settings, result = parity_result
    check_study_output(settings, result, parity)


def test_parity_measurements(parity_result):
    _, result = parity_result
    f = result.facts
    assert f["float64.max_rel_diff"] < 1e-9
    assert f["float64.momentum.max_rel_diff"] < 1e-9
    assert f["float32.max_rel_diff"] < 1e-3
    assert f["float32.momentum.max_rel_diff"] < 1e-3
    for name in parity.PAIRS:  # the runs did train: the excess loss fell from ~1e3
        assert f[f"medium.float32.{name}.final_excess"] < 50, name
    for name in parity.TIMED_QUICK:
        for side in ("ours", "optax"):
            assert f[f"medium.{name}.{side}.steps_per_s"] > 1e3
    assert 0.2 < f["speed_ratio.median"] < 5


def test_side_by_side_equals_separate_runs():
    """A copy in a side-by-side run follows the same trajectory as a run of its own."""
    prob = jh.homework_problem("small")
    txs = {"adam": jh.adam(0.05), "momentum": jh.momentum(0.01)}
    combined = jh.run(
        parity.side_by_side(prob, list(txs)), parity.parallel(txs), steps=100, batch_size=32, seed=3, record_params=True
    )
    for name, tx in txs.items():
        alone = jh.run(prob, tx, steps=100, batch_size=32, seed=3, record_params=True)
        np.testing.assert_allclose(np.asarray(combined.params[name]), np.asarray(alone.params), rtol=1e-5, atol=1e-6)
        assert float(parity.excess_loss(prob, np.asarray(alone.params[-1]))) == pytest.approx(
            float(alone.excess_loss[-1]), rel=1e-3, abs=1e-5
        )
    with pytest.raises(ValueError):
        parity.side_by_side(prob, ["a", "a"])
