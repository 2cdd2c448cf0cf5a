"""The dependency graph of a failed task or service, the walk over it, and cause vs consequence.

Nodes are resources (ARN, or AWS id) with a `kind`; an edge a -> b means "a depends on b". The
graph decides three things:
- **what is on the failure's path**: the matched knowledge hypotheses name resource kinds; the
  walk from the subject (task or service) to the nodes of those kinds marks the path, and the
  checks that belong to the kinds on it are the ones that can explain this failure;
- **cause vs consequence** (`pipeline.split_causes`): a symptom (a node that merely does not
  work) is explained by a confirmed failure below it in the graph;
- **the explanation path** printed with each finding.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import networkx as nx

from ecsdoctor.arn import ImageRef
from ecsdoctor.errors import ReadError
from ecsdoctor.kinds import Kind
from ecsdoctor.reachability import default_route
from ecsdoctor.service import ServiceSnapshot
from ecsdoctor.snapshot import TaskSnapshot

#: Kinds that stand for everything beneath them: "the tasks failed to start" puts every
#: dependency of the task on the failure's path, "the image URI is wrong" only the image.
AGGREGATE_KINDS = frozenset({Kind.TASK, Kind.SERVICE, Kind.CLUSTER})


@dataclass(frozen=True, slots=True)
class FailurePath:
    """The part of the graph a failure runs through: its nodes and their kinds."""

    nodes: frozenset[str]
    kinds: frozenset[Kind]
    everything: bool = False  # no failure was recognised: every dependency is suspect

    def covers(self, kind: Kind) -> bool:
        """Is a check or finding of this kind on the failure's path?"""
        return self.everything or kind in self.kinds


