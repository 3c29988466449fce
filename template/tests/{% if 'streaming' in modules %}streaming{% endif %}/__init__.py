"""Tests of the streaming module."""
