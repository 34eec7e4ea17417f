"""`faceless batch manifest.csv|json` end to end: the real command, the batch machine and the video
machine in the embedded runner against moto S3, a real MP4 for the valid row, a report for every row."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from faceless.batch.clients import use_clients
from faceless.bootstrap import use_services
from faceless.media.probe import probe
from faceless.runner.cli import main


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("FACELESS_HOME", str(tmp_path / "out"))  # restored after the test (the CLI sets it)
    yield
    use_services(None)
    use_clients(None)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow
def test_a_manifest_makes_a_real_video_per_valid_row_and_a_report(tmp_path):
    # GIVEN a CSV manifest with one valid row (CLI-style column names) and one invalid row
    manifest = tmp_path / "june.csv"
    manifest.write_text("topic,duration,format,music\nHow rainbows form,15,1:1,off\nWhy the sky is blue,15,3:2,off\n")
    out_dir = tmp_path / "out"

    # WHEN the user runs it
    code, out, err = run_cli("batch", str(manifest), "--out", str(out_dir))

    # THEN a table names both rows (exit 1: not every row made a video), progress went to stderr
    assert code == 1, err
    assert "video june-r1-" in err and ": succeeded" in err
    lines = out.splitlines()
    assert lines[1].split()[:2] == ["1", "succeeded"]
    assert lines[2].split()[:2] == ["2", "invalid"] and "format: must be one of" in lines[2]
    assert "1 of 2 rows made a video (1 invalid, 0 failed): partial" in out
    # AND the report and a real H.264 MP4 are in the output folder
    report = json.loads((out_dir / "reports" / "june.json").read_text())
    assert f"Report: {out_dir / 'reports' / 'june.json'}" in out
    video = Path(report["results"][0]["outputs"]["video"])
    assert video.is_file() and video.is_relative_to(out_dir)
    info = probe(video)
    assert (info.video_codec, info.width, info.height) == ("h264", 1080, 1080)


def test_a_missing_manifest_or_a_wrong_extension_is_a_usage_error(tmp_path):
    code, _, err = run_cli("batch", str(tmp_path / "nope.csv"))
    assert (code, err.strip()) == (2, f"faceless: error: no such manifest: {tmp_path / 'nope.csv'}")
    notes = tmp_path / "notes.txt"
    notes.write_text("topic\nbees\n")
    code, _, err = run_cli("batch", str(notes))
    assert code == 2 and "a manifest is a .csv (with a header row) or a .json array" in err


def test_an_unreadable_manifest_fails_with_a_report_that_says_why(tmp_path):
    manifest = tmp_path / "broken.json"
    manifest.write_text("{not json")
    code, out, err = run_cli("batch", str(manifest), "--out", str(tmp_path / "out"))
    assert code == 1, err
    assert "0 of 0 rows made a video" in out and "error: InvalidManifestError: the JSON manifest is not valid JSON" in out
