"""Quota planning at scale: allocation, override and publishing for N reps (default 5,000), printed.

python scripts/plan_bench.py --reps 5000
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spm_core.planning.bench import report, run  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--reps", type=int, default=5_000)
args = parser.parse_args()
with tempfile.TemporaryDirectory() as folder:
    print(report(run(Path(folder) / "plan_bench.duckdb", args.reps)))
