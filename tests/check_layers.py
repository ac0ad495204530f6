#!/usr/bin/env python3
"""The layering rule of lambkin, checked on every #include.

Each folder is a layer; a file may include headers of its own layer and of
the layers below it, never of a layer above (see README, Architecture):

    cli -> fuzz -> emu -> guard, sources -> runtime -> services -> app,
    http -> base

A private header (name_int.h) may only be included from its own folder.
The public headers in include/lambkin are below everything. The build
enforces the same rule with per-layer include directories; this check also
catches a relative path ("../runtime/runtime.h") and prints the folder
graph it found.

    check_layers.py [--root DIR]     exit 1 on a violation
    check_layers.py --selftest       proves the check fails when it must
"""
import os
import re
import sys
import tempfile

# layer -> the layers it may use directly; the closure is taken below.
DIRECT = {
    "include": [],
    "base": ["include"],
    "http": ["base"],
    "app": ["base"],
    "services": ["http", "app"],
    "runtime": ["services", "http", "app"],
    "sources": ["runtime", "services"],
    "guard": ["runtime", "services"],
    "emu": ["sources", "guard"],
    "fuzz": ["emu", "fuzz-engine"],
    "cli": ["fuzz"],
    # The in-process driver links only the engine's pieces; the process
    # driver (a libFuzzer front end to process mode, as cli is a command
    # line one) the whole core.
    "fuzz-driver": ["fuzz-engine"],
    "fuzz-process-driver": ["fuzz"],
    "fuzz-engine": ["services", "http", "base"],
    # Lambda's side: the C bootstrap and the sample handlers see only the
    # public API.
    "runtimes": ["include"],
    "handlers": ["include"],
}

# The fuzz folder's pure parts, which the driver may include.
FUZZ_ENGINE = {"mutator.h", "spanmut.h", "oracle.h"}
# The drivers that run functions through the emulator.
PROCESS_DRIVER = {"fuzz_process.c"}


def closure():
    out = {}
    for layer in DIRECT:
        seen, todo = set(), list(DIRECT[layer])
        while todo:
            d = todo.pop()
            if d not in seen:
                seen.add(d)
                todo.extend(DIRECT.get(d, []))
        out[layer] = seen
    return out


def layer_of(root, path):
    rel = os.path.relpath(path, root).split(os.sep)
    if rel[0] == "include":
        return "include"
    if rel[0] == "emulator":
        return "emu" if len(rel) == 2 else rel[1]
    if rel[0] == "fuzz":
        if len(rel) > 2 and rel[1] == "driver":
            return ("fuzz-process-driver" if rel[-1] in PROCESS_DRIVER
                    else "fuzz-driver")
        if len(rel) > 2 and rel[1] == "targets":
            return None  # harnesses, like tests, may use anything
        if rel[-1] in FUZZ_ENGINE or rel[-1] in ("mutator.c", "spanmut.c",
                                                  "oracle.c"):
            return "fuzz-engine"
        return "fuzz"
    if rel[0] in ("runtimes", "handlers"):
        return rel[0]
    return None


def sources(root):
    for top in ("include", "emulator", "fuzz", "runtimes", "handlers"):
        for d, _, files in os.walk(os.path.join(root, top)):
            if "node_modules" in d or "/." in d:
                continue
            for f in files:
                if f.endswith((".c", ".h")):
                    yield os.path.join(d, f)


def headers(root):
    """header name -> its path (names are unique across the layers)."""
    out = {}
    for p in sources(root):
        if p.endswith(".h"):
            out.setdefault(os.path.basename(p), p)
    return out


INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def check(root):
    allowed = closure()
    names = headers(root)
    problems, edges = [], set()
    for path in sources(root):
        mine = layer_of(root, path)
        if mine is None:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for inc in INCLUDE.findall(text):
            local = os.path.normpath(os.path.join(os.path.dirname(path), inc))
            if os.path.exists(local):
                target = local
            elif inc.startswith("lambkin/"):
                target = os.path.join(root, "include", inc)
            else:
                target = names.get(os.path.basename(inc))
            if target is None:
                continue  # a system or generated header
            theirs = layer_of(root, target)
            where = os.path.relpath(path, root)
            if target.endswith("_int.h") and \
                    os.path.dirname(target) != os.path.dirname(path):
                problems.append("%s includes %s: a private header of %s" %
                                (where, inc, theirs))
            if theirs is None or theirs == mine:
                continue
            edges.add((mine, theirs))
            if theirs not in allowed.get(mine, set()):
                problems.append("%s (%s) includes %s of %s, which %s may not "
                                "depend on" % (where, mine, inc, theirs, mine))
    return problems, edges


def selftest():
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write(text)
        write("emulator/runtime/runtime.h", "")
        write("emulator/runtime/runtime_int.h", "")
        write("emulator/base/buf.h", "")
        write("emulator/base/ok.c", '#include "buf.h"\n')
        ok, _ = check(root)
        assert ok == [], ok
        write("emulator/base/up.c", '#include "runtime.h"\n')
        write("emulator/guard/peek.c", '#include "../runtime/runtime_int.h"\n')
        bad, _ = check(root)
        assert any("up.c (base) includes runtime.h" in p for p in bad), bad
        assert any("private header" in p for p in bad), bad
    print("check_layers: an upward include and a private header are caught")
    return 0


def main():
    if "--selftest" in sys.argv:
        return selftest()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if "--root" in sys.argv:
        root = sys.argv[sys.argv.index("--root") + 1]
    problems, edges = check(root)
    for p in problems:
        print("layering:", p)
    by = {}
    for a, b in sorted(edges):
        by.setdefault(a, []).append(b)
    for a in sorted(by):
        print("%-12s -> %s" % (a, ", ".join(by[a])))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
