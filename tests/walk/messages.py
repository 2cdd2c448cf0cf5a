"""Real ECS messages, copied from knowledge/*.toml examples (their sources are cited there),
with only this test account's ids, region and addresses substituted."""

from __future__ import annotations

# knowledge/image_pull/network_timeout.toml (first example; its source is cited there)
PULL_TIMEOUT = (
    "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve "
    'ref {image}: failed to do request: Head "https://{registry}/v2/web/manifests/v1": dial tcp '
    "{ip}:443: i/o timeout"
)
# knowledge/resource_init/registry_auth_unreachable.toml (first example)
AUTH_TIMEOUT = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 "
    'time(s): RequestError: send request failed caused by: Post "https://api.ecr.{region}.'
    'amazonaws.com/": dial tcp {ip}:443: i/o timeout. Please check your task network '
    "configuration."
)
# knowledge/resource_init/logs_unreachable.toml (first example)
LOGS_UNREACHABLE = (
    "ResourceInitializationError: failed to validate logger args: The task cannot find the "
    "Amazon CloudWatch log group defined in the task definition. There is a connection issue "
    "between the task and Amazon CloudWatch. Check your network configuration. : signal: killed"
)
# knowledge/image_pull/repository_access_denied.toml (fifth example)
PULL_DENIED = (
    "CannotPullContainerError: The task can’t pull the image. Check that the role has the "
    "permissions to pull images from the registry. Error response from daemon: pull access "
    "denied for {registry}/web, repository does not exist or may require 'docker login': denied: "
    "User: arn:aws:sts::123456789012:assumed-role/{role}/abc is not authorized to perform: "
    "ecr:BatchGetImage on resource: {repository}"
)
# knowledge/resource_init/kms_decrypt_denied.toml (first example)
KMS_DENIED = (
    "ResourceInitializationError: unable to pull secrets or registry auth: execution resource "
    "retrieval failed: unable to retrieve secret from asm: service call has been retried 1 "
    "time(s): failed to fetch secret {secret} from secrets manager: AccessDeniedException: "
    "Access to KMS is not allowed"
)
# github.com/docker-archive/compose-cli/issues/911 (Fargate pull, message shape) and
# github.com/aws-samples/aws-modern-application-workshop/issues/197 (the resolver's ending)
DNS_FAILED = (
    'CannotPullContainerError: failed to resolve ref "{image}": failed to do request: Head '
    "https://{registry}/v2/web/manifests/v1: dial tcp: lookup {registry} on 10.0.0.2:53: no "
    "such host"
)
# knowledge/container_exit/out_of_memory.toml (first example)
OOM = "OutOfMemoryError: Container killed due to memory usage"
# ECS's stopped reason for an essential container exit (knowledge/stop_code/essential_container_exited.toml)
ESSENTIAL_EXITED = "Essential container in task exited"
# knowledge/volume/efs_unreachable.toml (first example)
EFS_UNREACHABLE = (
    "ResourceInitializationError: failed to invoke EFS utils commands to set up EFS volumes: "
    "stderr: mount.nfs4: Connection reset by peer : unsuccessful EFS utils command execution; "
    "code: 32"
)
