"""Performance profiles over every problem the studies measured steps to a tolerance on.

The comparison study's homework problems (each optimizer's fastest config, median steps
over the held-out seeds), the scaling study's d, n and fixed-κ scans (each optimizer's
lowest median over its configs) and the real-data study's data sets with an exact optimum
(the tuned config's geometric mean over the held-out seeds, where every seed gets there)
are one set of problems; :func:`profile` turns their facts
into Dolan–Moré profiles, a figure and one sentence, whose numbers are its own facts.

Example:
  >>> from jaxopt_hw.profiles import profile                                   # doctest: +SKIP
  >>> profile({name: r.facts for name, r in results.items()}, "figures/performance_profile.png")  # doctest: +SKIP
"""

from __future__ import annotations

import math
import re

import numpy as np

from jaxopt_hw import metrics
from jaxopt_hw.studies import formatted

__all__ = ["problems", "profile", "profile_text", "TAUS", "FIGURE"]

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
LABELS = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSprop", "adam": "Adam"}
#: the factors τ the facts record (1: the fastest; 4: within four times the fastest)
TAUS = (1, 2, 4)
FIGURE = "performance_profile.png"
_ROW = re.compile(r"^((?:n\d+|kappa\d+)_d\d+)_n$")
#: a real data set (its training rows recorded); it has a tolerance where its optimum is known
_REAL = re.compile(r"^([a-z_]+)_n_train$")


def _steps(facts: dict, key: str) -> float:
    """A recorded step count, ``inf`` where it is missing (never reached: not recorded)."""
    value = float(facts.get(key, math.inf))
    return value if math.isfinite(value) else math.inf


def problems(facts: dict) -> tuple:
    """``(names, steps)``: the problems' names and a ``(P, 4)`` array of steps to the
    tolerance (``inf``: never reached) from ``{study: facts}``."""
    names, rows = [], []
    c = facts.get("comparison") or {}
    for size in ("small", "medium", "large"):
        if f"n_{size}" in c:
            names.append(f"homework ({int(c['n_' + size])}, {int(c['d_' + size])})")
            rows.append([_steps(c, f"{size}_heldout_{o}_fastest") for o in OPTIMIZERS])
    s = facts.get("scaling") or {}
    for key in s:
        match = _ROW.match(key)
        if match:
            row = match.group(1)
            names.append(f"scaling {row}")
            rows.append([_steps(s, f"{row}_{o}_steps_median") for o in OPTIMIZERS])
    r = facts.get("real_data") or {}
    for key in r:
        match = _REAL.match(key)
        if match and f"{match.group(1)}_tol" in r:  # steps to a tolerance mean something
            data_set = match.group(1)
            names.append(f"real data {data_set}")
            rows.append([_steps(r, f"{data_set}_{o}_steps_gm") for o in OPTIMIZERS])
    return names, np.array(rows, dtype=float).reshape(len(rows), len(OPTIMIZERS))


def profile_facts(steps: np.ndarray) -> dict:
    """The profile at each of :data:`TAUS` per optimizer, and the number of problems."""
    values = metrics.performance_profile(steps, TAUS)
    facts = {"n_problems": int(steps.shape[0])}
    for i, tau in enumerate(TAUS):
        facts[f"tau_{i}"] = tau
        for j, name in enumerate(OPTIMIZERS):
            facts[f"{name}_tau{tau}"] = float(values[i, j])
    return facts


def profile_text(facts: dict) -> str:
    """Which optimizer is fastest most often (τ = 1) and which solves most within the
    largest recorded τ, and whether they are the same."""
    f = formatted(facts)
    first, last = TAUS[0], TAUS[-1]
    fastest = max(OPTIMIZERS, key=lambda o: facts[f"{o}_tau{first}"])
    robust = max(OPTIMIZERS, key=lambda o: facts[f"{o}_tau{last}"])
    lead = (
        f"Over the {f['n_problems']} problems, {LABELS[fastest]} is the fastest on the largest "
        "share "
        f"({f[f'{fastest}_tau{first}']})"
    )
    if robust == fastest:
        return lead + (
            f" and, within τ = {f['tau_' + str(len(TAUS) - 1)]} times the fastest, still solves "
            "the most "
            f"({f[f'{robust}_tau{last}']})."
        )
    return lead + (
        f", but within τ = {f['tau_' + str(len(TAUS) - 1)]} times the fastest {LABELS[robust]} "
        "solves the "
        f"most ({f[f'{robust}_tau{last}']}, {LABELS[fastest]} {f[f'{fastest}_tau{last}']})."
    )


def profile(facts: dict, path) -> dict:
    """The profile of ``{study: facts}``: problems, steps, facts, sentence, and the figure
    at ``path`` (``None`` where no study measured steps to a tolerance)."""
    from jaxopt_hw import plots

    names, steps = problems(facts)
    if not names:
        return None
    out = profile_facts(steps)
    plots.performance_profile(steps, [LABELS[o] for o in OPTIMIZERS], path=path)
    return {
        "problems": names,
        "optimizers": list(OPTIMIZERS),
        "steps": steps,
        "facts": out,
        "text": profile_text(out),
        "figure": FIGURE,
    }
