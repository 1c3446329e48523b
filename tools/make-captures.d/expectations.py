#!/usr/bin/env python3
"""Writes the expectations for replaying a capture's nflog.pcap with --scenario, from what the
kernel did (kernel.json): one line per flow whose verdict the NFLOG capture can show.

Usage: expectations.py CAPTURE-DIR > CAPTURE-DIR/expect-nflog.yaml
       expectations.py --wire CAPTURE-DIR > CAPTURE-DIR/expect-wire.yaml

--wire: for eth0.pcap and any.pcap, where connections from the peer arrive as sent (before
PREROUTING): accepted and refused inbound TCP flows to a pod address, by the original port.
Outbound flows are left out there: the wire does not say who sent them.

NFLOG (raw OUTPUT) sees what the pod sends, before POSTROUTING: the pod's own connections with
their owner, and for inbound connections only the pod's answers, still addressed from the
socket's local port. So: outbound TCP/UDP flows are selected by destination, port, uid and gid;
accepted inbound TCP flows by the pod-side port; refused ones by the port the RST came from.
Inbound UDP (the answer looks like a new outbound flow), flows the pod never answered, flows
from other namespaces, raw segments and flows with an explicit source address are left out.
"""
import ipaddress
import json
import os
import sys


def verdict(outcome):
    if "error" in outcome:
        return "refused" if outcome["error"] == "refused" else "dropped"
    if outcome["ns"] == "pod":
        return {15001: "envoy-outbound", 15006: "envoy-inbound", 15053: "dns-agent"}.get(outcome["port"], "direct")
    return "direct"


def main():
    wire = "--wire" in sys.argv
    directory = [a for a in sys.argv[1:] if a != "--wire"][0]
    scenario = json.load(open(os.path.join(directory, "scenario.json")))
    results = {r["id"]: r["outcome"] for r in json.load(open(os.path.join(directory, "kernel.json")))["results"]}
    pod = {scenario["pod_ip"], scenario.get("pod_ip6")} | {link["pod_ip"] for link in scenario.get("extra_links", [])}
    lines = {}
    for flow in scenario["flows"]:
        outcome = results[flow["id"]]
        if flow.get("tcp_flags") or flow.get("src") or flow.get("client_ns"):
            continue
        proto = flow.get("proto", "tcp")
        if wire:
            if flow["direction"] != "inbound" or proto != "tcp" or flow["dst"] not in pod:
                continue
            if outcome.get("error", "refused") != "refused":
                continue
            client = scenario.get("peer_ip6") if ":" in flow["dst"] else scenario["peer_ip"]
            selector = "direction: inbound, proto: tcp, src: \"%s\", dst: \"%s\", dport: %d" % (
                client, flow["dst"], flow["dport"])
        elif flow["direction"] == "outbound":
            local = flow["dst"] in pod or ipaddress.ip_address(flow["dst"]).is_loopback
            uid = flow.get("uid", 0)
            selector = "direction: %s, proto: %s, dst: \"%s\", dport: %d, uid: %d" % (
                "loopback" if local else "outbound", proto, flow["dst"], flow["dport"], uid)
            selector += ", gid: %d" % flow.get("gid", uid)
        else:
            if proto != "tcp" or outcome.get("error", "refused") != "refused":
                continue
            # The pod's answer comes from the accepted socket's local address.
            address, port = flow["dst"], flow["dport"]
            if "local" in outcome:
                address, _, port = outcome["local"].rpartition(":")
                address = address.strip("[]")
                if address.startswith("::ffff:") and "." in address:
                    address = address[len("::ffff:"):]  # a dual-stack socket's view of IPv4
            selector = "direction: inbound, proto: tcp, dst: \"%s\", dport: %d" % (address, int(port))
        lines.setdefault(selector, set()).add((verdict(outcome), flow["id"]))
    print("# Expected verdicts for `iptsim replay %s --scenario scenario.json`, written by"
          % ("eth0.pcap / any.pcap" if wire else "nflog.pcap"))
    print("# tools/make-captures from what the kernel did with each flow (kernel.json).")
    for selector, found in lines.items():
        verdicts = {v for v, _ in found}
        flows = ", ".join(sorted(i for _, i in found))
        if len(verdicts) > 1:
            print("# %s: left out, the kernel gave %s" % (flows, ", ".join(sorted(verdicts))))
            continue
        print("- match: {%s}  # %s" % (selector, flows))
        print("  verdict: %s" % verdicts.pop())


if __name__ == "__main__":
    main()
