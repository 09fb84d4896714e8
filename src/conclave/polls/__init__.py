"""Polls: drafted over the API, launched in a meeting, voted on live, results kept per session."""
