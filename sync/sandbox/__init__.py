"""Dynchat's local Marketo: the REST and Bulk API with generated data, real limits and faults.

    from sync.sandbox import MarketoSandbox, Dataset, Limits, Fault

    with MarketoSandbox(Dataset(leads=1000, companies=100, activities=5000)) as sandbox:
        sandbox.base_url  # point the Marketo client here

Run it on its own with ``python -m sync.sandbox --help``.
"""

from __future__ import annotations

from sync.sandbox.config import Changes, Dataset, Fault, Limits, SandboxStats
from sync.sandbox.sandbox import MarketoSandbox

__all__ = ["Changes", "Dataset", "Fault", "Limits", "MarketoSandbox", "SandboxStats"]
