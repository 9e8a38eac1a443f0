"""Transient IO errors are retried with backoff; everything else fails fast.

Assets carry ``TRANSIENT_IO`` as their retry policy; ``fail_fast_on_data_errors``
turns any error that is not an ``OSError`` into a ``dg.Failure`` that Dagster
does not retry (a bad row or a bug will not fix itself on the third try).
"""

from contextlib import contextmanager

import dagster as dg

TRANSIENT_IO = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@contextmanager
def fail_fast_on_data_errors(what: str):
    try:
        yield
    except (OSError, dg.Failure):
        raise
    except Exception as error:
        raise dg.Failure(description=f"{what}: {type(error).__name__}: {error}", allow_retries=False) from error
