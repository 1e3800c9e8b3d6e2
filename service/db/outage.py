"""Is a failure the data's fault or an outage? The answer decides between refusing a record
(or a request) and retrying it later."""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError


def is_data_error(error: DBAPIError) -> bool:
    """True for errors caused by the data (constraint, bad value, a value the database cannot
    take); everything else (operational, interface, a lost connection) is an outage."""
    return not error.connection_invalidated and isinstance(
        error, IntegrityError | DataError | ProgrammingError
    )


def is_outage(error: BaseException) -> bool:
    """The database or the network is down (also: disk full, database locked). Never the
    record's or the request's fault: retry it, blame nothing."""
    if isinstance(error, DBAPIError):
        return not is_data_error(error)
    return isinstance(error, OSError | TimeoutError)
