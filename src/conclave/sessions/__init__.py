"""Sessions (live occurrences of a room) and participants (one person's presence in one)."""
