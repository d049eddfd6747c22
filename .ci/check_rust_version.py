#!/usr/bin/env python3
"""Fails if a package in the on-chain crate's normal dependency tree declares a rust-version
above the SBF toolchain's Rust (README, "Dependency pins"): it would build here and fail at deployment.
Dependencies only compiled for native targets (`cfg(not(target_os = "solana"))`) are skipped."""
import json
import subprocess
import sys

limit = tuple(int(x) for x in sys.argv[1].split("."))
meta = json.loads(subprocess.check_output(
    ["cargo", "metadata", "--format-version", "1", "--locked"], text=True))
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
root = next(p["id"] for p in meta["packages"] if p["name"] == "scalpel" and p["source"] is None)


def on_chain(dep):
    for k in dep["dep_kinds"]:
        if k["kind"] is None and (k["target"] is None or "not(target_os = \"solana\")" not in k["target"]):
            return True
    return False


seen, stack, bad = set(), [root], []
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    rv = pkgs[pid].get("rust_version")
    if rv:
        parts = tuple(int(x) for x in rv.split(".")[:2])
        if parts > limit:
            bad.append(f"{pkgs[pid]['name']} {pkgs[pid]['version']} needs Rust {rv}")
    stack.extend(d["pkg"] for d in nodes[pid]["deps"] if on_chain(d))

print(f"checked {len(seen)} packages of the on-chain crate against Rust {sys.argv[1]}")
if bad:
    print("these would not build with the SBF toolchain:")
    print("\n".join("  " + b for b in bad))
    sys.exit(1)
