"""The HTTP API (FastAPI, JSON under /v1): intake, records, responses, health."""
