#!/usr/bin/env python3
"""struct_prefix.py OLD.abi NEW.abi REGEX -- the structs named by REGEX only grew at their end.

abi/appended.suppr lets abidiff accept a struct_size struct that gained fields at its end, but a
libabigail type suppression hides every change of a matched type (a retyped or reordered field too).
So after a run that only the suppression made pass, this compares the two abidw files directly: for
each matched struct, the old (name, bit offset, type) list of data members must be a prefix of the new
one, and each appended member starts at or past the old struct's size (not in its tail padding). Exit
1 with the differing struct otherwise.
"""
import re
import sys
import xml.etree.ElementTree as ET


def load(path):
    root = ET.parse(path).getroot()
    by_id, structs = {}, {}
    for el in root.iter():
        tid = el.get("id")
        if tid:
            if tid not in by_id or el.get("is-declaration-only") != "yes":
                by_id[tid] = el
        if el.tag == "class-decl" and el.get("is-declaration-only") != "yes" and el.get("name"):
            structs[el.get("name")] = el
    return by_id, structs


def type_name(by_id, tid, depth=0):
    el = by_id.get(tid)
    if el is None or depth > 20:
        return "?" + str(tid)
    tag = el.tag
    if tag in ("type-decl", "typedef-decl", "class-decl", "union-decl", "enum-decl"):
        return el.get("name") or tag
    if tag == "pointer-type-def":
        return type_name(by_id, el.get("type-id"), depth + 1) + "*"
    if tag == "qualified-type-def":
        return ("const " if el.get("const") == "yes" else "") + ("volatile " if el.get("volatile") == "yes" else "") + \
            type_name(by_id, el.get("type-id"), depth + 1)
    if tag == "array-type-def":
        return "%s[%s]" % (type_name(by_id, el.get("type-id"), depth + 1), el.get("size-in-bits"))
    if tag == "function-type":
        params = [type_name(by_id, p.get("type-id"), depth + 1) for p in el if p.tag == "parameter"]
        ret = [type_name(by_id, r.get("type-id"), depth + 1) for r in el if r.tag == "return"]
        return "fn(%s)->%s" % (",".join(params), ",".join(ret))
    return tag


def members(by_id, cls):
    out = []
    for dm in cls.findall("data-member"):
        var = dm.find("var-decl")
        out.append((var.get("name"), dm.get("layout-offset-in-bits"), type_name(by_id, var.get("type-id"))))
    return out


def main():
    old_ids, old_structs = load(sys.argv[1])
    new_ids, new_structs = load(sys.argv[2])
    rx = re.compile(sys.argv[3])
    bad = 0
    for name, cls in sorted(old_structs.items()):
        if not rx.search(name):
            continue
        old = members(old_ids, cls)
        if name not in new_structs:
            print("struct %s: gone" % name)
            bad = 1
            continue
        new = members(new_ids, new_structs[name])
        if new[:len(old)] != old:
            for i, (o, n) in enumerate(zip(old, new + [None] * len(old))):
                if o != n:
                    print("struct %s: member %d was %s, is %s (fields may only be appended)" % (name, i, o, n))
                    break
            bad = 1
            continue
        # An appended field must also start at or past the old struct's size: an old caller's
        # struct_size covers the old tail padding, whose bytes may hold anything.
        old_size = int(cls.get("size-in-bits") or 0)
        for (field, offset, _) in new[len(old):]:
            if offset is not None and int(offset) < old_size:
                print("struct %s: appended member %s starts at bit %s, inside the old struct's %d bits "
                      "(its tail padding: an old caller's struct_size covers it)" % (name, field, offset, old_size))
                bad = 1
    sys.exit(bad)


main()
