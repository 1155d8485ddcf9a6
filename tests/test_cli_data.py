"""The command line on the user's own table: --data FILE --target COLUMN --model ..."""

import json

import numpy as np
import pytest

from jaxopt_hw import cli
from jaxopt_hw.user_data import read_table, split_rows, table_problem


def _write_csv(path, n=60, seed=0, classes=None):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)) * [1.0, 10.0, 100.0]
    target = x @ [1.0, 0.1, 0.01] + 5.0
    if classes:
        target = np.digitize(target, np.quantile(target, np.linspace(0, 1, classes + 1)[1:-1]))
    lines = ["a,b,c,target"] + [
        ",".join(f"{v:.6g}" for v in (*row, t)) for row, t in zip(x, target)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_table_is_read_split_and_standardized(tmp_path):
    path = _write_csv(tmp_path / "t.csv")
    X, y, names = read_table(path, "target")
    assert X.shape == (60, 3) and names == ["a", "b", "c"] and y.shape == (60,)
    np.savez(tmp_path / "t.npz", features=X, target=y)
    X2, y2, names2 = read_table(tmp_path / "t.npz", "target")
    np.testing.assert_array_equal(X2, X)
    assert names2 == ["features[0]", "features[1]", "features[2]"]
    train, test = split_rows(60, 0.25, seed=1)
    assert len(test) == 15 and sorted(np.concatenate([train, test])) == list(range(60))
    prob, about = table_problem(path, "target", "least_squares", test_fraction=0.25, seed=1)
    assert prob.eval_names == ("test_loss",) and "45 training rows, 15 held out" in about
    assert prob.min_loss == pytest.approx(
        0.0, abs=1e-6
    )  # the target is linear in the columns plus 5


def test_cli_compare_and_sweep_on_a_csv(tmp_path, capsys):
    path = _write_csv(tmp_path / "t.csv", classes=3)
    out = tmp_path / "cmp"
    code = cli.main(
        [
            "--no-cache",
            "compare",
            "--data",
            str(path),
            "--target",
            "target",
            "--model",
            "softmax_regression",
            "--l2",
            "0.01",
            "--optimizers",
            "sgd,adam",
            "--lr",
            "0.1",
            "--steps",
            "30",
            "--batch-size",
            "8",
            "--seeds",
            "0,1",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    text = (out / "compare.md").read_text()
    assert "final test_accuracy" in text and "48 training rows, 12 held out" in text
    assert "median steps to tol" in capsys.readouterr().out  # l2 > 0: the optimum is known
    out = tmp_path / "sweep"
    code = cli.main(
        [
            "--no-cache",
            "sweep",
            "--data",
            str(path),
            "--target",
            "target",
            "--model",
            "softmax_regression",
            "--grid",
            "learning_rate=0.01,0.1",
            "--steps",
            "30",
            "--batch-size",
            "8",
            "--seeds",
            "0,1",
            "--metric",
            "test_accuracy",
            "--maximize",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert code == 0
    best = json.loads((out / "best.json").read_text())
    assert set(best["best"]) == {"learning_rate"} and best["metric"] == "test_accuracy"
    assert "steps to" not in capsys.readouterr().out  # no optimum known without l2


@pytest.mark.parametrize(
    "content, argv, message",
    [
        ("a,b\n1,2\n", ["--target", "c"], "has no column 'c'"),
        ("a,b\n1,x\n", ["--target", "b"], "line 2, column 'b' holds 'x', not a number"),
        ("a,b\n1,2\n3,4\nnan,5\n", ["--target", "b"], "line 4, column 'a' holds nan, not a finite"),
        ("a,b\n1,2\n3,inf\n", ["--target", "b"], "line 3, column 'b' holds inf, not a finite"),
        ("", ["--target", "b"], "has no rows"),
        ("a,b\n1,2\n", [], "--data needs --target"),
        ("a,b\n1,2\n3,4\n", ["--target", "b", "--problem", "small"], "give one of them"),
    ],
)
def test_cli_data_errors_are_one_line(tmp_path, capsys, content, argv, message):
    path = tmp_path / "t.csv"
    path.write_text(content)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(
            [
                "--no-cache",
                "compare",
                "--data",
                str(path),
                *argv,
                "--steps",
                "5",
                "--out",
                str(tmp_path / "o"),
            ]
        )
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
