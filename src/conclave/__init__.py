"""Conclave: a self-hosted video platform with a native REST API and drop-in vendor surfaces."""

__version__ = "0.1.0"
