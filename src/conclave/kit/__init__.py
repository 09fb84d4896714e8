"""Shared plumbing used by every domain: database, errors, pagination, ids, crypto, events."""
