"""The built wheel installs into a fresh virtual environment and runs the demo."""

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

import sklearn_dwb

ROOT = Path(__file__).resolve().parents[1]


def _run(*command, **kwargs):
    return subprocess.run([str(part) for part in command], check=True, **kwargs)


@pytest.mark.slow
def test_wheel_installs_and_runs_the_demo(tmp_path):
    build = ["wheel", "--no-deps", "--quiet", "-w", tmp_path, ROOT]
    _run(sys.executable, "-m", "pip", *build)
    (wheel,) = tmp_path.glob("sklearn_dwb-*.whl")
    assert wheel.name.startswith(f"sklearn_dwb-{sklearn_dwb.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "sklearn_dwb/_classifier.py" in names
    assert not any(
        name.startswith(("tests/", "benchmarks/", "examples/")) for name in names
    )

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    constraints = ROOT / "constraints.txt"
    _run(python, "-m", "pip", "install", "--quiet", "-c", constraints, wheel)
    output = dict(capture_output=True, text=True, cwd=tmp_path)
    demo = _run(python, "-m", "sklearn_dwb.demo", "--n-samples", "1500", **output)
    assert "DwB student" in demo.stdout and "unmitigated network" in demo.stdout
    code = "import sklearn_dwb; print(sklearn_dwb.__version__, sklearn_dwb.__file__)"
    version = _run(python, "-c", code, **output).stdout.split()
    assert version[0] == sklearn_dwb.__version__
    assert str(env) in version[1]  # the installed copy, not the checkout
