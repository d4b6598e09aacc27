"""Settings of the widget benchmarks' web server: production's, plus a trivial baseline view.

Everything else comes from the environment exactly as in a deploy (bench/widget_bench.py sets
DEBUG off, a throwaway SECRET_KEY and RATELIMIT_ENABLED=false).
"""

from __future__ import annotations

from dynchat.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
