"""Builds the widget: sources in widget/js/, minified into static/widget/ (committed).

.venv/bin/python -m widget.build           # rebuild
.venv/bin/python -m widget.build --check   # fail if a built file is stale or over budget
"""

from __future__ import annotations

import argparse
import gzip
import sys
from dataclasses import dataclass
from pathlib import Path

import rjsmin

SOURCES = Path(__file__).resolve().parent / "js"
OUTPUT = Path(__file__).resolve().parent.parent / "static" / "widget"


@dataclass(frozen=True)
class Bundle:
    source: str
    output: str
    budget_gzip_bytes: int


BUNDLES = (Bundle("loader.js", "widget.js", 5 * 1024),)


def minify(source: str) -> str:
    return str(rjsmin.jsmin(source, keep_bang_comments=True)) + "\n"


def build(bundle: Bundle) -> str:
    return minify((SOURCES / bundle.source).read_text())


def gzip_size(text: str) -> int:
    return len(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def main(argv: list[str] | None = None) -> int:
    """Build every bundle (or, with --check, only verify the committed ones); 1 on a problem."""
    parser = argparse.ArgumentParser(prog="python -m widget.build", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if a built file is stale")
    check = parser.parse_args(argv).check
    problems = []
    for bundle in BUNDLES:
        built = build(bundle)
        target = OUTPUT / bundle.output
        size = gzip_size(built)
        if not check:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            target.write_text(built)
        elif not target.exists() or target.read_text() != built:
            problems.append(f"{bundle.output} is stale: run `.venv/bin/python -m widget.build`")
        if size > bundle.budget_gzip_bytes:
            problems.append(f"{bundle.output} is over its gzip budget")
        print(
            f"{bundle.output}: {len(built)} B, {size} B gzip (budget {bundle.budget_gzip_bytes} B)"
        )
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
