"""Reads the SAM template: which state machines exist, their ASL files and substitutions, and
which handler file answers each function. The embedded runner runs exactly what the template says."""

from __future__ import annotations

import os
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

    def definition(self, functions: dict[str, FunctionSpec], extra: dict[str, str] | None = None) -> str:
        """The ASL text with `${...}` replaced as CloudFormation would (function ARNs, plain values)."""
        text = self.definition_file.read_text()
        for name, value in self.substitutions.items():
            text = text.replace("${%s}" % name, _resolve(value, functions, extra or {}))
        return text


def _resolve(value: Any, functions: dict[str, FunctionSpec], extra: dict[str, str]) -> str:
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        if attribute == "Arn" and logical_id in functions:
            return functions[logical_id].arn
        return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{logical_id}"
    if isinstance(value, dict) and "Ref" in value:
        return extra.get(value["Ref"], value["Ref"])
    return str(value)


@dataclass
class Project:
    root: Path
    functions: dict[str, FunctionSpec]
    state_machines: dict[str, StateMachineSpec]

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
            elif resource.get("Type") == "AWS::Serverless::StateMachine":
                machines[logical_id] = StateMachineSpec(
                    logical_id=logical_id,
                    definition_file=root / props["DefinitionUri"],
                    substitutions=props.get("DefinitionSubstitutions", {}),
                )
        return cls(root=root, functions=functions, state_machines=machines)


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
