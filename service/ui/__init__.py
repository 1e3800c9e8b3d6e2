"""The officers' web UI: server-rendered pages over the review service (see routes.install)."""
