"""XRCLOUD API v1.1 (``/api/projects``, ``/api/scenes``, ``/api/rooms``) onto Conclave's services."""
