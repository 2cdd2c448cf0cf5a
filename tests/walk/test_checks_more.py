"""The rest of issue 11 end to end: CloudTrail "what changed" (stubbed: moto lacks
LookupEvents), SCP denials as a data gap, trust conditions, exec format errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.walk import messages
from tests.walk.world import World, build

REGIONS = ("eu-west-1", "ap-southeast-2")


def _canned(body: dict[str, Any], status: int = 200) -> Any:
    def handler(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        body.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "HTTPHeaders": {}})
        return AWSResponse("https://canned", status, {}, None), body  # type: ignore[arg-type]

    return handler


@pytest.mark.parametrize("region", REGIONS)
def test_cloudtrail_cites_who_changed_the_route(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ec2").delete_nat_gateway(NatGatewayId=world.ids["nat_gateway"])
    world.route(world.ids["route_table"]).State = "blackhole"
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="3.112.64.17"
        )
    )
    event = {
        "EventName": "DeleteNatGateway",
        "Username": "alice",
        "EventTime": datetime(2026, 11, 29, 21, 3, tzinfo=UTC),
        "Resources": [{"ResourceName": world.ids["route_table"]}],
    }
    world.session.events.register(
        "before-call.cloudtrail.LookupEvents", _canned({"Events": [event]})
    )
    diagnosis = world.diagnose()
    change = next(c for c in diagnosis.checks if c.check == "changes.recent_changes")
    assert change.resource == world.ids["route_table"]
    assert "DeleteNatGateway by alice at 2026-11-29T21:03:00+00:00" in change.detail
    assert diagnosis.root_causes[0].kind == "route_table"  # the change is evidence, not a cause


@pytest.mark.parametrize("region", REGIONS)
def test_cloudtrail_not_allowed_is_a_data_gap(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.fail(
        messages.PULL_TIMEOUT.format(
            image=world.ids["image"], registry=world.ids["registry"], ip="3.112.64.17"
        )
    )
    world.session.events.register(
        "before-call.cloudtrail.LookupEvents",
        _canned({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, 400),
    )
    diagnosis = world.diagnose()
    assert any(g.permission == "cloudtrail:LookupEvents" for g in diagnosis.data_gaps)


@pytest.mark.parametrize("region", REGIONS)
def test_scp_denial_is_a_data_gap_not_the_role(aws: None, region: str) -> None:
    world = build(region, "nat")
    # knowledge/resource_init/registry_auth_denied.toml (first example's shape) with AWS's
    # documented SCP wording: https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_access-denied.html
    world.fail(
        "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
        "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 1 "
        "time(s): operation error ECR: GetAuthorizationToken, https response error StatusCode: "
        "400, api error AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role/"
        f"{world.ids['execution_role_name']}/abc is not authorized to perform: "
        "ecr:GetAuthorizationToken on resource: * with an explicit deny in a service control policy"
    )
    diagnosis = world.diagnose()
    assert not any(r.kind == "execution_role" for r in diagnosis.root_causes)
    gap = next(g for g in diagnosis.data_gaps if g.check == "iam.scp_denied")
    assert "service control policy" in gap.reason and "management account" in gap.reason


@pytest.mark.parametrize("region", REGIONS)
def test_trust_condition_for_another_account(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("iam").update_assume_role_policy(
        RoleName=world.ids["execution_role_name"],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}},
                    }
                ],
            }
        ),
    )
    world.fail(
        messages.PULL_DENIED.format(
            registry=world.ids["registry"],
            role=world.ids["execution_role_name"],
            repository=world.ids["repository"],
        )
    )
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.check, top.resource) == (
        "iam.execution_role_not_assumable",
        world.ids["execution_role"],
    )
    assert "aws:sourceaccount=123456789012" in top.summary


def _trust(world: World, source_arn: str) -> None:
    """The execution role's trust policy with the confused-deputy conditions AWS documents."""
    world.client("iam").update_assume_role_policy(
        RoleName=world.ids["execution_role_name"],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "ArnLike": {"aws:SourceArn": source_arn},
                            "StringEquals": {"aws:SourceAccount": "123456789012"},
                        },
                    }
                ],
            }
        ),
    )
    world.fail(
        messages.PULL_DENIED.format(
            registry=world.ids["registry"],
            role=world.ids["execution_role_name"],
            repository=world.ids["repository"],
        )
    )


@pytest.mark.parametrize("region", REGIONS)
def test_trust_source_arn_scoped_to_one_cluster(aws: None, region: str) -> None:
    """AWS: "using the aws:SourceArn condition key to specify a specific cluster is not
    currently supported" (docs/AmazonECS/latest/developerguide/task-iam-roles.html)."""
    world = build(region, "nat")
    _trust(world, f"arn:aws:ecs:{region}:123456789012:cluster/walk")
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.kind, top.resource) == ("execution_role", world.ids["execution_role"])
    assert "one cluster" in top.summary and "not supported" in top.summary
    assert f"arn:aws:ecs:{region}:123456789012:*" in (top.remediation or "")


