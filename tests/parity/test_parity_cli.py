"""``interlace parity`` usage errors (no R needed: they are found before R starts)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from interlace.parity import cli


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", *argv])
    return int(args.handler(args))


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run([str(tmp_path / "none.R")]) == cli.EXIT_USAGE
    assert "interlace parity: error:" in capsys.readouterr().err


def test_bad_data_and_tolerance(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "m.R"
    script.write_text("lmer(y ~ (1 | g), d)\n", encoding="utf-8")
    assert _run([str(script), "--data", "=x.csv"]) == cli.EXIT_USAGE
    assert "expected NAME=PATH" in capsys.readouterr().err
    assert _run([str(script), "--data", f"d={tmp_path / 'absent.csv'}"]) == cli.EXIT_USAGE
    assert "absent.csv" in capsys.readouterr().err
    assert _run([str(script), "--tolerance", "fixef"]) == cli.EXIT_USAGE
    assert "QUANTITY=NUMBER" in capsys.readouterr().err


def test_subparser_is_registered() -> None:
    parser = argparse.ArgumentParser(prog="interlace")
    cli.add_subparser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["parity", "f.R", "--data", "a=b.csv", "--level", "fit", "--json"])
    assert args.handler is cli.run and args.data == ["a=b.csv"] and args.level == ["fit"]


def test_missing_r_exits_2_with_the_remedy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from interlace.parity import api
    from interlace.parity.rbridge import RUnavailableError

    def no_r() -> None:
        raise RUnavailableError("live parity mode needs rpy2", remedy="pip install rpy2")

    monkeypatch.setattr(api, "bridge", no_r)
    script = tmp_path / "m.R"
    script.write_text("lmer(Reaction ~ Days + (1 | Subject), sleepstudy)\n", encoding="utf-8")
    assert _run([str(script)]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert "live parity mode needs rpy2" in err and "Remedy: pip install rpy2" in err
