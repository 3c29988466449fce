"""Tests of the websocket module."""
