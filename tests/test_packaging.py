"""The built wheel installs into a fresh virtual environment and runs the demo."""

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import sklearn_dwb

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_installs_and_runs_the_demo(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(ROOT)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("sklearn_dwb-*.whl")
    assert wheel.name.startswith(f"sklearn_dwb-{sklearn_dwb.__version__}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert "sklearn_dwb/_classifier.py" in names
    assert not any(name.startswith(("tests/", "benchmarks/", "examples/")) for name in names)

    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "-c", str(ROOT / "constraints.txt"), str(wheel)],
        check=True,
    )  # fmt: skip
    demo = subprocess.run(
        [str(python), "-m", "sklearn_dwb.demo", "--n-samples", "1500"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert "DwB student" in demo.stdout and "unmitigated network" in demo.stdout
    version = subprocess.run(
        [str(python), "-c", "import sklearn_dwb; print(sklearn_dwb.__version__, sklearn_dwb.__file__)"],
        check=True, capture_output=True, text=True, cwd=tmp_path,
    ).stdout.split()  # fmt: skip
    assert version[0] == sklearn_dwb.__version__
    assert str(env) in version[1]  # the installed copy, not the checkout
