"""Figures: every function writes a PNG and returns its Figure; heatmaps mark exactly the
diverged cells and box the best one; sensitivity takes the minimum over the other axes."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

import jaxopt_hw as jh  # noqa: E402
from jaxopt_hw import plots  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CURVE_NAMES = ("loss", "excess_loss", "dist_to_opt", "grad_norm", "batch_error")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def problem():
    return jh.linear_regression(200, 2)


@pytest.fixture(scope="module")
def result(problem):
    """One real sweep shared by the module: lr 1e3 diverges for every b1 and seed."""
    return jh.sweep(
        problem,
        jh.adam,
        grid={"learning_rate": [1e-2, 1e-1, 1e3], "b1": [0.8, 0.9]},
        seeds=[0, 1],
        steps=50,
        batch_size=16,
        progress=False,
    )


@pytest.fixture(scope="module")
def trajectories(problem):
    return {
        name: jh.run(problem, tx, steps=50, batch_size=16, record_params=True).params
        for name, tx in [("Momentum", jh.momentum(0.05)), ("Adam", jh.adam(0.1))]
    }


def fake_result(values, diverged, axes):
    """A SweepResult built by hand, whose every curve is constant at ``values``."""
    values = np.asarray(values, dtype=float)
    steps = np.arange(1, 4)
    curves = {name: np.repeat(values[..., None], len(steps), axis=-1) for name in CURVE_NAMES}
    return jh.SweepResult(
        axes=axes,
        curves=curves,
        steps=steps,
        diverged=np.asarray(diverged, bool),
        initial_loss=np.ones(values.shape[-1]),
        tol=1e-3,
        meta={"optimizer": "fake"},
    )


def assert_png(path):
    assert path.exists()
    assert path.read_bytes()[:8] == PNG_SIGNATURE


def texts(ax, content):
    return [t for t in ax.texts if t.get_text() == content]


def data_axes(fig):
    """The figure's axes that are not colorbars."""
    return [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]


# --------------------------------------------------------------------------- landscapes


def test_contour_trajectories_writes_png_and_draws_every_trajectory(
    problem, trajectories, tmp_path
):
    path = tmp_path / "sub" / "contour.png"
    fig = plots.contour_trajectories(problem, trajectories, path=path, levels=12, resolution=40)
    assert isinstance(fig, Figure)
    assert_png(path)
    ax = data_axes(fig)[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert {"Momentum", "Adam"} <= set(labels)
    adam = next(line for line in ax.get_lines() if line.get_label() == "Adam")
    np.testing.assert_allclose(adam.get_xydata(), np.asarray(trajectories["Adam"]), rtol=1e-6)
    stars = [line for line in ax.get_lines() if line.get_marker() == "*"]
    np.testing.assert_allclose(stars[0].get_xydata()[0], np.asarray(problem.w_star), rtol=1e-6)
    # the frame holds every point of every trajectory
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for points in trajectories.values():
        points = np.asarray(points)
        assert x0 <= points[:, 0].min() and points[:, 0].max() <= x1
        assert y0 <= points[:, 1].min() and points[:, 1].max() <= y1


def test_contour_trajectories_grid_has_one_panel_per_trajectory(problem, trajectories, tmp_path):
    path = tmp_path / "grid.png"
    fig = plots.contour_trajectories_grid(problem, trajectories, path=path, ncols=3, resolution=40)
    assert_png(path)
    panels = data_axes(fig)
    assert [ax.get_title() for ax in panels] == list(trajectories)
    assert len({ax.get_xlim() for ax in panels}) == 1  # one landscape, one frame


def test_contour_needs_two_parameters():
    with pytest.raises(ValueError, match="length 2"):
        plots.contour_trajectories(jh.linear_regression(50, 3), {"a": np.zeros((3, 3))})
    with pytest.raises(ValueError, match="shape"):
        plots.contour_trajectories(jh.rosenbrock(), {"a": np.zeros((3, 3))})


# --------------------------------------------------------------------------- curves


def test_convergence_draws_the_mean_over_seeds(result, tmp_path):
    curves = {
        f"lr={lr:g}": result.sel(learning_rate=lr, b1=0.9).excess_loss
        for lr in result.axes["learning_rate"]
    }
    path = tmp_path / "convergence.png"
    fig = plots.convergence(curves, result.steps, path=path, band="ci95")
    assert_png(path)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    line = next(line for line in ax.get_lines() if line.get_label().startswith("lr=0.1"))
    np.testing.assert_allclose(line.get_ydata(), curves["lr=0.1"].mean(axis=0), rtol=1e-6)
    # one run, min-max band, linear axis
    fig = plots.convergence({"one": curves["lr=0.1"][0]}, result.steps, band="minmax", logy=False)
    assert fig.axes[0].get_yscale() == "linear"
    with pytest.raises(ValueError, match="band"):
        plots.convergence(curves, result.steps, band="sd")
    with pytest.raises(ValueError, match="shape"):
        plots.convergence(curves, result.steps[:-1])


# --------------------------------------------------------------------------- heatmaps


def test_heatmap_marks_exactly_the_diverged_cells_and_boxes_the_best(result, tmp_path):
    path = tmp_path / "heatmap.png"
    fig = plots.heatmap(result, "learning_rate", "b1", metric="final_excess_loss", path=path)
    assert_png(path)
    ax = data_axes(fig)[0]
    bad = result.diverged.any(axis=-1)
    assert bad.sum() == 2  # the sweep's lr = 1e3 column
    assert len(texts(ax, plots.DIVERGED_MARK)) == bad.sum()
    # the marks sit on the diverged cells: columns are learning rates, rows b1
    marked = {
        (round(t.get_position()[0]), round(t.get_position()[1]))
        for t in texts(ax, plots.DIVERGED_MARK)
    }
    assert marked == {(j, i) for j, i in zip(*np.nonzero(bad))}
    hatched = [p for p in ax.patches if p.get_gid() == "diverged"]
    assert len(hatched) == bad.sum()
    # every other cell carries its mean with 2 significant digits
    mean = result.final_excess_loss.mean(axis=-1)
    for j, i in zip(*np.nonzero(~bad)):
        assert texts(ax, f"{mean[j, i]:.2g}")
    best = [p for p in ax.patches if p.get_gid() == "best"]
    assert len(best) == 1
    j, i = np.unravel_index(np.argmin(np.where(bad, np.inf, mean)), mean.shape)
    assert isinstance(best[0], Rectangle)
    assert best[0].get_xy() == (j - 0.5, i - 0.5)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "1000"]
    # the colour scale ignores the diverged cells
    image = ax.get_images()[0]
    assert image.norm.vmax == pytest.approx(mean[~bad].max())


