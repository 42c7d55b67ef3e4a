"""nxhub cluster tests read the chart's rendered manifests through tests/helm/helmkit.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helm"))
