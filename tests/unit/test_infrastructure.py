"""The template and the ASL agree with each other and with the code, and lint clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import faceless.errors
from faceless.runner.project import Project

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "video.asl.json"


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300)


def walk_states(states: dict):
    for name, state in states.items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from walk_states(branch["States"])
        if "ItemProcessor" in state:
            yield from walk_states(state["ItemProcessor"]["States"])


def test_template_is_lint_clean():
    result = cfn_lint(ROOT / "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_is_valid_for_cfn_lint_e3601(tmp_path):
    # GIVEN the ASL wrapped as a plain AWS::StepFunctions::StateMachine (cfn-lint validates its Definition)
    definition = json.loads(ASL.read_text())
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": definition,
                               "DefinitionSubstitutions": {k: "arn:aws:lambda:us-east-1:123456789012:function:f"
                                                           for k in set(re.findall(r"\$\{(\w+)\}", ASL.read_text()))}},
            }
        },
    }
    wrapped = tmp_path / "machine.json"
    wrapped.write_text(json.dumps(template))
    result = cfn_lint(wrapped)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_substitution_is_defined_and_every_function_exists_with_a_handler():
    project = Project.load(ROOT)
    for machine in project.state_machines.values():
        placeholders = set(re.findall(r"\$\{(\w+)\}", machine.definition_file.read_text()))
        assert placeholders == set(machine.substitutions), machine.logical_id
        for value in machine.substitutions.values():
            logical_id = value["Fn::GetAtt"][0]
            function = project.functions[logical_id]
            assert function.handler_file.is_file(), function.handler_file
            assert f"def {function.handler_name}(" in function.handler_file.read_text()


def test_retry_and_catch_name_our_error_classes():
    definition = json.loads(ASL.read_text())
    known = {name for name in dir(faceless.errors) if name.endswith("Error")}
    for name, state in walk_states(definition["States"]):
        if state["Type"] != "Task":
            continue
        retried = {e for rule in state.get("Retry", []) for e in rule["ErrorEquals"] if not e.startswith(("Lambda.", "States."))}
        assert retried, f"{name} has no Retry for our transient errors"
        assert retried <= known, f"{name} retries unknown errors {retried - known}"
        assert set(faceless.errors.RETRYABLE_ERRORS) <= retried


@pytest.mark.parametrize("function", sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir()))
def test_handlers_are_thin(function):
    source = (ROOT / "functions" / function / "app.py").read_text()
    assert len(source.splitlines()) <= 40
    assert "from faceless" in source
