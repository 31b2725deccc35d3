"""`flask content check FILE`: validates a content file without starting anything (exit 0 / exit 1)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from app.config import ROOT

REAL_PATH = ROOT / "recommendations.json"
RAW = json.loads(REAL_PATH.read_text(encoding="utf-8"))


def run_check(path: Path | str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "APP_ENV": "test", "CONTENT_FILE": str(REAL_PATH)}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi.py", "content", "check", str(path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def test_check_accepts_the_real_file():
    n_questions = sum(len(r["questions"]) for r in RAW["recommendations"])
    res = run_check(REAL_PATH)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[0] == (f"OK {REAL_PATH}: version {RAW['version']}, 10 recommendations, "
                                  f"{n_questions} questions")
    assert "INVALID" not in res.stderr


def test_check_rejects_a_bad_weight_with_the_exact_path(tmp_path):
    data = copy.deepcopy(RAW)
    data["recommendations"][3]["pillars"]["fear"] = 3
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    res = run_check(bad)
    assert res.returncode == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr  # one line, no traceback
    assert lines[0].startswith(f"INVALID {bad}: $.recommendations[3].pillars.fear: ")
    assert "maximum of 2" in lines[0]


def test_check_rejects_a_dangling_reference_with_the_exact_path(tmp_path):
    data = copy.deepcopy(RAW)
    data["technologies"][1]["stages"][0] = "Z"
    bad = tmp_path / "dangling.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    res = run_check(bad)
    assert res.returncode == 1
    assert res.stderr.strip() == f"INVALID {bad}: $.technologies[1].stages[0]: unknown stage 'Z'"


def test_check_rejects_invalid_json_and_a_missing_file(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"version": "1",\n  "title": }', encoding="utf-8")
    res = run_check(broken)
    assert res.returncode == 1
    assert res.stderr.startswith(f"INVALID {broken}: line 2 column 12: invalid JSON")
    missing = tmp_path / "missing.json"
    res = run_check(missing)
    assert res.returncode == 1
    assert res.stderr.startswith(f"INVALID {missing}: $: cannot read file")
    assert "Traceback" not in res.stderr
