"""Data deletion as the reference defines it: a session's or rooms' stored content, history and library."""
