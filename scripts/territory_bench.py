"""Territory balancing at scale: read measures, propose (potential, workload) and accept, printed.

python scripts/territory_bench.py --accounts 50000 --territories 40
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spm_core.planning.territories.bench import report, run  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--accounts", type=int, default=50_000)
parser.add_argument("--territories", type=int, default=40)
args = parser.parse_args()
with tempfile.TemporaryDirectory() as folder:
    print(report(*run(Path(folder) / "territory_bench.duckdb", args.accounts, args.territories)))
