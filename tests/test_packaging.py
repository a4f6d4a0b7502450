"""Packaging: data files ship with the package, and the command runs.

The grammar (``.lark``) and the bundled datasets are package data, read with
``importlib.resources``.  They are checked twice: where the running interpreter finds the
package, and inside a wheel built from the source tree, which is what ``pip install .``
installs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from importlib import resources
from pathlib import Path

import pytest

import interlace
from interlace.datasets import describe, names

ROOT = Path(__file__).resolve().parents[1]

# The datasets issue 2 asks for (lme4, ordinal, nlme, survival, mlmRev, glmmTMB).
REQUIRED_DATASETS = (
    "sleepstudy Dyestuff Dyestuff2 Penicillin Pastes InstEval cbpp grouseticks VerbAgg cake "
    "wine soup Orthodont Ovary BodyWeight Machines rats kidney lung cgd Contraception Salamanders"
).split()


def _package_files(package: str, folder: str) -> set[str]:
    root = resources.files(package).joinpath(folder)
    return {entry.name for entry in root.iterdir() if entry.is_file()}


def test_grammar_is_package_data() -> None:
    grammar = _package_files("interlace.formula", "grammar")
    assert "formula.lark" in grammar
    text = resources.files("interlace.formula").joinpath("grammar/formula.lark").read_text()
    assert "|" in text and "~" in text


def test_every_catalogued_dataset_has_its_file() -> None:
    data = _package_files("interlace.datasets", "data")
    catalogue = json.loads(
        resources.files("interlace.datasets").joinpath("data/catalogue.json").read_text("utf-8")
    )
    assert set(catalogue["datasets"]) == set(names())
    for name in names():
        assert describe(name).file in data, name


def test_required_datasets_are_bundled() -> None:
    assert set(REQUIRED_DATASETS) <= set(names())


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """A wheel built (without network) from a copy of the source tree."""
    pytest.importorskip("setuptools", minversion="68")
    pytest.importorskip("wheel")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(
        ROOT / "interlace", src / "interlace", ignore=shutil.ignore_patterns("__pycache__")
    )
    out = tmp / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip_wheel, "-q", "--disable-pip-version-check", "-w", str(out), str(src)],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("interlace-*.whl")
    return zipfile.ZipFile(built)


def _source_data_files() -> set[str]:
    """Every non-Python file of the package in the source tree, as wheel member names."""
    package = ROOT / "interlace"
    return {
        path.relative_to(ROOT).as_posix()
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
    }


@pytest.mark.slow
def test_wheel_contains_grammar_and_datasets(wheel: zipfile.ZipFile) -> None:
    members = set(wheel.namelist())
    grammar = {
        f"interlace/formula/grammar/{n}" for n in _package_files("interlace.formula", "grammar")
    }
    data = {f"interlace/datasets/data/{n}" for n in _package_files("interlace.datasets", "data")}
    assert grammar and data
    assert grammar <= members
    assert data <= members


@pytest.mark.slow
def test_wheel_contains_every_package_data_file(wheel: zipfile.ZipFile) -> None:
    missing = _source_data_files() - set(wheel.namelist())
    assert not missing, f"add to [tool.setuptools.package-data]: {sorted(missing)}"


@pytest.mark.slow
def test_wheel_declares_the_console_command(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = (n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    text = wheel.read(entry_points).decode()
    assert "[console_scripts]" in text
    assert "interlace = interlace.cli:main" in text


def test_python_m_interlace_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "interlace", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: interlace")
    assert "fit" in done.stdout and "datasets" in done.stdout


def test_console_script_version() -> None:
    script = Path(sysconfig.get_path("scripts")) / "interlace"
    if not script.exists():
        pytest.skip("interlace is not installed in this environment (pip install -e .)")
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"interlace {interlace.__version__}"


# --- the README's two commands and CI ---------------------------------------------------------


def _readme_commands() -> list[str]:
    """The shell commands of the README's "Try it" section, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    return [block.split("```", 1)[0].strip() for block in section.split("```sh\n")[1:]]


def test_readme_has_exactly_two_commands() -> None:
    main_job, tests = _readme_commands()
    assert main_job.startswith("python3 -m pip install . && ")
    assert tests == "bash scripts/test.sh"


def test_readme_main_job_runs_the_cli_on_bundled_data() -> None:
    main_job, _ = _readme_commands()
    run_part = main_job.split(" && ", 1)[1]
    prefix = 'python3 -m interlace fit "'
    assert run_part.startswith(prefix)
    formula, rest = run_part[len(prefix) :].split('" ', 1)
    assert "|" in formula
    option, dataset = rest.split()
    assert option == "--data"
    assert dataset in names()


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = _readme_commands()
    ci = (ROOT / ".ci" / "run").read_text()
    assert ci.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in ci
    assert "export INTERLACE_REQUIRE_R=1" in ci
    assert f"exec {tests}" in ci


@pytest.mark.parametrize("script", [".ci/run", "scripts/test.sh"])
def test_shell_scripts_parse(script: str) -> None:
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    done = subprocess.run([bash, "-n", str(ROOT / script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
