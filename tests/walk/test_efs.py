"""The EFS mount path: file system, mount target in the task's AZ, NFS 2049, access point,
file system policy; real moto accounts in two regions, with a decoy."""

from __future__ import annotations

import json

import pytest

from ecsdoctor.arn import parse_task_ref
from ecsdoctor.reachability import VolumeCheck, efs_volumes
from ecsdoctor.snapshot import TaskSnapshot
from tests.walk.world import World, build

REGIONS = ("eu-west-1", "ap-southeast-2")


def _volume(world: World) -> VolumeCheck:
    snap = TaskSnapshot(world.reader(), parse_task_ref(world.task_arn, "walk"))
    (volume,) = efs_volumes(snap)
    return volume


@pytest.mark.parametrize("region", REGIONS)
def test_healthy_efs_volume(aws: None, region: str) -> None:
    volume = _volume(build(region, "nat", efs=True))
    assert volume.failing == (), [r.fact for r in volume.failing]
    assert any("admit NFS (TCP 2049)" in r.fact for r in volume.requirements)


@pytest.mark.parametrize("region", REGIONS)
def test_mount_target_security_group_without_2049(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    world.client("ec2").revoke_security_group_ingress(
        GroupId=world.ids["efs_sg"],
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 2049,
                "ToPort": 2049,
                "UserIdGroupPairs": [{"GroupId": world.ids["task_sg"]}],
            }
        ],
    )
    volume = _volume(world)
    assert [(r.kind, r.resource) for r in volume.failing] == [
        ("security_group", world.ids["efs_sg"])
    ]
    assert world.ids["mount_target"] in volume.failing[0].fact


@pytest.mark.parametrize("region", REGIONS)
def test_no_mount_target_in_the_tasks_zone(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    efs = world.client("efs")
    efs.delete_mount_target(MountTargetId=world.ids["mount_target"])
    other = world.client("ec2").create_subnet(
        VpcId=world.ids["vpc"], CidrBlock="10.0.9.0/24", AvailabilityZone=f"{region}b"
    )["Subnet"]["SubnetId"]
    efs.create_mount_target(
        FileSystemId=world.ids["efs"], SubnetId=other, SecurityGroups=[world.ids["efs_sg"]]
    )
    volume = _volume(world)
    assert [(r.kind, r.resource) for r in volume.failing] == [("efs", world.ids["efs"])]
    assert f"{region}a" in volume.failing[0].fact and f"{region}b" in volume.failing[0].fact


@pytest.mark.parametrize("region", REGIONS)
def test_missing_access_point(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    world.client("efs").delete_access_point(AccessPointId=world.ids["access_point"])
    volume = _volume(world)
    assert [(r.kind, r.resource) for r in volume.failing] == [("efs", world.ids["access_point"])]


@pytest.mark.parametrize("region", REGIONS)
def test_file_system_policy_without_the_task_role_under_iam_auth(aws: None, region: str) -> None:
    world = build(region, "nat", efs=True)
    # The task definition turns IAM authorization on; the policy names someone else.
    td = world.client("ecs").describe_task_definition(taskDefinition=world.ids["task_definition"])[
        "taskDefinition"
    ]
    backend_td = world.backend("ecs").task_definitions["walk"][1]
    backend_td.volumes[0]["efsVolumeConfiguration"]["authorizationConfig"]["iam"] = "ENABLED"
    backend_td.task_role_arn = world.ids["execution_role"]
    assert td["volumes"]
    world.client("efs").put_file_system_policy(
        FileSystemId=world.ids["efs"],
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "OnlyBackup",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:role/backup"},
                        "Action": "elasticfilesystem:ClientMount",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    volume = _volume(world)
    assert [(r.kind, r.resource) for r in volume.failing] == [("efs", world.ids["efs"])]
    assert "ClientMount" in volume.failing[0].fact
