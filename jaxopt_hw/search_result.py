"""The result of a search: every config's hyperparameters, the rung it reached and its curves."""

from __future__ import annotations

import dataclasses
import json
from typing import Optional

import numpy as np

from jaxopt_hw._io import atomic_savez, reading_saved
from jaxopt_hw.checks import check_int
from jaxopt_hw.spaces import plain_value
from jaxopt_hw.sweep.result import table_cell

__all__ = ["SearchResult", "ranked"]


def ranked(scores: np.ndarray, maximize: bool = False) -> np.ndarray:
    """Indices of ``scores`` best first (NaN, as a diverged config scores, last; ties by
    index)."""
    keyed = np.where(np.isnan(scores), np.inf, -scores if maximize else scores)
    return np.argsort(keyed, kind="stable")


# --------------------------------------------------------------------------- the result


@dataclasses.dataclass
class SearchResult:
    """A search's configs and what each reached.

    Attributes:
      configs: ``{hyperparameter: values}``, one value per config (``num_configs``).
      rung: ``(configs,)`` the last rung each config trained in (0 for all in a random search).
      rung_steps: the steps each rung trains up to (the last: ``steps``).
      scores: ``(configs, rungs)`` the metric (mean over seeds) at the end of each rung a
        config reached; NaN where it did not, or where a seed diverged.
      steps: the logged steps; ``curves``: ``{metric: (configs, seeds, logged steps)}``
        (``loss``, ``excess_loss``, …, held-out metrics), NaN after a config's last rung.
      diverged: ``(configs, seeds)`` divergence flags at each config's last rung.
      metric, maximize: what ranked the configs; ``meta``: problem, optimizer, fixed
        hyperparameters, seeds, timings, …
    """

    configs: dict
    rung: np.ndarray
    rung_steps: list
    scores: np.ndarray
    steps: np.ndarray
    curves: dict
    diverged: np.ndarray
    metric: str
    maximize: bool
    meta: dict = dataclasses.field(default_factory=dict)

    @property
    def num_configs(self) -> int:
        return len(self.rung)

    def order(self) -> np.ndarray:
        """Config indices best first: those that reached further first, then by their
        score at the last rung they reached."""
        last = self.scores[np.arange(self.num_configs), self.rung]
        within = ranked(last, self.maximize)
        return within[np.argsort(-self.rung[within], kind="stable")]

    def best(self) -> dict:
        """The best config: ``{hyperparameter: value, ..., metric: its score}``."""
        index = int(self.order()[0])
        if np.isnan(self.scores[index, self.rung[index]]):
            raise ValueError(f"no config ends with a finite mean {self.metric} without diverging")
        chosen = {name: values[index] for name, values in self.configs.items()}
        chosen[self.metric] = float(self.scores[index, self.rung[index]])
        return chosen

    def best_config(self) -> dict:
        """The best config's hyperparameters as plain JSON values: ``factory(**fixed,
        **best_config)`` rebuilds its optimizer."""
        chosen = self.best()
        del chosen[self.metric]
        return {name: plain_value(value) for name, value in chosen.items()}

    def table(self, limit: Optional[int] = 20) -> str:
        """A markdown table, best first: each config's hyperparameters, the rung and steps it
        reached, its ``metric`` there and the seeds that diverged; at most ``limit`` rows
        (a positive int, or ``None`` for all)."""
        limit = None if limit is None else check_int("limit", limit)
        names = list(self.configs)
        header = names + ["rung", "steps", f"{self.metric} (mean over seeds)", "diverged"]
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        seeds = self.diverged.shape[-1]
        for index in self.order()[:limit]:
            score = self.scores[index, self.rung[index]]
            cells = [table_cell(self.configs[name][index]) for name in names]
            cells += [
                str(self.rung[index]),
                str(self.rung_steps[self.rung[index]]),
                "–" if np.isnan(score) else f"{score:.4g}",
                f"{int(self.diverged[index].sum())}/{seeds}",
            ]
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def save(self, path) -> None:
        """Writes the result to ``path`` (an ``.npz`` with the configs and metadata as JSON), atomically."""
        header = {
            "configs": self.configs,
            "rung_steps": self.rung_steps,
            "metric": self.metric,
            "maximize": self.maximize,
            "meta": self.meta,
        }
        arrays = {f"curve_{k}": v for k, v in self.curves.items()}
        arrays.update(
            rung=self.rung,
            scores=self.scores,
            steps=self.steps,
            diverged=self.diverged,
            header_json=np.array(json.dumps(header, default=repr)),
        )
        atomic_savez(path, arrays)

    @classmethod
    def load(cls, path) -> "SearchResult":
        """Reads a result written by :meth:`save`.

        Raises:
          FileNotFoundError: nothing is at ``path``.
          ValueError: the file at ``path`` is not a saved search (damaged, or another
            file), saying why.
        """
        advice = (
            "rerun the search that made it (with out= it reloads its saved rungs) "
            "or load another file"
        )
        with reading_saved(path, "SearchResult", advice) as (stored, header):
            return cls(
                configs=header["configs"],
                rung=stored["rung"],
                rung_steps=header["rung_steps"],
                scores=stored["scores"],
                steps=stored["steps"],
                diverged=stored["diverged"],
                curves={k[len("curve_") :]: v for k, v in stored.items() if k.startswith("curve_")},
                metric=header["metric"],
                maximize=header["maximize"],
                meta=header["meta"],
            )
