"""Tests of the scheduling module."""
