"""``benchmarks`` is a folder of scripts run with ``python -m`` from the checkout, not an
installed package: the tests import it from the checkout too."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
