"""The media functions' container image (functions/render/Dockerfile), checked without docker: it is
built on the Lambda Python base image, copies the faceless package and installs it with its media
dependencies, copies the handler of the function it is built for (build argument FUNCTION, set per
function in template.yaml), and everything each handler imports (down through faceless.media) is
either copied, installed by the package's declared dependencies, or the standard library."""

from __future__ import annotations

import ast
import re
import shlex
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "render"
PACKAGE = ROOT / "layers" / "faceless" / "faceless"


def media_handlers() -> dict[str, str]:
    """{logical id: functions/ folder} of every function built from this Dockerfile."""
    from faceless.runner.project import load_template

    resources = load_template(ROOT / "template.yaml")["Resources"].items()
    return {name: r["Metadata"]["DockerBuildArgs"]["FUNCTION"] for name, r in resources
            if (r.get("Metadata") or {}).get("Dockerfile") == "functions/render/Dockerfile"}  # fmt: skip


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        logical.append(current)
        current = ""
    pairs = []
    for text in logical:
        keyword, _, rest = text.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_dependencies() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {normalise(re.split(r"[\s\[<>=!~;]", spec, maxsplit=1)[0]) for spec in project["dependencies"]}


def top_level_imports(source: Path) -> set[str]:
    tree = ast.parse(source.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.fixture(scope="module")
def docker() -> list[tuple[str, str]]:
    return instructions(FUNCTION / "Dockerfile")


def test_the_image_is_the_lambda_python_base_with_the_handler_as_command(docker):
    assert docker[0] == ("FROM", "public.ecr.aws/lambda/python:3.12")
    command = [args for keyword, args in docker if keyword == "CMD"]
    assert command == ['["app.lambda_handler"]']
    handler = ast.parse((FUNCTION / "app.py").read_text(encoding="utf-8"))
    assert "lambda_handler" in {n.name for n in handler.body if isinstance(n, ast.FunctionDef)}


def test_every_copied_source_exists_and_the_package_is_installed_from_it(docker):
    copies = [shlex.split(args) for keyword, args in docker if keyword == "COPY"]
    argument = next(args for keyword, args in docker if keyword == "ARG" and args.startswith("FUNCTION="))
    assert argument == "FUNCTION=render"  # built without build arguments, the image is RenderClip's
    ignored = (FUNCTION / "Dockerfile.dockerignore").read_text(encoding="utf-8").splitlines()
    handlers = media_handlers()
    assert set(handlers) == {"ImageFunction", "VoiceFunction", "AssembleFunction", "RenderClipFunction", "FinishFunction"}
    for folder in handlers.values():
        # GIVEN the image as built for one function
        sources = [source.replace("${FUNCTION}", folder) for parts in copies for source in parts[:-1]
                   if not source.startswith("--")]  # fmt: skip
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
        # THEN the package (its pyproject, the README it names, the code) and that function's handler are copied
        assert {"pyproject.toml", "README.md", "layers/faceless/", f"functions/{folder}/app.py"} <= set(sources)
        handler_copy = next(parts for parts in copies if parts[0] == "functions/${FUNCTION}/app.py")
        assert handler_copy[-1].startswith("${LAMBDA_TASK_ROOT}")
        # and the build context's ignore file lets exactly these through
        allowed = [line[1:] for line in ignored if line.startswith("!")]
        for source in ("pyproject.toml", "README.md", "layers/faceless/", f"functions/{folder}/app.py"):
            assert any(Path(source).match(pattern) or source == pattern for pattern in allowed), source
    destination = next(parts[-1] for parts in copies if "pyproject.toml" in parts)
    installs = [args for keyword, args in docker if keyword == "RUN" and "pip install" in args]
    assert any(destination.rstrip("/") in args for args in installs), "the copied project is not pip-installed"


def module_file(module: str) -> Path | None:
    relative = Path(*module.split("."))
    for candidate in (ROOT / "layers" / "faceless" / f"{relative}.py", ROOT / "layers" / "faceless" / relative / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_everything_the_handlers_import_is_copied_or_installed():
    # GIVEN the handlers' imports, and (transitively) those of every faceless module they reach, down
    # through faceless.media (what a render needs)
    handlers = [ROOT / "functions" / folder / "app.py" for folder in media_handlers().values()]
    pending = [module for handler in handlers for module in top_level_imports(handler)]
    pending += [f"faceless.media.{p.stem}" for p in (PACKAGE / "media").glob("*.py")]
    seen, third_party = set(), set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        root = module.split(".")[0]
        if root == "faceless":
            path = module_file(module)
            if path is None:  # `from faceless.x import name`: name is an attribute of faceless.x
                parent = module.rsplit(".", 1)[0]
                assert module_file(parent) is not None, f"{module} is not in the copied package"
                continue
            if module.startswith(("faceless.media", "faceless.pipeline", "faceless.bootstrap", "faceless.observability")) or module in ("faceless.models", "faceless.errors"):  # noqa: E501
                pending.extend(top_level_imports(path))
        elif root not in sys.stdlib_module_names and root != "__future__":
            third_party.add(root)
    # THEN each third-party module comes from a distribution the package declares (pip installs it)
    declared = declared_dependencies()
    distributions = packages_distributions()
    for module in sorted(third_party):
        names = {normalise(d) for d in distributions.get(module, [])}
        assert names & declared, f"{module} (from {sorted(names)}) is imported but not a declared dependency"
    assert {"cv2", "imageio_ffmpeg", "fontTools", "PIL", "numpy"} <= third_party


def test_the_caption_fonts_and_ffmpeg_ship_as_declared_dependencies():
    from faceless.media import fonts

    declared = declared_dependencies()
    packs = {normalise(source.package) for source in fonts._SOURCES.values()}
    assert packs <= declared and "fontpkg-anton" in declared and "imageio-ffmpeg" in declared
    # and each face is really there in the installed wheels
    for script in fonts.Script:
        assert fonts.source_path(script).is_file()
