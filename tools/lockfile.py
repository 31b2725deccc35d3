"""Check that the hash-pinned lock files still match pyproject.toml (run by `make test` and so by CI).

    python tools/lockfile.py check

Why: installs go through ``pip install --require-hashes -r requirements-dev.lock`` so that an install next
year is the one that was tested. A dependency added to, removed from or re-ranged in pyproject.toml without
running ``make lock`` would make that install differ from what pyproject.toml says (or fail late, on a
fresh machine). This check fails at once, with what differs and the one command that fixes it.

What is compared, per lock file (requirements.lock: the runtime dependencies; requirements-dev.lock: those
plus the ``dev`` extra):
- the names pyproject.toml asks for directly are exactly the names the lock marks as coming from
  pyproject.toml (uv writes ``# via thb-assess (pyproject.toml)``): nothing missing, nothing left over;
- every locked version of a direct dependency satisfies pyproject.toml's version range;
- every pinned requirement carries at least one ``--hash``.
Standard library only (tomllib), plus ``packaging`` when it is importable for the range check.
"""

from __future__ import annotations

import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = {"requirements.lock": (), "requirements-dev.lock": ("dev",)}
FIX = "run `make lock` and commit pyproject.toml together with the lock files"

_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(.*)$")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def normalise(name: str) -> str:
    """PEP 503 normalised name: 'Flask_WTF' and 'flask-wtf' are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Pin:
    name: str
    version: str
    hashes: int = 0
    via: list[str] = field(default_factory=list)

    @property
    def direct(self) -> bool:
        return any("(pyproject.toml)" in v for v in self.via)


def requested(pyproject: Path, extras: tuple[str, ...]) -> dict[str, str]:
    """Direct requirements (normalised name → version specifier) for the runtime set plus the given extras."""
    project = tomllib.loads(pyproject.read_text())["project"]
    reqs = list(project.get("dependencies", []))
    for extra in extras:
        reqs += project.get("optional-dependencies", {}).get(extra, [])
    out: dict[str, str] = {}
    for req in reqs:
        m = _REQ_NAME.match(req.split(";")[0])
        if m:
            out[normalise(m.group(1))] = m.group(3).strip()
    return out


def parse_lock(path: Path) -> dict[str, list[Pin]]:
    """Pins by normalised name (a universal lock may pin one name twice, under different markers)."""
    pins: dict[str, list[Pin]] = {}
    current: Pin | None = None
    in_via = False
    for raw in path.read_text().splitlines():
        line = raw.strip()
        m = _PIN.match(raw)
        if m:
            current = Pin(normalise(m.group(1)), m.group(2))
            pins.setdefault(current.name, []).append(current)
            in_via = False
        if current is None:
            continue
        current.hashes += line.count("--hash=")
        if line.startswith("# via "):
            current.via.append(line[len("# via "):])
        elif line == "# via":
            in_via = True
        elif in_via and line.startswith("#   "):
            current.via.append(line[4:])
        elif not line.startswith("#"):
            in_via = False
    return pins


def _satisfies(version: str, spec: str) -> bool | None:
    """True/False when ``packaging`` can tell, None when it is not installed (the check is then skipped)."""
    if not spec:
        return True
    try:
        from packaging.specifiers import SpecifierSet
    except ImportError:  # pragma: no cover - packaging comes with pip's vendored copy on every venv we build
        return None
    return SpecifierSet(spec).contains(version, prereleases=True)


def check_lock(pyproject: Path, lock: Path, extras: tuple[str, ...]) -> list[str]:
    """Every way ``lock`` disagrees with ``pyproject`` (an empty list when they agree)."""
    if not lock.exists():
        return [f"{lock.name}: missing"]
    wanted = requested(pyproject, extras)
    pins = parse_lock(lock)
    direct = {name for name, entries in pins.items() if any(p.direct for p in entries)}
    problems = []
    for name in sorted(set(wanted) - set(pins)):
        problems.append(f"{lock.name}: {name} is in pyproject.toml but not locked")
    for name in sorted(set(wanted) & set(pins) - direct):
        problems.append(f"{lock.name}: {name} is in pyproject.toml but the lock has it only as a sub-dependency")
    for name in sorted(direct - set(wanted)):
        problems.append(f"{lock.name}: {name} is locked as a direct dependency but no longer in pyproject.toml")
    for name in sorted(set(wanted) & set(pins)):
        for pin in pins[name]:
            if _satisfies(pin.version, wanted[name]) is False:
                problems.append(f"{lock.name}: {name}=={pin.version} does not satisfy pyproject.toml's "
                                f"'{wanted[name]}'")
    for name, entries in sorted(pins.items()):
        for pin in entries:
            if pin.hashes == 0:
                problems.append(f"{lock.name}: {name}=={pin.version} has no --hash")
    return problems


def check(root: Path = ROOT) -> list[str]:
    problems: list[str] = []
    for lock, extras in LOCKS.items():
        problems += check_lock(root / "pyproject.toml", root / lock, extras)
    return problems


def main(argv: list[str]) -> int:
    if argv[1:2] != ["check"]:
        print("usage: python tools/lockfile.py check", file=sys.stderr)
        return 2
    problems = check()
    if problems:
        print("The lock files do not match pyproject.toml:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        print(f"Fix: {FIX}.", file=sys.stderr)
        return 1
    print("Lock files match pyproject.toml: " + ", ".join(LOCKS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
