"""Who selects whom: policies' selected pods and peer sets, kept up to date incrementally.

Every mutator returns the pods whose ACLs may have changed ("dirty"), so a change costs work
proportional to the policies and peers it can touch, never a full recompile:
- a pod change re-evaluates only the policies of its own namespace (selection), the peers
  scoped to its namespace, and the peers that carry a namespaceSelector;
- pods of a policy are dirtied only when one of its peer sets gains or loses a member, or
  when a member's addresses (or, for egress named ports, its ports) change.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ...resources.common import LabelSelector
from ...resources.network_policy import NetworkPolicyPeer, NetworkPolicySpec
from .model import NAMESPACE_NAME_LABEL, Direction, PodInfo, PodKey, PolicyKey

# (policy, direction, rule index, peer index)
PeerId = tuple[PolicyKey, Direction, int, int]


@dataclass(frozen=True, slots=True)
class PeerDef:
    """A pod-selecting peer. `namespace_selector` None: pods of the policy's own namespace."""

    id: PeerId
    policy_namespace: str
    pod_selector: LabelSelector | None
    namespace_selector: LabelSelector | None


@dataclass(slots=True)
class PolicyState:
    key: PolicyKey
    spec: NetworkPolicySpec
    types: frozenset[Direction]
    peers: tuple[PeerDef, ...]
    # Port names of egress rules whose destinations are not only selected pods (empty `to` or an
    # ipBlock): they resolve against every pod that has such a port, wherever it is.
    wild_port_names: frozenset[str]
    selected: set[PodKey] = field(default_factory=set)


