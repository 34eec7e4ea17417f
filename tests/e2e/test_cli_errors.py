"""Bad flags and values: one line naming the problem, exit status 2, no traceback."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest

from faceless.runner.cli import main


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["make", "--topic", "bees", "--duration", "500"], "--duration"),
        (["make", "--topic", "bees", "--duration", "ten"], "--duration"),
        (["make", "--topic", "bees", "--format", "4:3"], "--format"),
        (["make", "--topic", "bees", "--level", "turbo"], "--level"),
        (["make", "--topic", "bees", "--music", "loud"], "--music"),
        (["make", "--topic", "bees", "--art-style", "cubist"], "--art-style"),
        (["make", "--topic", "bees", "--language", "English!"], "--language"),
        (["make", "--topic", "x"], "--topic"),
        (["make", "--topic", "   "], "--topic"),
        (["make", "--topic", "bees", "--language", "qq"], "--language"),
        (["make", "--topic", "bees", "--voice", "Arya"], "--voice"),
        (["make", "--script", "/nonexistent/narration.txt"], "--script"),
        (["make"], "--topic"),
        (["make", "--topic", "bees", "--script", "a.txt"], "--script"),
        (["render"], "render"),
    ],
)
def test_bad_input_gets_one_line_naming_the_problem_and_exit_2(argv, names):
    # GIVEN a command line with one mistake
    # WHEN faceless runs it
    code, out, err = run_cli(*argv)
    # THEN exit status 2, a single line on stderr that names the flag, nothing else
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("faceless: error:")
    assert names in err
    assert "Traceback" not in err


def test_the_installed_command_has_no_traceback_either(tmp_path):
    # GIVEN the real console script entry point in a subprocess
    result = subprocess.run(
        [sys.executable, "-m", "faceless.runner.cli", "make", "--topic", "bees", "--duration", "5"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    # THEN exit 2 and one line
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "--duration" in result.stderr and "Traceback" not in result.stderr


def test_a_script_that_is_too_long_is_refused_with_its_length(tmp_path):
    script = tmp_path / "long.txt"
    script.write_text("word " * 900)
    code, _, err = run_cli("make", "--script", str(script))
    assert code == 2
    assert "--script" in err and "900 spoken words" in err and "180 s" in err


def test_an_empty_script_file_is_refused_as_empty(tmp_path):
    # GIVEN a script file with nothing in it but blank lines
    script = tmp_path / "narration.txt"
    script.write_text("\n  \n")
    # WHEN it is the narration THEN the flag and the file are named, and why
    code, out, err = run_cli("make", "--script", str(script))
    assert code == 2 and out == ""
    assert err == f"faceless: error: --script: {script} is empty\n"


def test_a_script_whose_captions_would_be_boxes_is_refused_before_anything_is_made(tmp_path):
    script = tmp_path / "georgian.txt"
    script.write_text("ფუტკრები ცეკვავენ, რომ აჩვენონ სად არის ყვავილები.", "utf-8")
    code, _, err = run_cli("make", "--script", str(script), "--language", "ka", "--out", str(tmp_path / "out"))
    assert code == 2 and err.count("\n") == 1
    assert err.startswith("faceless: error: --script: captions cannot be drawn in Georgian script")
    assert not (tmp_path / "out").exists()  # no job was started
