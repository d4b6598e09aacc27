"""Builds the widget: sources in widget/js/, minified into static/widget/ (committed).

A bundle's source is one file, or a folder (the chat frame, widget/js/frame/) whose parts are
joined in name order inside one strict-mode function, under a licence banner: the parts share one
scope, as if they were one file.

.venv/bin/python -m widget.build           # rebuild
.venv/bin/python -m widget.build --check   # fail if a built file is stale or over budget

Budgets (gzip): the loader alone; the chat frame as a whole, i.e. its HTML document (rendered for a
sample site) plus frame.js plus frame.css, everything it loads.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import django
import rcssmin
import rjsmin
from django.conf import settings

from widget.appearance import Appearance

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "widget" / "js"
OUTPUT = ROOT / "static" / "widget"
TEMPLATES = ROOT / "templates"
FRAME_DOCUMENT = "widget/frame.html"
FRAME_BUDGET_GZIP_BYTES = 30 * 1024


# How a folder's parts are joined; the banner is a `/*! */` comment, which the minifier keeps.
WRAPPER = '/*! {banner} */\n(() => {{\n  "use strict";\n\n{parts}}})();\n'


@dataclass(frozen=True)
class Bundle:
    source: str  # a file in widget/js/, or a folder there whose *.js parts are joined
    output: str
    budget_gzip_bytes: int
    banner: str = ""  # a folder's licence banner


BUNDLES = (
    Bundle("loader.js", "widget.js", 5 * 1024),
    # Each within the frame's budget; together with the document, checked by frame_sizes().
    Bundle("frame", "frame.js", FRAME_BUDGET_GZIP_BYTES, "Dynchat chat frame | AGPL-3.0-or-later"),
    Bundle("frame.css", "frame.css", FRAME_BUDGET_GZIP_BYTES),
)
FRAME_BUNDLES = ("frame.js", "frame.css")


def minify(source: str) -> str:
    return str(rjsmin.jsmin(source, keep_bang_comments=True)) + "\n"


def minify_css(source: str) -> str:
    return str(rcssmin.cssmin(source, keep_bang_comments=True)) + "\n"


def parts(folder: Path) -> list[Path]:
    """A folder bundle's parts, in name order (``1-….js``, ``2-….js``, …)."""
    return sorted(folder.glob("*.js"), key=lambda path: path.name)


def source_of(bundle: Bundle) -> str:
    """The bundle's source before minifying: its file, or its folder's parts joined."""
    path = SOURCES / bundle.source
    if not path.is_dir():
        return path.read_text()
    found = parts(path)
    if not found:
        raise FileNotFoundError(f"{path} holds no *.js parts")
    joined = "\n".join(part.read_text() for part in found)
    return WRAPPER.format(banner=bundle.banner, parts=joined)


def build(bundle: Bundle) -> str:
    source = source_of(bundle)
    return minify_css(source) if bundle.source.endswith(".css") else minify(source)


def gzip_size(text: str) -> int:
    return len(gzip.compress(text.encode(), compresslevel=9, mtime=0))


def sample_config() -> dict[str, Any]:
    """What widget.views.frame puts in the data island, for a sample site with default looks."""
    return {
        "site": "s" * 22,
        "host": "https://www.example.com",
        "api": "/api/widget/v1",
        "appearance": Appearance().public(None),
        "preview": False,
    }


def frame_document() -> str:
    """The chat frame's HTML document as a sample site gets it."""
    if not settings.configured:
        # Run as a script: only the template engine is needed, not Dynchat's settings.
        settings.configure(
            INSTALLED_APPS=[],
            STATIC_URL="/static/",
            TEMPLATES=[
                {
                    "BACKEND": "django.template.backends.django.DjangoTemplates",
                    "DIRS": [TEMPLATES],
                }
            ],
        )
        django.setup()
    from django.template.loader import render_to_string

    return render_to_string(FRAME_DOCUMENT, {"config": sample_config()})


def frame_sizes() -> dict[str, int]:
    """The gzip size of everything the chat frame loads, by part."""
    bundles = {bundle.output: bundle for bundle in BUNDLES}
    sizes = {"document": gzip_size(frame_document())}
    for name in FRAME_BUNDLES:
        sizes[name] = gzip_size(build(bundles[name]))
    return sizes


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
    sizes = frame_sizes()
    total = sum(sizes.values())
    parts = " + ".join(f"{name} {size} B" for name, size in sizes.items())
    print(f"chat frame: {parts} = {total} B gzip (budget {FRAME_BUDGET_GZIP_BYTES} B)")
    if total > FRAME_BUDGET_GZIP_BYTES:
        problems.append("the chat frame (document + frame.js + frame.css) is over its gzip budget")
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
