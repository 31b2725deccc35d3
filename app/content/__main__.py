"""Check content files without starting the app: ``python -m app.content check FILE [FILE ...]``."""

from __future__ import annotations

import sys

from . import ContentError, load_file


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m app.content check FILE [FILE ...]", file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        try:
            c = load_file(path)
        except ContentError as exc:
            print(f"INVALID {exc}", file=sys.stderr)
            status = 1
            continue
        print(f"OK {path}: version {c.version}, {len(c.recommendations)} recommendations, {len(c.questions)} questions")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
