"""The VPP driver against the emulator: objects it does not own, dependencies, tampering, IPv6,
prefetch pipelining."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from switchyard_agent.drivers.vpp import (
    VppConnection,
)
from switchyard_agent.drivers.vpp.frontend import IPV6_REFUSED, TranslationPacker
from switchyard_contract.nodeconfig import (
    AclBinding,
    Backend,
    ManagedInterface,
    ServiceFrontend,
)
from tests.vpp.scenario import (
    ACL,
    DNS,
    NODEPORT,
    U32_MAX,
    WEB,
    agent,
    by_key,
    full_config,
    mutating,
    node,
)
from tests.vppemu.harness import Emulator


def test_foreign_objects_are_never_touched(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    # Someone else's ACL, translation, route, VIP and binding.
    foreign_acl = conn.call("acl_add_replace", acl_index=U32_MAX, tag="calico:x", count=0, r=[])
    conn.call(
        "cnat_translation_update",
        translation=TranslationPacker.fields("10.96.7.7", 443, 6, 0, 0, (("10.9.0.1", 443),)),
    )
    conn.call(
        "ip_route_add_del",
        is_add=True,
        route={
            "table_id": 0,
            "prefix": "172.16.0.0/12",
            "n_paths": 1,
            "paths": [
                {
                    "sw_if_index": U32_MAX,
                    "weight": 1,
                    "proto": 0,
                    "nh": {"address": {"ip4": "192.168.1.254"}},
                    "label_stack": [{}] * 16,
                }
            ],
        },
    )
    conn.call(
        "lb_add_del_vip_v2",
        pfx="198.18.0.1/32",
        protocol=6,
        port=443,
        encap=0,
        new_flows_table_length=16,
    )
    uplink = next(i["sw_if_index"] for i in fresh.state()["interfaces"] if i["name"] == "uplink0")
    conn.call(
        "acl_interface_set_acl_list",
        sw_if_index=uplink,
        count=1,
        n_input=1,
        acls=[foreign_acl.acl_index],
    )
    before = fresh.state()

    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    assert reconciler.resync().ok
    assert reconciler.apply_snapshot(2, {}).ok  # remove everything of ours
    after = fresh.state()
    for part in ("cnat", "lb", "acl", "ip"):
        if part == "cnat":
            assert after["cnat"]["translations"] == before["cnat"]["translations"]
        else:
            assert after[part] == before[part], part
    assert after["gre"] == [] and after["cnat"]["feature_interfaces"] == []

    # A desired object that collides with a foreign one is a reported conflict, not a takeover.
    clash = ServiceFrontend("10.96.7.7", "TCP", 443, "clusterIP", (Backend("10.1.0.1", 443),))
    result = reconciler.apply_snapshot(3, by_key([clash]))
    assert [f.key for f in result.failures] == [clash.key]
    assert "foreign" in result.failures[0].message
    assert fresh.state()["cnat"]["translations"] == before["cnat"]["translations"]


def test_binding_waits_for_its_interface(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    _, reconciler = agent(conn, tmp_path)
    objects = [ManagedInterface("memif0/7", "pod"), ACL, AclBinding("memif0/7", (), ("np-aaaa",))]
    result = reconciler.apply_snapshot(1, by_key(objects))
    assert result.ok and set(result.pending) == {"interface/memif0/7", "acl-binding/memif0/7"}
    index = fresh.add_interface("memif0/7")
    done = reconciler.notify_available("vpp-interface/memif0/7")
    assert done.ok and not done.pending
    (binding,) = fresh.state()["acl"]["interfaces"]
    assert binding["sw_if_index"] == index and len(binding["output"]) == 1


def test_tampered_acl_is_replaced_in_place(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    node(fresh)
    _, reconciler = agent(conn, tmp_path)
    assert reconciler.apply_snapshot(1, by_key(full_config())).ok
    acls = {a["tag"]: a["acl_index"] for a in fresh.state()["acl"]["acls"]}
    index = acls["switchyard:np-aaaa"]
    conn.call("acl_add_replace", acl_index=index, tag="switchyard:np-aaaa", count=0, r=[])
    fresh.reset_counts()
    assert reconciler.resync().ok
    assert mutating(fresh.call_counts()) == {"acl_add_replace": 1}
    state = fresh.state()["acl"]
    assert {a["tag"]: a["acl_index"] for a in state["acls"]} == acls  # same index
    assert len(state["interfaces"]) == 1  # bindings kept


def test_ipv6_frontends_are_opt_in(fresh: Emulator, conn: VppConnection, tmp_path: Path) -> None:
    v6 = ServiceFrontend("fd00:96::10", "TCP", 80, "clusterIP", (Backend("fd00:1::5", 8080),))
    _, reconciler = agent(conn, tmp_path / "a")
    result = reconciler.apply_snapshot(1, by_key([v6]))
    assert [f.message for f in result.failures] == [f"create failed: {IPV6_REFUSED}"]
    assert "--allow-ipv6-frontends" in IPV6_REFUSED and "26.10" in IPV6_REFUSED
    _, allowed = agent(conn, tmp_path / "b", allow_ipv6_frontends=True)
    assert allowed.apply_snapshot(1, by_key([v6])).ok
    (t,) = fresh.state()["cnat"]["translations"]
    assert t["vip"]["addr"] == "fd00:96::10" and t["paths"][0]["src_ep"]["addr"] == "::"


def test_prefetch_pipelines_and_still_reports_per_object(
    fresh: Emulator, conn: VppConnection, tmp_path: Path
) -> None:
    driver, reconciler = agent(conn, tmp_path)
    services = [
        ServiceFrontend(
            f"10.97.{i // 250}.{i % 250}",
            "TCP",
            80,
            "clusterIP",
            tuple(Backend(f"10.2.{i // 250}.{(i + j) % 250}", 8080) for j in range(3)),
        )
        for i in range(300)
    ]
    desired = by_key(services)
    fresh.inject_failure("cnat_translation_update", retval=-7, times=1)
    fresh.reset_counts()
    assert driver.prefetch(desired, snapshot=True) == 300
    result = reconciler.apply_snapshot(1, desired)
    assert [f.key for f in result.failures] == [services[0].key]  # the first one sent
    assert result.created == 299
    assert fresh.call_counts()["cnat_translation_update"] == 300  # nothing sent twice
    assert len(fresh.state()["cnat"]["translations"]) == 299
    # Next snapshot: the failed one is retried, 100 removed (one dump, pipelined deletes).
    fresh.reset_counts()
    kept = by_key(services[:200])
    assert driver.prefetch(kept, snapshot=True) == 101
    result = reconciler.apply_snapshot(2, kept)
    assert result.ok and (result.created, result.deleted) == (1, 100)
    counts = mutating(fresh.call_counts())
    assert counts == {"cnat_translation_update": 1, "cnat_translation_del": 100}
    assert len(fresh.state()["cnat"]["translations"]) == 200


def test_cached_translation_packing_is_vpp_papis(conn: VppConnection) -> None:
    msg, msg_id = conn.message("cnat_translation_update")
    packer = TranslationPacker(msg, msg_id, conn.client_index)
    samples = [
        WEB,
        DNS,
        NODEPORT,
        dataclasses.replace(WEB, backends=()),
        ServiceFrontend("fd00::1", "SCTP", 9, "externalIP", (Backend("fd00::2", 1),)),
    ]
    for value in samples * 2:  # the second round comes from the caches
        assert packer.encode(value)(12345) == packer.reference(value, 12345)
