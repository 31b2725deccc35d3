"""Catalog tools for translators and the build: ``python -m app.i18n_tools COMMAND``.

- ``extract``: write ``app/translations/messages.pot`` from the templates and Python sources.
- ``update``: merge the template into every ``<lang>/LC_MESSAGES/messages.po`` (new msgids come in empty).
- ``import LANG FILE.json``: fill ``LANG``'s catalog from a translator's JSON (``{msgid: text}``, plurals as
  ``{"plural": …, "forms": [...]}``); see docs/translating.md.
- ``export LANG FILE.json``: the reverse, for a translator who prefers JSON to a .po editor.
- ``check``: every msgid translated in every language, placeholders identical, nothing fuzzy, and the
  template in step with the sources; exits 1 naming each problem.
- ``compile``: build the ``.mo`` files Flask-Babel reads (the install step runs it; they are not committed).

No Flask here: it runs before the app can start (``make`` install step) and in the tests.
"""

from __future__ import annotations

import ast
import io
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
POT = TRANSLATIONS / "messages.pot"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None,
            "lazy_ngettext": (1, 2), "_n": (1, 2)}
METHODS = [("app/**.py", "app.i18n_tools:extract_python"), ("app/templates/**.html", "jinja2")]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdfr]|\{\w*\}")
PROJECT = "thb"


def languages() -> list[str]:
    """Languages with a catalog (directories under app/translations)."""
    return sorted(p.parent.parent.name for p in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def po_path(lang: str) -> Path:
    return TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"


def extract_python(fileobj: Any, keywords: Any, comment_tags: Any, options: Any) -> Any:
    """Babel extraction method for Python built on ``ast``: unlike Babel's tokenizer it also finds
    ``_("…")`` inside f-strings (``f"{_('Gap')}: {x}"``), which would otherwise stay English."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in keywords):
            continue
        spec = KEYWORDS.get(node.func.id)
        n = 2 if spec == (1, 2) else 1
        args = node.args[:n]
        if len(args) == n and all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            values = tuple(a.value for a in args)  # type: ignore[attr-defined]
            yield node.lineno, node.func.id, values if n == 2 else values[0], []


def extract() -> Catalog:
    """The catalog template from the sources (locations as file names only, so diffs stay small)."""
    cat = Catalog(project=PROJECT, charset="utf-8")
    for filename, _lineno, message, comments, context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"app/templates/**.html": {"extensions": ""}},
    ):
        cat.add(message, None, [(filename, 0)], auto_comments=comments, context=context)
    return cat


def _messages(cat: Catalog) -> list[Any]:
    """The catalog's messages; Babel types ``Message.id`` loosely, so this module handles them as Any."""
    return list(cat)


def _write(cat: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, cat, width=100, sort_output=True, omit_header=False, include_lineno=False)
    path.write_bytes(buf.getvalue())


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def write_template() -> None:
    _write(extract(), POT)


def update(langs: Iterable[str] | None = None) -> None:
    template = _read(POT)
    for lang in langs or languages():
        path = po_path(lang)
        cat = _read(path, lang) if path.exists() else Catalog(locale=lang, project=PROJECT, charset="utf-8")
        cat.update(template, no_fuzzy_matching=True)
        cat.obsolete.clear()
        cat.fuzzy = False  # the header: a fuzzy header would be left out of the .mo, plural rules with it
        _write(cat, path)


def import_json(lang: str, source: Path) -> int:
    """Put a translator's JSON into the catalog of ``lang``; returns how many msgids it filled."""
    data: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    path = po_path(lang)
    if not path.exists():
        update([lang])
    cat = _read(path, lang)
    n = 0
    for msg in _messages(cat):
        if not msg.id:
            continue
        key = msg.id[0] if isinstance(msg.id, tuple) else msg.id
        value = data.get(key)
        if value is None:
            continue
        if isinstance(msg.id, tuple):
            forms = value.get("forms") if isinstance(value, dict) else None
            if not forms:
                continue
            msg.string = tuple(forms[: cat.num_plurals] + forms[-1:] * (cat.num_plurals - len(forms)))
        elif isinstance(value, str) and value.strip():
            msg.string = value
        else:
            continue
        msg.flags.discard("fuzzy")
        n += 1
    _write(cat, path)
    return n


def export_json(lang: str, target: Path) -> None:
    cat = _read(po_path(lang), lang)
    out: dict[str, Any] = {}
    for msg in _messages(cat):
        if not msg.id:
            continue
        if isinstance(msg.id, tuple):
            out[msg.id[0]] = {"plural": msg.id[1], "forms": list(msg.string)}
        else:
            out[msg.id] = msg.string
    target.write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def problems(langs: Iterable[str] | None = None) -> list[str]:
    """Everything that would show English (or break) in a translated page, one line each."""
    out: list[str] = []
    template = _read(POT)
    current = extract()
    wanted = {m.id for m in _messages(current) if m.id}
    have = {m.id for m in _messages(template) if m.id}
    out += [f"messages.pot: missing {mid!r} (run make extract)" for mid in sorted(wanted - have, key=str)]
    out += [f"messages.pot: stale {mid!r} (run make extract)" for mid in sorted(have - wanted, key=str)]
    for lang in langs or languages():
        path = po_path(lang)
        if not path.exists():
            out.append(f"{lang}: no catalog at {path.relative_to(ROOT)}")
            continue
        cat = _read(path, lang)
        by_id = {m.id: m for m in _messages(cat) if m.id}
        for mid in sorted(wanted, key=str):
            msg = by_id.get(mid)
            label = mid[0] if isinstance(mid, tuple) else mid
            if msg is None:
                out.append(f"{lang}: missing {label!r}")
                continue
            strings = list(msg.string) if isinstance(msg.string, tuple) else [msg.string]
            if msg.fuzzy:
                out.append(f"{lang}: fuzzy {label!r}")
            if not all(s and s.strip() for s in strings):
                out.append(f"{lang}: untranslated {label!r}")
                continue
            source = _placeholders(label)
            plural_source = _placeholders(mid[1]) if isinstance(mid, tuple) else source
            for i, s in enumerate(strings):
                got = _placeholders(s)
                plural_ok = isinstance(mid, tuple) and (got == plural_source or set(got) <= set(plural_source))
                ok = got == source or plural_ok
                if not ok:
                    out.append(f"{lang}: placeholders {got} in form {i} of {label!r}, the source has {source}")
    return out


def compile_all() -> list[Path]:
    written = []
    for lang in languages():
        path = po_path(lang)
        cat = _read(path, lang)
        mo = path.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, cat, use_fuzzy=False)
        written.append(mo)
    return written


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else ""
    if cmd == "extract":
        write_template()
        print(f"wrote {POT.relative_to(ROOT)}")
    elif cmd == "update":
        update(argv[1:] or None)
        print("updated", ", ".join(argv[1:] or languages()))
    elif cmd == "import" and len(argv) == 3:
        print(f"{argv[1]}: {import_json(argv[1], Path(argv[2]))} messages filled")
    elif cmd == "export" and len(argv) == 3:
        export_json(argv[1], Path(argv[2]))
    elif cmd == "check":
        found = problems(argv[1:] or None)
        for line in found:
            print(line, file=sys.stderr)
        if found:
            print(f"{len(found)} problem(s)", file=sys.stderr)
            return 1
        print("catalogs complete:", ", ".join(languages()))
    elif cmd == "compile":
        for mo in compile_all():
            print(f"compiled {mo.relative_to(ROOT)}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
