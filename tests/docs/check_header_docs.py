#!/usr/bin/env python3
"""Every function of include/voicetelemetry.h has its contract comment, and every callback and field
of include/voicetelemetry_plugin.h's tables has its own.

A function's block (the /** ... */ right above its declaration; two declarations may share one)
names the function, says since which version it exists, lists its statuses when it returns a
vt_status, and states its thread-safety -- or its section (the banner comment above it) states one
rule for all its functions in a line starting "Thread-safety", and then the function may omit it.
A function that takes or returns a pointer says who owns the memory (its block or its section).
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BANNER = re.compile(r"/\* -{20,}\n(.*?)\n \* -{20,} \*/", re.S)
DECL = re.compile(r"^(?:const )?[a-z_0-9]+ \*?(vt_[a-z0-9_]+)\(([^;]*?)\);", re.M | re.S)
OWNERSHIP = re.compile(r"Ownership|borrowed|copied|BUFFERS|static storage|nothing to free", re.I)


def sections(text):
    """(start offset, banner text) of each section, in order."""
    return [(m.start(), m.group(1)) for m in BANNER.finditer(text)]


def section_of(secs, offset):
    found = ""
    for start, banner in secs:
        if start < offset:
            found = banner
    return found


def block_before(text, offset):
    """The /** ... */ block that ends right above `offset` (declarations of one group between)."""
    head = text[:offset]
    end = head.rfind("*/")
    start = head.rfind("/**", 0, end)
    if start < 0 or end < 0:
        return None
    between = head[end + 2:]
    # Only other declarations of the same group may sit between the block and this one.
    if between.strip() and not all(DECL.match(p.strip() + ";") for p in between.strip().split(";") if p.strip()):
        return None
    return head[start:end]


def check_functions(errors):
    text = (ROOT / "include/voicetelemetry.h").read_text()
    secs = sections(text)
    count = 0
    for m in DECL.finditer(text):
        name, params = m.group(1), m.group(2)
        returns = m.group(0).split(name)[0]
        count += 1
        block = block_before(text, m.start())
        if block is None:
            errors.append(f"{name}: no /** */ contract block right above its declaration")
            continue
        section = section_of(secs, m.start())
        first = block.splitlines()[1] if len(block.splitlines()) > 1 else ""
        if not re.match(rf" \* (vt_[a-z0-9_]+, )*{name}\b.* -- ", first) and \
                not re.match(rf" \* vt_[a-z0-9_]+, {name} -- ", first):
            errors.append(f"{name}: the block does not open with '{name} -- <summary>'")
        if not re.search(r"Since 1\.\d+", block):
            errors.append(f"{name}: no 'Since 1.x'")
        if "vt_status" in returns and not re.search(r"Statuses", block):
            errors.append(f"{name}: returns vt_status but lists no 'Statuses'")
        if not re.search(r"thread-safety", block, re.I) and not re.search(r"^ \* Thread-safety", section, re.M):
            errors.append(f"{name}: no 'Thread-safety' in its block, and its section states no rule")
        if ("*" in params or "*" in returns) and not OWNERSHIP.search(block) and not OWNERSHIP.search(section) \
                and not re.search(r"as vt_[a-z_]+", block):
            errors.append(f"{name}: takes or returns a pointer but says nothing of ownership")
    return count


def check_plugin_tables(errors):
    text = (ROOT / "include/voicetelemetry_plugin.h").read_text()
    count = 0
    for m in re.finditer(r"typedef struct (vt_[a-z_]+) \{\n(.*?)\n\} \1;", text, re.S):
        name, body = m.group(1), m.group(2)
        lines = body.splitlines()
        for i, line in enumerate(lines):
            field = re.match(r"    (?:const )?[a-z_0-9]+ \**\(?\*?([a-z_0-9]+)\)?[\[(;]", line)
            if not field or field.group(1) == "reserved":
                continue
            count += 1
            above = lines[i - 1].strip() if i > 0 else ""
            documented = "/*" in line or (above.startswith(("/*", "*")) and above.endswith("*/"))
            if not documented:
                errors.append(f"{name}.{field.group(1)}: no comment on or right above the field")
    return count


def main():
    errors = []
    functions = check_functions(errors)
    fields = check_plugin_tables(errors)
    if errors:
        print("header contracts incomplete:")
        for e in errors:
            print("  " + e)
        return 1
    print(f"header docs: {functions} functions with summary, statuses, thread-safety, ownership and since; "
          f"{fields} plugin-table fields commented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
