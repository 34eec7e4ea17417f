"""Reads the SAM template: which state machines exist, their ASL files and substitutions, and
which handler file answers each function. The embedded runner runs exactly what the template says."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from faceless.errors import ConfigurationError

ACCOUNT = "123456789012"
REGION = "us-east-1"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !GetAtt, ...) as plain dicts."""


def _cfn_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 (SafeLoader subclass)


@dataclass
class FunctionSpec:
    logical_id: str
    handler_file: Path
    handler_name: str
    environment: dict[str, Any] = field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.logical_id}"


@dataclass
class StateMachineSpec:
    logical_id: str
    definition_file: Path
    substitutions: dict[str, Any]

    def definition(self, functions: dict[str, FunctionSpec], extra: dict[str, str] | None = None,
                   parameters: dict[str, str] | None = None) -> str:
        """The ASL text with `${...}` replaced as CloudFormation would (function and state machine ARNs,
        template parameters at their defaults unless `extra` overrides them, plain values)."""
        text = self.definition_file.read_text()
        for name, value in self.substitutions.items():
            text = text.replace("${%s}" % name, _resolve(value, functions, {**(parameters or {}), **(extra or {})}))
        return text

    def machines_referenced(self) -> list[str]:
        """Other state machines this one's substitutions name (they must exist before it starts them)."""
        names = []
        for value in self.substitutions.values():
            if isinstance(value, dict) and "Ref" in value and value["Ref"].endswith("StateMachine"):
                names.append(value["Ref"])
            elif isinstance(value, dict) and "Fn::GetAtt" in value and value["Fn::GetAtt"][0].endswith("StateMachine"):
                names.append(value["Fn::GetAtt"][0])
        return names


def state_machine_arn(logical_id: str) -> str:
    """The ARN the embedded runner gives a state machine (it creates each one under its logical id)."""
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"


def _resolve(value: Any, functions: dict[str, FunctionSpec], values: dict[str, str]) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn" and logical_id in functions:
            return functions[logical_id].arn
        return state_machine_arn(logical_id)
    if isinstance(value, dict) and "Ref" in value:
        name = value["Ref"]
        if name in values:  # a template parameter (its default, or the caller's value)
            return str(values[name])
        if name.endswith("StateMachine"):  # Ref of a state machine is its ARN
            return state_machine_arn(name)
        return name
    return str(value)


@dataclass
class Project:
    root: Path
    functions: dict[str, FunctionSpec]
    state_machines: dict[str, StateMachineSpec]
    parameters: dict[str, str] = field(default_factory=dict)  # template parameters' defaults

    @classmethod
    def load(cls, root: Path) -> Project:
        template = load_template(root / "template.yaml")
        globals_ = template.get("Globals", {}).get("Function", {})
        functions: dict[str, FunctionSpec] = {}
        machines: dict[str, StateMachineSpec] = {}
        for logical_id, resource in template.get("Resources", {}).items():
            props = resource.get("Properties", {}) or {}
            if resource.get("Type") == "AWS::Serverless::Function" and "CodeUri" in props:
                module, _, function = props.get("Handler", globals_.get("Handler", "app.lambda_handler")).rpartition(".")
                functions[logical_id] = FunctionSpec(
                    logical_id=logical_id,
                    handler_file=root / props["CodeUri"] / f"{module.replace('.', '/')}.py",
                    handler_name=function,
                )
            elif resource.get("Type") == "AWS::Serverless::Function" and props.get("PackageType") == "Image":
                functions[logical_id] = _image_function(root, logical_id, resource.get("Metadata") or {})
            elif resource.get("Type") == "AWS::Serverless::StateMachine":
                machines[logical_id] = StateMachineSpec(
                    logical_id=logical_id,
                    definition_file=root / props["DefinitionUri"],
                    substitutions=props.get("DefinitionSubstitutions", {}),
                )
        parameters = {name: str(spec["Default"]) for name, spec in (template.get("Parameters") or {}).items()
                      if isinstance(spec, dict) and "Default" in spec}
        return cls(root=root, functions=functions, state_machines=machines, parameters=parameters)


def _image_function(root: Path, logical_id: str, metadata: dict[str, Any]) -> FunctionSpec:
    """A container-image function: its handler is the Dockerfile's CMD, in the folder the Dockerfile
    copies into LAMBDA_TASK_ROOT (its ${ARG}s set from the template's DockerBuildArgs, else their
    defaults), or the Dockerfile's own folder when it copies none."""
    context = root / metadata.get("DockerContext", ".")
    dockerfile = context / metadata["Dockerfile"]
    lines = dockerfile.read_text().splitlines()
    cmd = next((line for line in reversed(lines) if line.strip().startswith("CMD")), None)
    match = re.search(r'CMD\s*\[\s*"([\w.]+)"', cmd or "")
    if match is None:
        raise ConfigurationError(f"{dockerfile}: no CMD [\"module.function\"] for {logical_id}")
    module, _, function = match.group(1).rpartition(".")
    handler_file = f"{module.replace('.', '/')}.py"
    arguments = {found[0]: found[1] for line in lines if (found := re.match(r"\s*ARG\s+(\w+)=(\S+)", line))}
    arguments.update({name: str(value) for name, value in (metadata.get("DockerBuildArgs") or {}).items()})
    folder = dockerfile.parent
    for line in lines:
        copied = re.match(r"\s*COPY\s+(\S+)\s+\$\{?LAMBDA_TASK_ROOT\}?/?\s*$", line)
        if copied and copied.group(1).endswith(handler_file):
            source = re.sub(r"\$\{(\w+)\}", lambda arg: arguments.get(arg.group(1), arg.group(0)), copied.group(1))
            folder = (context / source).parent
    return FunctionSpec(logical_id=logical_id, handler_file=folder / handler_file, handler_name=function)


def find_project_root(start: Path | None = None) -> Path:
    """The folder holding template.yaml: $FACELESS_PROJECT_ROOT, else above this package, else above cwd."""
    if os.environ.get("FACELESS_PROJECT_ROOT"):
        root = Path(os.environ["FACELESS_PROJECT_ROOT"])
        if (root / "template.yaml").is_file():
            return root
        raise ConfigurationError(f"FACELESS_PROJECT_ROOT={root} has no template.yaml")
    candidates = [Path(__file__).resolve(), (start or Path.cwd()).resolve()]
    for candidate in candidates:
        for folder in [candidate, *candidate.parents]:
            if (folder / "template.yaml").is_file() and (folder / "statemachine").is_dir():
                return folder
    raise ConfigurationError("cannot find the Faceless project (template.yaml); set FACELESS_PROJECT_ROOT")
