#!/usr/bin/env python3
"""The layer check of Sources/VoiceTelemetry: each folder may use only the folders below it.

The layers, bottom first, are LAYERS below: the one list of them (docs/architecture.md's layer table
is checked against it). A file in one folder may use declarations of its own folder and of folders
listed before it; a use of a later folder's declaration is a backward edge and fails the check,
unless EXCEPTIONS names it with the reason it is still there (an exception that no longer happens
fails too, so the list stays true).

What a file uses is what the compiler recorded while type-checking it: the `.swiftdeps` files of a
debug build (swift-frontend's dependency graph of each source file, read through its
`swift-dependency-tool` mode). A use is a top-level name or a member name looked up in a type of the
module; the files that provide that name are its candidates, and the use is allowed when any
candidate lies in an allowed folder (an overloaded member name is not a backward edge when an
overload below exists). Operators are skipped: their lookups reach every type that declares one.

usage: check_layers.py <swiftdeps directory> [--print]
   --print  list every cross-folder edge (allowed ones too) instead of checking
"""
import os
import re
import subprocess
import sys
import tempfile
from collections import defaultdict

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SOURCES = os.path.join(ROOT, "Sources", "VoiceTelemetry")

# Bottom first. Each folder's role is in docs/architecture.md ("Layers").
LAYERS = [
    "Base",       # errors, locks, clocks, atomics, tagged counters, struct reading
    "Text",       # bytes out: TextOutput, numbers as text, UTF-8, JSON scanning and rewriting, inputs
    "Metrics",    # registry, families, series, handles, histograms, exposition
    "TurnState",  # a turn's fixed-size storage: stages, words, names, usage, its series and families
    "Sessions",   # a session's slot, table, latencies and trace context
    "Events",     # the event bus: plugin slots and queues, rate limit, the turn-event queue
    "Cost",       # prices, charges, cost JSON and metrics
    "Turns",      # the turn collector: completion, derived latencies, turn JSON
    "Plugins",    # loading plugins, their threads, statistics and metrics
    "Process",    # process state, record-call semantics, snapshots, library events, fork safety
    "ABI",        # the @c @implementation entry points of the headers
]

# Backward edges still in the tree: (from folder, to folder, name) -> why it is there.
EXCEPTIONS = {
}


def dependency_tool():
    """swift-frontend acts as swift-dependency-tool when called by that name."""
    swiftc = subprocess.run(["which", "swiftc"], capture_output=True, text=True, check=True).stdout.strip()
    frontend = os.path.join(os.path.dirname(os.path.realpath(swiftc)), "swift-frontend")
    link = os.path.join(tempfile.mkdtemp(prefix="layers-"), "swift-dependency-tool")
    os.symlink(frontend, link)
    return link


def read_nodes(tool, swiftdeps):
    """(kind, context, name, is_provides) of every node of one file's dependency graph."""
    with tempfile.NamedTemporaryFile(suffix=".yaml") as out:
        subprocess.run([tool, "--to-yaml", f"--input-filename={swiftdeps}", f"--output-filename={out.name}"],
                       check=True)
        text = open(out.name, encoding="utf-8").read()
    node = {}
    for line in text.splitlines():
        m = re.match(r"\s*(?:- key:|)\s*(kind|context|name|isProvides):\s*(.*)$", line)
        if not m:
            continue
        key, value = m.group(1), m.group(2).strip().strip("'")
        node[key] = value
        if key == "isProvides":
            yield node.get("kind"), node.get("context", ""), node.get("name", ""), value == "true"
            node = {}


def source_folders():
    folders = {}
    for folder in sorted(os.listdir(SOURCES)):
        path = os.path.join(SOURCES, folder)
        if os.path.isdir(path):
            for name in os.listdir(path):
                if name.endswith(".swift"):
                    folders[name[:-len(".swift")]] = folder
    return folders


def type_name(context):
    """The outermost type of a mangled module context: 14VoiceTelemetry8RecorderO -> Recorder."""
    m = re.match(r"14VoiceTelemetry(\d+)", context)
    return m and context[m.end():m.end() + int(m.group(1))]


def graph(build_dir):
    """providers: use key -> files; uses: file -> use keys (module names only, no operators)."""
    tool = dependency_tool()
    folders = source_folders()
    providers, uses = defaultdict(set), {}
    for stem in folders:
        path = os.path.join(build_dir, stem + ".swiftdeps")
        if not os.path.exists(path):
            sys.exit(f"check_layers: {path} is missing: build the debug library first (swift build)")
        used = set()
        for kind, context, name, provides in read_nodes(tool, path):
            if kind not in ("topLevel", "member") or not re.match(r"[A-Za-z_]", name):
                continue
            if kind == "member" and not type_name(context):
                continue
            key = (kind, type_name(context) if kind == "member" else "", name)
            (providers[key].add(stem) if provides else used.add(key))
        uses[stem] = used
    return folders, providers, uses


def edges(folders, providers, uses):
    """(from folder, to folder, name, file) of every use whose providers are all in other folders
    and none below the user's folder; with allowed=True for those that go down."""
    rank = {f: i for i, f in enumerate(LAYERS)}
    for stem, used in sorted(uses.items()):
        here = folders[stem]
        for key in sorted(used):
            owners = {folders[p] for p in providers.get(key, ()) if p in folders}
            if not owners or owners == {here}:
                continue
            if any(rank.get(o, 99) <= rank.get(here, -1) for o in owners):
                if "--print" in sys.argv:
                    yield here, min(owners, key=lambda o: rank.get(o, 99)), label(key), stem, True
                continue
            for owner in sorted(owners):
                yield here, owner, label(key), stem, False


def label(key):
    kind, context, name = key
    return f"{context}.{name}" if kind == "member" else name


def check_doc_table():
    """docs/architecture.md's layer table names LAYERS, top first."""
    text = open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8").read()
    listed = re.findall(r"^\| `([A-Za-z]+)/` \|", text, re.M)
    return [] if listed == LAYERS[::-1] else [
        f"docs/architecture.md lists the layers as {listed}; tests/structure/check_layers.py has "
        f"{LAYERS[::-1]} (top first)"]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    folders, providers, uses = graph(sys.argv[1])
    problems = [f"{f}.swift is in {folders[f]}/, which LAYERS does not list"
                for f in folders if folders[f] not in LAYERS]
    seen = set()
    for here, owner, name, stem, allowed in edges(folders, providers, uses):
        if "--print" in sys.argv:
            print(f"{'  ' if allowed else '! '}{here} -> {owner}: {name} ({stem}.swift)")
            continue
        seen.add((here, owner, name))
        if (here, owner, name) not in EXCEPTIONS:
            problems.append(f"{here}/{stem}.swift uses {name} of {owner}/, a layer above it")
    problems += [f"exception {e} no longer happens: remove it from EXCEPTIONS" for e in EXCEPTIONS if e not in seen]
    problems += check_doc_table()
    if "--print" in sys.argv:
        return
    for p in problems:
        print("layers:", p)
    if problems:
        sys.exit(1)
    print(f"layers: {len(folders)} files in {len(LAYERS)} folders; every use goes down the layers"
          f" ({len(EXCEPTIONS)} listed exceptions)")


if __name__ == "__main__":
    main()
