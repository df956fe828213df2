#!/usr/bin/env python3
"""Strict kconfig merge: apply fragments to a base config and fail on every request
that did not take.

The kernel's scripts/kconfig/merge_config.sh only warns when olddefconfig drops or
changes a requested value and still exits 0; a kernel built from such a config silently
lacks what the fragment asked for. This tool runs the same steps (base, fragments,
olddefconfig) out of tree and then compares every requested symbol with the final
.config. For each mismatch it prints the symbol's Kconfig definition site, its
`depends on` expression (including enclosing `if`/`menu` conditions) with the current
value of every symbol in it, and the symbols that select it, the way menuconfig's help
screen shows them.

Usage:
  merge-strict.py --srctree DIR --objtree DIR
                  (--base-config FILE | --base-target TARGET [--base-target TARGET...])
                  FRAGMENT...

  --base-target runs `make TARGET` in the objtree, in order (for example
  x86_64_defconfig, then kvm_guest.config): the base is the kernel's own, not checked.
  FRAGMENTs are our requests: each must hold after olddefconfig.

Exit: 0 every request holds (objtree/.config is the merged config); 1 at least one
request did not hold (each printed); 2 usage error or unreadable/contradictory
fragment; 3 make failed.

Maintainer tool (Python 3 standard library only); not shipped in any package.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

EXIT_OK, EXIT_MISMATCH, EXIT_USAGE, EXIT_MAKE = 0, 1, 2, 3

SET_RE = re.compile(r"^CONFIG_([A-Za-z0-9_]+)=(.*)$")
UNSET_RE = re.compile(r"^# CONFIG_([A-Za-z0-9_]+) is not set$")


class UsageError(Exception):
    """Bad input: printed as one line, exit 2."""


@dataclasses.dataclass
class Request:
    symbol: str
    value: str  # "n" for "is not set"
    origin: str  # FILE:LINE


def parse_config_line(line: str) -> tuple[str, str] | None:
    """(symbol, value) of a .config/fragment line; value "n" for `# ... is not set`."""
    line = line.rstrip("\n")
    if m := SET_RE.match(line):
        return m.group(1), m.group(2)
    if m := UNSET_RE.match(line):
        return m.group(1), "n"
    return None


def read_config(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if parsed := parse_config_line(line):
                values[parsed[0]] = parsed[1]
    return values


def read_fragments(paths: list[Path]) -> dict[str, Request]:
    """All requests; the same symbol asked for two different values is an error."""
    requests: dict[str, Request] = {}
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as e:
            raise UsageError(f"{path}: cannot read fragment: {e.strerror}") from e
        for number, line in enumerate(lines, 1):
            stripped = line.strip()
            origin = f"{path}:{number}"
            parsed = parse_config_line(stripped)
            if parsed is None:
                if stripped and not stripped.startswith("#"):
                    raise UsageError(f"{origin}: not a kconfig assignment: '{stripped}'")
                continue
            symbol, value = parsed
            if value == "":
                raise UsageError(f"{origin}: empty value for CONFIG_{symbol}: '{stripped}'")
            old = requests.get(symbol)
            if old and old.value != value:
                raise UsageError(
                    f"{origin}: CONFIG_{symbol}={value} contradicts {old.origin}: "
                    f"'CONFIG_{symbol}={old.value}'")
            requests[symbol] = Request(symbol, value, origin)
    return requests


# --- Kconfig reading: just enough to explain a mismatch -----------------------------


@dataclasses.dataclass
class SymbolInfo:
    symbol: str
    sites: list[str] = dataclasses.field(default_factory=list)
    kind: str = ""
    depends: list[str] = dataclasses.field(default_factory=list)
    selected_by: list[str] = dataclasses.field(default_factory=list)
    implied_by: list[str] = dataclasses.field(default_factory=list)


class KconfigIndex:
    """Definitions of every symbol reachable from srctree/Kconfig for one SRCARCH.

    Follows `source` statements; records for each `config`/`menuconfig` block its type,
    `depends on` lines, and the enclosing `if` and `menu ... depends on` conditions
    (which kconfig adds to the dependencies of every entry inside), plus reverse
    `select`/`imply` edges.
    """

    KEYWORD_RE = re.compile(r"^\s*(\S+)\s*(.*)$")

    def __init__(self, srctree: Path, srcarch: str) -> None:
        self.srctree = srctree
        self.srcarch = srcarch
        self.symbols: dict[str, SymbolInfo] = {}
        self._visited: set[Path] = set()
        self._read(Path("Kconfig"), [])

    def info(self, symbol: str) -> SymbolInfo:
        return self.symbols.setdefault(symbol, SymbolInfo(symbol))

    def _expand(self, text: str) -> str:
        return text.replace("$(SRCARCH)", self.srcarch).replace("$(ARCH)", self.srcarch)

    def _read(self, rel: Path, outer: list[str]) -> None:
        path = self.srctree / rel
        if path in self._visited or not path.is_file():
            return
        self._visited.add(path)
        conds = list(outer)  # stack of enclosing conditions in this file
        stack_kinds: list[str] = []  # "if" / "menu" / "choice" per pushed condition
        current: SymbolInfo | None = None
        # The entry a following `depends on` belongs to: "config" (current), "block" (the
        # menu/choice just opened: its condition covers every entry inside), or None
        # (a comment's own condition, or nothing).
        owner: str | None = None
        in_help = False
        help_indent = 0
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        i = 0
        while i < len(lines):
            raw = lines[i]
            number = i + 1
            i += 1
            while raw.endswith("\\") and i < len(lines):
                raw = raw[:-1] + " " + lines[i]
                i += 1
            if in_help:
                # Help text ends at the first non-blank line indented less than
                # its own first line.
                if not raw.strip():
                    continue
                indent = len(raw.expandtabs(8)) - len(raw.expandtabs(8).lstrip())
                if help_indent == 0:
                    help_indent = indent
                if indent >= help_indent > 0:
                    continue
                in_help = False
            m = self.KEYWORD_RE.match(raw)
            if not m or raw.lstrip().startswith("#"):
                continue
            word, rest = m.group(1), m.group(2).split("#", 1)[0].strip()
            if word in ("config", "menuconfig"):
                current, owner = self.info(rest), "config"
                current.sites.append(f"{rel}:{number}")
                current.depends.extend(c for c in conds if c)
            elif word in ("help", "---help---"):
                in_help, help_indent = True, 0
            elif word in ("bool", "tristate", "string", "int", "hex", "def_bool",
                          "def_tristate"):
                if current:
                    current.kind = word.replace("def_", "")
            elif word == "depends" and rest.startswith("on "):
                cond = rest[3:].strip()
                if owner == "config" and current:
                    current.depends.append(cond)
                elif owner == "block" and stack_kinds:
                    conds[-1] = f"({conds[-1]}) && ({cond})" if conds[-1] else cond
            elif word in ("select", "imply") and current:
                target, _, cond = rest.partition(" if ")
                edge = current.symbol + (f" if {cond.strip()}" if cond else "")
                info = self.info(target.strip())
                (info.selected_by if word == "select" else info.implied_by).append(edge)
            elif word == "if":
                current, owner = None, None
                conds.append(rest)
                stack_kinds.append("if")
            elif word in ("menu", "choice"):
                current, owner = None, "block"
                conds.append("")
                stack_kinds.append(word)
            elif word in ("endif", "endmenu", "endchoice"):
                current, owner = None, None
                if stack_kinds:
                    stack_kinds.pop()
                    conds.pop()
            elif word in ("source", "rsource", "osource", "orsource"):
                current, owner = None, None
                target = self._expand(rest.strip('"'))
                if word.startswith(("r", "or")):
                    target = str(rel.parent / target)
                for match in sorted(self.srctree.glob(target)) if "*" in target else [
                        self.srctree / target]:
                    self._read(match.relative_to(self.srctree), conds)
            elif word in ("comment", "mainmenu"):
                current, owner = None, None


IDENT_RE = re.compile(r'"[^"]*"|\b([A-Za-z0-9_]+)\b')


def annotate(expr: str, final: dict[str, str]) -> str:
    """`A && !B` -> `A [=y] && !B [=n]`, like menuconfig's help screen."""

    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name is None or name in ("y", "m", "n") or name.isdigit() or name.startswith("0x"):
            return m.group(0)
        return f"{name} [={final.get(name, 'n')}]"

    return IDENT_RE.sub(one, expr)


