"""The ``interlace`` command: subcommands, output and exit codes.

The command is run in-process through :func:`interlace.cli.main`, which returns the exit
status (argparse's own exits raise ``SystemExit``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import interlace
import interlace.datasets
from interlace import cli

SLEEP_FORMULA = "Reaction ~ Days + (Days | Subject)"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``interlace *argv``; return (exit status, stdout, stderr)."""
    try:
        status = cli.main(list(argv))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def assert_one_error_line(err: str, *fragments: str) -> None:
    """stderr starts with one ``interlace: error:`` line naming the fragments; no traceback."""
    first = err.splitlines()[0]
    assert first.startswith("interlace: error: ")
    for fragment in fragments:
        assert fragment in first
    assert "Traceback" not in err


# --- top level ------------------------------------------------------------------------------


def test_help_lists_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--help")
    assert status == 0
    assert "usage: interlace" in out
    listed = re.findall(r"^ {4}(\w+)\b", out, flags=re.MULTILINE)
    assert listed == ["fit", "translate", "parity", "datasets"]


@pytest.mark.parametrize("command", ["translate", "parity"])
def test_subcommand_help(capsys: pytest.CaptureFixture[str], command: str) -> None:
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert out.startswith(f"usage: interlace {command} ")


def test_translate_writes_python(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    script = tmp_path / "model.R"
    script.write_text("m <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)\n")
    status, out, err = run(capsys, "translate", str(script))
    assert status == 0, err
    assert 'm = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)' in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "--version")
    assert status == 0
    assert out.strip() == f"interlace {interlace.__version__}"


def test_no_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys)
    assert status == 2
    assert "required: COMMAND" in err


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "frobnicate")
    assert status == 2
    assert "invalid choice: 'frobnicate'" in err


# --- datasets -------------------------------------------------------------------------------


def test_datasets_lists_every_bundled_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "datasets")
    assert status == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == interlace.datasets.names()
    sleep = next(line for line in lines if line.startswith("sleepstudy "))
    assert sleep.split()[1:5] == ["lme4", "180", "x", "3"]


# --- fit: bad input -------------------------------------------------------------------------


def test_fit_requires_data(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "fit", SLEEP_FORMULA)
    assert status == 2
    assert "--data" in err


def test_fit_reml_and_ml_are_exclusive(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "fit", SLEEP_FORMULA, "--data", "sleepstudy", "--reml", "--ml")
    assert status == 2
    assert "not allowed with argument" in err


def test_fit_unknown_dataset_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "fit", SLEEP_FORMULA, "--data", "sleepstudyy")
    assert status == 1
    assert out == ""
    assert_one_error_line(err, "'sleepstudyy'", "Did you mean 'sleepstudy'")


def test_fit_missing_csv_exits_1(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "absent.csv"
    status, out, err = run(capsys, "fit", "y ~ x", "--data", str(missing))
    assert status == 1
    assert out == ""
    assert_one_error_line(err, "cannot read data file", "absent.csv")


def test_fit_bad_formula_exits_1_with_caret(capsys: pytest.CaptureFixture[str]) -> None:
    formula = "Reaction ~ Days + (Days | Subject"
    status, out, err = run(capsys, "fit", formula, "--data", "sleepstudy")
    assert status == 1
    assert out == ""
    assert_one_error_line(err, "column")
    lines = err.splitlines()
    # the formula, then a caret under the problem (end of text: the missing ')')
    text_line = next(i for i, line in enumerate(lines) if line.strip() == formula)
    caret = lines[text_line + 1]
    assert caret.strip() == "^"
    assert caret.index("^") - lines[text_line].index(formula) == len(formula)


def test_fit_unknown_variable_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "fit", "Reaction ~ Dayz + (1 | Subject)", "--data", "sleepstudy")
    assert status == 1
    assert_one_error_line(err, "Dayz")


# --- fit: output ----------------------------------------------------------------------------


def test_fit_shows_the_parsed_model_and_lme4_design(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "fit", SLEEP_FORMULA, "--data", "sleepstudy", "--show", "design")
    assert status == 0, err
    assert "Data: sleepstudy (180 rows, 3 columns)" in out
    assert "Random terms (lme4 rules):" in out
    assert "(Days | Subject): grouping factor Subject; terms (Intercept), Days" in out
    # 18 subjects x 2 columns = 36 random effects; a 2 x 2 lower triangle = 3 thetas
    assert "X is 180 x 2, Zt is 36 x 180, 3 theta parameters" in out
    assert "X columns: (Intercept), Days" in out
    assert "Subject (18 levels): (Intercept), Days" in out
    # lme4's starting values: identity relative covariance factor, diagonal bounded below by 0
    assert "theta start: 1, 0, 1" in out
    assert "theta lower: 0, -inf, 0" in out


def _r_summary(case: str) -> list[str]:
    """lme4's printed summary stored by fixtures/R/lmm.R (data argument ``sleepstudy``)."""
    stored = json.loads((FIXTURES / "lmm" / f"{case}.json").read_text())
    lines: list[str] = stored["fit"]["summary"]
    assert lines[2] == "   Data: sleepstudy"
    return lines


@pytest.mark.parametrize(
    ("case", "argv"),
    [
        ("sleepstudy_slope", [SLEEP_FORMULA]),
        ("sleepstudy_split_ml", ["Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)", "--ml"]),
    ],
)
def test_fit_prints_lme4s_summary(
    capsys: pytest.CaptureFixture[str], case: str, argv: list[str]
) -> None:
    status, out, err = run(capsys, "fit", *argv, "--data", "sleepstudy")
    assert status == 0, err
    assert out.splitlines() == _r_summary(case)


def test_fit_reads_csv_like_the_bundled_data(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "sleep.csv"
    interlace.datasets.load("sleepstudy").to_csv(path, index=False)
    show = ("--show", "design")
    _, from_bundle, _ = run(capsys, "fit", SLEEP_FORMULA, "--data", "sleepstudy", *show)
    status, from_csv, err = run(capsys, "fit", SLEEP_FORMULA, "--data", str(path), *show)
    assert status == 0, err
    assert from_csv.replace(str(path), "sleepstudy") == from_bundle


def test_fit_without_random_terms_shows_the_fixed_design(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, err = run(capsys, "fit", "Reaction ~ Days * Subject", "--data", "sleepstudy")
    assert status == 0, err
    assert "Random terms: (none)" in out
    # R: ncol(model.matrix(~ Days * Subject, sleepstudy)) == 36 (1 + 1 + 17 + 17)
    assert "X is 180 x 36" in out
    assert "X columns: (Intercept), Days, Subject309, Subject310," in out
    assert "not fitted: the formula has no random-effect term" in out


def test_fit_prints_each_warning_once(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = interlace.datasets.load("sleepstudy")
    data.loc[[3, 7], "Days"] = None
    path = tmp_path / "with_na.csv"
    data.to_csv(path, index=False)
    status, out, err = run(capsys, "fit", SLEEP_FORMULA, "--data", str(path), "--show", "design")
    assert status == 0, err
    assert "X is 178 x 2" in out
    warning_lines = [line for line in err.splitlines() if line.startswith("interlace: warning: ")]
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith("interlace: warning: DataDroppedWarning: ")
    assert "Days" in warning_lines[0]