def test_heatmap_excludes_a_diverged_cell_even_when_its_value_is_lowest():
    axes = {"learning_rate": [0.1, 1.0], "b1": [0.8, 0.9], "seed": [0, 1]}
    values = np.array([[[3.0, 3.0], [2.0, 2.0]], [[1e-9, 1e-9], [5.0, 5.0]]])
    diverged = np.zeros(values.shape, bool)
    diverged[1, 0, 1] = True  # one seed is enough
    fig = plots.heatmap(fake_result(values, diverged, axes), "b1", "learning_rate")
    ax = data_axes(fig)[0]
    assert len(texts(ax, plots.DIVERGED_MARK)) == 1
    (best,) = [p for p in ax.patches if p.get_gid() == "best"]
    assert best.get_xy() == (1 - 0.5, 0 - 0.5)  # b1 = 0.9 (column 1), lr = 0.1 (row 0)
    assert ax.get_images()[0].norm.vmin == pytest.approx(2.0)


def test_heatmap_rejects_a_result_with_three_axes():
    axes = {"learning_rate": [0.1, 1.0], "b1": [0.8, 0.9], "b2": [0.99, 0.999], "seed": [0]}
    res = fake_result(np.ones((2, 2, 2, 1)), np.zeros((2, 2, 2, 1)), axes)
    with pytest.raises(ValueError, match="sel"):
        plots.heatmap(res, "learning_rate", "b1")
    with pytest.raises(ValueError):
        plots.heatmap(res.sel(b2=0.99), "learning_rate", "learning_rate")
    plots.heatmap(res.sel(b2=0.99), "learning_rate", "b1")  # selected: fine


def test_heatmaps_share_one_colour_scale(result, tmp_path):
    axes = {
        "learning_rate": result.axes["learning_rate"],
        "beta": result.axes["b1"],
        "seed": result.axes["seed"],
    }
    halved = fake_result(result.final_loss / 2, result.diverged, axes)
    path = tmp_path / "heatmaps.png"
    fig = plots.heatmaps(
        {"adam": result, "half": halved},
        {"adam": "b1", "half": "beta"},
        "learning_rate",
        metric="final_loss",
        path=path,
    )
    assert_png(path)
    panels = data_axes(fig)
    assert [ax.get_title() for ax in panels] == ["adam", "half"]
    assert [ax.get_xlabel() for ax in panels] == ["b1", "beta"]
    norms = {(ax.get_images()[0].norm.vmin, ax.get_images()[0].norm.vmax) for ax in panels}
    assert len(norms) == 1
    good = ~result.diverged.any(axis=-1)
    mean = result.final_loss.mean(axis=-1)
    assert norms.pop() == pytest.approx((mean[good].min() / 2, mean[good].max()))
    assert sum(len(texts(ax, plots.DIVERGED_MARK)) for ax in panels) == 2 * (~good).sum()