class ResourceGraph:
    """A networkx DiGraph of resources, typed by Kind; the only place networkx is used."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._g: nx.DiGraph[str] = nx.DiGraph()

    def add(self, node: str, kind: Kind, parent: str | None = None) -> None:
        """Add `node` (first kind wins) and, with a parent, the edge parent -> node."""
        if node not in self._g:
            self._g.add_node(node, kind=kind)
        if parent is not None and parent != node:
            if parent not in self._g:
                raise KeyError(f"unknown parent node {parent}")
            self._g.add_edge(parent, node)

    def merge(self, other: ResourceGraph, parent: str | None = None) -> None:
        """Add another graph's nodes and edges (e.g. a task's under its service)."""
        for node, data in other._g.nodes(data=True):
            self.add(node, data["kind"])
        self._g.add_edges_from(other._g.edges)
        if parent is not None:
            self.add(other.root, self.kind_of(other.root) or Kind.TASK, parent)

    def __contains__(self, node: object) -> bool:
        return node in self._g

    def kind_of(self, node: str) -> Kind | None:
        """The kind of a node, or None when the graph does not hold it."""
        if node not in self._g:
            return None
        kind: Kind = self._g.nodes[node]["kind"]
        return kind

    def nodes_of(self, kind: Kind) -> list[str]:
        """Every node of one kind."""
        return [n for n, data in self._g.nodes(data=True) if data["kind"] is kind]

    def below(self, node: str) -> set[str]:
        """Everything `node` depends on, directly or not."""
        return set(nx.descendants(self._g, node)) if node in self._g else set()

    def path(self, start: str, target: str) -> list[str]:
        """The chain start -> ... -> target, or [] when there is none."""
        if start not in self._g or target not in self._g:
            return []
        try:
            return list(nx.shortest_path(self._g, start, target))
        except nx.NetworkXNoPath:
            return []

    def failure_path(self, kinds: Collection[Kind]) -> FailurePath:
        """Walk from the root to every node of the failure's kinds; the path is what it crosses.

        A kind the graph holds no node of (the missing NAT gateway, the absent endpoint) is still
        on the path: a hypothesis may be about something that is not there. An aggregate kind
        (the task, the service) puts everything beneath its node on the path.
        """
        if not kinds:
            return FailurePath(frozenset(self._g.nodes), frozenset(Kind), everything=True)
        nodes: set[str] = {self.root}
        for kind in kinds:
            for target in self.nodes_of(kind):
                nodes.update(self.path(self.root, target))
                if kind in AGGREGATE_KINDS:
                    nodes.update(self.below(target))
        found = {self._g.nodes[n]["kind"] for n in nodes if n in self._g}
        return FailurePath(frozenset(nodes), frozenset(found) | frozenset(kinds))

    def edges(self) -> list[tuple[str, str]]:
        """Every dependency edge (for renderers that draw the graph)."""
        return list(self._g.edges)


def build_task_graph(snap: TaskSnapshot) -> ResourceGraph:
    """The task and everything it needed; reads that fail leave their part of the graph out."""
    task = snap.task_arn
    graph = ResourceGraph(task)
    graph.add(task, Kind.TASK)
    if snap.service_name:
        service = f"service:{snap.service_name}"
        graph.add(service, Kind.SERVICE)
        graph._g.add_edge(service, task)
    try:
        td = snap.task_definition_arn
        graph.add(td, Kind.TASK_DEFINITION, task)
        _add_definition(graph, snap, td)
    except ReadError:
        pass
    _add_network(graph, snap)
    return graph


def _add_definition(graph: ResourceGraph, snap: TaskSnapshot, td: str) -> None:
    for role, kind in (
        (snap.execution_role_arn, Kind.EXECUTION_ROLE),
        (snap.task_role_arn, Kind.TASK_ROLE),
    ):
        if role:
            graph.add(role, kind, td)
    for container, image, ref in snap.images():
        node = f"{td}#{container}"
        graph.add(node, Kind.CONTAINER, td)
        graph.add(image, Kind.IMAGE_URI, node)
        if isinstance(ref, ImageRef) and ref.is_ecr:
            graph.add(str(ref.repository_arn), Kind.ECR_REPOSITORY, image)
    for secret in snap.secret_refs():
        kind = Kind.SSM_PARAMETER if secret.store == "ssm" else Kind.SECRET
        container = f"{td}#{secret.container}"
        graph.add(container, Kind.CONTAINER, td)
        graph.add(secret.arn, kind, container)
        if snap.execution_role_arn:
            graph.add(secret.arn, kind, snap.execution_role_arn)
    for container, options in snap.log_configs():
        group = options.get("awslogs-group")
        region = options.get("awslogs-region") or snap.region
        node = f"{td}#{container}"
        graph.add(node, Kind.CONTAINER, td)
        graph.add(f"arn:aws:logs:{region}:{snap.account}:log-group:{group}", Kind.LOG_GROUP, node)


def _add_network(graph: ResourceGraph, snap: TaskSnapshot) -> None:
    task = snap.task_arn
    try:
        config = snap.network
    except ReadError:
        return
    if not config:
        return
    for group in config.security_group_ids:
        graph.add(group, Kind.SECURITY_GROUP, task)
    for subnet_id in config.subnet_ids:
        graph.add(subnet_id, Kind.SUBNET, task)
        try:
            subnet = snap.subnet(subnet_id)
            table = snap.route_table_for(subnet_id)
            acl = snap.network_acl_for(subnet_id)
        except ReadError:
            continue
        vpc = str(subnet.get("VpcId"))
        table_id = str(table["RouteTableId"])
        graph.add(vpc, Kind.VPC, subnet_id)
        graph.add(table_id, Kind.ROUTE_TABLE, subnet_id)
        if acl:
            graph.add(str(acl["NetworkAclId"]), Kind.NETWORK_ACL, subnet_id)
        route = default_route(table)
        target = (route.get("NatGatewayId") or route.get("GatewayId")) if route else None
        if target:
            kind = Kind.NAT_GATEWAY if str(target).startswith("nat-") else Kind.INTERNET_GATEWAY
            graph.add(str(target), kind, table_id)
        try:
            endpoints = snap.vpc_endpoints(vpc)
        except ReadError:
            continue
        for endpoint in endpoints:
            endpoint_id = str(endpoint["VpcEndpointId"])
            graph.add(endpoint_id, Kind.VPC_ENDPOINT, vpc)
            if endpoint_id in {str(r.get("GatewayId")) for r in table.get("Routes") or []}:
                graph.add(endpoint_id, Kind.VPC_ENDPOINT, table_id)


def build_service_graph(svc: ServiceSnapshot, snaps: Sequence[TaskSnapshot]) -> ResourceGraph:
    """The service -> its deployment settings, cluster, target groups and diagnosed tasks."""
    graph = ResourceGraph(svc.arn)
    graph.add(svc.arn, Kind.SERVICE)
    graph.add(svc.cluster_arn, Kind.CLUSTER, svc.arn)
    if svc.task_definition_arn:
        graph.add(svc.task_definition_arn, Kind.TASK_DEFINITION, svc.arn)
    for group in svc.security_group_ids:
        graph.add(group, Kind.SECURITY_GROUP, svc.arn)
    for lb in svc.load_balancers:
        arn = str(lb.get("targetGroupArn"))
        graph.add(arn, Kind.TARGET_GROUP, svc.arn)
    for snap in snaps:
        graph.merge(build_task_graph(snap), parent=svc.arn)
        alias = f"service:{svc.name}"
        if alias in graph:
            graph._g.add_edge(svc.arn, alias)
    return graph
