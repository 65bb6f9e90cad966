#!/usr/bin/env python3
"""Checks the include graph against docs/architecture.md's table.

Every `#include "X/..."` in a folder must name a folder its row may use, and
every folder a row names must be used by at least one include, so the table
stays the exact list of arrows; and only store/ includes a database's client
header. Exits 1 with one line per breach.

Usage: check_layers.py SOURCE_DIR [STAMP_FILE]
"""
import pathlib
import re
import sys

ROW = re.compile(r"^\| `([a-z0-9_]+)/` \|[^|]*\| ([^|]*) \|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.MULTILINE)
SQL_HEADERS = re.compile(r'^\s*#\s*include\s+<(sqlite3\.h|libpq-fe\.h)>', re.MULTILINE)


def read_table(doc):
    table = {}
    for line in doc.read_text().splitlines():
        m = ROW.match(line)
        if m:
            uses = m.group(2).strip()
            table[m.group(1)] = set() if uses == "—" else {u.strip() for u in uses.split(",")}
    return table


def folder_of_include(path):
    """The folder an include path names: hsm/x.h -> hsm, station/v1/... -> proto."""
    parts = path.split("/")
    if parts[0] == "hsm":
        return "hsm"
    if parts[0] == "station" and len(parts) > 2:
        return "proto" if parts[1] == "v1" else parts[1]
    return None  # a system or third-party header, or tests/


def folder_dir(root, folder):
    return root / "hsm" if folder == "hsm" else root / "station" / folder


def check(root):
    table = read_table(root / "docs" / "architecture.md")
    problems = []
    if not table:
        return ["docs/architecture.md: no layer table found"]
    for folder in table:
        for dep in table[folder]:
            if dep not in table:
                problems.append(f"docs/architecture.md: {folder}/ may use {dep}/, which has no row")
    used = {folder: set() for folder in table}
    for folder in table:
        if folder == "proto":
            continue
        for source in sorted(folder_dir(root, folder).glob("*")):
            if source.suffix not in (".h", ".cc"):
                continue
            text = source.read_text()
            if folder != "store":
                for header in SQL_HEADERS.findall(text):
                    problems.append(f"{source.relative_to(root)}: includes <{header}>: only store/ speaks SQL")
            for include in INCLUDE.findall(text):
                if include.startswith("tests/"):
                    problems.append(f"{source.relative_to(root)}: includes {include}: a test helper")
                    continue
                target = folder_of_include(include)
                if target is None or target == folder:
                    continue
                if target not in table:
                    problems.append(f"{source.relative_to(root)}: includes {include}: {target}/ has no row")
                elif target not in table[folder]:
                    problems.append(f"{source.relative_to(root)}: includes {include}, but {folder}/ may not use {target}/")
                else:
                    used[folder].add(target)
    for sub in sorted((root / "station").iterdir()):
        if sub.is_dir() and sub.name != "v1" and sub.name not in table:
            problems.append(f"station/{sub.name}/: a folder with no row in docs/architecture.md")
    for folder in table:
        if folder != "proto":
            for dep in sorted(table[folder] - used[folder]):
                problems.append(f"docs/architecture.md: {folder}/ may use {dep}/, but none of its files does: drop the arrow")
    return problems


def main():
    root = pathlib.Path(sys.argv[1])
    problems = check(root)
    for p in problems:
        print(f"layer check: {p}", file=sys.stderr)
    if problems:
        return 1
    if len(sys.argv) > 2:
        pathlib.Path(sys.argv[2]).touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
