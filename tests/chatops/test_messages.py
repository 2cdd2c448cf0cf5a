"""Message builders: size limits with a polite cut, console links, escaping of every AWS string."""

from __future__ import annotations

import json
from typing import Any

from ecsdoctor.chatops.messages import (
    SLACK_HEADER,
    SLACK_SECTION,
    TEAMS_BYTES,
    Occurrence,
    console_links,
    resource_link,
    slack_escape,
    slack_message,
    teams_message,
    texts,
)

TASK = "arn:aws:ecs:us-east-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"


def _doc(
    evidence: int = 2,
    summary: str = "Route table rtb-1 of subnet-1 has no 0.0.0.0/0 route.",
    fix: str = "aws ec2 create-route --route-table-id rtb-1 ...",
) -> dict[str, Any]:
    return {
        "schema": "ecsdoctor.diagnosis/v1",
        "subject": {
            "type": "task",
            "arn": TASK,
            "cluster": "prod",
            "service": "web",
            "region": "us-east-1",
            "account": "123456789012",
        },
        "signals": [
            {
                "source": "stopped_reason",
                "text": "CannotPullContainerError: i/o timeout",
                "container": None,
                "at": None,
                "subject": TASK,
            }
        ],
        "matches": [],
        "root_causes": [
            {
                "kind": "route_table",
                "resource": "rtb-1",
                "summary": summary,
                "evidence": [
                    {
                        "resource": "rtb-1",
                        "source": "ec2:DescribeRouteTables",
                        "detail": f"fact {n}",
                    }
                    for n in range(evidence)
                ],
                "remediation": fix,
            }
        ],
        "hypotheses": [],
        "offline": False,
        "api_calls": 12,
    }


def test_slack_message_names_the_resource_and_links_the_console() -> None:
    occurrence = Occurrence("k", 3, 1_800_000_000.0, 1_800_000_120.0)
    message = slack_message(_doc(), occurrence)
    header = message["blocks"][0]
    assert header["type"] == "header" and "rtb-1" in header["text"]["text"]
    body = "\n".join(texts(message))
    assert "```\naws ec2 create-route --route-table-id rtb-1 ...\n```" in body
    assert "Seen 3 times · first 2027-01-15T08:00:00+00:00 · last 2027-01-15T08:02:00+00:00" in body
    assert "12 read-only AWS requests" in body
    assert (
        "https://us-east-1.console.aws.amazon.com/ecs/v2/clusters/prod/tasks/"
        "0123456789abcdef0123456789abcdef/configuration?region=us-east-1|Task>" in body
    )
    assert "/ecs/v2/clusters/prod/services/web/health?region=us-east-1|Service>" in body
    assert "RouteTableDetails:RouteTableId=rtb-1|Route table>" in body


def test_slack_limits_are_kept_and_cuts_are_announced() -> None:
    message = slack_message(_doc(evidence=40, summary="x" * 5000, fix="y" * 9000))
    assert len(message["blocks"]) <= 50
    for block in message["blocks"]:
        text = (block.get("text") or {}).get("text", "")
        limit = SLACK_HEADER if block["type"] == "header" else SLACK_SECTION
        assert len(text) <= limit
    body = "\n".join(texts(message))
    assert "34 more evidence items cut" in body
    assert "fix cut: see the JSON document" in body
    assert "characters cut)" in body


def test_teams_card_fits_and_says_what_was_cut() -> None:
    payload = teams_message(_doc(evidence=6, summary="s" * 3000, fix="f" * 3000))
    assert len(json.dumps(payload).encode()) <= TEAMS_BYTES
    huge = _doc(evidence=6, fix="f" * 3000)
    huge["signals"][0]["text"] = "m" * 2000
    for item in huge["root_causes"][0]["evidence"]:
        item["detail"] = "e" * 6000
    payload = teams_message(huge)
    assert len(json.dumps(payload).encode()) <= TEAMS_BYTES
    assert "cut" in json.dumps(payload)


def test_escape_neutralises_mentions_links_and_controls() -> None:
    assert (
        slack_escape("<!here> <#C1> <@U1> a&b\x07")
        == "&lt;!here&gt; &lt;#C1&gt; &lt;@U1&gt; a&amp;b "
    )
    assert "AKIAABCDEFGHIJKLMNOP" not in slack_escape("key AKIAABCDEFGHIJKLMNOP leaked")


def test_cuts_are_exact_and_never_split_an_entity() -> None:
    from ecsdoctor.chatops.messages import _cut

    text = "&amp;" * 100
    cut = _cut(text, 60)
    assert len(cut) <= 60 and cut.endswith(" characters cut)")
    head = cut.split("…")[0]
    assert head == "&amp;" * (len(head) // 5)
    assert cut.endswith(f"({len(text) - len(head)} characters cut)")


def test_resource_links() -> None:
    assert resource_link("security_group", "sg-1", "eu-west-1") == (
        "https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#SecurityGroup:groupId=sg-1"
    )
    role = resource_link(
        "execution_role", "arn:aws:iam::123456789012:role/app/web-exec", "us-east-1"
    )
    assert role == "https://console.aws.amazon.com/iam/home#/roles/details/web-exec"
    repo = resource_link(
        "ecr_repository", "arn:aws:ecr:us-east-1:123456789012:repository/team/web", "x"
    )
    assert repo is not None and repo.endswith(
        "/ecr/repositories/private/123456789012/team/web?region=us-east-1"
    )
    assert resource_link("vpc_endpoint", "vpc-0abc", "us-east-1") is not None
    assert resource_link("container", "app", "us-east-1") is None
    # A hostile "resource" can only ever land URL-quoted inside our own URL.
    odd = resource_link("subnet", "subnet-1|<https://evil>", "us-east-1")
    assert odd is not None and "<" not in odd and "|" not in odd


def test_links_from_a_service_subject() -> None:
    doc = {
        "subject": {
            "type": "service",
            "service": "arn:aws:ecs:us-west-2:1:service/c/s",
            "region": "us-west-2",
        }
    }
    assert console_links(doc) == [
        (
            "Service",
            "https://us-west-2.console.aws.amazon.com/ecs/v2/clusters/c/services/s/health?region=us-west-2",
        )
    ]
