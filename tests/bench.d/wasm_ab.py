#!/usr/bin/env python3
"""Side-by-side A/B of builds of the tlsferry wasm module in Node (not part of tests/run).

  wasm_ab.py [--rounds 5] [--hs 40] [--mib 32] [--cases hs-rsa,hs-ec,chacha,aes128,aes256]
             [--to-web NAME]... NAME=PATH[:JSDIR] [NAME=PATH[:JSDIR]]...

PATH is either a package directory (with js/index.js and pkg/) or a wasm file straight
from cargo (`target/wasm32-unknown-unknown/wasm-release/tlsferry_wasm.wasm`), which is
packaged the way wasm/build.sh does it (wasm-bindgen --target web, npm binaryen's
`wasm-opt -Oz`, the JS of wasm/js, or of JSDIR: a build of another commit needs its own
JavaScript; the roots module of wasm/pkg, so run wasm/build.sh first) into a temporary
directory first. One Node process
then runs every build against two Node `tls` servers (node_server.mjs; an RSA-2048 and an
ECDSA P-256 leaf, each under a root of its own type), interleaved (wasm_ab.mjs), and this
prints per build: client CPU per handshake, bulk MB/s and CPU s/GB per cipher, and the
module's gzip -9 size, each with the median of the per-round ratios to the first build.
Raw rows go to stdout as JSON with --json.
"""
import argparse
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
from bench import make_pki, start  # noqa: E402  (the bench's PKI and process helpers)


def package(name, wasm, work, js):
    """A package directory for a cargo-built wasm file, as wasm/build.sh makes it."""
    d = work / name
    (d / "pkg").mkdir(parents=True)
    subprocess.run(["wasm-bindgen", "--target", "web", "--out-dir", d / "pkg", "--out-name", "tlsferry_wasm",
                    wasm], check=True)
    bg = d / "pkg" / "tlsferry_wasm_bg.wasm"
    opt = ROOT / "wasm" / "node_modules" / ".bin" / "wasm-opt"
    subprocess.run([opt, "-Oz", bg, "-o", d / "opt.wasm"], check=True)
    shutil.move(d / "opt.wasm", bg)
    shutil.copytree(js or ROOT / "wasm" / "js", d / "js")
    # The Mozilla roots module (the JS imports its loader; connections with a CA never load it).
    for f in ("tlsferry_roots.wasm", "tlsferry_roots.js"):
        shutil.copy(ROOT / "wasm" / "pkg" / f, d / "pkg" / f)
    return d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--hs", type=int, default=40)
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--cases", default="hs-rsa,hs-ec,chacha,aes128,aes256")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cpu-prof", metavar="DIR", help="write V8 CPU profiles (node --cpu-prof) to DIR")
    ap.add_argument("--to-web", metavar="NAME", action="append", default=[],
                    help="build NAME gets its socket through Node's Duplex.toWeb() instead of the "
                         "package's fromNodeStream() (what the benches used before 2026-12-03 evening)")
    ap.add_argument("builds", nargs="+")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tlsferry-wasm-ab-"))
    procs = []
    try:
        pkgs = []
        for spec in a.builds:
            name, path = spec.split("=", 1)
            path, _, js = path.partition(":")
            p = Path(path)
            pkgs.append((name, p if p.is_dir() else package(name, p, work, js and Path(js))))
        rsa, ec = make_pki(work, "rsa"), make_pki(work, "ec")
        srv = {}
        for kind, pki in (("rsa", rsa), ("ec", ec)):
            s = start(["node", HERE / "node_server.mjs", "--cert", pki["cert"], "--key", pki["key"]], r"PORT (\d+)")
            procs.append(s)
            srv[kind] = f"{s.match}:{pki['ca']}"
        prof = ["--cpu-prof", "--cpu-prof-dir", Path(a.cpu_prof).resolve()] if a.cpu_prof else []
        cmd = ["node", "--no-warnings", *prof, HERE / "wasm_ab.mjs", "--rsa", srv["rsa"], "--ec", srv["ec"],
               "--rounds", a.rounds, "--hs", a.hs, "--bytes", a.mib << 20, "--cases", a.cases]
        for name, d in pkgs:
            cmd += ["--pkg", f"{name}={d / 'js' / 'index.js'}"]
        for name in a.to_web:
            cmd += ["--to-web", name]
        out = subprocess.run(list(map(str, cmd)), capture_output=True, text=True, cwd=HERE, timeout=7200)
        rows = [json.loads(l) for l in out.stdout.splitlines() if l.startswith("{")]
        if not rows:
            sys.exit(f"wasm_ab.mjs printed nothing:\n{out.stderr[-3000:]}")
        if a.json:
            for r in rows:
                print(json.dumps(r))
        report(rows, pkgs, a.cases.split(","))
    finally:
        for p in procs:
            p.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(rows, pkgs, cases):
    errors = [r for r in rows if "error" in r]
    for e in errors[:5]:
        print(f"error: {e['pkg']} {e['case']} round {e['round']}: {e['error'][:400]}", file=sys.stderr)
    first = pkgs[0][0]

    def metric(r):
        if "n" in r:
            return r["cpu"] / r["n"] * 1000, r["wall"] / r["n"] * 1000  # CPU ms, wall ms per handshake
        return r["bytes"] / r["wall"] / 1e6, r["cpu"] / (r["bytes"] / 1e9)  # MB/s, CPU s/GB

    by = {}
    for r in rows:
        if "error" not in r:
            by.setdefault((r["pkg"], r["case"]), {})[r["round"]] = (metric(r), r.get("suite"))
    print(f"\n{len({r['round'] for r in rows})} rounds; ratios: median over rounds of (this ÷ {first}) in the same round\n")
    print("| build | case | suite | handshake CPU ms / bulk MB/s (median) | wall ms / CPU s per GB | ratio to first |")
    print("|---|---|---|---|---|---|")
    for case in cases:
        for name, _ in pkgs:
            got = by.get((name, case), {})
            if not got:
                continue
            base = by.get((first, case), {})
            a = statistics.median(v[0][0] for v in got.values())
            b = statistics.median(v[0][1] for v in got.values())
            ratios = [got[k][0][0] / base[k][0][0] for k in got if k in base]
            suite = next(iter(got.values()))[1]
            print(f"| {name} | {case} | {suite} | {a:.2f} | {b:.2f} | {statistics.median(ratios):.3f} |")
    print("\n| build | module bytes (wasm-opt -Oz) | gzip -9 |\n|---|---|---|")
    for name, d in pkgs:
        data = (d / "pkg" / "tlsferry_wasm_bg.wasm").read_bytes()
        print(f"| {name} | {len(data):,} | {len(gzip.compress(data, 9)):,} |")


if __name__ == "__main__":
    main()
