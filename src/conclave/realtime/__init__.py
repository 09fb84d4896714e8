"""The realtime layer: signalling sockets, live room state, and media orchestration."""
