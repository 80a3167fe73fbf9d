"""Transcripts from anywhere (the study's released JSON, Inspect logs), replayed in the world."""
