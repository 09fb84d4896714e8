"""Rooms: settings, defaults, lifecycle."""