def explain(req: Request, got: str, index: KconfigIndex, final: dict[str, str]) -> list[str]:
    shown_got = "not set" if got == "n" else got
    shown_req = "not set" if req.value == "n" else req.value
    out = [f"CONFIG_{req.symbol}: requested {shown_req}, got {shown_got} ({req.origin})"]
    info = index.symbols.get(req.symbol)
    if info is None or not info.sites:
        out.append(f"    no such symbol in this kernel's Kconfig (SRCARCH={index.srcarch})")
        return out
    out.append(f"    {info.kind or 'symbol'} defined at {', '.join(info.sites)}")
    if info.kind == "bool" and req.value == "m":
        out.append("    a bool cannot be m")
        return out
    if info.depends:
        out.append("    depends on: " + " && ".join(
            f"({annotate(d, final)})" if len(info.depends) > 1 else annotate(d, final)
            for d in info.depends))
    active = [s for s in info.selected_by
              if final.get(s.split(" if ")[0], "n") != "n"]
    if active:
        out.append("    selected by: " + ", ".join(annotate(s, final) for s in active))
    if not info.depends and not active:
        out.append("    no dependency recorded: a hidden symbol set only by select/default?")
    return out


def run_make(srctree: Path, objtree: Path, arch: str, target: str) -> None:
    cmd = ["make", "-s", "-C", str(srctree), f"O={objtree}", f"ARCH={arch}", target]
    # Progress to stderr: stdout stays clean for callers that capture paths.
    result = subprocess.run(cmd, check=False, stdout=sys.stderr)
    if result.returncode != 0:
        print(f"merge-strict: '{' '.join(cmd)}' failed with exit {result.returncode}",
              file=sys.stderr)
        sys.exit(EXIT_MAKE)


