"""Scenes: stored room templates (name, thumbnail, layout and background settings)."""