@pytest.mark.parametrize("region", REGIONS)
def test_trust_source_arn_for_another_region(aws: None, region: str) -> None:
    world = build(region, "nat")
    _trust(world, "arn:aws:ecs:us-east-2:123456789012:*")
    top = world.diagnose().root_causes[0]
    assert (top.kind, top.resource) == ("execution_role", world.ids["execution_role"])
    assert f"ECS sends an ECS ARN of the task's account and Region (arn:aws:ecs:{region}:" in (
        top.summary
    )


@pytest.mark.parametrize("region", REGIONS)
def test_trust_with_the_documented_source_conditions_is_a_decoy(aws: None, region: str) -> None:
    world = build(region, "nat")
    _trust(world, f"arn:aws:ecs:{region}:123456789012:*")
    diagnosis = world.diagnose()
    assert diagnosis.root_causes == (), [(r.kind, r.summary) for r in diagnosis.root_causes]
    trust = next(c for c in diagnosis.checks if c.check == "iam.execution_role_not_assumable")
    assert trust.status == "ruled_out"


def _index(world: World, arch: str) -> None:
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "size": 1,
                    "digest": "sha256:" + "a" * 64,
                    "platform": {"os": "linux", "architecture": arch},
                }
            ],
        }
    )
    world.client("ecr").put_image(
        repositoryName="web",
        imageManifest=manifest,
        imageTag="v1",
        imageManifestMediaType="application/vnd.oci.image.index.v1+json",
    )


@pytest.mark.parametrize("region", REGIONS)
def test_exec_format_error_against_the_image_index(aws: None, region: str) -> None:
    world = build(region, "nat")
    world.client("ecr").batch_delete_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])
    _index(world, "arm64")
    world.fail(
        messages.ESSENTIAL_EXITED,
        container_reason="exec /usr/local/bin/streamlit: exec format error",
        exit_code=1,
        stop_code="EssentialContainerExited",
    )
    diagnosis = world.diagnose()
    top = next(r for r in diagnosis.root_causes if r.check == "container.exec_format_error")
    assert (top.kind, top.resource) == ("ecr_image", world.ids["repository"])
    assert "offers only linux/arm64" in top.summary and "X86_64" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_exec_format_error_with_the_tasks_architecture_in_the_index_is_a_decoy(
    aws: None, region: str
) -> None:
    """The index offers linux/amd64 (the task's X86_64): the exec format error is not an
    architecture mismatch of the image (a script without its interpreter line, say)."""
    world = build(region, "nat")
    world.client("ecr").batch_delete_image(repositoryName="web", imageIds=[{"imageTag": "v1"}])
    _index(world, "amd64")
    world.fail(
        messages.ESSENTIAL_EXITED,
        container_reason="exec /usr/local/bin/streamlit: exec format error",
        exit_code=1,
        stop_code="EssentialContainerExited",
    )
    diagnosis = world.diagnose()
    assert not [r for r in diagnosis.root_causes if r.kind in ("ecr_image", "container_image")]
    ruled = next(c for c in diagnosis.checks if c.check == "container.exec_format_error")
    assert ruled.status == "ruled_out" and "offers a linux/amd64 variant" in ruled.detail


# knowledge/image_pull/dns_unresolved.toml (first example: awsdocs/amazon-ecs-developer-guide
# issue 110), with this account's secret and region.
SECRET_LOOKUP_FAILED = (
    "Fetching secret data from AWS Secrets Manager in region {region}: secret {secret}: "
    "RequestError: send request failed caused by: Post https://secretsmanager.{region}."
    "amazonaws.com/: dial tcp: lookup secretsmanager.{region}.amazonaws.com on 10.0.0.2:53: "
    "no such host"
)


@pytest.mark.parametrize("region", REGIONS)
def test_secret_host_not_resolved_with_vpc_dns_off(aws: None, region: str) -> None:
    world = build(region, "nat", secrets=True)
    world.client("ec2").modify_vpc_attribute(
        VpcId=world.ids["vpc"], EnableDnsSupport={"Value": False}
    )
    world.fail(SECRET_LOOKUP_FAILED.format(region=region, secret=world.ids["secret"]))
    diagnosis = world.diagnose()
    top = diagnosis.root_causes[0]
    assert (top.kind, top.resource) == ("vpc_dns", world.ids["vpc"])
    assert f"could not resolve secretsmanager.{region}.amazonaws.com" in top.summary


@pytest.mark.parametrize("region", REGIONS)
def test_secret_host_not_resolved_with_dns_on_is_no_vpc_cause(aws: None, region: str) -> None:
    """Decoy: the VPC resolves names with the Amazon DNS server, the host is AWS's own: the
    VPC's DNS is ruled out, not blamed."""
    world = build(region, "nat", secrets=True)
    world.fail(SECRET_LOOKUP_FAILED.format(region=region, secret=world.ids["secret"]))
    diagnosis = world.diagnose()
    assert not [r for r in diagnosis.root_causes if r.kind == "vpc_dns"]
    dns = next(c for c in diagnosis.checks if c.check == "network.dns_unresolved")
    assert dns.status == "ruled_out"
