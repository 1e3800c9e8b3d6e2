"""Integration harness: record and replay message streams (issue 16)."""
