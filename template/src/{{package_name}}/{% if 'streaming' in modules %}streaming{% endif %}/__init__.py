"""Streaming: exports that flow from the database to the client row by row."""
