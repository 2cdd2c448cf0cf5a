"""The resource kinds: the vocabulary of graph nodes, hypotheses and JSON output (never renamed)."""

from __future__ import annotations

from enum import StrEnum


class Kind(StrEnum):
    """A kind of AWS resource (or piece of one) that a failure can depend on."""

    TASK = "task"
    TASK_DEFINITION = "task_definition"
    CONTAINER = "container"
    IMAGE_URI = "image_uri"
    ECR_REPOSITORY = "ecr_repository"
    ECR_IMAGE = "ecr_image"
    EXECUTION_ROLE = "execution_role"
    TASK_ROLE = "task_role"
    IAM_POLICY = "iam_policy"
    KMS_KEY = "kms_key"
    SSM_PARAMETER = "ssm_parameter"
    SECRET = "secret"
    LOG_GROUP = "log_group"
    SUBNET = "subnet"
    ROUTE_TABLE = "route_table"
    NAT_GATEWAY = "nat_gateway"
    INTERNET_GATEWAY = "internet_gateway"
    PUBLIC_IP = "public_ip"
    VPC_ENDPOINT = "vpc_endpoint"
    VPC_DNS = "vpc_dns"
    SECURITY_GROUP = "security_group"
    NETWORK_ACL = "network_acl"
    TARGET_GROUP = "target_group"
    LOAD_BALANCER = "load_balancer"
    CONTAINER_INSTANCE = "container_instance"
    CAPACITY_PROVIDER = "capacity_provider"
    EFS = "efs"
    SERVICE = "service"
    SERVICE_DEPLOYMENT = "service_deployment"
    CONTAINER_HEALTH_CHECK = "container_health_check"
    CLUSTER = "cluster"
    # Added for failure families that need them (DESIGN.md: add, never rename).
    EXTERNAL_REGISTRY = "external_registry"
    CONTAINER_IMAGE = "container_image"
    ENV_FILE = "env_file"
    S3_BUCKET = "s3_bucket"
    SPOT_CAPACITY = "spot_capacity"
    ACCOUNT_QUOTA = "account_quota"
    VPC = "vpc"
    # Deploy-time failure families (issue 12): listeners, Auto Scaling groups, Cloud Map namespaces,
    # CodeDeploy deployment groups and a logging driver's own destination.
    LISTENER = "listener"
    AUTO_SCALING_GROUP = "auto_scaling_group"
    SERVICE_DISCOVERY_NAMESPACE = "service_discovery_namespace"
    CODEDEPLOY_DEPLOYMENT_GROUP = "codedeploy_deployment_group"
    LOG_DESTINATION = "log_destination"


KIND_NAMES: frozenset[str] = frozenset(k.value for k in Kind)
