"""The coverage benchmark (bench/cav_coverage.py) computes, in its reduced form: a short NDE
reference, three independent runs, their coverage, settling and tests needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "cav_coverage.py"


def test_the_reduced_coverage_benchmark_computes(tmp_path):
    result = subprocess.run([sys.executable, str(BENCH), "--reduced", "--cache", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.strip().startswith("NDE reference") for line in lines), result.stdout
    assert any("coverage" in line and "bias" in line for line in lines), result.stdout
    assert any("until-rhw, RHW alone" in line and "settled" in line for line in lines), result.stdout
    assert any("until-rhw, RHW + diagnostics, unseen <= 0.5" in line and "settled" in line for line in lines), result.stdout
    assert re.fullmatch(r"ratio (\d+\.\d\d|nan)", lines[-1]), result.stdout
    assert len(list(tmp_path.glob("cautious-nade-*.npz"))) == 3  # the runs are cached for the analysis
