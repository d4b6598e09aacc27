"""axe-core for the browser tests: the npm package pinned in tests/a11y/package-lock.json.

The first use installs it with `npm ci` (versions and integrity hashes from the lock file) into
tests/a11y/node_modules; in CI a missing npm fails the run, elsewhere the test is skipped.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, Page

from tests.browser import in_ci

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")


@functools.cache
def axe_source() -> str:
    if not SOURCE.exists():
        npm = shutil.which("npm")
        if npm is None:
            message = "npm not found: install Node.js and npm to run the accessibility check"
            if in_ci():
                pytest.fail(message)
            pytest.skip(message)
        subprocess.run(
            [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            check=True,
        )
    return SOURCE.read_text()


def violations(target: Page | Frame, impacts: tuple[str, ...] = BLOCKING) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.x A/AA rules in ``target`` with one of ``impacts``.

    Evaluated through the browser's devtools protocol, which the frame's CSP does not block
    (a <script> tag would be, rightly).
    """
    target.evaluate(axe_source())
    found: list[dict[str, Any]] = target.evaluate(
        """async () => {
            const result = await axe.run(document, {
                runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
                resultTypes: ["violations"],
            });
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => n.target.join(" ")),
            }));
        }"""
    )
    return [violation for violation in found if violation["impact"] in impacts]
