"""`faceless make` end to end: the real command, the real state machine, a real MP4.

One run is offline (no key); one goes through the OpenAI-compatible adapter against a local server
that speaks the Chat Completions API with structured outputs.
"""

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

from faceless.bootstrap import use_services
from faceless.media.probe import probe
from faceless.runner.cli import main
from tests.fakes.chat_server import ChatReply, FakeChatServer, respond_by_schema, schema_name

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _reset_services():
    yield
    use_services(None)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def job_folder(out: str) -> Path:
    return Path(re.search(r"Outputs in (.+)/\n", out).group(1))


def test_offline_make_prints_progress_and_a_summary(tmp_path, monkeypatch):
    # GIVEN no API key at all
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # WHEN a user makes a 15 s square video
    code, out, err = run_cli("make", "--topic", "how rainbows form", "--duration", "15", "--format", "1:1", "--out", str(tmp_path))
    # THEN it succeeds with progress on stderr and a summary naming outputs, stage times, tokens and cost
    assert code == 0, err
    assert "[100%]" in err and "images and voices" in err
    folder = job_folder(out)
    assert (folder / "video.mp4").is_file()
    info = probe(folder / "video.mp4")
    assert (info.width, info.height) == (1080, 1080)
    for expected in ("Wall time per stage:", "assemble", "Tokens per agent", "storyteller", "Estimated cost: $"):
        assert expected in out
    meta = json.loads((folder / "metadata.json").read_text())
    # the summary prints the same numbers metadata.json holds
    story = meta["tokens_by_agent"]["storyteller"]
    assert f"{story['prompt_tokens']:6d} + {story['completion_tokens']:5d}" in out
    assert {u["provider"] for u in meta["usage"]} == {"offline"}
    assert "Note:" not in err  # English: nothing to warn about
    # AND the description and hashtags to post it with, as metadata.json has them
    assert f"Description: {meta['description']}" in out and f"Hashtags: {' '.join(meta['hashtags'])}" in out


def test_offline_make_in_another_language_says_the_outline_is_english(tmp_path, monkeypatch):
    # GIVEN no API key WHEN a user asks for a Spanish video from a topic
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    code, out, err = run_cli("make", "--topic", "cómo se forman los arcoíris", "--language", "es", "--duration", "15",
                             "--out", str(tmp_path))  # fmt: skip
    # THEN it is made, and the user is told up front that the offline outline is English and how to get Spanish
    assert code == 0, err
    note = next(line for line in err.splitlines() if line.startswith("Note:"))
    assert "English" in note and "es voice" in note and "OPENAI_API_KEY" in note and "--script" in note


NARRATION = (
    "Rainbows appear when sunlight meets raindrops. Each drop bends the light as it enters. "
    "Inside, the light reflects off the back of the drop. Leaving, it bends again and splits into colours. "
    "That is why you see red outside and violet inside."
)


def direction_reply(body: dict) -> dict:
    user = body["messages"][-1]["content"]
    pieces = re.findall(r"^\d+\. ", user, flags=re.M)
    return {"items": [{"p": f"raindrops catching sunlight, view {n}", "s": "wide"} for n in range(len(pieces))]}


def test_with_an_api_key_the_same_command_uses_the_openai_compatible_adapter(tmp_path, monkeypatch):
    replies = {
        "StoryDraft": {"title": "How rainbows form", "desc": "Light, water and angles.", "tags": ["rainbow", "science", "light"], "text": NARRATION},
        "ContextDraft": {"era": "", "region": "", "people": [], "avoid": []},
        "ContextLightDraft": {"era": "", "region": ""},
        "DirectionDraft": direction_reply,
    }
    with FakeChatServer(default_responder=respond_by_schema(replies)) as server:
        # GIVEN a key, a base URL, and a server whose first storyteller reply is malformed
        server.enqueue(ChatReply(content='{"title": "How rainbows form", "desc": '))
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        # WHEN the same command runs
        code, out, err = run_cli("make", "--topic", "how rainbows form", "--duration", "15", "--music", "off", "--out", str(tmp_path))
        requests = list(server.requests)

    # THEN the adapter talked to the server with structured outputs, retried the malformed reply, and succeeded
    assert code == 0, err
    assert "openai" in err
    assert requests, "no request reached the local Chat Completions server"
    assert all(r["response_format"]["type"] == "json_schema" and r["response_format"]["json_schema"]["strict"] for r in requests)
    names = [schema_name(r) for r in requests]
    assert names.count("StoryDraft") == 2  # the malformed reply and its retry
    assert "DirectionDraft" in names
    meta = json.loads((job_folder(out) / "metadata.json").read_text())
    assert {u["provider"] for u in meta["usage"]} == {"openai"}
    story = next(u for u in meta["usage"] if u["agent"] == "storyteller")
    assert story["attempts"] == 2
    script = json.loads((job_folder(out) / "script.json").read_text())
    assert script["narration"] == NARRATION


def test_a_model_that_never_answers_well_fails_the_video_with_a_clear_error(tmp_path, monkeypatch):
    with FakeChatServer(default_responder=lambda body: "this is not JSON") as server:
        # GIVEN a server that always answers prose instead of JSON, one retry per call
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-local")
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        monkeypatch.setenv("FACELESS_LLM_MAX_RETRIES", "1")
        # WHEN a video is made
        code, out, err = run_cli("make", "--topic", "how rainbows form", "--duration", "15", "--out", str(tmp_path))
        calls = len(server.requests)

    # THEN the state machine retried the step (ASL Retry x2 on top of the adapter's own retry), then failed cleanly
    assert code == 1
    assert "ProviderResponseError" in err and "storyteller" in err
    assert "Traceback" not in err and "stackTrace" not in err  # the error's message, not the Lambda error JSON
    assert calls == 3 * 2


@pytest.mark.parametrize("whom", ["group", "process"])
def test_ctrl_c_stops_the_video_and_its_folder_says_interrupted(tmp_path, whom):
    # GIVEN `faceless make` running as a user runs it, in its own process group as a terminal's job,
    # with its temporary files in a folder of the test's
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "OPENAI_API_KEY"} | {"TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "faceless.runner.cli", "make", "--topic", "how rainbows form", "--duration", "30",
               "--out", str(tmp_path / "out")]  # fmt: skip
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    lines = []
    for line in process.stderr:  # a line per stage change (stderr is not a terminal)
        lines.append(line)
        if "assembling the video" in line:
            break
    # WHEN the user presses Ctrl-C (a terminal signals the whole group: the command and its ffmpegs),
    # or something signals the command alone (its ffmpegs keep going)
    if whom == "group":
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGINT)
    rest = process.stderr.read()
    code = process.wait(timeout=60)
    # THEN it stops with 130 (not an abort) and one line saying where it stopped and where its files are
    assert code == 130, "".join(lines) + rest
    assert "Traceback" not in rest and "terminate called" not in rest
    said = re.search(r"faceless: interrupted while assembling the video \(\d+%\); what was made is in (\S+)", rest)
    assert said, rest
    # AND the job folder's status.json no longer claims to be running: failed, Interrupted
    folder = Path(said.group(1))
    status = json.loads((folder / "status.json").read_text())
    assert (status["status"], status["error"]["error"]) == ("failed", "Interrupted")
    assert "assembling the video" in status["error"]["cause"]
    assert list(folder.glob("voice/*.wav")) and not (folder / "video.mp4").exists()
    # AND no temporary file is left behind (the tokenizer's vocabulary cache is kept on purpose)
    assert [path.name for path in scratch.iterdir()] in ([], ["faceless-tiktoken"])
