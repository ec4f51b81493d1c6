#!/usr/bin/env python3
"""Sizes of the wasm module for tests/bench, and where its bytes go.

  wasm_size.py RAW.wasm OPT.wasm BINARYEN_VERSION [NAME=FILE ...] > sizes.json

RAW is wasm-bindgen's output before wasm-opt (it keeps the `name` section), OPT the
module after `wasm-opt -Oz`. The breakdown attributes each function body of RAW to the
crate named first in its (mangled) symbol, and counts data segments (constants such as
the Mozilla roots) separately. NAME=FILE adds the sizes of the package's other pieces
(the Mozilla roots file, the replay module), listed as NAME.
"""
import gzip
import json
import re
import sys
from collections import Counter


def leb(buf, i):
    result = shift = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return result, i


def sections(buf):
    i = 8
    while i < len(buf):
        sid = buf[i]
        size, j = leb(buf, i + 1)
        yield sid, buf[j:j + size]
        i = j + size


def imported_functions(body):
    n, i = leb(body, 0)
    funcs = 0
    for _ in range(n):
        for _ in range(2):  # module, field names
            ln, i = leb(body, i)
            i += ln
        kind = body[i]
        i += 1
        if kind == 0:
            _, i = leb(body, i)
            funcs += 1
        elif kind == 1:  # table: reftype, limits
            i += 1
            flag, i = leb(body, i)
            _, i = leb(body, i)
            if flag & 1:
                _, i = leb(body, i)
        elif kind == 2:  # memory: limits
            flag, i = leb(body, i)
            _, i = leb(body, i)
            if flag & 1:
                _, i = leb(body, i)
        elif kind == 3:  # global: type, mutability
            i += 2
        else:
            raise ValueError(f"unknown import kind {kind}")
    return funcs


def function_sizes(body):
    n, i = leb(body, 0)
    sizes = []
    for _ in range(n):
        size, i = leb(body, i)
        sizes.append(size)
        i += size
    return sizes


def function_names(body):
    names = {}
    i = 0
    while i < len(body):
        sub = body[i]
        size, i = leb(body, i + 1)
        end = i + size
        if sub == 1:
            n, j = leb(body, i)
            for _ in range(n):
                idx, j = leb(body, j)
                ln, j = leb(body, j)
                names[idx] = body[j:j + ln].decode("utf-8", "replace")
                j += ln
        i = end
    return names


def crate_of(sym):
    """The crate a (legacy- or v0-mangled, or plain) Rust symbol belongs to."""
    if sym.startswith("_ZN"):
        m = re.match(r"_ZN(\d+)", sym)
        if not m:
            return "?"
        n = int(m.group(1))
        ident = sym[len(m.group(0)):len(m.group(0)) + n]
        if ident.startswith("_$LT$"):
            inner = ident[5:]
            inner = re.sub(r"^(\$RF\$|mut\$u20\$|\$BP\$|dyn\$u20\$|\$u5b\$)+", "", inner)
            name = inner.split("..")[0].split("$")[0] or "?"
            return "(blanket impls for T)" if name == "T" else name
        return ident
    if sym.startswith("_R"):
        m = re.search(r"C(?:s[0-9a-zA-Z_]*_)?(\d+)([A-Za-z_][A-Za-z0-9_]*)", sym)
        return m.group(2)[: int(m.group(1))] if m else "?"
    if "::" in sym:
        return re.sub(r"\[[0-9a-f]+\]$", "", sym.lstrip("<&").split("::")[0])
    return "(other: C, wasm-bindgen, intrinsics)"


def main():
    raw_path, opt_path, binaryen = sys.argv[1], sys.argv[2], sys.argv[3]
    pieces = []
    for spec in sys.argv[4:]:
        name, path = spec.split("=", 1)
        data = open(path, "rb").read()
        pieces.append({"name": name, "bytes": len(data), "gz": len(gzip.compress(data, 9))})
    raw = open(raw_path, "rb").read()
    opt = open(opt_path, "rb").read()
    imports = 0
    sizes = []
    names = {}
    data = 0
    for sid, body in sections(raw):
        if sid == 2:
            imports = imported_functions(body)
        elif sid == 10:
            sizes = function_sizes(body)
        elif sid == 11:
            data = len(body)
        elif sid == 0:
            ln, j = leb(body, 0)
            if body[j:j + ln] == b"name":
                names = function_names(body[j + ln:])
    by_crate = Counter()
    for k, size in enumerate(sizes):
        by_crate[crate_of(names.get(imports + k, ""))] += size
    total = sum(sizes) + data
    top = by_crate.most_common(14)
    rest = sum(by_crate.values()) - sum(b for _, b in top)
    breakdown = [(name, b, b * 100 / total) for name, b in top]
    if rest:
        breakdown.append(("(other crates)", rest, rest * 100 / total))
    breakdown.append(("data segments (constants, roots, tables)", data, data * 100 / total))
    json.dump({
        "raw": len(raw), "raw_gz": len(gzip.compress(raw, 9)),
        "opt": len(opt), "opt_gz": len(gzip.compress(opt, 9)),
        "binaryen": binaryen, "named_functions": len(names), "breakdown": breakdown, "pieces": pieces,
    }, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
