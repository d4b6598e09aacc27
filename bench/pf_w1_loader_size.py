"""PF-W1: the loader's weight in the host page, minified + gzip -9 (target ≤ 5 KB).

Baseline, measured in the same run: the unminified source, gzipped the same way.

    .venv/bin/python bench/pf_w1_loader_size.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from widget.build import OUTPUT, SOURCES, gzip_size

TARGET_KB = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the same: it takes milliseconds")
    parser.parse_args()
    source = (SOURCES / "loader.js").read_text()
    built = (OUTPUT / "widget.js").read_text()
    source_kb = gzip_size(source) / 1024
    built_kb = gzip_size(built) / 1024
    print(
        f"source  loader.js  {len(source) / 1024:6.2f} KB raw  {source_kb:5.2f} KB gzip (baseline)"
    )
    print(f"built   widget.js  {len(built) / 1024:6.2f} KB raw  {built_kb:5.2f} KB gzip")
    verdict = "" if built_kb <= TARGET_KB else " MISS"
    print(f"PF-W1 {built_kb:.2f} KB (target ≤ {TARGET_KB:.0f} KB){verdict}")


if __name__ == "__main__":
    main()
