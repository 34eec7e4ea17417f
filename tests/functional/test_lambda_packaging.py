"""How the Lambda functions are packaged, checked without `sam build` (it needs Python 3.12 or Docker):
the zip functions share FacelessLayer, which SAM's Python builder fills from layers/faceless/
requirements.txt; the media functions run in the image of functions/render/Dockerfile, each with its
own handler. The layer must fit in Lambda's 250 MB (unzipped, with the function's code), and the zip
functions must work with only the layer installed: that is run, not assumed (tests/functional/layer_probe.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import pytest

from faceless.runner.project import Project, load_template

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "faceless" / "requirements.txt"
LAMBDA_UNZIPPED_LIMIT = 250 * 1000 * 1000  # bytes: a zip function's code and all its layers, unzipped
# what Lambda's Python runtime already has: boto3 and what it needs
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "urllib3", "six"}
MEDIA_FUNCTIONS = {"ImageFunction", "VoiceFunction", "AssembleFunction", "RenderClipFunction", "FinishFunction"}
# a real-shaped event per zip function, where one exists in tests/events (the others are imported)
EVENTS = {
    **{f"{name}Function": f"tests/events/video/{name}Function.json"
       for name in ("Plan", "WriteScript", "Bible", "Context", "Direct", "Refine", "Music", "Fail")},
}  # fmt: skip


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str:
    return normalise(re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0])


def layer_requirements() -> list[str]:
    lines = (line.strip() for line in REQUIREMENTS.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def installed_closure(names: list[str]) -> dict[str, int]:
    """Each distribution pip installs for `names` (as installed here), with its size in bytes."""
    sizes: dict[str, int] = {}
    pending = [(name, extras) for name, extras in ((requirement_name(n), re.findall(r"\[([^\]]+)\]", n)) for n in names)]
    while pending:
        name, extras = pending.pop()
        if name in sizes or name in RUNTIME_PROVIDED:
            continue
        try:
            dist = distribution(name)
        except PackageNotFoundError:
            continue  # a platform-specific dependency not needed here
        sizes[name] = sum(f.size or 0 for f in dist.files or [] if f.size)
        for requirement in dist.requires or []:
            marker = requirement.partition(";")[2]
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)", marker)
            if extra and extra.group(1) not in {e for group in extras for e in group.split(",")}:
                continue
            if "python_version" in marker and "< \"3.1" in marker.replace("'", '"'):
                continue  # backports for older Pythons
            pending.append((requirement_name(requirement), re.findall(r"\[([^\]]+)\]", requirement.partition(";")[0])))
    return sizes


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template(ROOT / "template.yaml")


def functions(template: dict) -> dict[str, dict]:
    return {name: resource for name, resource in template["Resources"].items()
            if resource["Type"] == "AWS::Serverless::Function"}  # fmt: skip


def test_zip_functions_use_the_layer_and_media_functions_the_image_with_their_own_handler(template):
    # GIVEN every function in the template, and where the embedded runner finds their handlers
    project = Project.load(ROOT)
    for name, resource in functions(template).items():
        props, metadata = resource["Properties"], resource.get("Metadata") or {}
        if name in MEDIA_FUNCTIONS:
            # THEN a media function is the one image, built with its own folder's handler
            assert props.get("PackageType") == "Image" and "Layers" not in props, name
            assert metadata["Dockerfile"] == "functions/render/Dockerfile" and metadata["DockerContext"] == "."
            folder = metadata["DockerBuildArgs"]["FUNCTION"]
            assert (ROOT / "functions" / folder / "app.py").is_file(), name
            assert project.functions[name].handler_file == ROOT / "functions" / folder / "app.py"
        else:
            # THEN any other is a zip function on the layer, with no copy of its own of the package
            assert props["Runtime"] == "python3.12" and props["Layers"] == [{"Ref": "FacelessLayer"}], name
            assert not (ROOT / props["CodeUri"] / "faceless").exists()
    layer = template["Resources"]["FacelessLayer"]
    assert layer["Properties"]["ContentUri"] == "layers/faceless" and REQUIREMENTS.is_file()


def test_the_layer_requirements_are_the_packages_own_dependencies_with_the_same_bounds():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    for line in layer_requirements():
        assert line in declared, f"{line!r} differs from pyproject.toml's dependencies"


def test_the_layer_with_a_function_fits_in_lambdas_unzipped_limit():
    # GIVEN what pip installs for the layer (the versions installed here), the package and the largest handler
    sizes = installed_closure(layer_requirements())
    package = sum(p.stat().st_size for p in (ROOT / "layers" / "faceless" / "faceless").rglob("*.py"))
    handler = max(p.stat().st_size for p in (ROOT / "functions").glob("*/app.py"))
    total = sum(sizes.values()) + package + handler
    print(f"layer: {total / 1e6:.1f} MB of {LAMBDA_UNZIPPED_LIMIT / 1e6:.0f} MB; largest:",
          sorted(((round(v / 1e6, 1), k) for k, v in sizes.items()), reverse=True)[:5])  # fmt: skip
    # THEN it fits, with room for a pip that resolves slightly bigger wheels
    assert total <= 0.9 * LAMBDA_UNZIPPED_LIMIT
    # and the heavy media packages are not in it
    assert not {"imageio-ffmpeg", "opencv-python-headless", "fonttools", "justmytype-intl-cjk"} & set(sizes)


def run_probe(calls: dict[str, str | None], env: dict[str, str] | None = None) -> dict:
    """Invoke `calls` ({function: event file or None}) in a fresh interpreter where only the layer's
    distributions (and the runtime's boto3) import; the probe's report."""
    plan = {
        "allowed": sorted(set(installed_closure(layer_requirements())) | RUNTIME_PROVIDED),
        "calls": calls,
        "env": env or {},
    }
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "tests.functional.layer_probe", json.dumps(plan)],
                          cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_zip_functions_run_with_only_the_layer_installed(template):
    # GIVEN a fresh interpreter where only the layer's distributions (and the runtime's boto3) import
    zip_functions = sorted(set(functions(template)) - MEDIA_FUNCTIONS)
    # WHEN each zip function is loaded, and those with a recorded event are invoked with it
    report = run_probe({name: EVENTS.get(name) for name in zip_functions})
    # THEN the probe really refused the media packages, none was already loaded, and every function worked
    assert report.get("cv2_refused") and {"cv2", "imageio_ffmpeg", "fontTools"} <= set(report["refused"])
    assert report["preloaded"] == []
    assert report["functions"] == {name: "ok" for name in zip_functions}
    assert set(EVENTS) <= set(zip_functions)


def test_the_model_steps_reach_a_real_chat_completions_api_with_only_the_layer_installed():
    from tests.fakes.chat_server import FakeChatServer, respond_by_schema, schema_name

    def direction(body: dict) -> dict:
        pieces = re.findall(r"^\d+\. ", body["messages"][-1]["content"], flags=re.M)
        return {"items": [{"p": f"the tide coming in, view {n}", "s": "wide"} for n in range(len(pieces))]}

    replies = {
        "StoryDraft": {"title": "How tides work", "desc": "The Moon and the sea.", "tags": ["tides", "moon", "sea"],
                       "text": "Tides rise and fall twice a day. The Moon pulls the sea toward it. The Sun helps a little."},
        "ContextDraft": {"era": "", "region": "", "people": [], "avoid": []},
        "ContextLightDraft": {"era": "", "region": ""},
        "DirectionDraft": direction,
    }  # fmt: skip
    # GIVEN the cloud's configuration: a key and an OpenAI-compatible server (a local one speaking its API)
    with FakeChatServer(default_responder=respond_by_schema(replies)) as server:
        env = {"OPENAI_API_KEY": "sk-test-local", "OPENAI_BASE_URL": server.base_url}
        calls = {f"{name}Function": EVENTS[f"{name}Function"] for name in ("WriteScript", "Context", "Direct")}
        # WHEN the model steps run where only the layer's packages import
        report = run_probe(calls, env)
        requests = list(server.requests)
    # THEN they worked through the OpenAI SDK, tokens counted and all
    assert report["functions"] == {name: "ok" for name in calls}
    assert report.get("cv2_refused")
    assert {"StoryDraft", "DirectionDraft"} <= {schema_name(r) for r in requests}
