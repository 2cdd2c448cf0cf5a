"""deploy/: cfn-lint clean, the read-only policy equal to `ecsdoctor permissions`, the bot's own
permissions limited to its own resources, and the handler and variables the template names real."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file
from cfnlint.decode import decode

from ecsdoctor.aws.operations import IAM_PREFIX, READ_OPERATIONS
from ecsdoctor.chatops import templates
from ecsdoctor.permissions import policy_document

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TEMPLATES = sorted(DEPLOY.glob("*.yaml"))


def _load(path: Path) -> Any:
    template, problems = decode(str(path))
    assert not problems, problems
    return template


def test_there_are_two_templates() -> None:
    assert [p.name for p in TEMPLATES] == ["ecsdoctor-bot.yaml", "ecsdoctor-readonly-role.yaml"]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_cfn_lint_is_clean(path: Path) -> None:
    assert [str(m) for m in lint_file(path)] == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_readonly_policy_is_ecsdoctor_permissions(path: Path) -> None:
    role = _load(path)["Resources"]["ReadOnlyRole"]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    expected = policy_document()["Statement"][0]
    assert sorted(statement["Action"]) == sorted(expected["Action"])
    assert statement["Effect"] == "Allow" and statement["Resource"] == "*"
    assert path.read_text() == templates.render(path.read_text())  # generator in sync


def test_the_bot_writes_only_its_table_and_reads_only_its_secret() -> None:
    resources = _load(DEPLOY / "ecsdoctor-bot.yaml")["Resources"]
    statements = resources["FunctionRole"]["Properties"]["Policies"][0]["PolicyDocument"][
        "Statement"
    ]
    granted: dict[str, Any] = {}
    for statement in statements:
        if "Fn::If" in statement:
            statement = statement["Fn::If"][1]
        actions = statement["Action"]
        for action in [actions] if isinstance(actions, str) else actions:
            granted[action] = statement["Resource"]
    assert set(granted) == {
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "secretsmanager:GetSecretValue",
        "sts:AssumeRole",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "lambda:InvokeFunction",
    }
    # The only function the bot may invoke is its own slash-command function (deferred answers).
    assert granted["lambda:InvokeFunction"] == {
        "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "${AWS::StackName}-commands"
    }
    assert granted["secretsmanager:GetSecretValue"] == {"Ref": "ConfigSecret"}
    assert granted["dynamodb:PutItem"] == {"Fn::GetAtt": ["DedupTable", "Arn"]}
    # The inspection path never gains DynamoDB or a secret read.
    assert "dynamodb" not in IAM_PREFIX
    assert not [p for p in READ_OPERATIONS if p.startswith("dynamodb:")]
    assert "secretsmanager:GetSecretValue" not in policy_document()["Statement"][0]["Action"]


@pytest.mark.parametrize("resource", ["Function", "CommandsFunction"])
def test_handler_and_environment_exist(resource: str) -> None:
    from ecsdoctor.chatops.config import ENVIRONMENT

    function = _load(DEPLOY / "ecsdoctor-bot.yaml")["Resources"][resource]["Properties"]
    module, _, name = function["Handler"].rpartition(".")
    assert callable(getattr(importlib.import_module(module), name))
    assert set(function["Environment"]["Variables"]) <= ENVIRONMENT


def test_the_package_imports_without_the_extra(tmp_path: Path) -> None:
    """Without slack_sdk: `import ecsdoctor` and the Lambda handler work; serve says what to add."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['slack_sdk'] = None\n")
    code = (
        "import ecsdoctor, ecsdoctor.chatops\n"
        "print(ecsdoctor.chatops.handler({'detail-type': 'x', 'detail': {}})['action'])\n"
        "from ecsdoctor.chatops.__main__ import app\n"
        "app(['serve'])\n"
    )
    env_path = f"{tmp_path}:{':'.join(sys.path)}"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "AWS_DEFAULT_REGION": "us-east-1"},
        timeout=60,
        check=False,
    )
    assert done.stdout.strip() == "ignored"
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        "ecsdoctor: serve needs the 'chatops' extra: pip install 'ecsdoctor-cli[chatops]'"
    )
