"""Builds the widget: sources in widget/js/, minified into static/widget/ (committed)."""

from __future__ import annotations

import gzip
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
