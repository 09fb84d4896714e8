"""Videsk VPaaS Rooms API (``/vpaas/rooms…``) mapped onto Conclave's rooms and access services."""
