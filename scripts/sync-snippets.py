#!/usr/bin/env python3
"""Rewrites every marked ```java block in README.md and docs/*.md from its source region.

A block is marked by a line `<!-- snippet: path/To.java#name -->` just above it; the region is the
code between `// snippet: name` and `// end-snippet` in that file. DocSnippetsTest checks the result.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
marker = re.compile(r"<!--\s*snippet:\s*([^#\s]+)#([\w.-]+)\s*-->")


def region(path, name):
    lines = (root / path).read_text().split("\n")
    out = None
    for line in lines:
        t = line.strip()
        if out is None:
            if t == "// snippet: " + name:
                out = []
        elif t == "// end-snippet":
            break
        else:
            out.append(line)
    if out is None:
        sys.exit(f"no region {name} in {path}")
    indent = min((len(l) - len(l.lstrip()) for l in out if l.strip()), default=0)
    out = [(l[indent:] if l.strip() else "").rstrip() for l in out]
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return out


docs = [root / "README.md"] + sorted((root / "docs").rglob("*.md"))
for doc in docs:
    if not doc.exists():
        continue
    lines = doc.read_text().split("\n")
    result, i = [], 0
    while i < len(lines):
        result.append(lines[i])
        m = marker.search(lines[i])
        if m and i + 1 < len(lines) and lines[i + 1].strip() == "```java":
            j = i + 2
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            result += ["```java"] + region(m.group(1), m.group(2)) + ["```"]
            i = j + 1
            continue
        i += 1
    doc.write_text("\n".join(result))
