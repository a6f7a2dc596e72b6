#!/usr/bin/env python3
"""Writes a copy of the load-test configuration on fresh loopback ports, with the experiment purpose
`everything` (basis contract, category `user`: it may see every field) added for the `crm` caller.
A request for it is authenticated, resolved and looked up like any other, but nothing is withheld, so
the gateway streams the response as plain YARP does. Used by overhead-split.sh and profile-diff.sh;
nothing in the repository changes.

usage: everything-config.py OUT_FILE PROXY_PORT ADMIN_PORT REDIS_PORT API_PORT
"""
import json
import sys

out, proxy, admin, redis, api = sys.argv[1:]
config = json.load(open("loadtests/results/loadtest-gateway.json"))
urls = {"ProxyUrl": f"http://127.0.0.1:{proxy}", "AdminUrl": f"http://127.0.0.1:{admin}",
        "Redis": f"127.0.0.1:{redis}", "Address": f"http://127.0.0.1:{api}/"}


def walk(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in urls and isinstance(value, str):
                node[key] = urls[key]
            else:
                walk(value)
    elif isinstance(node, list):
        for value in node:
            walk(value)


walk(config)
config["Policy"]["Purposes"]["everything"] = {"Basis": "contract", "Categories": ["user"], "Description": "experiment: may see every field"}
config["Policy"]["Callers"]["crm"]["Purposes"].append("everything")
json.dump(config, open(out, "w"), indent=1)
