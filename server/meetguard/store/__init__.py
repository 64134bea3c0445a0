"""Audit-log stores and shared state behind small protocols (see `base`).

`SQLiteLogStore` + `LocalState` is the embedded default; `RedisLogStore` + `RedisState` share
the log, counters, scan cache, rate limits and reload channel between many instances.
"""

from meetguard.store.base import (
    LogPage,
    LogQuery,
    LogRecord,
    LogStore,
    SharedState,
    StoreError,
    counter_key,
    new_record_id,
)

__all__ = [
    "LogPage",
    "LogQuery",
    "LogRecord",
    "LogStore",
    "SharedState",
    "StoreError",
    "counter_key",
    "new_record_id",
]
