"""The template and the ASL agree with each other and with the code, and lint clean: cfn-lint on the
template, statelint on each ASL file, cfn-lint's E3601 on each ASL wrapped as a plain state machine, and
`sam validate --lint` from its own virtual environment (aws-sam-cli pins boto3; `make test` creates it)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import faceless.errors
from faceless.runner.project import Project, load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "video.asl.json"
ASL_FILES = sorted((ROOT / "statemachine").glob("*.asl.json"))
SAM = ROOT / ".tools" / "sam" / "bin" / "sam"
TOOLS = Path(sys.executable).parent


def cfn_lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(TOOLS / "cfn-lint"), str(path)], capture_output=True, text=True, timeout=300)


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


def sample_substitution(name: str) -> str:
    """A value of the right shape for each kind of placeholder (what CloudFormation puts there)."""
    if name.endswith("StateMachineArn"):
        return "arn:aws:states:us-east-1:123456789012:stateMachine:m"
    if name.endswith("FunctionArn"):
        return "arn:aws:lambda:us-east-1:123456789012:function:f"
    return "3"  # a template parameter (a number)


@pytest.mark.parametrize("asl", ASL_FILES, ids=lambda p: p.name)
def test_asl_is_valid_for_cfn_lint_e3601(tmp_path, asl):
    # GIVEN the ASL wrapped as a plain AWS::StepFunctions::StateMachine (cfn-lint validates its Definition)
    definition = json.loads(asl.read_text())
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "Machine": {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": "arn:aws:iam::123456789012:role/r", "Definition": definition,
                               "DefinitionSubstitutions": {k: sample_substitution(k)
                                                           for k in set(re.findall(r"\$\{(\w+)\}", asl.read_text()))}},
            }
        },
    }
    wrapped = tmp_path / "machine.json"
    wrapped.write_text(json.dumps(template))
    result = cfn_lint(wrapped)
    assert result.returncode == 0, result.stdout + result.stderr


# statelint implements the open States Language spec, where an ItemReader's ReaderConfig only has MaxItems;
# InputType (JSON / CSV) is Step Functions' own field, required for a JSON item list (moto needs it too).
AWS_ONLY_FIELDS = re.compile(r'^ ?Field "InputType" not allowed in State Machine\.States\.\w+\.ItemReader\.ReaderConfig$')


@pytest.mark.parametrize("asl", ASL_FILES, ids=lambda p: p.name)
def test_asl_is_statelint_clean(asl):
    # URI: "${...}" resources are ARNs only after DefinitionSubstitutions; FLOAT: not used, but harmless
    result = subprocess.run([str(TOOLS / "statelint"), "--ignore=URI,FLOAT", str(asl)], capture_output=True, text=True, timeout=120)
    problems = [line for line in result.stdout.splitlines()[1:] if line.strip() and not AWS_ONLY_FIELDS.match(line)]
    assert result.returncode == 0 or (result.stdout.splitlines() and not problems), result.stdout + result.stderr


def test_sam_validate_lint_passes_offline(tmp_path):
    # `make test` creates .tools/sam (its own venv: aws-sam-cli pins boto3); without it, only CI must fail
    if not SAM.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"{SAM} is missing: `make test` installs it (make install-sam)")
        pytest.skip("aws-sam-cli is not installed: run `make install-sam`")
    # no network: telemetry off, and its weekly "newer version?" look-up marked as just done
    (tmp_path / ".aws-sam").mkdir()
    (tmp_path / ".aws-sam" / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time(), "telemetryEnabled": False}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION="us-east-1", SAM_CLI_TELEMETRY="0", HOME=str(tmp_path))
    result = subprocess.run([str(SAM), "validate", "--lint", "--region", "us-east-1", "--template-file", str(ROOT / "template.yaml")],
                            capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr


def test_every_substitution_is_defined_and_every_function_exists_with_a_handler():
    project = Project.load(ROOT)
    template = load_template(ROOT / "template.yaml")
    assert {m.definition_file.name for m in project.state_machines.values()} == {p.name for p in ASL_FILES}
    for machine in project.state_machines.values():
        text = machine.definition_file.read_text()
        placeholders = set(re.findall(r"\$\{(\w+)\}", text))
        assert placeholders == set(machine.substitutions), machine.logical_id
        for name, value in machine.substitutions.items():
            if "Fn::GetAtt" in value:  # a function the ASL calls: in the template, with its handler file
                logical_id, attribute = value["Fn::GetAtt"]
                assert attribute == "Arn" and name == f"{logical_id}Arn", name
                function = project.functions[logical_id]
                assert function.handler_file.is_file(), function.handler_file
                assert f"def {function.handler_name}(" in function.handler_file.read_text()
            else:  # another state machine (its ARN) or a template parameter
                target = value["Ref"]
                assert target in project.state_machines or target in template["Parameters"], name
                assert name.endswith("StateMachineArn") == (target in project.state_machines), name
        # every Lambda the ASL invokes goes through a substitution (no hard-coded function)
        for _, state in walk_states(json.loads(text)["States"]):
            resource = state.get("Resource", "")
            if state["Type"] == "Task" and resource.startswith("arn:aws:states:::lambda:invoke"):
                assert re.fullmatch(r"\$\{\w+FunctionArn\}", state["Parameters"]["FunctionName"])
            elif state["Type"] == "Task":
                assert re.fullmatch(r"\$\{\w+FunctionArn\}", resource), resource


def test_every_function_is_on_a_handler_file_in_functions():
    project = Project.load(ROOT)
    for function in project.functions.values():
        assert function.handler_file.is_file(), function.handler_file


# Step Functions' task-token answers cannot be scoped to a resource (the token names the task): the one
# place a "*" resource is allowed for these services.
UNSCOPABLE = {"states:SendTaskSuccess", "states:SendTaskFailure", "states:SendTaskHeartbeat"}
SCOPED_SERVICES = ("s3:", "dynamodb:", "lambda:", "states:")


def test_no_policy_gives_a_wildcard_resource_for_s3_dynamodb_lambda_or_step_functions():
    template = load_template(ROOT / "template.yaml")
    for logical_id, resource in template["Resources"].items():
        for policy in (resource.get("Properties") or {}).get("Policies", []) or []:
            for statement in (policy.get("Statement", []) if isinstance(policy, dict) else []):
                resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if "*" in resources:
                    scoped = {a for a in actions if a.startswith(SCOPED_SERVICES)}
                    assert scoped <= UNSCOPABLE, f"{logical_id}: {scoped - UNSCOPABLE} on Resource '*'"
                for action in actions:
                    assert not action.endswith(":*"), f"{logical_id}: {action}"


def test_batch_uploads_reach_the_trigger_and_the_batch_machine_names_itself():
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    bucket = resources["MediaBucket"]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    rule = resources["BatchTriggerFunction"]["Properties"]["Events"]["ManifestUploaded"]
    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["Pattern"]["detail"]["object"]["key"] == [{"prefix": "batches/"}]
    assert rule["Properties"]["Pattern"]["detail-type"] == ["Object Created"]
    # the Distributed Map starts child executions of its own machine: the policy names it, by its fixed Name
    machine = resources["BatchStateMachine"]["Properties"]
    assert machine["Name"] == {"Fn::Sub": "${AWS::StackName}-batch"}
    assert any("${AWS::StackName}-batch" in json.dumps(p) for p in machine["Policies"] if "Statement" in p)


@pytest.mark.parametrize("asl", ASL_FILES, ids=lambda p: p.name)
def test_retry_and_catch_name_our_error_classes(asl):
    definition = json.loads(asl.read_text())
    known = {name for name in dir(faceless.errors) if name.endswith("Error")}
    is_video = asl.name == "video.asl.json"
    for name, state in walk_states(definition["States"]):
        if state["Type"] != "Task":
            continue
        rules = state.get("Retry", [])
        assert any(e.startswith("Lambda.") for rule in rules for e in rule["ErrorEquals"]), f"{name} does not retry Lambda's service errors"
        retried = {e for rule in rules for e in rule["ErrorEquals"] if not e.startswith(("Lambda.", "States."))}
        assert retried <= known, f"{name} retries unknown errors {retried - known}"
        if is_video:
            assert retried, f"{name} has no Retry for our transient errors"
            assert set(faceless.errors.RETRYABLE_ERRORS) <= retried
        else:  # batch: every task catches, so one bad row or manifest never leaves the batch without a report
            assert state.get("Catch"), f"{name} has no Catch"


def test_video_machine_answers_a_batch_task_token_on_both_ends():
    states = json.loads(ASL.read_text())["States"]
    for name in ("Finalize", "RecordFailure"):
        assert states[name]["Parameters"]["task_token.$"] == "$$.Execution.Input.task_token", name


@pytest.mark.parametrize("function", sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir()))
def test_handlers_are_thin(function):
    source = (ROOT / "functions" / function / "app.py").read_text()
    assert len(source.splitlines()) <= 40
    assert "from faceless" in source


def test_scratch_prefixes_in_the_bucket_expire():
    # GIVEN the bucket's lifecycle rules and the prefixes the code writes scratch or regenerable data under
    from faceless.batch.naming import WORK
    from faceless.cache import CACHE_PREFIX

    rules = load_template(ROOT / "template.yaml")["Resources"]["MediaBucket"]["Properties"]["LifecycleConfiguration"]
    expiring = {rule["Prefix"] for rule in rules["Rules"] if "ExpirationInDays" in rule and rule["Status"] == "Enabled"}
    # THEN the paid-call cache, finished jobs and a batch's Distributed Map item lists all expire
    for prefix in (f"{CACHE_PREFIX}/", "jobs/", WORK):
        assert any(prefix.startswith(rule) for rule in expiring), prefix
