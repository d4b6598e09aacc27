"""The Marketo page (``marketo``) and the mirrored leads (``leads``)."""

from __future__ import annotations