def effective_namespace_labels(name: str, labels: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(labels or {})
    merged[NAMESPACE_NAME_LABEL] = name
    return merged


def _wild_port_names(spec: NetworkPolicySpec) -> frozenset[str]:
    names: set[str] = set()
    for rule in spec.egress:
        if rule.to and all(peer.ipBlock is None for peer in rule.to):
            continue
        names.update(p.port for p in rule.ports or () if isinstance(p.port, str))
    return frozenset(names)


def _peer_defs(key: PolicyKey, spec: NetworkPolicySpec) -> tuple[PeerDef, ...]:
    defs: list[PeerDef] = []
    rules: list[tuple[Direction, list[NetworkPolicyPeer]]] = [
        ("Ingress", rule.from_ or []) for rule in spec.ingress
    ] + [("Egress", rule.to or []) for rule in spec.egress]
    counters: dict[Direction, int] = {"Ingress": 0, "Egress": 0}
    for direction, peers in rules:
        index = counters[direction]
        counters[direction] += 1
        for peer_index, peer in enumerate(peers):
            if peer.ipBlock is not None:
                continue
            defs.append(
                PeerDef(
                    (key, direction, index, peer_index),
                    key[0],
                    peer.podSelector,
                    peer.namespaceSelector,
                )
            )
    return tuple(defs)


class Selection:
    def __init__(self) -> None:
        self.namespace_labels: dict[str, dict[str, str]] = {}
        self.pods: dict[PodKey, PodInfo] = {}
        self.pods_by_namespace: dict[str, set[PodKey]] = {}
        self.pods_by_node: dict[str, set[PodKey]] = {}
        self.pods_by_port_name: dict[str, set[PodKey]] = {}
        self.policies: dict[PolicyKey, PolicyState] = {}
        self.policies_by_namespace: dict[str, set[PolicyKey]] = {}
        # Peers without namespaceSelector only ever match pods of the policy's namespace.
        self.local_peers: dict[str, dict[PeerId, PeerDef]] = {}
        self.global_peers: dict[PeerId, PeerDef] = {}
        self.members: dict[PeerId, set[PodKey]] = {}
        self.wild_by_port_name: dict[str, set[PolicyKey]] = {}

    # -- queries -------------------------------------------------------------------------------

    def labels_of_namespace(self, name: str) -> dict[str, str]:
        # A namespace without a stored object still carries its name label.
        return self.namespace_labels.get(name) or effective_namespace_labels(name, None)

    def peer_matches(self, peer: PeerDef, pod: PodInfo) -> bool:
        if peer.namespace_selector is None:
            if pod.namespace != peer.policy_namespace:
                return False
        elif not peer.namespace_selector.matches(self.labels_of_namespace(pod.namespace)):
            return False
        return peer.pod_selector is None or peer.pod_selector.matches(dict(pod.labels))

    def selecting(self, pod: PodKey, direction: Direction) -> list[PolicyState]:
        """Policies that select `pod` for `direction`, in a stable order."""
        found = []
        for key in sorted(self.policies_by_namespace.get(pod[0], ())):
            policy = self.policies[key]
            if direction in policy.types and pod in policy.selected:
                found.append(policy)
        return found

    def member_pods(self, peer: PeerId) -> list[PodInfo]:
        return [self.pods[k] for k in sorted(self.members.get(peer, ()))]

    def pods_with_port_name(self, name: str) -> list[PodInfo]:
        return [self.pods[k] for k in sorted(self.pods_by_port_name.get(name, ()))]

    def _affected(self, policy: PolicyKey, direction: Direction) -> set[PodKey]:
        state = self.policies.get(policy)
        if state is None or direction not in state.types:
            return set()
        return set(state.selected)

    def _scoped_peers(self, namespace: str) -> Iterator[PeerDef]:
        yield from self.local_peers.get(namespace, {}).values()
        yield from self.global_peers.values()

    # -- mutators (each returns the dirty pods) -------------------------------------------------

    def set_namespace(self, name: str, labels: Mapping[str, str] | None) -> set[PodKey]:
        old = self.labels_of_namespace(name)
        if labels is None:
            self.namespace_labels.pop(name, None)
        else:
            self.namespace_labels[name] = effective_namespace_labels(name, labels)
        if self.labels_of_namespace(name) == old:
            return set()
        dirty: set[PodKey] = set()
        pods = [self.pods[k] for k in self.pods_by_namespace.get(name, ())]
        for peer in self.global_peers.values():
            members = self.members[peer.id]
            for pod in pods:
                now = self.peer_matches(peer, pod)
                if now != (pod.key in members):
                    (members.add if now else members.discard)(pod.key)
                    dirty |= self._affected(peer.id[0], peer.id[1])
        return dirty

    def set_pod(self, key: PodKey, new: PodInfo | None) -> set[PodKey]:
        old = self.pods.get(key)
        dirty: set[PodKey] = {key}
        namespace = key[0]
        for policy_key in self.policies_by_namespace.get(namespace, ()):
            policy = self.policies[policy_key]
            if new is not None and policy.spec.podSelector.matches(dict(new.labels)):
                policy.selected.add(key)
            else:
                policy.selected.discard(key)
        self._index_pod(key, old, new)
        ips_changed = old is None or new is None or old.ips != new.ips
        ports_changed = old is None or new is None or old.ports != new.ports
        for peer in self._scoped_peers(namespace):
            members = self.members[peer.id]
            was = key in members
            now = new is not None and self.peer_matches(peer, new)
            if now:
                members.add(key)
            else:
                members.discard(key)
            relevant = ips_changed or (peer.id[1] == "Egress" and ports_changed)
            if was != now or (now and relevant):
                dirty |= self._affected(peer.id[0], peer.id[1])
        if ips_changed or ports_changed:
            names = (old.port_names() if old else frozenset()) | (
                new.port_names() if new else frozenset()
            )
            for name in names:
                for policy_key in self.wild_by_port_name.get(name, ()):
                    dirty |= self._affected(policy_key, "Egress")
        return dirty

    def set_policy(self, key: PolicyKey, spec: NetworkPolicySpec | None) -> set[PodKey]:
        dirty: set[PodKey] = set()
        old = self.policies.pop(key, None)
        if old is not None:
            dirty |= old.selected
            self._unindex_policy(old)
        if spec is None:
            return dirty
        state = PolicyState(
            key=key,
            spec=spec,
            types=frozenset(spec.effective_policy_types()),
            peers=_peer_defs(key, spec),
            wild_port_names=_wild_port_names(spec),
        )
        self.policies[key] = state
        self.policies_by_namespace.setdefault(key[0], set()).add(key)
        for pod_key in self.pods_by_namespace.get(key[0], ()):
            if spec.podSelector.matches(dict(self.pods[pod_key].labels)):
                state.selected.add(pod_key)
        for peer in state.peers:
            if peer.namespace_selector is None:
                self.local_peers.setdefault(peer.policy_namespace, {})[peer.id] = peer
                candidates: Iterable[PodKey] = self.pods_by_namespace.get(key[0], ())
            else:
                self.global_peers[peer.id] = peer
                candidates = self.pods
            self.members[peer.id] = {k for k in candidates if self.peer_matches(peer, self.pods[k])}
        for name in state.wild_port_names:
            self.wild_by_port_name.setdefault(name, set()).add(key)
        return dirty | state.selected

    # -- index maintenance ---------------------------------------------------------------------

    def _index_pod(self, key: PodKey, old: PodInfo | None, new: PodInfo | None) -> None:
        if old is not None:
            _discard(self.pods_by_namespace, old.namespace, key)
            _discard(self.pods_by_node, old.node, key)
            for name in old.port_names():
                _discard(self.pods_by_port_name, name, key)
            del self.pods[key]
        if new is not None:
            self.pods[key] = new
            self.pods_by_namespace.setdefault(new.namespace, set()).add(key)
            self.pods_by_node.setdefault(new.node, set()).add(key)
            for name in new.port_names():
                self.pods_by_port_name.setdefault(name, set()).add(key)

    def _unindex_policy(self, state: PolicyState) -> None:
        _discard(self.policies_by_namespace, state.key[0], state.key)
        for peer in state.peers:
            self.members.pop(peer.id, None)
            if peer.namespace_selector is None:
                local = self.local_peers.get(peer.policy_namespace, {})
                local.pop(peer.id, None)
                if not local:
                    self.local_peers.pop(peer.policy_namespace, None)
            else:
                self.global_peers.pop(peer.id, None)
        for name in state.wild_port_names:
            _discard(self.wild_by_port_name, name, state.key)


def _discard(index: dict[str, set[PodKey]], bucket: str, key: PodKey) -> None:
    members = index.get(bucket)
    if members is not None:
        members.discard(key)
        if not members:
            del index[bucket]
