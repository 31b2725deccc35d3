"""Benchmark of the PDF gap report: our whole render against WeasyPrint alone on the same HTML.

Run from the repository root: ``.venv/bin/python bench/pdf.py`` (``make bench``). Options: ``--runs N``
(timed runs per measurement, default 7, after one discarded warm-up), ``--markdown`` (also print a table for
docs/benchmarks.md) and ``--json PATH`` (write the raw figures).

It builds an app on a fresh SQLite database in a temporary directory, loads the demo data and renders the
full gap report of the demo's submitted "Annual self-assessment 2026" of the "Anti-Trafficking Unit" (it
has gaps and a previous submitted assessment, so every section, the comparison included, is in the PDF).

  (a) our whole render   app.reports.services.render_report_pdf: report context, Jinja template, WeasyPrint
  (b) WeasyPrint alone   the same HTML (rendered once beforehand) through weasyprint.HTML(...).write_pdf()
                         with the same base URL, URL fetcher and pdf_tags=True as app.reports.pdf.render_pdf
  (c) context + template report context and "pdf/report.html", no PDF: what (a) adds to (b)

Each timed run of (a) and (c) gets a fresh request context, hence a fresh database session, with the
Assessment loaded (outside the timing) the way the view loads it; the lazy loads of its unit, agency and
targets happen inside the timing, as in a real download. The three measurements are interleaved run by run
so that machine noise hits them alike; a full garbage collection precedes each timed run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from io import BytesIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask import Flask, render_template  # noqa: E402
from pypdf import PdfReader  # noqa: E402
from sqlalchemy import select  # noqa: E402
from weasyprint import HTML  # noqa: E402

from app import create_app  # noqa: E402
from app.db import db  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Assessment, Unit  # noqa: E402
from app.reports.pdf import BASE_URL, StaticOnlyFetcher  # noqa: E402
from app.reports.services import build_context, render_report_pdf  # noqa: E402

UNIT = "Anti-Trafficking Unit"
TITLE = "Annual self-assessment 2026"
LABELS = {
    "whole": "(a) our whole render",
    "weasyprint": "(b) WeasyPrint alone",
    "template": "(c) context + template",
}


@dataclass
class Timing:
    runs_ms: list[float]  # wall clock
    cpu_ms: list[float]  # this process's CPU time, less sensitive to other load on a shared machine

    @property
    def median(self) -> float:
        return statistics.median(self.runs_ms)

    @property
    def min(self) -> float:
        return min(self.runs_ms)

    @property
    def max(self) -> float:
        return max(self.runs_ms)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu_ms)

    def as_dict(self) -> dict[str, Any]:
        return {"median_ms": round(self.median, 2), "min_ms": round(self.min, 2), "max_ms": round(self.max, 2),
                "cpu_median_ms": round(self.cpu_median, 2), "runs_ms": [round(x, 2) for x in self.runs_ms],
                "cpu_ms": [round(x, 2) for x in self.cpu_ms]}


def make_app(tmp: Path) -> tuple[Flask, int]:
    """A fresh, migrated SQLite database with the demo data; returns the app and the report's assessment id."""
    url = f"sqlite:///{tmp}/bench.sqlite3"
    # SECRET_KEY given so that nothing is written to the checkout's instance folder.
    app = create_app({"APP_ENV": "test", "SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-" + os.urandom(16).hex(),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    upgrade(url)
    from app import demo

    with app.app_context():
        with db.writing() as s:
            demo.load(s, app.extensions["content"].current)
        aid = db.session.scalars(
            select(Assessment.id).join(Unit, Assessment.unit_id == Unit.id)
            .where(Unit.name == UNIT, Assessment.title == TITLE)
        ).one()
    return app, aid


def timed(fn: Callable[[], Any]) -> tuple[tuple[float, float], Any]:
    """((wall ms, CPU ms), result) of one call, after a full garbage collection."""
    gc.collect()
    c0, t0 = time.process_time(), time.perf_counter()
    out = fn()
    return ((time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000), out


def traced_peak(fn: Callable[[], Any]) -> int:
    """Peak of Python allocations (bytes) during one call, by tracemalloc (C libraries' memory not counted)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def max_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # bytes on macOS, KiB on Linux


def run(runs: int) -> dict[str, Any]:
    started = time.perf_counter()
    load_at_start = load_average()
    phases: dict[str, float] = {}

    def phase(name: str, since: float) -> float:
        now = time.perf_counter()
        phases[name] = round(now - since, 1)
        return now

    with tempfile.TemporaryDirectory(prefix="thb-bench-") as tmpdir:
        app, aid = make_app(Path(tmpdir))
        static = app.static_folder or ""
        mark = phase("setup_s", started)

        def in_request(body: Callable[[Assessment], Any]) -> Callable[[], tuple[tuple[float, float], Any]]:
            """One fresh request context (fresh session); the Assessment is loaded before timing starts."""

            def call() -> tuple[tuple[float, float], Any]:
                with app.test_request_context():
                    a = db.session.get(Assessment, aid)
                    assert a is not None
                    return timed(lambda: body(a))

            return call

        with app.test_request_context():  # a full gap report: gaps, and the comparison with 2025
            ctx = build_context(db.session.get(Assessment, aid))  # type: ignore[arg-type]
            if not ctx.gaps or ctx.comparison is None or ctx.provisional:
                raise SystemExit(f"demo assessment {aid} is not a submitted report with gaps and a comparison")
            n_gaps = len(ctx.gaps)

        whole = in_request(render_report_pdf)
        template = in_request(lambda a: render_template("pdf/report.html", r=build_context(a)))
        _, html = template()  # the HTML given to WeasyPrint alone, rendered once beforehand

        def weasyprint_alone() -> bytes:
            doc = HTML(string=html, base_url=BASE_URL, url_fetcher=StaticOnlyFetcher(static))
            return doc.write_pdf(pdf_tags=True)  # type: ignore[no-any-return]

        measures: dict[str, Callable[[], tuple[tuple[float, float], Any]]] = {
            "whole": whole, "weasyprint": lambda: timed(weasyprint_alone), "template": template}
        wall: dict[str, list[float]] = {k: [] for k in measures}
        cpu: dict[str, list[float]] = {k: [] for k in measures}
        last: dict[str, Any] = {}
        for i in range(runs + 1):  # round 0 is the warm-up (fonts, caches, lazy imports), discarded
            shown = []
            for key, fn in measures.items():
                (ms, cpu_ms), out = fn()
                shown.append(f"{key} {ms:.0f} ms")
                if i > 0:
                    wall[key].append(ms)
                    cpu[key].append(cpu_ms)
                last[key] = out
            print(f"  round {i}/{runs}{' (warm-up, discarded)' if i == 0 else ''}: {', '.join(shown)}",
                  file=sys.stderr)
            if i == 0:
                mark = phase("warmup_s", mark)
        mark = phase("timed_s", mark)
        rss = max_rss_bytes()  # before tracemalloc, whose own bookkeeping would inflate it

        peak_whole = traced_peak(whole)
        peak_weasy = traced_peak(weasyprint_alone)
        phase("memory_s", mark)
        pdf = last["whole"]
        pages = len(PdfReader(BytesIO(pdf)).pages)
        pages_alone = len(PdfReader(BytesIO(last["weasyprint"])).pages)
        timings = {k: Timing(wall[k], cpu[k]) for k in measures}
        return {
            "report": {"unit": UNIT, "title": TITLE, "assessment_id": aid, "html_bytes": len(html.encode()),
                       "pdf_bytes": len(pdf), "pages": pages, "pages_weasyprint_alone": pages_alone,
                       "gaps": n_gaps},
            "runs": runs,
            "timings": {k: t.as_dict() for k, t in timings.items()},
            "ratio_whole_over_weasyprint": round(timings["whole"].median / timings["weasyprint"].median, 3),
            "ratio_whole_over_weasyprint_cpu": round(timings["whole"].cpu_median
                                                     / timings["weasyprint"].cpu_median, 3),
            "template_share_of_whole": round(timings["template"].median / timings["whole"].median, 3),
            "memory": {"tracemalloc_peak_whole_bytes": peak_whole, "tracemalloc_peak_weasyprint_bytes": peak_weasy,
                       "max_rss_bytes": rss, "max_rss_bytes_after_tracemalloc": max_rss_bytes()},
            "machine": {**machine(), "load_average_at_start": load_at_start},
            "phases": phases,
            "wall_seconds": round(time.perf_counter() - started, 1),
        }


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "implementation": platform.python_implementation(),
            "weasyprint": version("weasyprint"), "pydyf": version("pydyf"), "flask": version("flask"),
            "platform": platform.platform(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
            "load_average_at_end": load_average()}


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def _versions(m: dict[str, Any]) -> str:
    start, end = ("/".join(f"{x:.1f}" for x in m[k]) or "n/a" for k in ("load_average_at_start",
                                                                         "load_average_at_end"))
    return (f"Python {m['python']} ({m['implementation']}), WeasyPrint {m['weasyprint']}, pydyf {m['pydyf']}, "
            f"Flask {m['flask']}; {m['cpu_count']} CPUs, {m['machine']}, {m['platform']}; "
            f"load average (1/5/15 min) {start} at start, {end} at end")


def text_report(r: dict[str, Any]) -> str:
    m, rep, mem, ph = r["machine"], r["report"], r["memory"], r["phases"]
    lines = [
        f"PDF gap report benchmark: {rep['unit']} / {rep['title']} "
        f"(median of {r['runs']} runs, 1 warm-up discarded)",
        _versions(m),
        "",
        f"{'measurement':<26}{'median ms':>11}{'min ms':>9}{'max ms':>9}{'CPU median ms':>15}",
    ]
    for key, label in LABELS.items():
        t = r["timings"][key]
        lines.append(f"{label:<26}{t['median_ms']:>11.0f}{t['min_ms']:>9.0f}{t['max_ms']:>9.0f}"
                     f"{t['cpu_median_ms']:>15.0f}")
    lines += [
        "",
        f"our render / WeasyPrint alone: {r['ratio_whole_over_weasyprint']:.2f}x wall clock, "
        f"{r['ratio_whole_over_weasyprint_cpu']:.2f}x CPU "
        f"(context + template = {r['template_share_of_whole']:.1%} of our render)",
        f"PDF: {rep['pdf_bytes'] / 1024:.0f} KiB, {rep['pages']} pages, {rep['gaps']} gap sections "
        f"(HTML {rep['html_bytes'] / 1024:.0f} KiB)",
        f"Peak Python allocations (tracemalloc), one render: (a) {mib(mem['tracemalloc_peak_whole_bytes'])}, "
        f"(b) {mib(mem['tracemalloc_peak_weasyprint_bytes'])}",
        f"Process max RSS (setup and timed runs, before tracemalloc): {mib(mem['max_rss_bytes'])}",
        f"Whole benchmark: {r['wall_seconds']:.0f} s (setup {ph['setup_s']:.0f} s, warm-up {ph['warmup_s']:.0f} s, "
        f"timed runs {ph['timed_s']:.0f} s, memory {ph['memory_s']:.0f} s)",
    ]
    return "\n".join(lines)


def markdown_report(r: dict[str, Any]) -> str:
    m, rep, mem = r["machine"], r["report"], r["memory"]
    rows = [
        "| Measurement | Median (ms) | Min (ms) | Max (ms) | CPU median (ms) |",
        "|---|---:|---:|---:|---:|",
    ]
    for key, label in LABELS.items():
        t = r["timings"][key]
        rows.append(f"| {label} | {t['median_ms']:.0f} | {t['min_ms']:.0f} | {t['max_ms']:.0f} "
                    f"| {t['cpu_median_ms']:.0f} |")
    return "\n".join([
        f"PDF gap report of the demo's \"{rep['title']}\" ({rep['unit']}): {rep['pages']} pages, "
        f"{rep['gaps']} gap sections and the comparison with the previous assessment, "
        f"{rep['pdf_bytes'] / 1024:.0f} KiB (HTML {rep['html_bytes'] / 1024:.0f} KiB). "
        f"Median of {r['runs']} runs after one discarded warm-up.",
        "",
        *rows,
        "",
        "| Figure | Value |",
        "|---|---:|",
        f"| Our render / WeasyPrint alone (wall clock) | {r['ratio_whole_over_weasyprint']:.2f}× |",
        f"| Our render / WeasyPrint alone (CPU) | {r['ratio_whole_over_weasyprint_cpu']:.2f}× |",
        f"| Context + template, share of our render | {r['template_share_of_whole']:.1%} |",
        f"| Peak Python allocations, one render (a) | {mib(mem['tracemalloc_peak_whole_bytes'])} |",
        f"| Peak Python allocations, one render (b) | {mib(mem['tracemalloc_peak_weasyprint_bytes'])} |",
        f"| Process max RSS (setup and timed runs) | {mib(mem['max_rss_bytes'])} |",
        "",
        f"{_versions(m)}. Command: `.venv/bin/python bench/pdf.py --runs {r['runs']} --markdown`.",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per measurement (default 7)")
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown table for docs")
    parser.add_argument("--json", metavar="PATH", help="write the raw figures to PATH")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    result = run(args.runs)
    print(text_report(result))
    if args.markdown:
        print()
        print(markdown_report(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
