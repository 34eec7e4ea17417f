"""Run inside a fresh interpreter by test_lambda_packaging.py: invoke zip functions with only what
FacelessLayer installs importable (plus the standard library, the faceless package and what Lambda's
Python runtime has). Every module of any other installed distribution is refused on import.

    python -m tests.functional.layer_probe '{"allowed": [...distributions], "calls": {...}, "env": {...}}'

Prints one JSON object: per function, "ok" or the error it raised."""

from __future__ import annotations

import importlib
import importlib.abc
import json
import os
import sys
import tempfile
from importlib.metadata import packages_distributions
from pathlib import Path

for name, value in {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true",
                    "POWERTOOLS_LOG_LEVEL": "ERROR", "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
    os.environ.setdefault(name, value)
for key in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "GEMINI_API_KEY", "FACELESS_LLM_PROVIDER"):
    os.environ.pop(key, None)

ROOT = Path(__file__).resolve().parents[2]


class OnlyTheLayer(importlib.abc.MetaPathFinder):
    def __init__(self, refused: set[str]) -> None:
        self.refused = refused

    def find_spec(self, name, path, target=None):  # noqa: ANN001, ANN201
        if name.partition(".")[0] in self.refused:
            raise ImportError(f"{name} is not installed in FacelessLayer")
        return None


def refused_modules(allowed: set[str]) -> set[str]:
    """Top-level modules that only distributions outside `allowed` provide."""
    normal = {d.lower().replace("_", "-") for d in allowed}
    return {
        module for module, dists in packages_distributions().items()
        if module != "faceless" and not {d.lower().replace("_", "-") for d in dists} & normal
    }  # fmt: skip


def main() -> int:
    plan = json.loads(sys.argv[1])
    os.environ.update(plan.get("env", {}))  # e.g. a key and the base URL of a local Chat Completions server
    refused = refused_modules(set(plan["allowed"]))
    # (setuptools' _distutils_hack comes in with the interpreter, from a .pth file: not ours)
    preloaded = sorted(name for name in sys.modules if name.partition(".")[0] in refused - {"_distutils_hack"})
    sys.meta_path.insert(0, OnlyTheLayer(refused))
    report: dict[str, object] = {"preloaded": preloaded, "refused": sorted(refused), "functions": {}}
    try:  # the probe itself must refuse what the layer lacks
        importlib.import_module("cv2")
    except ImportError:
        report["cv2_refused"] = True

    from faceless.bootstrap import build_services, use_services
    from faceless.runner.embedded import EmbeddedRunner, LambdaContext
    from faceless.runner.project import Project
    from faceless.settings import Settings

    project = Project.load(ROOT)
    # settings from the environment, as a Lambda reads them; blobs in a scratch folder
    use_services(build_services(Settings.from_env({**os.environ, "FACELESS_HOME": tempfile.mkdtemp()})))
    for function, event_file in plan["calls"].items():
        spec = project.functions[function]
        try:
            handler = EmbeddedRunner._load(spec).lambda_handler
            if event_file:
                event = json.loads((ROOT / event_file).read_text(encoding="utf-8"))
                json.dumps(handler(event, LambdaContext(function_name=function, invoked_function_arn=spec.arn)))
            report["functions"][function] = "ok"
        except Exception as exc:  # reported, judged by the test
            report["functions"][function] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
