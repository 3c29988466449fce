"""Streaming: exports that flow from the database row by row, and jobs followed
live with Server-Sent Events."""