# --------------------------------------------------------------------------- sensitivity


def test_sensitivity_takes_the_best_over_the_other_axes(result, tmp_path):
    path = tmp_path / "sensitivity.png"
    fig = plots.sensitivity(
        {"Adam": result}, axis="learning_rate", metric="final_excess_loss", path=path
    )
    assert_png(path)
    ax = fig.axes[0]
    (line,) = [line for line in ax.get_lines() if line.get_label() == "Adam"]
    mean = result.final_excess_loss.mean(axis=-1)  # (lr, b1)
    expected = np.where(result.diverged.any(axis=-1), np.inf, mean).min(axis=1)
    expected[np.isinf(expected)] = np.nan  # lr = 1e3: every config diverged
    np.testing.assert_allclose(line.get_ydata(), expected, rtol=1e-6)
    np.testing.assert_allclose(line.get_xdata(), result.axes["learning_rate"])
    (marks,) = [line for line in ax.get_lines() if line.get_gid() == "diverged"]
    np.testing.assert_allclose(marks.get_xdata(), [1e3])
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_sensitivity_ignores_diverged_configs_and_reduces_every_other_axis():
    axes = {"b1": [0.8, 0.9], "learning_rate": [0.1, 1.0], "b2": [0.9, 0.99], "seed": [0, 1]}
    rng = np.random.default_rng(0)
    values = rng.uniform(1.0, 2.0, size=(2, 2, 2, 2))
    values[1, 0, 1] = 1e-6  # the lowest, but one seed diverged: excluded
    diverged = np.zeros(values.shape, bool)
    diverged[1, 0, 1, 0] = True
    fig = plots.sensitivity({"opt": fake_result(values, diverged, axes)}, metric="final_loss")
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_label() == "opt"]
    mean = np.where(diverged.any(axis=-1), np.inf, values.mean(axis=-1))  # (b1, lr, b2)
    expected = mean.transpose(1, 0, 2).reshape(2, -1).min(axis=1)
    assert expected[0] > 1.0
    np.testing.assert_allclose(line.get_ydata(), expected)


# --------------------------------------------------------------------------- laws


def test_scaling_and_rates_write_pngs(tmp_path):
    b = np.array([8.0, 32.0, 128.0])
    path = tmp_path / "scaling.png"
    fig = plots.scaling(
        b,
        {"SGD": (np.array([4.0, 1.1, 0.3]), np.array([0.4, 0.1, 0.5]))},
        xlabel="batch size",
        ylabel="excess loss",
        theory={"1/B": 32 / b},
        path=path,
    )
    assert_png(path)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    (dashed,) = [line for line in ax.get_lines() if line.get_label() == "1/B"]
    assert dashed.get_linestyle() == "--"
    with pytest.raises(ValueError):
        plots.scaling(b, {"SGD": (np.ones(2), np.ones(2))}, xlabel="b", ylabel="l")

    kappas = np.array([1.0, 10.0, 100.0])
    path = tmp_path / "rates.png"
    fig = plots.rates_table_plot(
        kappas, {"GD": [0.01, 0.8, 0.98]}, {"GD": (kappas - 1) / (kappas + 1)}, path=path
    )
    assert_png(path)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    measured = next(line for line in ax.get_lines() if line.get_label() == "GD (measured)")
    assert measured.get_linestyle() == "None" and measured.get_marker() == "o"


def test_figures_stay_out_of_pyplot(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plots.rates_table_plot([1.0, 2.0], {"a": [0.1, 0.2]}, {}, path=tmp_path / "r.png")
    plots.rates_table_plot([1.0, 2.0], {"a": [0.1, 0.2]}, {})
    assert plt.get_fignums() == before


def test_performance_profile_draws_one_step_curve_per_solver(tmp_path):
    steps = np.array([[10.0, 20.0, np.inf], [40.0, 20.0, 30.0], [5.0, np.inf, 5.0]])
    path = tmp_path / "profile.png"
    fig = plots.performance_profile(steps, ["SGD", "Adam", "RMSprop"], path=path, tau_max=8.0)
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    lines = fig.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["SGD", "Adam", "RMSprop"]
    # each curve ends at the share of problems the solver solves at all (τ = 8 covers every ratio here)
    np.testing.assert_allclose([line.get_ydata()[-1] for line in lines], [1.0, 2 / 3, 2 / 3])
    with pytest.raises(ValueError, match="solvers"):
        plots.performance_profile(steps, ["SGD", "Adam"])
