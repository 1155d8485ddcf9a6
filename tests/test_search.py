"""Random and successive-halving search over the sweep engine."""

import os
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxopt_hw as jh
from jaxopt_hw.search import halving_rungs, sample_configs, shared_call_steps

SPACE = {"learning_rate": jh.log_uniform(1e-3, 0.5), "b1": jh.uniform(0.5, 0.99)}
#: The search the module's tests share: 10 configs, rungs of 10, 30 and 90 steps.
HALVING = dict(num_configs=10, seeds=[1], search_seed=4, steps=90, batch_size=32, eta=3, min_steps=10,
               log_every=1, progress=False)  # fmt: skip
METRICS = ("loss", "excess_loss", "dist_to_opt", "grad_norm", "batch_error")


@pytest.fixture(scope="module")
def small():
    return jh.linear_regression(1_000, 5, seed=3)


@pytest.fixture(scope="module")
def halved(small, tmp_path_factory):
    out = tmp_path_factory.mktemp("search") / "run"
    found = jh.search(small, jh.adam, SPACE, out=str(out), **HALVING)
    return found, out


def _reference_rungs(num_configs, steps, min_steps, eta):
    """The schedule written out: rung r has floor(n / eta^r) configs and min_steps * eta^r steps."""
    counts, budgets, r = [], [], 0
    while min_steps * eta**r < steps and num_configs // eta**r > 1:
        counts.append(num_configs // eta**r)
        budgets.append(min_steps * eta**r)
        r += 1
    return budgets + [steps], counts + [max(1, num_configs // eta**r)]


@pytest.mark.parametrize(
    "n, steps, min_steps, eta",
    [(10, 90, 10, 3), (81, 1000, 250, 3), (64, 1000, 10, 2), (5, 100, 100, 3), (100, 1000, 1, 10)],
)
def test_halving_rungs_equal_the_schedule_written_out(n, steps, min_steps, eta):
    rungs = halving_rungs(n, steps, min_steps, eta)
    assert ([r.steps for r in rungs], [r.configs for r in rungs]) == _reference_rungs(
        n, steps, min_steps, eta
    )


@pytest.mark.parametrize(
    "n, steps, min_steps, eta, expected",
    [
        (10, 90, 10, 3, 10),
        (81, 1000, 250, 3, 250),
        (256, 1000, 62, 3, None),
        (5, 100, 100, 3, None),
    ],
)
def test_rungs_share_calls_of_common_steps_when_few(n, steps, min_steps, eta, expected):
    assert shared_call_steps(halving_rungs(n, steps, min_steps, eta)) == expected


def test_all_rungs_share_one_compiled_program(small, monkeypatch):
    engine = sys.modules["jaxopt_hw.sweep.engine"].Engine
    compiled, programs = engine._compiled, []

    def recorded(self, static_kwargs, keep_state, steps, quick, args):
        shapes = tuple(np.shape(leaf) for leaf in jax.tree.leaves(args))
        programs.append((static_kwargs, keep_state, steps, quick, shapes))
        return compiled(self, static_kwargs, keep_state, steps, quick, args)

    monkeypatch.setattr(engine, "_compiled", recorded)
    whole = jh.search(small, jh.adam, SPACE, **HALVING)  # rungs of 10, 20 and 60 more steps
    assert len(programs) == 1 + 2 + 6 and len(set(programs)) == 1
    # a budget of two configs a chunk: five chunks in the first rung, through the same program
    chunked = jh.search(small, jh.adam, SPACE, memory_budget=3e3, **HALVING)
    assert chunked.meta["chunk"] == 2 and len(programs) == 9 + 5 + 2 * 2 + 6
    assert len(set(programs)) == 1
    for name, curve in whole.curves.items():
        np.testing.assert_array_equal(chunked.curves[name], curve, err_msg=name)


def test_survivors_are_the_best_by_the_recorded_metric(halved):
    found, _ = halved
    assert found.rung_steps == [10, 30, 90] and list(np.bincount(found.rung)) == [7, 2, 1]
    alive = np.arange(10)
    for r, keep in enumerate([3, 1]):  # a plain NumPy reference on the recorded scores
        scores = found.scores[alive, r]
        best = alive[np.argsort(np.where(np.isnan(scores), np.inf, scores), kind="stable")[:keep]]
        np.testing.assert_array_equal(np.sort(best), np.flatnonzero(found.rung > r))
        alive = np.sort(best)
    assert found.best()["final_loss"] == found.scores[alive[0], 2]


@pytest.mark.skipif(jax.default_backend() != "cpu", reason="bitwise on XLA:CPU")
def test_a_config_continued_across_rungs_is_bitwise_its_uninterrupted_run(small, halved):
    found, _ = halved
    for i in np.argsort(-found.rung)[:4]:  # the winner, both of rung 1's and one of rung 0's
        lr, b1 = found.configs["learning_rate"][i], found.configs["b1"][i]
        steps = found.rung_steps[found.rung[i]]
        trace = jh.run(small, jh.adam(lr, b1=b1), steps=steps, batch_size=32, seed=1)
        for name in METRICS:
            np.testing.assert_array_equal(
                found.curves[name][i, 0, :steps], np.asarray(getattr(trace, name)), err_msg=name
            )
        assert np.all(np.isnan(found.curves["loss"][i, 0, steps:]))


def test_a_space_of_static_values_only_continues_its_configs_across_rungs(small):
    # schedules are static: no value of this space is traced, and its 9 configs repeat 2
    schedules = [jh.exponential_decay(0.05, 0.99), jh.exponential_decay(0.002, 0.9)]
    options = dict(HALVING, num_configs=9)
    found = jh.search(small, jh.sgd, {"learning_rate": jh.choice(schedules)}, **options)
    assert sorted(found.rung.tolist()) == [0] * 6 + [1] * 2 + [2]
    for i in np.argsort(-found.rung)[:3]:  # the winner and rung 1's: each continued
        steps = found.rung_steps[found.rung[i]]
        tx = jh.sgd(found.configs["learning_rate"][i])
        trace = jh.run(small, tx, steps=steps, batch_size=32, seed=1)
        np.testing.assert_array_equal(found.curves["loss"][i, 0, :steps], trace.loss)
    winner = found.configs["learning_rate"][int(np.argmax(found.rung))]
    assert found.best_config()["learning_rate"] is winner and winner in schedules


def test_a_search_resumes_after_a_kill_between_rungs(small, halved):
    found, out = halved
    last = [name for name in os.listdir(out) if name.startswith("rung_02")]
    assert last
    for name in last + ["search.npz"]:  # as if killed once rung 1 was saved
        os.remove(out / name)
    kept = [name for name in os.listdir(out) if name.startswith(("rung_00", "rung_01"))]
    again = jh.search(small, jh.adam, SPACE, out=str(out), **HALVING)
    assert again.meta["chunks_loaded"] == len(kept) == 3  # rungs 0 and 1 read back
    for name, curve in found.curves.items():
        np.testing.assert_array_equal(again.curves[name], curve)
    loaded = jh.SearchResult.load(out / "search.npz")
    np.testing.assert_array_equal(loaded.scores, found.scores)
    assert loaded.best_config() == found.best_config() and loaded.table() == found.table()


def test_a_file_that_is_no_saved_search_is_refused_naming_it(halved, tmp_path):
    found, out = halved
    saved = (out / "search.npz").read_bytes()
    sweep_file = tmp_path / "sweep.npz"
    jh.sweep(jh.linear_regression(50, 2), jh.sgd, {"learning_rate": [0.1]}, steps=4,
             progress=False).save(sweep_file)  # fmt: skip
    files = {"text.npz": b"not an archive", "cut.npz": saved[: len(saved) // 2]}
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "foreign.npz", a=np.ones(2))
    for name in [*files, "foreign.npz", "sweep.npz"]:
        path = str(tmp_path / name)
        with pytest.raises(ValueError, match=f"'{path}' is not a saved SearchResult"):
            jh.SearchResult.load(path)
    with pytest.raises(TypeError, match="path must be a str"):
        jh.SearchResult.load(5)  # NumPy would read file descriptor 5
    with pytest.raises(ValueError, match="limit must be >= 1"):
        found.table(limit=0)


def test_a_search_folder_is_kept_from_other_searches_and_files(small, halved):
    _, out = halved
    other = dict(HALVING, search_seed=5)
    saved = sum(name.endswith(".npz") for name in os.listdir(out))
    with pytest.raises(ValueError, match=rf"different sweep .*search_seed.*{saved} saved file"):
        jh.search(small, jh.adam, SPACE, out=str(out), **other)  # its rungs, not "delete it"
    with pytest.raises(ValueError, match=r"must be a folder, but it is a file"):
        jh.search(small, jh.adam, SPACE, out=str(out / "search.npz"), **HALVING)


def test_sampling_is_reproducible_and_balanced():
    space = {
        "learning_rate": jh.log_uniform(1e-4, 1.0),
        "b1": jh.uniform(0.5, 0.99),
        "nesterov": jh.choice([1, 2]),
    }
    a, b = sample_configs(space, 256, seed=7), sample_configs(space, 256, seed=7)
    assert a == b and a != sample_configs(space, 256, seed=8)
    unit = {
        "learning_rate": (np.log10(a["learning_rate"]) + 4) / 4,
        "b1": (np.asarray(a["b1"]) - 0.5) / 0.49,
    }
    for name, u in unit.items():  # a (0, m, 2)-net: every 1/32 of each axis holds exactly 8 points
        np.testing.assert_array_equal(np.histogram(u, bins=32, range=(0, 1))[0], 8, err_msg=name)
    assert np.bincount(a["nesterov"])[1:].tolist() == [128, 128]
    rng = sample_configs(space, 256, seed=7, sampler="random")
    assert np.histogram(np.asarray(rng["b1"]), bins=32, range=(0.5, 0.99))[0].std() > 0  # not a net


def test_random_search_trains_every_config_as_one_sweep(small):
    found = jh.search(
        small,
        jh.heavy_ball,
        {"learning_rate": jh.log_uniform(1e-3, 0.05), "nesterov": jh.choice([False, True])},
        method="random",
        num_configs=6,
        steps=40,
        batch_size=32,
        progress=False,
    )
    assert found.rung.tolist() == [0] * 6 and found.rung_steps == [40]
    for i in range(6):
        tx = jh.heavy_ball(found.configs["learning_rate"][i], nesterov=found.configs["nesterov"][i])
        trace = jh.run(
            small, tx, steps=40, batch_size=32, seed=0, log_every=found.meta["log_every"]
        )
        np.testing.assert_allclose(found.curves["loss"][i, 0], trace.loss, rtol=1e-6)


def test_bounds_may_be_numpy_or_jax_scalars():
    assert jh.log_uniform(np.float32(0.5), jnp.asarray(1.0)) == jh.log_uniform(0.5, 1.0)
    assert jh.uniform(np.int64(0), np.asarray(2.0)) == jh.uniform(0.0, 2.0)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda p: jh.search(p, jh.adam, {}), "space must be a non-empty dict"),
        (lambda p: jh.uniform(1.0, 1.0), "low < high"),
        (lambda p: jh.log_uniform(0.0, 1.0), "low > 0"),
        (lambda p: jh.log_uniform(1e-3, float("inf")), "finite"),
        (lambda p: jh.log_uniform(1e-3, np.array([1.0])), "high must be a finite number"),
        (lambda p: jh.uniform(True, 2.0), "low must be a finite number"),
        (lambda p: jh.uniform(jnp.asarray(1.0), np.float32(0.5)), "low < high"),
        (lambda p: jh.choice([]), "at least one value"),
        (lambda p: jh.search(p, jh.adam, SPACE, eta=1), "eta must be an int >= 2"),
        (lambda p: jh.search(p, jh.adam, SPACE, steps=100, min_steps=200), "min_steps"),
        (lambda p: jh.search(p, jh.adam, SPACE, num_configs=2, eta=3), "survivors would outnumber"),
        (
            lambda p: jh.search(p, jh.adam, {"learning_rat": jh.uniform(0.1, 0.2)}),
            "unknown hyperparameter",
        ),
        (lambda p: jh.search(p, jh.adam, SPACE, method="grid"), "method must be"),
        (lambda p: jh.search(p, jh.adam, SPACE, num_configs=10**12), "num_configs asks for"),
        (lambda p: jh.search(p, jh.adam, SPACE, maximize="no"), "maximize must be True or False"),
        (lambda p: jh.search(p, jh.adam, SPACE, metric="accuracy"), "metric must be"),
        (lambda p: jh.search(p, jh.adam, SPACE, steps=90, min_steps=10, log_every=7), "log_every"),
    ],
)
def test_bad_input_is_refused_before_compiling(small, call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call(small)


def test_the_table_names_a_schedule_by_the_call_that_made_it():
    schedules = [jh.exponential_decay(0.1, 0.99), jh.constant_schedule(0.01)]
    found = jh.SearchResult(
        configs={"learning_rate": schedules},
        rung=np.zeros(2, int),
        rung_steps=[10],
        scores=np.array([[0.5], [0.25]]),
        steps=np.array([10]),
        curves={},
        diverged=np.zeros((2, 1), bool),
        metric="final_loss",
        maximize=False,
        meta={},
    )
    rows = found.table().splitlines()[2:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| constant_schedule(0.01)",
        "| exponential_decay(0.1, 0.99)",
    ]


def test_cli_search_writes_best_json_table_and_figure(tmp_path, capsys):
    import json

    from jaxopt_hw import cli

    out = tmp_path / "search"
    code = cli.main(
        [
            "--no-cache",
            "search",
            "--optimizer",
            "adam",
            "--space",
            "learning_rate=log:1e-3:0.5",
            "--space",
            "b1=0.5:0.99",
            "--fixed",
            "b2=0.99",
            "--problem",
            "small",
            "--num-configs",
            "9",
            "--steps",
            "60",
            "--min-steps",
            "20",
            "--seeds",
            "0",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    best = json.loads((out / "best.json").read_text())
    assert set(best["best"]) == {"learning_rate", "b1"} and best["fixed"] == {"b2": 0.99}
    assert (out / "rungs.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    found = jh.SearchResult.load(out / "search.npz")
    assert found.best_config() == best["best"] and (out / "table.md").read_text().count("\n") == 11
    with pytest.raises(SystemExit):
        cli.main(["--no-cache", "search", "--space", "learning_rate=log:0:1", "--problem", "small"])
    assert "low > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a list where one value is fixed, refused as in sweep
        cli.main(["--no-cache", "search", "--space", "learning_rate=log:1e-3:1", "--fixed", "b1=0.8,0.9",
                  "--problem", "small"])  # fmt: skip
    assert "--fixed b1 takes one value" in capsys.readouterr().err
