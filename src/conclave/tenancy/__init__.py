"""Organizations, projects, credentials and per-project limits."""