def srcarch_of(arch: str) -> str:
    return "x86" if arch in ("x86_64", "i386", "x86") else arch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--srctree", required=True, type=Path)
    parser.add_argument("--objtree", required=True, type=Path)
    parser.add_argument("--arch", default="x86_64")
    base = parser.add_mutually_exclusive_group(required=True)
    base.add_argument("--base-config", type=Path, help="a complete .config to start from")
    base.add_argument("--base-target", action="append",
                      help="make target building the base (repeatable, run in order)")
    parser.add_argument("fragments", nargs="+", type=Path)
    args = parser.parse_args()

    srctree = args.srctree.resolve()
    objtree = args.objtree.resolve()
    try:
        if not (srctree / "Kconfig").is_file():
            raise UsageError(f"{srctree}: not a kernel source tree: no Kconfig")
        requests = read_fragments(args.fragments)
        objtree.mkdir(parents=True, exist_ok=True)
        config = objtree / ".config"
        if args.base_config:
            try:
                shutil.copyfile(args.base_config, config)
            except OSError as e:
                raise UsageError(f"{args.base_config}: cannot read base config: "
                                 f"{e.strerror}") from e
    except UsageError as e:
        print(f"merge-strict: {e}", file=sys.stderr)
        return EXIT_USAGE

    for target in args.base_target or []:
        run_make(srctree, objtree, args.arch, target)

    # Drop the base's lines for requested symbols, then append the requests: the
    # same effect as merge_config.sh, without its "later line wins" guesswork.
    kept = []
    for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
        parsed = parse_config_line(line)
        if parsed is None or parsed[0] not in requests:
            kept.append(line)
    for req in requests.values():
        kept.append(f"# CONFIG_{req.symbol} is not set" if req.value == "n"
                    else f"CONFIG_{req.symbol}={req.value}")
    config.write_text("\n".join(kept) + "\n", encoding="utf-8")
    run_make(srctree, objtree, args.arch, "olddefconfig")

    final = read_config(config)
    mismatches = [(req, final.get(sym, "n")) for sym, req in requests.items()
                  if final.get(sym, "n") != req.value]
    if not mismatches:
        print(f"merge-strict: all {len(requests)} requested symbols hold in {config}",
              file=sys.stderr)
        return EXIT_OK
    index = KconfigIndex(srctree, srcarch_of(args.arch))
    for req, got in mismatches:
        print("\n".join(explain(req, got, index, final)), file=sys.stderr)
    print(f"merge-strict: {len(mismatches)} of {len(requests)} requested symbols did not "
          f"hold in {config}", file=sys.stderr)
    return EXIT_MISMATCH


if __name__ == "__main__":
    os.environ.setdefault("LC_ALL", "C")
    sys.exit(main())
