#!/usr/bin/env python3
"""layers.py - the modules' dependencies, their cycles and their layers.

Usage: layers.py [--tap] BUILD_DIR

A module is a source file with its header: lib/idmap.c and lib/idmap.h are
the module lib/idmap. Two graphs join the modules:
  include  module A includes a header of module B ("#include "b.h"");
  symbol   module A's object file uses a symbol that module B's defines
           (nm: undefined in A, defined in B).
Both must be free of cycles, and both must respect the layers:
  0 lib/                pure code: no event loop, no sockets of its own
  1 policy/event, conn, server, http, hushwin  the event loop, its connections,
                        listeners, warnings hushed per window
  2 the daemons' and the CLI's modules (gate, control, milter, web, ...)
  3 policy/main, milter/main, cli/authguard, web/main   the programs' main()
A module may use its own layer or a lower one; modules of layer 2 may use
each other without a cycle. Without --tap it prints each cycle with the
names that tie it, and the layer breaches; with --tap, one TAP line per
check for tests/run.sh.
"""
import os
import re
import subprocess
import sys

FOLDERS = ("lib", "policy", "milter", "cli", "web")
LOOP = {"policy/event", "policy/conn", "policy/server", "policy/http", "policy/hushwin"}
MAINS = {"policy/main", "milter/main", "cli/authguard", "web/main"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def layer(mod):
    """layer - the layer a module belongs to"""
    if mod.startswith("lib/"):
        return 0
    if mod in LOOP:
        return 1
    if mod in MAINS:
        return 3
    return 2


def sources(top):
    """sources - every .c and .h of the product, by module"""
    mods = {}
    for d in FOLDERS:
        for f in sorted(os.listdir(os.path.join(top, d))):
            if f.endswith((".c", ".h")):
                mods.setdefault(d + "/" + f[:-2], []).append(d + "/" + f)
    return mods


def include_graph(top, mods):
    """include_graph - module -> {module: [headers]} from #include lines"""
    headers = {}
    for mod, files in mods.items():
        for f in files:
            if f.endswith(".h"):
                headers.setdefault(os.path.basename(f), []).append(mod)
    graph = {m: {} for m in mods}
    for mod, files in mods.items():
        folder = mod.split("/")[0]
        for f in files:
            with open(os.path.join(top, f), encoding="utf-8") as fh:
                text = fh.read()
            for h in INCLUDE.findall(text):
                owners = headers.get(os.path.basename(h), [])
                # the header of the same folder first, then lib/'s
                owners = sorted(owners, key=lambda o: (o.split("/")[0] != folder,
                                                       o.split("/")[0] != "lib"))
                if owners and owners[0] != mod:
                    graph[mod].setdefault(owners[0], set()).add(h)
    return graph


def nm(path):
    """nm - (defined, undefined) global symbols of an object file"""
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True,
                         check=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind == "U":
            undefined.add(name)
        elif kind.isupper():
            defined.add(name)
    return defined, undefined


def symbol_graph(build, mods):
    """symbol_graph - module -> {module: [symbols]} from the object files"""
    defs, uses = {}, {}
    for mod in mods:
        obj = os.path.join(build, mod + ".o")
        if not os.path.exists(obj):
            continue
        d, u = nm(obj)
        uses[mod] = u
        for s in d:
            defs.setdefault(s, mod)
    graph = {m: {} for m in uses}
    for mod, u in uses.items():
        for s in u:
            other = defs.get(s)
            if other and other != mod:
                graph[mod].setdefault(other, set()).add(s)
    return graph


def cycles(graph):
    """cycles - the strongly connected components of more than one module"""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def breaches(graph):
    """breaches - uses of a higher layer"""
    out = []
    for a in sorted(graph):
        for b in sorted(graph[a]):
            if layer(b) > layer(a) or (layer(b) == 3 and a != b):
                out.append((a, b, sorted(graph[a][b])))
    return out


def describe(kind, graph):
    """describe - the cycles and breaches of one graph, as text lines"""
    lines = []
    for comp in cycles(graph):
        lines.append("%s cycle: %s" % (kind, " <-> ".join(comp)))
        for a in comp:
            for b in comp:
                if b in graph.get(a, {}):
                    names = sorted(graph[a][b])
                    more = " and %d more" % (len(names) - 6) if len(names) > 6 else ""
                    lines.append("    %s -> %s: %s%s" % (a, b, ", ".join(names[:6]), more))
    for a, b, names in breaches(graph):
        lines.append("%s layer breach: %s (layer %d) -> %s (layer %d): %s"
                     % (kind, a, layer(a), b, layer(b), ", ".join(names[:6])))
    return lines


def main(argv):
    """main - print the cycles and breaches, or TAP lines"""
    tap = "--tap" in argv
    args = [a for a in argv if a != "--tap"]
    if len(args) != 1:
        sys.stderr.write("usage: layers.py [--tap] BUILD_DIR\n")
        return 2
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    mods = sources(top)
    graphs = (("include", include_graph(top, mods)),
              ("symbol", symbol_graph(args[0], mods)))
    bad = 0
    for kind, graph in graphs:
        lines = describe(kind, graph)
        if tap:
            for line in lines:
                print("# " + line)
            print("%s - layers/%s: %d modules, no cycle, no layer breach"
                  % ("not ok" if lines else "ok", kind, len(graph)))
        else:
            print("%s graph: %d modules, %d cycles, %d layer breaches"
                  % (kind, len(graph), len(cycles(graph)), len(breaches(graph))))
            for line in lines:
                print(line)
        bad += bool(lines)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
