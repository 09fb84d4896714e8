"""Janus implementation of the media port (WebSocket transport, adapter, settings)."""
