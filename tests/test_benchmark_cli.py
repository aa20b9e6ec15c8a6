"""The benchmark scripts' command lines: the help, and the one-line refusals of bad
arguments and inputs."""

import json
import subprocess
import sys

import _helpers_benchmark
import numpy as np
import pytest
from _helpers_benchmark import ROOT, SCRIPT, _results

# the scripts imported as modules: fixtures of _helpers_benchmark
harness = _helpers_benchmark.harness
ranking = _helpers_benchmark.ranking


def test_command_line_help():
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.stdout.startswith("usage: python benchmarks/run.py")
    for option in ("--quick", "--output-dir", "--n-jobs", "--tasks", "--seeds"):
        assert option in out.stdout


# ------------------------------------------------ command-line refusals
def _refusal(main, argv, capsys):
    """``main(argv)`` exits as argparse refuses (status 2, no traceback):
    the error line it prints."""
    with pytest.raises(SystemExit) as refused:
        main(argv)
    assert refused.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "error: argument" in err[-1] and "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize("seeds", ["0", "-1", "two"])
def test_run_refuses_a_number_of_seeds_below_one(harness, tmp_path, seeds, capsys):
    out = tmp_path / "out"
    line = _refusal(harness.main, ["--seeds", seeds, "--output-dir", str(out)], capsys)
    assert f"argument --seeds: {seeds!r} is not a number of seeds" in line
    assert "give a positive integer" in line
    assert not out.exists()  # refused before any work
    assert harness._parser().parse_args(["--seeds", "3"]).seeds == 3


def test_run_refuses_methods_that_match_nothing(harness, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["--output-dir", str(out), "--methods", "network", "dwb_hgb_glob*x"]
    line = _refusal(harness.main, argv, capsys)
    assert "argument --methods: 'dwb_hgb_glob*x' matches no method" in line
    # the closest names are offered
    assert "e.g. dwb_hgb_global_" in line
    assert f"({len(harness.jobs())} methods)" in line
    assert not out.exists()
    # with --quick, only the quick methods count
    argv = ["--quick", "--output-dir", str(out), "--methods", "hgb"]
    line = _refusal(harness.main, argv, capsys)
    assert "'hgb' matches no method" in line and "with --quick" in line
    assert "logistic_regression" in line and not out.exists()


def test_run_takes_the_numbers_of_jobs_joblib_takes(harness, tmp_path, capsys):
    parse = harness._parser().parse_args
    for n_jobs in (1, 4, -1, -2):
        assert parse(["--n-jobs", str(n_jobs)]).n_jobs == n_jobs
    for bad in ("0", "many"):
        argv = ["--n-jobs", bad, "--output-dir", str(tmp_path / "out")]
        line = _refusal(harness.main, argv, capsys)
        assert f"argument --n-jobs: {bad!r} is not a number of processes" in line
        assert "-1 for every core" in line
    assert not (tmp_path / "out").exists()


def test_run_refuses_an_output_dir_under_a_file(harness, tmp_path, capsys):
    blocking = tmp_path / "file"
    blocking.write_text("")
    for out in (blocking / "results", blocking):
        line = _refusal(harness.main, ["--output-dir", str(out)], capsys)
        assert f"argument --output-dir: {blocking} is a file, not a folder" in line


@pytest.fixture
def ranking_inputs(tmp_path):
    """A folder with a small valid results.csv and noise_floor.json."""
    base = np.array([0.80, 0.82, 0.81])
    accuracies = {"dwb_global_1": base + 0.01, "eg_eo_lr": base}
    disparity = {"dwb_global_1": 0.01, "eg_eo_lr": 0.02}
    results = _results("t", accuracies, disparity)
    results["demographic_parity_difference"] = 0.01
    results.to_csv(tmp_path / "results.csv", index=False)
    splits = [{"task": "t", "seed": 0, "floor_mean": 0.01, "dpd_floor_mean": 0.01}]
    (tmp_path / "noise_floor.json").write_text(json.dumps({"splits": splits}))
    return tmp_path


def _ranking_argv(
    folder, results="results.csv", noise_floor="noise_floor.json", output="ranking.md"
):
    return [
        *("--results", str(folder / results)),
        *("--noise-floor", str(folder / noise_floor)),
        *("--output", str(folder / output)),
    ]


def test_ranking_refuses_missing_or_garbled_inputs(ranking, ranking_inputs, capsys):
    folder = ranking_inputs
    (folder / "semicolons.csv").write_text("task;method\nt;hgb\n")
    header = (folder / "results.csv").read_text().splitlines()[0]
    (folder / "header.csv").write_text(header + "\n")
    (folder / "text.csv").write_text(header + "\nt,hgb,0,high,0.1,0.1\n")
    (folder / "broken.json").write_text("{")
    cases = [
        (
            {"results": "none/results.csv"},
            f"--results: no file {folder / 'none' / 'results.csv'}",
            f"`python benchmarks/run.py --output-dir {folder / 'none'}`",
        ),
        (
            {"results": "semicolons.csv"},
            "lacks the column(s) task, method, seed, accuracy",
            "give --results the results.csv `python benchmarks/run.py` writes",
        ),
        ({"results": "header.csv"}, "header.csv holds no results", "run.py"),
        ({"results": "text.csv"}, "other values than numbers in accuracy", "run.py"),
        (
            {"noise_floor": "floor.json"},
            "--noise-floor: no file",
            f"`python benchmarks/noise_floor.py --output {folder / 'floor.json'}`",
        ),
        (
            {"noise_floor": "broken.json"},
            "is not a noise floor file",
            "benchmarks/noise_floor.py --output",
        ),
        (
            {"output": "missing/ranking.md"},
            f"--output: no folder {folder / 'missing'}",
            f"(`mkdir -p {folder / 'missing'}`)",
        ),
    ]
    for paths, problem, fix in cases:
        line = _refusal(ranking.main, _ranking_argv(folder, **paths), capsys)
        assert problem in line and fix in line, line
    assert not (folder / "ranking.md").exists()
    # the valid inputs give the report
    ranking.main(_ranking_argv(folder))
    assert "## EOD <= 0.05" in (folder / "ranking.md").read_text()
    assert (folder / "ranking.json").exists()


def test_ranking_command_line_prints_one_error_line(ranking_inputs):
    argv = _ranking_argv(ranking_inputs, results="none.csv")
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "ranking.py"), *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert (
        out.stderr.strip()
        .splitlines()[-1]
        .startswith("python benchmarks/ranking.py: error: argument --results: no file")
    )


def test_run_refuses_to_resume_a_table_it_did_not_write(harness, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("a,b\n1,2\n")
    line = _refusal(harness.main, ["--output-dir", str(out)], capsys)
    assert "results.csv is not a results table of this script" in line
    assert "lacks the columns task, method, family, seed" in line
