# The no-overlap guarantee for an agent's meetings is an exclusion constraint mixing equality on
# the agent with overlap of the time range, which needs btree_gist.
from __future__ import annotations

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations


class Migration(migrations.Migration):
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [BtreeGistExtension()]
