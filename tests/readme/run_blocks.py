#!/usr/bin/env python3
"""Runs every fenced block of the READMEs as a new user would, on a scratch copy of the checkout.

    python3 tests/readme/run_blocks.py [README ...]     (default: the three READMEs)

Everything happens under build/readme/ (emptied first, kept afterwards: logs/ holds each block's
script and output). Its path is the same at every run, so Go's build cache serves the next run.
The scratch "clone" is the tracked files of the working tree (so uncommitted README edits are what
is tested) plus build/lib/libvoicetelemetry.so, copied from this checkout: the Swift build is the
core owner's (make's Swift step), every other step the READMEs give is run as written. Each README
is one terminal session: its blocks run in order from the clone's root, the variables an sh block
exports are set for the blocks after it, and nothing carries over to the next README except the
files in the clone. By language:

  sh      bash with `set -e`, in its own process group; whatever it left running in the background
          (a server started with `&`) is stopped when the block ends (SIGTERM, then SIGKILL)
  python  python3 (the scratch virtualenv's: `pip install` installs there); each line with
          `# -> TEXT` promises TEXT as a whole line of its output
  c       compiled with the project's warning flags (syntax only, against include/); the README's
          sh block builds and runs it (a `save` note names the file)
  go      a `package main` program is written to examples-go/cmd/readme-L<line>/main.go and run
          with `go run` from examples-go/, as the Go README says; other Go needs a note
  (none)  needs a note: `output` (what the block above printed), `skip` or `checked-by`

Notes (`<!-- readme-test: ... -->` right above a block) are described in blocks.py. Differences
from the user's terminal, all of them:
  - HOME is a scratch directory (so `make install PREFIX=$HOME/...` and `cd myapp` stay in the
    scratch tree); Go's caches and pip's cache are the real ones, for speed.
  - `make` is `make -o build/lib/libvoicetelemetry.so` (the library is never rebuilt here).
  - The placeholder /path/to/voicetelemetry in a block is replaced by the clone's path.
  - Environment a user's terminal would not have is removed (VOICETELEMETRY_LIB, PKG_CONFIG_PATH,
    LD_LIBRARY_PATH, PYTHONPATH, GOFLAGS, CGO_*, the calling make's MAKEFLAGS).
Ports: a block that names 127.0.0.1:PORT keeps the README's port; if something else listens there
the block fails at once, saying so. Every block is bounded (READMETEST_TIMEOUT, default 120 s).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from blocks import Block, output_matches, parse  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
READMES = ["README.md", "examples-python/README.md", "examples-go/README.md"]
LIB = "build/lib/libvoicetelemetry.so"
SCRATCH = REPO / "build" / "readme"
PLACEHOLDER = "/path/to/voicetelemetry"
# The C warning flags: the Makefile's CWARN, the one list of them.
CWARN = re.search(r"^CWARN\s*:=\s*(.*)$", (REPO / "Makefile").read_text(), re.M).group(1).split()
TIMEOUT = float(os.environ.get("READMETEST_TIMEOUT", "120"))
DROPPED_ENV = ("VOICETELEMETRY_LIB", "PKG_CONFIG_PATH", "LD_LIBRARY_PATH", "PYTHONPATH", "GOFLAGS",
               "MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "VIRTUAL_ENV", "PYTHONHOME")


class BlockFailed(Exception):
    pass


# ---- the scratch tree --------------------------------------------------------------------------

def make_clone(root: Path) -> Path:
    """The tracked files as they are in the working tree, and the built library."""
    clone = root / "clone"
    names = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, check=True,
                           capture_output=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = REPO / name
        if src.is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / name)
    (clone / LIB).parent.mkdir(parents=True)
    shutil.copy(REPO / LIB, clone / LIB)  # newer than every copied source
    return clone


def make_tools(root: Path) -> Path:
    """A bin directory: the make wrapper, and a virtualenv whose bin comes first."""
    bin_dir = root / "bin"
    bin_dir.mkdir()
    make = bin_dir / "make"
    make.write_text(f'#!/bin/sh\nexec {shutil.which("make")} -o {LIB} "$@"\n')
    make.chmod(0o755)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
    return bin_dir


def base_env(root: Path, bin_dir: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED_ENV and not k.startswith("CGO_")}
    for key in ("GOCACHE", "GOMODCACHE", "GOPATH"):
        env[key] = subprocess.run(["go", "env", key], capture_output=True, text=True).stdout.strip()
    env["PIP_CACHE_DIR"] = str(Path.home() / ".cache" / "pip")
    env["HOME"] = str(root / "home")
    env["VIRTUAL_ENV"] = str(root / "venv")
    env["PATH"] = f"{root / 'venv' / 'bin'}:{bin_dir}:{env['PATH']}"
    env["PYTHONUNBUFFERED"] = "1"
    (root / "home").mkdir()
    return env


# ---- processes ---------------------------------------------------------------------------------

def stop_group(proc: subprocess.Popen, first: int = signal.SIGTERM) -> None:
    """Stops the block's process group (the block's own background jobs included)."""
    for sig, grace in ((first, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            proc.poll()  # reaps the block's shell: a zombie still counts as a member of the group
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)


def run_group(argv: List[str], cwd: Path, env: Dict[str, str], out: Path) -> str:
    """Runs argv in a process group of its own, bounded; returns its stdout."""
    with open(out, "w") as stdout, open(out.with_suffix(".err"), "w") as stderr:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=stdout, stderr=stderr,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            rc = proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            rc = None
        stop_group(proc)
        proc.wait()
    printed = out.read_text(errors="replace")
    if rc != 0:
        err = out.with_suffix(".err").read_text(errors="replace")
        why = f"no end after {TIMEOUT:.0f} s" if rc is None else f"exit status {rc}"
        raise BlockFailed(f"{why}\n--- stdout (end)\n{printed[-3000:]}\n--- stderr (end)\n{err[-3000:]}")
    return printed


def ports_in(text: str) -> List[int]:
    return sorted({int(p) for p in re.findall(r"127\.0\.0\.1:(\d{2,5})", text) if int(p)})


def port_free(port: int) -> bool:
    with socket.socket() as s:  # as a server binds it (SO_REUSEADDR: TIME_WAIT is no conflict)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def check_ports(text: str, wait: float) -> None:
    for port in ports_in(text):
        deadline = time.monotonic() + wait
        while not port_free(port):
            if time.monotonic() > deadline:
                raise BlockFailed(f"port {port} is in use by another process: this block uses it as "
                                  "the README writes it; free the port and run again")
            time.sleep(0.1)


# ---- one README: a terminal session ------------------------------------------------------------

class Session:
    def __init__(self, readme: Path, clone: Path, env: Dict[str, str], scratch: Path):
        self.readme, self.clone, self.env, self.scratch = readme, clone, dict(env), scratch
        self.last_stdout: Optional[str] = None

    def file(self, block: Block, suffix: str) -> Path:
        return self.scratch / (block.name.replace("/", "_") + f"-L{block.line}{suffix}")

    def run(self, block: Block) -> str:
        """Runs or checks one block; returns what was done (raises BlockFailed)."""
        for key in ("skip", "checked-by"):
            if block.note(key):
                return self.not_run(block, key)
        if block.note("save"):
            dest = self.clone / block.note("save").args[0]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(block.text)
        runner = {"sh": self.sh, "python": self.python, "c": self.c, "go": self.go, "": self.plain}.get(block.lang)
        if runner is None:
            raise BlockFailed(f"no rule runs a ```{block.lang} block: add one, or a readme-test note")
        done = runner(block)
        for text in block.note("stdout-has").args if block.note("stdout-has") else []:
            if text not in (self.last_stdout or ""):
                raise BlockFailed(f"stdout lacks {text!r}:\n{(self.last_stdout or '')[-2000:]}")
        return done

    def not_run(self, block: Block, key: str) -> str:
        note = block.note(key)
        if key == "checked-by":
            target = REPO / note.args[0]
            if not target.is_file():
                raise BlockFailed(f"checked-by {note.args[0]}: no such file")
            body = target.read_text()
            copied = all(l.strip() in body for l in block.text.splitlines() if l.strip())
            if not copied and block.readme.name not in body:
                raise BlockFailed(f"{note.args[0]} neither holds this block nor reads {block.readme.name}")
        return " ".join([key, *note.args]) + f": {note.reason}"

    def sh(self, block: Block) -> str:
        if block.note("serve"):
            return self.serve(block)
        script = self.file(block, ".sh")
        envfile = self.file(block, ".env")
        body = block.text.replace(PLACEHOLDER, str(self.clone))
        script.write_text(f"set -e\n{body}\nenv -0 > '{envfile}'\n")
        check_ports(body, wait=0)
        self.last_stdout = run_group(["bash", str(script)], self.clone, self.env, self.file(block, ".out"))
        self.keep_exports(envfile)
        check_ports(body, wait=10)  # the block's servers are gone before the next block
        return "ran (bash -e)"

    def keep_exports(self, envfile: Path) -> None:
        pairs = [p.split("=", 1) for p in envfile.read_text().split("\0") if "=" in p]
        self.env = {k: v for k, v in pairs if k not in ("PWD", "OLDPWD", "SHLVL", "_")}

    def serve(self, block: Block) -> str:
        url = block.note("serve").args[0]
        check_ports(block.text, wait=0)
        out = self.file(block, ".out")
        with open(out, "w") as stdout:
            proc = subprocess.Popen(["bash", "-ec", block.text], cwd=self.clone, env=self.env, stdout=stdout,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            try:
                waited = wait_for_url(url, proc)
            finally:
                stop_group(proc, signal.SIGINT)  # Ctrl-C
                proc.wait()
        self.last_stdout = out.read_text(errors="replace")
        if waited is None:
            raise BlockFailed(f"{url} never answered 200\n--- output (end)\n{self.last_stdout[-3000:]}")
        check_ports(block.text, wait=10)
        return f"served {url} after {waited:.1f} s, stopped with Ctrl-C"

    def python(self, block: Block) -> str:
        script = self.file(block, ".py")
        script.write_text(block.text)
        self.last_stdout = run_group(["python3", str(script)], self.clone, self.env, self.file(block, ".out"))
        printed = self.last_stdout.splitlines()
        promised = [l.split("# -> ", 1)[1].strip() for l in block.text.splitlines() if "# -> " in l]
        for want in promised:
            if want not in (p.strip() for p in printed):
                raise BlockFailed(f"promises the line {want!r}; printed:\n{self.last_stdout[-2000:]}")
        return f"ran (python3), {len(promised)} promised lines printed"

    def c(self, block: Block) -> str:
        source = self.file(block, ".c")
        source.write_text(block.text)
        r = subprocess.run(["cc", *CWARN, "-fsyntax-only", f"-I{self.clone / 'include'}", str(source)],
                           capture_output=True, text=True, timeout=TIMEOUT)
        if r.returncode:
            raise BlockFailed(f"does not compile with {' '.join(CWARN)}:\n{r.stderr}")
        if not block.note("save"):
            raise BlockFailed("a C block needs a save note: the README's sh block builds and runs it")
        return f"compiles with {' '.join(CWARN)}; saved as {block.note('save').args[0]}"

    def go(self, block: Block) -> str:
        if not block.text.startswith("package main\n"):
            raise BlockFailed("Go that is not a `package main` program needs a readme-test note")
        name = f"readme-L{block.line}"
        main = self.clone / "examples-go" / "cmd" / name / "main.go"
        main.parent.mkdir(parents=True, exist_ok=True)
        main.write_text(block.text)
        self.last_stdout = run_group(["go", "run", f"./cmd/{name}"], self.clone / "examples-go", self.env,
                                     self.file(block, ".out"))
        return f"ran (go run ./cmd/{name} in examples-go)"

    def plain(self, block: Block) -> str:
        if not block.note("output"):
            raise BlockFailed("a block without language needs a note: output, skip or checked-by")
        if self.last_stdout is None:
            raise BlockFailed("an output block with no run block before it")
        diff = output_matches(block.text, self.last_stdout)
        if diff:
            raise BlockFailed(f"not what the block above printed: {diff}\n--- printed\n{self.last_stdout}")
        self.last_stdout = None  # one output block per run
        return "output: exactly what the block above printed"


def wait_for_url(url: str, proc: subprocess.Popen) -> Optional[float]:
    start = time.monotonic()
    while time.monotonic() - start < TIMEOUT and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
        except OSError:
            pass
        time.sleep(0.1)
    return None


# ---- main --------------------------------------------------------------------------------------

def run_readme(name: str, clone: Path, env: Dict[str, str], scratch: Path) -> List[str]:
    """Runs one README's blocks; returns the failures."""
    session = Session(clone / name, clone, env, scratch)
    failures = []
    for block in parse(clone / name, name):
        start = time.monotonic()
        try:
            done = session.run(block)
            print(f"  ok   {block.where:<28} {block.lang or '-':<6} {done} ({time.monotonic() - start:.1f} s)",
                  flush=True)
        except BlockFailed as e:
            print(f"  FAIL {block.where:<28} {block.lang or '-':<6} {e}", flush=True)
            failures.append(block.where)
            session.last_stdout = None
    return failures


def main(argv: List[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("readmes", nargs="*", default=READMES, help="paths from the repository root")
    args = p.parse_args(argv)
    started = time.monotonic()
    shutil.rmtree(SCRATCH, ignore_errors=True)
    (SCRATCH / "logs").mkdir(parents=True)
    clone = make_clone(SCRATCH)
    env = base_env(SCRATCH, make_tools(SCRATCH))
    failures: List[str] = []
    total = 0
    for name in args.readmes:
        print(f"{name}:", flush=True)
        total += len(parse(REPO / name))
        failures += run_readme(name, clone, env, SCRATCH / "logs")
    took = time.monotonic() - started
    if failures:
        print(f"README blocks: {len(failures)} of {total} failed ({', '.join(failures)}) in {took:.0f} s; "
              f"logs in {SCRATCH / 'logs'}")
        return 1
    print(f"README blocks: all {total} run or checked as their notes say, in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
