"""The dependency graph of a failed task, and the root-cause ranking over check results.

Two graphs, both networkx: the resource graph (task -> task definition -> container -> image ->
repository; roles; secrets -> KMS key; log group; ENI -> subnet -> route table -> NAT/IGW; VPC ->
endpoints) gives each finding its explanation path, and the result graph (a confirmed failure ->
the confirmed failure that would explain it) separates root causes from consequences.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from ecsdoctor.arn import ImageRef
from ecsdoctor.errors import ReadError
from ecsdoctor.models import CheckResult, Status
from ecsdoctor.reachability import default_route
from ecsdoctor.service import ServiceSnapshot
from ecsdoctor.snapshot import TaskSnapshot


def build_resource_graph(snap: TaskSnapshot) -> nx.DiGraph[str]:
    """Nodes are resource ids/ARNs with a `kind`; an edge a -> b means a depends on b."""
    graph: nx.DiGraph[str] = nx.DiGraph()

    def add(node: str, kind: str, parent: str | None) -> None:
        graph.add_node(node, kind=kind)
        if parent:
            graph.add_edge(parent, node)

    task = snap.task_arn
    td = snap.task_definition_arn
    add(task, "task", None)
    add(td, "task_definition", task)
    if snap.service_name:
        add(f"service:{snap.service_name}", "service", None)
        graph.add_edge(f"service:{snap.service_name}", task)
    for role, kind in (
        (snap.execution_role_arn, "execution_role"),
        (snap.task_role_arn, "task_role"),
    ):
        if role:
            add(role, kind, td)
    for container, image, ref in snap.images():
        node = f"{td}#{container}"
        add(node, "container", td)
        add(image, "image_uri", node)
        if isinstance(ref, ImageRef) and ref.is_ecr:
            add(str(ref.repository_arn), "ecr_repository", image)
    for secret in snap.secret_refs():
        kind = "ssm_parameter" if secret.store == "ssm" else "secret"
        add(secret.arn, kind, f"{td}#{secret.container}")
    for container, options in snap.log_configs():
        group = options.get("awslogs-group")
        region = options.get("awslogs-region") or snap.region
        add(
            f"arn:aws:logs:{region}:{snap.account}:log-group:{group}",
            "log_group",
            f"{td}#{container}",
        )
    config = snap.network
    if config:
        for group in config.security_group_ids:
            add(group, "security_group", task)
        add(task, "task", None)
        for subnet_id in config.subnet_ids:
            add(subnet_id, "subnet", task)
            try:
                subnet = snap.subnet(subnet_id)
                table = snap.route_table_for(subnet_id)
                acl = snap.network_acl_for(subnet_id)
            except ReadError:
                continue
            vpc = str(subnet.get("VpcId"))
            add(vpc, "vpc", subnet_id)
            add(str(table["RouteTableId"]), "route_table", subnet_id)
            if acl:
                add(str(acl["NetworkAclId"]), "network_acl", subnet_id)
            route = default_route(table)
            if route:
                target = route.get("NatGatewayId") or route.get("GatewayId")
                if target:
                    kind = "nat_gateway" if str(target).startswith("nat-") else "internet_gateway"
                    add(str(target), kind, str(table["RouteTableId"]))
            try:
                for endpoint in snap.vpc_endpoints(vpc):
                    add(str(endpoint["VpcEndpointId"]), "vpc_endpoint", vpc)
            except ReadError:
                pass
    return graph


def build_service_graph(svc: ServiceSnapshot, snaps: Sequence[TaskSnapshot]) -> nx.DiGraph[str]:
    """The service -> its diagnosed tasks (each with its own graph), target groups, cluster."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_node(svc.arn, kind="service")
    for snap in snaps:
        graph = nx.compose(graph, build_resource_graph(snap))
        graph.add_edge(svc.arn, snap.task_arn)
    if snaps:
        graph.add_edge(svc.arn, f"service:{svc.name}")
    graph.add_node(svc.cluster_arn, kind="cluster")
    graph.add_edge(svc.arn, svc.cluster_arn)
    if svc.task_definition_arn:
        graph.add_node(svc.task_definition_arn, kind="task_definition")
        graph.add_edge(svc.arn, svc.task_definition_arn)
    for group in svc.security_group_ids:
        graph.add_node(group, kind="security_group")
        graph.add_edge(svc.arn, group)
    for lb in svc.load_balancers:
        arn = str(lb["targetGroupArn"])
        graph.add_node(arn, kind="target_group")
        graph.add_edge(svc.arn, arn)
    return graph


def explanation_path(graph: nx.DiGraph[str] | None, target: str, start: str) -> list[str]:
    """The chain task -> ... -> target, when the graph knows one."""
    if graph is None or start not in graph or target not in graph:
        return []
    try:
        return list(nx.shortest_path(graph, start, target))
    except nx.NetworkXNoPath:
        return []


def split_causes(results: Sequence[CheckResult]) -> tuple[list[CheckResult], list[CheckResult]]:
    """(root causes, consequences): a confirmed failure explained by another confirmed one is a
    consequence; one whose own dependencies all pass is a root cause."""
    confirmed = {r.key: r for r in results if r.status is Status.CONFIRMED}
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(confirmed)
    for result in confirmed.values():
        for dependency in result.depends_on:
            if dependency in confirmed and dependency != result.key:
                graph.add_edge(result.key, dependency)
    roots: list[CheckResult] = []
    consequences: list[CheckResult] = []
    for key, result in confirmed.items():
        below = nx.descendants(graph, key)
        # A cycle (each explains the other) leaves both as root causes rather than neither.
        if below and not all(key in nx.descendants(graph, d) for d in below):
            consequences.append(result)
        else:
            roots.append(result)
    return roots, consequences
