"""Recordings: Janus ``.mjr`` captures turned into downloadable media by durable jobs."""
