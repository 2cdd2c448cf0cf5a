"""What changed, attached to the root cause it explains: CloudTrail LookupEvents (stubbed: moto
lacks it) answered per looked-up resource name, as AWS answers a ResourceName lookup
(https://docs.aws.amazon.com/awscloudtrail/latest/APIReference/API_LookupEvents.html)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.walk import messages
from tests.walk.world import World, build

REGIONS = ("eu-west-1", "ap-southeast-2")
WHEN = datetime(2026, 11, 29, 21, 3, tzinfo=UTC)


def _trail(world: World, events: Mapping[str, Sequence[tuple[str, str]]]) -> list[str]:
    """Answer LookupEvents by ResourceName with (event name, user) pairs; return the names
    looked up, in order."""
    asked: list[str] = []

    def handler(params: Mapping[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body = json.loads(params["body"] or b"{}")
        name = body["LookupAttributes"][0]["AttributeValue"]
        asked.append(name)
        found = [
            {
                "EventName": event,
                "Username": user,
                "EventTime": WHEN,
                "Resources": [{"ResourceName": name}],
            }
            for event, user in events.get(name, ())
        ]
        meta = {"HTTPStatusCode": 200, "HTTPHeaders": {}}
        return AWSResponse("https://canned", 200, {}, None), {  # type: ignore[arg-type]
            "Events": found,
            "ResponseMetadata": meta,
        }

    world.session.events.register("before-call.cloudtrail.LookupEvents", handler)
    return asked


def _deleted_endpoint(world: World) -> tuple[str, str, str]:
    gone = world.ids["endpoint.ecr.dkr"]
    world.client("ec2").delete_vpc_endpoints(VpcEndpointIds=[gone])
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="10.0.1.200"
        )
    )
    return gone, "DeleteVpcEndpoints", world.ids["vpc"]


def _replaced_route(world: World) -> tuple[str, str, str]:
    table = world.ids["route_table"]
    world.client("ec2").delete_nat_gateway(NatGatewayId=world.ids["nat_gateway"])
    world.route(table).State = "blackhole"
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="3.112.64.17"
        )
    )
    return table, "ReplaceRoute", table


def _detached_policy(world: World) -> tuple[str, str, str]:
    name = world.ids["execution_role_name"]
    world.client("iam").delete_role_policy(RoleName=name, PolicyName="execution")
    world.fail(
        messages.PULL_DENIED.format(
            registry=world.ids["registry"], role=name, repository=world.ids["repository"]
        )
    )
    return name, "DeleteRolePolicy", world.ids["execution_role"]


def _revoked_rule(world: World) -> tuple[str, str, str]:
    group = world.ids["task_sg"]
    world.client("ec2").revoke_security_group_egress(
        GroupId=group,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="3.112.64.17"
        )
    )
    return group, "RevokeSecurityGroupEgress", group


CASES: dict[str, tuple[str, Callable[[World], tuple[str, str, str]]]] = {
    "endpoint-deleted": ("endpoints", _deleted_endpoint),
    "route-replaced": ("nat", _replaced_route),
    "policy-detached": ("nat", _detached_policy),
    "egress-revoked": ("nat", _revoked_rule),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("region", REGIONS)
def test_the_change_is_cited_by_the_root_cause_it_explains(
    aws: None, region: str, case: str
) -> None:
    baseline, breaks = CASES[case]
    world = build(region, baseline)
    looked_up, event, resource = breaks(world)
    asked = _trail(world, {looked_up: [(event, "alice")], "walk": [("ListTasks", "bob")]})
    diagnosis = world.diagnose()
    root = next((r for r in diagnosis.root_causes if r.resource == resource), None)
    assert root is not None, [(r.kind, r.resource) for r in diagnosis.root_causes]
    cited = [e for e in root.evidence if e.source == "cloudtrail:LookupEvents"]
    assert [e.resource for e in cited] == [looked_up]
    assert cited[0].detail.startswith(f"{event} by alice at 2026-11-29T21:03:00+00:00")
    assert looked_up in asked
    # A change is evidence beside the root cause, never a root cause of its own.
    assert all(r.check != "changes.recent_changes" for r in diagnosis.root_causes)


@pytest.mark.parametrize("region", REGIONS)
def test_a_change_elsewhere_is_not_cited(aws: None, region: str) -> None:
    """Decoy: the security group changed too, but the root cause is the route table: the
    group's change stays a lead in the checks, not evidence of the route table's finding."""
    world = build(region, "nat")
    table, _, _ = _replaced_route(world)
    _trail(world, {world.ids["task_sg"]: [("ModifySecurityGroupRules", "carol")]})
    diagnosis = world.diagnose()
    root = next(r for r in diagnosis.root_causes if r.resource == table)
    assert not [e for e in root.evidence if e.source == "cloudtrail:LookupEvents"]
    lead = next(c for c in diagnosis.checks if c.check == "changes.recent_changes")
    assert (lead.resource, lead.status) == (world.ids["task_sg"], "inconclusive")


@pytest.mark.parametrize("region", REGIONS)
def test_healthy_task_with_changes_gets_no_root_cause(aws: None, region: str) -> None:
    """Decoy: a new task definition revision and a role edit in the last day, nothing broken."""
    world = build(region, "nat")
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="3.112.64.17"
        )
    )
    _trail(
        world,
        {
            "walk": [("RegisterTaskDefinition", "deploy-bot")],
            world.ids["execution_role_name"]: [("PutRolePolicy", "carol")],
        },
    )
    diagnosis = world.diagnose()
    assert diagnosis.root_causes == ()
