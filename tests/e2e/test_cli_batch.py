"""`faceless batch manifest.csv|json` end to end: the real command, the batch machine and the video
machine in the embedded runner against moto S3, a real MP4 for the valid row, a report for every row."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
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
    # AND the row has what to post the video with, as its metadata.json has it
    metadata = json.loads(Path(report["results"][0]["outputs"]["metadata"]).read_text())
    made = report["results"][0]
    assert (made["title"], made["description"], made["hashtags"]) == (metadata["title"], metadata["description"], metadata["hashtags"])
    assert made["title"] and made["hashtags"]
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


@pytest.mark.slow
def test_ctrl_c_stops_the_batch_with_a_report_of_what_was_made_stopped_and_not_started(tmp_path):
    # GIVEN a batch of three videos made one at a time (and an invalid row), run as a user runs it, in
    # its own process group, with its temporary files in a folder of the test's
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    manifest = tmp_path / "june.csv"
    manifest.write_text("topic,duration,format,music\nHow rainbows form,15,1:1,off\nWhy bees dance,15,1:1,off\n"
                        "How tides work,15,1:1,off\nWhy the sky is blue,15,3:2,off\n")  # fmt: skip
    out_dir = tmp_path / "out"
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"} | {"TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "faceless.runner.cli", "batch", str(manifest), "--max-concurrency", "1",
               "--out", str(out_dir)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    lines = []
    for line in process.stderr:  # a line as each video starts and ends
        lines.append(line)
        if re.search(r"video june-r2-\S+: started", line):
            break
    # WHEN the user presses Ctrl-C once the first video is made and while the second is being made
    os.killpg(process.pid, signal.SIGINT)
    out, rest = process.communicate(timeout=60)
    # THEN it stops with 130 (not an abort), printing the report's table and where the report is
    assert process.returncode == 130, "".join(lines) + rest
    assert any(re.search(r"video june-r1-\S+: succeeded", line) for line in lines), lines
    assert "Traceback" not in rest and "terminate called" not in rest
    assert f"faceless: the batch was interrupted; report: {out_dir / 'reports' / 'june.json'}" in rest
    assert "1 of 4 rows made a video (1 invalid, 1 failed, 1 not started): partial" in out
    # AND the report says which row made its video, which was stopped and where, which never started
    report = json.loads((out_dir / "reports" / "june.json").read_text())
    rows = {row["row"]: row for row in report["results"]}
    assert report["status"] == "partial" and report["error"] == "Interrupted: stopped by the user"
    assert rows[1]["status"] == "succeeded" and Path(rows[1]["outputs"]["video"]).is_file()
    assert rows[2]["status"] == "failed" and rows[2]["error"].startswith("Interrupted: stopped by the user while ")
    assert rows[3]["status"] == "pending" and rows[3]["error"] == "not started: the batch was interrupted"
    assert rows[4]["status"] == "invalid"
    # AND the stopped video's folder says so too, instead of "running" forever
    status = json.loads(next(out_dir.glob(f"jobs/*/{rows[2]['video_id']}/status.json")).read_text())
    assert (status["status"], status["error"]["error"]) == ("failed", "Interrupted")
    # AND no temporary file is left behind (the tokenizer's vocabulary cache is kept on purpose)
    assert [path.name for path in scratch.iterdir()] in ([], ["faceless-tiktoken"])
