"""Tests of the template: questions, renders, generated services."""
