"""The dialogues admin: the list, the builder (flow, targeting, versions, test as visitor)."""
