"""`make bench`: synthetic registries of 10k and 100k firms on SQLite and PostgreSQL, and a load test of the
firm list, search and file pages and their JSON API (docs/benchmarks.md holds the latest figures).

Never imported by the app or the tests; timings belong here, not in the suite (docs/STYLE.md §7).
"""

from __future__ import annotations

import os

# The bench databases hold the demo accounts (password `ladder-demo`); app.config refuses the placeholder
# secret outside demo mode, and it is read on import of anything under app/.
os.environ.setdefault("LADDER_DEMO_MODE", "1")
