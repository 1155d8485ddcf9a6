"""Your model, your data: jh.problem through run and sweep, held-out metrics, kept parameters."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import jaxopt_hw as jh
from jaxopt_hw.sweep import SUMMARY_METRICS
from jaxopt_hw.user_problem import RESERVED_NAMES

N, D, HIDDEN, CLASSES = 120, 6, 8, 3


def _mlp_init(seed):
    rng = np.random.default_rng(seed)
    return {
        "hidden": {
            "w": (rng.standard_normal((D, HIDDEN)) / np.sqrt(D)).astype(np.float32),
            "b": np.zeros(HIDDEN, np.float32),
        },
        "out": {
            "w": (rng.standard_normal((HIDDEN, CLASSES)) / np.sqrt(HIDDEN)).astype(np.float32),
            "b": np.zeros(CLASSES, np.float32),
        },
    }


def _logits(params, x):
    hidden = jnp.tanh(x @ params["hidden"]["w"] + params["hidden"]["b"])
    return hidden @ params["out"]["w"] + params["out"]["b"]


def _loss(params, batch):
    logits = _logits(params, batch["image"])
    return jnp.mean(
        jax.nn.logsumexp(logits, axis=-1)
        - jnp.take_along_axis(logits, batch["label"][:, None], 1)[:, 0]
    )


def _eval(params, held_out):
    logits = _logits(params, held_out["image"])
    return {
        "accuracy": jnp.mean(jnp.argmax(logits, -1) == held_out["label"]),
        "test_loss": _loss(params, held_out),
    }


def _data(seed, n):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, D))
    return {"image": x, "label": (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 1).astype(np.int32)}


@pytest.fixture(scope="module")
def mlp():
    return jh.problem(
        _loss, _data(0, N), _mlp_init, eval_fn=_eval, eval_data=_data(1, 40), name="mlp"
    )


def _hand_loop(params, data, tx, steps, batch_size, seed):
    """Ten lines of optax over the batches jh.run documents: consecutive slices of a stream
    of per-epoch permutations."""
    stream = np.concatenate(
        [jh.epoch_permutation(seed, epoch, N) for epoch in range(steps * batch_size // N + 1)]
    )
    state = tx.init(params)

    @jax.jit
    def step(params, state, batch):
        grads = jax.grad(_loss)(params, batch)
        updates, state = tx.update(grads, state, params)
        return optax.apply_updates(params, updates), state

    for t in range(steps):
        rows = stream[t * batch_size : (t + 1) * batch_size]
        params, state = step(params, state, jax.tree.map(lambda a: jnp.asarray(a[rows]), data))
    return params


def test_a_dict_mlp_equals_a_hand_written_optax_loop(mlp):
    steps, batch_size = 60, 16
    # the same transformation on both sides: this checks the loop (jh.adam's own rounding
    # against optax.adam is test_optimizers' business)
    trace = jh.run(
        mlp, optax.adam(0.01), steps=steps, batch_size=batch_size, seed=3, log_every=steps
    )
    expected = _hand_loop(
        jax.tree.map(jnp.asarray, _mlp_init(3)), _data(0, N), optax.adam(0.01), steps, batch_size, 3
    )
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
        trace.final_params,
        expected,
    )
    np.testing.assert_allclose(
        trace.loss[-1], _loss(expected, jax.tree.map(jnp.asarray, _data(0, N))), rtol=1e-6
    )
    assert set(trace.metrics) == {"accuracy", "test_loss"}


def test_numpy_and_jax_data_give_bitwise_the_same_trace():
    host = _data(0, N)
    traces = [
        jh.run(jh.problem(_loss, data, _mlp_init), jh.sgd(0.1), steps=20, batch_size=8, log_every=5)
        for data in (host, jax.tree.map(jnp.asarray, host))
    ]
    for a, b in zip(jax.tree.leaves(traces[0]), jax.tree.leaves(traces[1])):
        np.testing.assert_array_equal(a, b)


def test_each_sweep_config_equals_its_run_with_kept_params_and_held_out_metrics(mlp):
    grid = {"learning_rate": [0.003, 0.03], "b1": [0.8, 0.9]}
    res = jh.sweep(
        mlp,
        jh.adam,
        grid,
        seeds=[0, 5],
        steps=40,
        batch_size=16,
        log_every=10,
        keep_params=True,
        progress=False,
    )
    assert res.params["out"]["w"].shape == (2, 2, 2, HIDDEN, CLASSES)
    assert res.curves["accuracy"].shape == (2, 2, 2, 4)
    for i, lr in enumerate(grid["learning_rate"]):
        for j, b1 in enumerate(grid["b1"]):
            for k, seed in enumerate([0, 5]):
                trace = jh.run(
                    mlp, jh.adam(lr, b1=b1), steps=40, batch_size=16, seed=seed, log_every=10
                )
                np.testing.assert_allclose(res.loss[i, j, k], trace.loss, rtol=2e-6)
                kept = jax.tree.map(lambda leaf: leaf[i, j, k], res.params)
                jax.tree.map(
                    lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7),
                    kept,
                    trace.final_params,
                )
                direct = _eval(kept, jax.tree.map(jnp.asarray, _data(1, 40)))
                for name in ("accuracy", "test_loss"):
                    np.testing.assert_allclose(
                        res.curves[name][i, j, k, -1], direct[name], rtol=1e-6
                    )
                    np.testing.assert_allclose(
                        res.curves[name][i, j, k], trace.metrics[name], rtol=2e-6
                    )


def test_best_ranks_by_a_held_out_metric_and_best_config_rebuilds_the_optimizer(mlp, tmp_path):
    res = jh.sweep(
        mlp,
        jh.adam,
        {"learning_rate": [1e-4, 0.05]},
        fixed={"b2": 0.99},
        seeds=[0, 1],
        steps=40,
        batch_size=16,
        keep_params=True,
        progress=False,
    )
    accuracy = res.curves["accuracy"][..., -1].mean(axis=-1)
    best = res.best("accuracy", maximize=True)
    assert best["accuracy"] == pytest.approx(accuracy.max())
    assert res.best("accuracy")["accuracy"] == pytest.approx(accuracy.min())
    config = res.best_config("accuracy", maximize=True)
    assert json.loads(json.dumps(config)) == config and set(config) == {"learning_rate"}
    assert isinstance(jh.adam(**res.meta["fixed"], **config), optax.GradientTransformation)
    with pytest.raises(ValueError, match="accuracy"):
        res.best("precision")
    with pytest.raises(TypeError, match="maximize must be True or False"):
        res.best("accuracy", maximize="no")  # a string would count as true
    table = res.table("accuracy", maximize=True)
    assert "steps to" not in table and table.splitlines()[2].startswith(
        f"| {_cell(config['learning_rate'])} "
    )
    res.save(tmp_path / "r.npz")
    loaded = jh.SweepResult.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(loaded.params["['out']['w']"], res.params["out"]["w"])
    assert loaded.best_config("accuracy", maximize=True) == config


def _cell(value):
    return f"{value:.4g}"


def test_kept_params_count_in_the_memory_budget(mlp):
    kwargs = dict(
        grid={"learning_rate": [0.01, 0.02, 0.03, 0.04]},
        seeds=[0],
        steps=10,
        batch_size=8,
        progress=False,
    )
    whole = jh.sweep(mlp, jh.sgd, keep_params=True, **kwargs)
    param_bytes = sum(leaf.nbytes for leaf in jax.tree.leaves(_mlp_init(0)))
    budget = 5 * param_bytes  # twice the state of one config fits, three times its params do not
    plain = jh.sweep(mlp, jh.sgd, memory_budget=budget, **kwargs)
    chunked = jh.sweep(mlp, jh.sgd, keep_params=True, memory_budget=budget, **kwargs)
    assert chunked.meta["n_chunks"] > plain.meta["n_chunks"]
    # chunks of other than 64 configs round otherwise (bitwise only for multiples of 64)
    jax.tree.map(
        lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8),
        chunked.params,
        whole.params,
    )


def test_default_log_every_keeps_the_full_loss_off_the_training_path(mlp):
    trace = jh.run(mlp, jh.sgd(0.1), steps=100, batch_size=10)
    assert trace.steps[0] == 50  # four epochs are 48 steps; 50 is the smallest divisor of 100 above
    assert jh.run(jh.linear_regression(50, 2), jh.sgd(0.01), steps=10, batch_size=10).steps[0] == 1


@pytest.mark.parametrize(
    "data, match",
    [
        ({"x": np.ones((5, 2)), "y": np.ones(4)}, r"leading length"),
        (
            {"x": np.array([[1.0], [np.nan]]), "y": np.ones(2)},
            r"data\['x'\] contains NaN or inf \(first in row 1\)",
        ),
        ({"x": np.ones((0, 2))}, r"data\['x'\] must have a leading axis"),
        ({"x": np.array(["a", "b"])}, r"data\['x'\] must hold real numbers"),
        ({}, r"data must hold at least one array"),
    ],
)
def test_bad_data_is_refused_naming_the_leaf(data, match):
    with pytest.raises((TypeError, ValueError), match=match):
        jh.problem(lambda w, b: jnp.sum(w), data, np.zeros(2, np.float32))


def test_bfloat16_data_and_parameters_train_in_bfloat16():
    X = np.random.default_rng(0).normal(size=(40, 2))
    data = {"X": jnp.asarray(X, jnp.bfloat16), "y": jnp.asarray(X @ [1.0, -1.0], jnp.bfloat16)}
    prob = jh.problem(
        lambda w, b: jnp.mean((b["X"] @ w - b["y"]) ** 2), data, jnp.zeros(2, jnp.bfloat16)
    )
    trace = jh.run(prob, jh.sgd(0.1), steps=40, batch_size=8)
    assert prob.data["X"].dtype == jnp.bfloat16
    assert trace.loss[-1] < 0.05 * trace.initial_loss


def test_a_bad_loss_init_or_eval_fn_is_refused_before_compiling():
    data = {"x": np.ones((6, 2)), "y": np.ones(6)}
    w = np.zeros(2, np.float32)
    with pytest.raises(TypeError, match=r"loss must be loss\(params, batch\)"):
        jh.problem(lambda w, x, y: jnp.sum(w), data, w)
    with pytest.raises(TypeError, match="loss must return a float scalar"):
        jh.problem(lambda w, b: b["x"] @ w, data, w)
    with pytest.raises(TypeError, match="loss must compute its value from params"):
        jh.problem(lambda w, b: 1.0, data, w)  # a constant: no gradient to follow

    def init_failing_past_seed_0(seed):
        if seed:
            raise RuntimeError("no such checkpoint")
        return w

    with pytest.raises(TypeError, match=r"init\(1\) raised RuntimeError: no such checkpoint"):
        jh.problem(lambda w, b: jnp.sum(w), data, init_failing_past_seed_0)
    with pytest.raises(ValueError, match="init must give parameters of one structure"):
        jh.problem(lambda p, b: jnp.sum(p["a"]), data, lambda s: {"a": np.zeros(2 + s, np.float32)})
    with pytest.raises(TypeError, match="init must hold float arrays"):
        jh.problem(lambda w, b: jnp.sum(w), data, np.zeros(2, np.int32))
    loss = lambda w, b: jnp.mean(b["x"] @ w)  # noqa: E731
    with pytest.raises(TypeError, match="eval_fn must return a non-empty dict"):
        jh.problem(loss, data, w, eval_fn=lambda w, e: jnp.sum(w), eval_data=data)
    with pytest.raises(TypeError, match="eval_fn must return scalars"):
        jh.problem(loss, data, w, eval_fn=lambda w, e: {"a": e["x"] @ w}, eval_data=data)
    with pytest.raises(TypeError, match="eval_fn must return real scalars, got complex64"):
        jh.problem(loss, data, w, eval_fn=lambda w, e: {"a": jnp.sum(w) * 1j}, eval_data=data)
    assert set(SUMMARY_METRICS) <= set(RESERVED_NAMES)
    for name in ("loss", "final_loss", "steps_to_tol", "seed"):  # a result reads these itself
        with pytest.raises(ValueError, match=f"metric '{name}' clashes with a built-in name"):
            jh.problem(loss, data, w, eval_fn=lambda w, e: {name: jnp.sum(w)}, eval_data=data)
    with pytest.raises(TypeError, match="metric names must be non-empty strings"):
        jh.problem(loss, data, w, eval_fn=lambda w, e: {"": jnp.sum(w)}, eval_data=data)
    named_as_lr = jh.problem(
        loss, data, w, eval_fn=lambda w, e: {"learning_rate": jnp.sum(w)}, eval_data=data
    )
    clash = "held-out metric 'learning_rate' has the name of a hyperparameter"
    with pytest.raises(ValueError, match=clash):  # best() would report one in the other's place
        jh.sweep(named_as_lr, jh.sgd, {"learning_rate": [0.1]}, progress=False)
    with pytest.raises(ValueError, match=clash):
        jh.search(named_as_lr, jh.sgd, {"learning_rate": jh.log_uniform(0.01, 0.1)}, steps=9)
    with pytest.raises(ValueError, match="eval_data is given without an eval_fn"):
        jh.problem(loss, data, w, eval_data=data)
    with pytest.raises(TypeError, match="keep_params must be True or False"):
        jh.sweep(
            jh.problem(loss, data, w),
            jh.sgd,
            {"learning_rate": [0.1]},
            keep_params="yes",
            progress=False,
        )


def test_docstring_examples_run():
    import doctest

    from jaxopt_hw import checks as loop
    from jaxopt_hw import user_problem

    results = doctest.testmod(user_problem, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert results.attempted >= 6 and results.failed == 0
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(loop.default_log_every, "default_log_every", globs=vars(loop)):
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
