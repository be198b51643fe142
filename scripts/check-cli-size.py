#!/usr/bin/env python3
"""check-cli-size.py — keeps the command-line tool thin (issue 12).

cli/ is parse -> call -> print: the work is in the library. This check holds it to that
by size: all of cli/*.c and cli/*.h together under MAX_LINES lines, and no function
longer than MAX_FUNC lines (from the line naming it to its closing brace). A function
is a top-level "{" whose preceding declaration ends in ")"; comments, strings and
character constants are blanked first so braces inside them do not count.

Prints each offence as FILE:LINE: what is wrong and exits 1 when there is any; with
--top N also lists the N longest functions (for reports).
Usage: scripts/check-cli-size.py [ROOT] [--top N]   (ROOT: default this script's ../)
"""
import glob
import os
import re
import sys

MAX_LINES = 2000
MAX_FUNC = 80


def blank(text):
    """Comments, strings and char constants replaced by spaces, newlines kept."""
    pat = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    return pat.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def functions(path):
    """(name, first line, last line) of every function defined in the file."""
    text = blank(open(path, encoding="utf-8").read())
    out, depth, decl_start = [], 0, 0
    current = None
    for i, ch in enumerate(text):
        if ch == "{":
            if depth == 0:
                decl = text[decl_start:i]
                m = re.search(r"(\w+)\s*\([^;{}]*\)\s*$", decl)
                if m and not re.search(r"=\s*[^=]*$", decl.split("(")[0]):
                    current = (m.group(1), text.count("\n", 0, decl_start + m.start(1)) + 1)
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                if current:
                    out.append((current[0], current[1], text.count("\n", 0, i) + 1))
                current = None
                decl_start = i + 1
        elif ch == ";" and depth == 0:
            decl_start = i + 1
        elif ch == "#" and depth == 0:  # a preprocessor line ends any declaration
            decl_start = text.find("\n", i) + 1 or len(text)
    return out


def main(argv):
    top = 0
    if "--top" in argv:
        k = argv.index("--top")
        top = int(argv[k + 1])
        del argv[k:k + 2]
    root = os.path.abspath(argv[1] if len(argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    files = sorted(glob.glob(os.path.join(root, "cli", "*.[ch]")))
    bad = 0
    total = sum(open(f, encoding="utf-8").read().count("\n") for f in files)
    if total >= MAX_LINES:
        print(f"cli/: {total} lines in all, the limit is under {MAX_LINES}")
        bad += 1
    every = []
    for f in files:
        rel = os.path.relpath(f, root)
        for name, first, last in functions(f):
            n = last - first + 1
            every.append((n, rel, first, name))
            if n > MAX_FUNC:
                print(f"{rel}:{first}: {name} is {n} lines, the limit is {MAX_FUNC}")
                bad += 1
    if top:
        print(f"cli/: {total} lines; the {top} longest functions:")
        for n, rel, first, name in sorted(every, reverse=True)[:top]:
            print(f"  {n:4d}  {rel}:{first} {name}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
