"""Push delivery of CUSRSP answers to operators' webhooks: signed, retried, logged, replayable.

`signing` (the signature scheme, also for receivers), `retry` (the back-off
schedule), `repository` (database access), `delivery` (one signed POST),
`worker` (the loop `aedex worker --stage webhooks` runs), `schemas` (API shapes;
the routes are service.api.webhooks).
"""
