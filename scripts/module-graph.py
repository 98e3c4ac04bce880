#!/usr/bin/env python3
"""The import graph between the top-level modules of src/ (lib.rs's `mod` items).

A file src/X.rs or anything under src/X/ belongs to module X. Every `crate::Y`
path outside its `#[cfg(test)]` part (a `use`, a full path, or a doc link)
is an edge X -> Y, and `use crate::{Y, Z}` names both. Unit tests may reach
anywhere, so they are not counted.

  scripts/module-graph.py           each module, its layer and what it imports
  scripts/module-graph.py --check   only the cycles; exit 1 if there is one

A module's layer is one more than the highest layer it imports, so every
arrow points to a lower layer: that is what "imports point one way" means.
"""
import os
import re
import sys
from collections import defaultdict

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
PATH = re.compile(r"crate::(\{[^}]*\}|[a-z_][a-z0-9_]*)")
NAME = re.compile(r"(?:^|[{,\s])([a-z_][a-z0-9_]*)")


def modules():
    names = set()
    for entry in os.listdir(SRC):
        if entry.endswith(".rs") and entry not in ("lib.rs", "main.rs"):
            names.add(entry[:-3])
        elif os.path.isdir(os.path.join(SRC, entry)) and entry != "cli":  # cli: the binary's own
            names.add(entry)
    return names


def edges(names):
    graph = defaultdict(set)
    for root, _, files in os.walk(SRC):
        for file in files:
            if not file.endswith(".rs"):
                continue
            top = os.path.relpath(os.path.join(root, file), SRC).split(os.sep)[0].removesuffix(".rs")
            if top not in names:
                continue
            with open(os.path.join(root, file), encoding="utf-8") as f:
                code = f.read().split("#[cfg(test)]")[0]
            for match in PATH.finditer(code):
                group = match.group(1)
                targets = NAME.findall(group.strip("{}")) if group.startswith("{") else [group]
                graph[top].update(t for t in targets if t in names and t != top)
    return graph


def cycles(names, graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(names):
        if v not in index:
            visit(v)
    return found


def layers(names, graph):
    layer = {}

    def of(v):
        if v not in layer:
            layer[v] = 0  # guards against cycles; --check reports those
            layer[v] = 1 + max((of(w) for w in graph[v]), default=-1)
        return layer[v]

    for v in names:
        of(v)
    return layer


def main():
    names = modules()
    graph = edges(names)
    found = cycles(names, graph)
    if "--check" not in sys.argv[1:]:
        layer = layers(names, graph)
        for v in sorted(names, key=lambda n: (layer[n], n)):
            print(f"{layer[v]:>2}  {v:<11} -> {' '.join(sorted(graph[v])) or '(nothing)'}")
    for component in found:
        print("cycle:", " <-> ".join(component))
    print(f"{len(names)} modules, {sum(len(t) for t in graph.values())} imports, {len(found)} cycles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
