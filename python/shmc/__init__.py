"""shmc -- multiprocessing.Manager's objects, living in shared memory.

    import shmc
    with shmc.Manager() as m:
        ls = m.list([1, 2])
        ...

Every object the Manager serves (Namespace, list, dict, Value, Array,
Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier,
Queue, JoinableQueue, Pool) with the same constructor arguments, methods,
exceptions and printed forms, but each operation is a call into the
shared-memory C library instead of a round trip to a server process, and
a process killed at any point leaves the others working.

`import shmc as multiprocessing` works too: every other name of the
multiprocessing package (Process, Queue, Pool, ...) is multiprocessing's own.
"""
import multiprocessing as _mp

from . import _pickle  # noqa: F401  (installs the pickle helpers)
from ._shmc import (LIBRARY_VERSION, AcquirerProxy, Arena, ArenaFullError,
                    ArrayProxy, BarrierProxy, BaseProxy, ConditionProxy,
                    CorruptError, DictProxy, Error, EventProxy, ListProxy,
                    NamespaceProxy, OwnerDeadWarning, ValueProxy, add, attach,
                    cas)
from .managers import Manager, SyncManager, connect
from .pool import AsyncResult, IMapIterator, PoolProxy

__version__ = "0.1.0"

__all__ = [
    "Manager", "SyncManager", "connect", "attach", "Arena", "add", "cas",
    "BaseProxy", "NamespaceProxy", "ListProxy", "DictProxy", "ValueProxy",
    "ArrayProxy", "AcquirerProxy", "ConditionProxy", "EventProxy",
    "BarrierProxy", "PoolProxy", "AsyncResult", "IMapIterator",
    "Error", "ArenaFullError", "CorruptError", "OwnerDeadWarning",
    "LIBRARY_VERSION",
]


def __getattr__(name):
    # import shmc as multiprocessing: the rest is multiprocessing's.
    try:
        return getattr(_mp, name)
    except AttributeError:
        raise AttributeError(f"module 'shmc' has no attribute {name!r}") from None
