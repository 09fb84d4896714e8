"""Transcripts and summaries: caption segments stored per session, and extractive summaries of them."""
