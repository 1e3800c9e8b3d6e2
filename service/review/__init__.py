"""Officers' casework: the queue and claims, the case view, decisions and amendments.

The JSON API (service.api.review, service.api.cases) and the web UI (service.ui)
both call these functions, so the two can never disagree on what a claim or a
decision means.
"""
