#!/usr/bin/env python3
"""check-layers.py — keeps the folders of src/ and cli/ in one direction (issue 12).

The library is built in layers: a folder may use (include a header of, or call a function
defined in) any folder below it, never one above it, and the folders may not form a
circle. The order, from top to bottom:

    cli, bind -> report -> eval, sim, gpu -> place -> cost -> cluster, workload -> model -> base

Folders on one line (eval, sim, gpu; cluster, workload) may use each other as long as no
circle forms. Public headers (include/moemap/*.h) belong to no folder: they only declare,
and a call through one counts against the folder that defines the function.

What counts as a use, read from the sources (no build needed, so .cu files count too):
  - `#include "x.h"` of a header that lives in another folder (resolved like the compiler:
    next to the file, then src/, src/base/);
  - a reference to a function defined, not static, in another folder's .c/.cu file (its
    name followed by "(" or used as a value), with comments and strings removed first.
    A name the file defines itself (a static helper of the same name) is its own.

Files may not call each other in a circle either (a.c calls b.c, which calls back into
a.c), inside a folder too: each circle is named with the call that closes it.

Every offending use is printed as FILE:LINE: what is wrong; exit 1 when there is any.
Usage: scripts/check-layers.py [ROOT]   (ROOT: the repository, default: this script's ../)
"""
import os
import re
import sys

LEVELS = {
    "cli": 7, "bind": 7,
    "report": 6,
    "eval": 5, "sim": 5, "gpu": 5,
    "place": 4,
    "cost": 3,
    "cluster": 2, "workload": 2,
    "model": 1,
    "base": 0,
}

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def folder_of(path):
    """The layer folder of a repository-relative path ('src/place/x.c' -> 'place')."""
    parts = path.split("/")
    if parts[0] == "cli":
        return "cli"
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


def sources():
    out = []
    for top in ("src", "cli"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if f.endswith((".c", ".h", ".cu")):
                    out.append(os.path.relpath(os.path.join(dirpath, f), ROOT))
    return sorted(out)


def strip(text):
    """Comments and string/char literals blanked, newlines kept (so lines still count)."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', blank,
                  text, flags=re.S)


DEF_RE = re.compile(r"^(?!static\b|typedef\b|extern\b|return\b|else\b|if\b|for\b|while\b)"
                    r"[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(", re.M)
STATIC_RE = re.compile(r"^static\b[\w \t\*]*?\b([A-Za-z_]\w*)\s*\(", re.M)


def definitions(text):
    """Names of functions defined in text at file scope: (non-static set, static set)."""
    def is_body(m):
        # the parameter list is followed by '{' (a definition), not ';' (a declaration)
        depth, i = 0, m.end() - 1
        while i < len(text):
            c = text[i]
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if depth == 0:
                    rest = text[i + 1:i + 400].lstrip()
                    # skip __attribute__((...)) and similar before the brace
                    return rest.startswith("{")
            i += 1
        return False
    public = {m.group(1) for m in DEF_RE.finditer(text) if is_body(m)}
    static = {m.group(1) for m in STATIC_RE.finditer(text)}
    return public, static


def circles(edges):
    """The strongly connected components (more than one node) of a graph given as a dict
    whose keys are (from, to) pairs (Tarjan's algorithm)."""
    graph = {}
    for (a, b) in edges:
        graph.setdefault(a, set()).add(b)
    index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
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
                sccs.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sccs


def main():
    files = sources()
    texts = {}
    for f in files:
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            texts[f] = strip(fh.read())
    raw = {}
    for f in files:
        with open(os.path.join(ROOT, f), encoding="utf-8", errors="replace") as fh:
            raw[f] = fh.read().split("\n")

    defined_in = {}   # function name -> file defining it (non-static)
    own = {}          # file -> names it defines itself (static or not)
    for f in files:
        if f.endswith(".h"):
            own[f] = set()
            continue
        pub, stat = definitions(texts[f])
        own[f] = pub | stat
        for n in pub - {"main"}:  # every program has its own
            defined_in.setdefault(n, f)

    problems = []
    unknown = set()
    edges = {}        # (from folder, to folder) -> first "file:line" using it

    file_edges = {}   # (from .c file, to .c file) -> first line, for calls only

    def use(f, line, target, what):
        if what.endswith("()") and f != target:
            file_edges.setdefault((f, target), line)
        a, b = folder_of(f), folder_of(target)
        if a is None or b is None or a == b:
            return
        if a not in LEVELS:
            unknown.add(a)
            return
        if b not in LEVELS:
            unknown.add(b)
            return
        where = "%s:%d" % (f, line)
        edges.setdefault((a, b), where)
        if LEVELS[b] > LEVELS[a]:
            problems.append("%s: %s (%s) uses %s of %s, a folder above it" %
                            (where, a, f, what, b))

    inc_re = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
    for f in files:
        for i, line in enumerate(raw[f], 1):
            m = inc_re.match(line)
            if not m:
                continue
            name = m.group(1)
            for base in (os.path.dirname(f), "src", "src/base"):
                cand = os.path.normpath(os.path.join(base, name))
                if os.path.exists(os.path.join(ROOT, cand)):
                    use(f, i, cand, '#include "%s"' % name)
                    break

    names = sorted(defined_in, key=len, reverse=True)
    ident_re = re.compile(r"\b(?:%s)\b" % "|".join(re.escape(n) for n in names)) if names \
        else None
    for f in files:
        if ident_re is None:
            break
        text = texts[f]
        for m in ident_re.finditer(text):
            n = m.group(0)
            if n in own[f]:
                continue
            before = text[max(0, m.start() - 2):m.start()]
            if before.endswith(".") or before.endswith("->"):
                continue  # a struct member of the same name
            line = text.count("\n", 0, m.start()) + 1
            use(f, line, defined_in[n], "%s()" % n)

    # circles: strongly connected components of the folder graph, then of the files
    sccs = circles(edges)
    for comp in sccs:
        uses = ["%s -> %s at %s" % (a, b, w) for (a, b), w in sorted(edges.items())
                if a in comp and b in comp]
        problems.append("circle between folders %s: %s" % (", ".join(comp), "; ".join(uses)))
    for comp in circles(file_edges):
        uses = ["%s:%d -> %s" % (a, w, b) for (a, b), w in sorted(file_edges.items())
                if a in comp and b in comp]
        problems.append("circle between files %s (each calls the next): %s" %
                        (", ".join(comp), "; ".join(uses)))

    for u in sorted(unknown):
        problems.append("folder %s has no place in the layer order (scripts/check-layers.py "
                        "LEVELS)" % u)

    for p in problems:
        print(p)
    if problems:
        print("check-layers: %d problem(s); the order is cli, bind -> report -> eval, sim, "
              "gpu -> place -> cost -> cluster, workload -> model -> base" % len(problems))
        return 1
    print("check-layers: %d files, %d folder-to-folder uses, all downward, no circle" %
          (len(files), len(edges)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
