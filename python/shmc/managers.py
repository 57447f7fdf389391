"""SyncManager and Manager(): multiprocessing.managers' names and
arguments, over an arena instead of a server process.

A started manager owns a named arena (a file under /dev/shm, mode 0600,
a unique name), which every process that receives one of its proxies --
forked, spawned, or from a forkserver -- opens by that name. shutdown()
(or leaving the with block, or the manager being collected, or the
interpreter exiting) removes the name; processes attached keep using the
arena until they let go of their proxies. If the creating process is
killed, multiprocessing's resource tracker removes the name.

connect(name) attaches to an arena another process created, without
owning it, to reach its named objects (find, setdefault, names, remove).
"""
import os
import secrets
import threading
import weakref

from multiprocessing import util
from multiprocessing.managers import RemoteError, State
from multiprocessing import ProcessError

from . import _shmc

__all__ = ["SyncManager", "Manager", "connect"]


class _PoolArgumentError(RemoteError, ValueError):
    """A Pool constructor argument the pool refuses. The Manager reports
    that as a RemoteError (the pool is built in its server); it is also a
    ValueError, which is what multiprocessing.Pool raises."""


def _unlink(path, pid):
    if os.getpid() != pid:  # a forked child exiting normally: not ours
        return
    try:
        os.unlink(path)
    except OSError:
        pass
    _untrack(path)


def _track(path):
    # If this process is killed, the resource tracker removes the name.
    if os.path.dirname(path) == "/dev/shm":
        try:
            from multiprocessing import resource_tracker
            resource_tracker.register("/" + os.path.basename(path),
                                      "shared_memory")
            return True
        except Exception:  # no tracker: the name may outlive a kill
            pass
    return False


def _untrack(path):
    if os.path.dirname(path) == "/dev/shm":
        try:
            from multiprocessing import resource_tracker
            resource_tracker.unregister("/" + os.path.basename(path),
                                        "shared_memory")
        except Exception:
            pass


def _finalize(path, pid, pools):
    for p in list(pools):
        try:
            p._shutdown()
        except Exception:
            pass
    _unlink(path, pid)


class SyncManager:
    """multiprocessing.managers.SyncManager's interface over a shmc arena.

    address, authkey, serializer and shutdown_timeout are accepted and
    ignored (there is no server). NAME names the arena (default: unique);
    CAPACITY is its address space in bytes (default 4 GiB, committed as
    used)."""

    def __init__(self, address=None, authkey=None, serializer='pickle',
                 ctx=None, *, shutdown_timeout=1.0, name=None, capacity=0):
        self._name = name
        self._capacity = capacity
        self._ctx = ctx
        self._arena = None
        self._state = State()
        self._state.value = State.INITIAL
        self._owner = False
        self._pools = weakref.WeakSet()
        self._lock = threading.Lock()
        self._finalizer = None
        self._pid = os.getpid()

    # -- lifetime ------------------------------------------------------

    def start(self, initializer=None, initargs=()):
        """Create the arena. INITIALIZER, which SyncManager runs in its
        server process, is called here with INITARGS."""
        if self._state.value != State.INITIAL:
            if self._state.value == State.STARTED:
                raise ProcessError("Already started server")
            elif self._state.value == State.SHUTDOWN:
                raise ProcessError("Manager has shut down")
            raise ProcessError(f"Unknown state {self._state.value!r}")
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        name = self._name or f"shmc-py-{os.getpid()}-{secrets.token_hex(6)}"
        self._arena = _shmc.Arena(name, create=True, capacity=self._capacity)
        self._owner = True
        self._pid = os.getpid()
        _track(self._arena.path)
        self._state.value = State.STARTED
        self._finalizer = util.Finalize(
            self, _finalize, args=(self._arena.path, self._pid, self._pools),
            exitpriority=0)
        if initializer is not None:
            initializer(*initargs)

    def shutdown(self):
        """Remove the arena's name and stop the pools made by this manager.
        Proxies keep working in the processes that hold them."""
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._state.value = State.SHUTDOWN

    def join(self, timeout=None):
        """There is no server process to wait for."""

    def connect(self):
        raise NotImplementedError(
            "shmc has no server: use shmc.connect(name) to attach to an arena")

    def get_server(self):
        raise NotImplementedError("shmc has no server process")

    @classmethod
    def register(cls, typeid, callable=None, proxytype=None, exposed=None,
                 method_to_typeid=None, create_method=True):
        raise NotImplementedError(
            "shmc serves the SyncManager's types only; register() needs a server")

    def __enter__(self):
        if self._state.value == State.INITIAL:
            self.start()
        if self._state.value != State.STARTED:
            raise ProcessError("Unable to enter manager: it has shut down")
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.shutdown()

    def __reduce__(self):
        raise TypeError("a manager cannot be pickled: pass its proxies")

    @property
    def address(self):
        """The arena's path: what shmc.connect() takes."""
        return self._arena.path if self._arena is not None else None

    @property
    def arena(self):
        return self._checked()

    def _checked(self):
        if self._state.value != State.STARTED:
            if self._state.value == State.INITIAL:
                raise ProcessError("Manager has not been started")
            raise ProcessError("Manager has shut down")
        return self._arena

    def _number_of_objects(self):
        """Managed objects alive in the arena (after what dead processes
        held is released), as the Manager counts its server's objects."""
        return self._checked().count_objects()

    def _debug_info(self):
        lines = []
        for o in self._checked().objects():
            lines.append("  %s: refcount=%s    <%s object at %#x>%s" % (
                o["id"], o["refs"], o["typeid"], o["offset"],
                " named %r" % o["name"] if o["name"] else ""))
        return "\n".join(lines)

    # -- the SyncManager's types ---------------------------------------

    def Namespace(self, **kwds):
        ns = self._checked().Namespace()
        for k, v in kwds.items():
            setattr(ns, k, v)
        return ns

    def list(self, sequence=()):
        return self._checked().list(list(sequence))

    def dict(self, *args, **kwds):
        return self._checked().dict(dict(*args, **kwds))

    def Value(self, typecode, value, lock=True):
        return self._checked().Value(typecode, value)

    def Array(self, typecode, sequence, lock=True):
        if isinstance(sequence, (str, bytes, bytearray)):
            raise TypeError("cannot use a str to initialize an array with "
                            "typecode %r" % (typecode,))
        return self._checked().Array(typecode, list(sequence))

    def Lock(self):
        return self._checked().Lock()

    def RLock(self):
        return self._checked().RLock()

    def Semaphore(self, value=1):
        return self._checked().Semaphore(value)

    def BoundedSemaphore(self, value=1):
        return self._checked().BoundedSemaphore(value)

    def Condition(self, lock=None):
        return self._checked().Condition(lock)

    def Event(self):
        return self._checked().Event()

    def Barrier(self, parties, action=None, timeout=None):
        if parties < 1:
            raise ValueError("parties must be > 0")
        return self._checked().Barrier(parties, action, timeout)

    def Queue(self, maxsize=0):
        return self._checked().Queue(maxsize)

    def JoinableQueue(self, maxsize=0):
        return self._checked().JoinableQueue(maxsize)

    def Pool(self, processes=None, initializer=None, initargs=(),
             maxtasksperchild=None, context=None):
        from .pool import PoolProxy
        if processes is not None and processes < 1:
            raise _PoolArgumentError("Number of processes must be at least 1")
        if maxtasksperchild is not None and (
                not isinstance(maxtasksperchild, int) or maxtasksperchild <= 0):
            raise _PoolArgumentError("maxtasksperchild must be a positive int or None")
        if initializer is not None and not callable(initializer):
            raise TypeError('initializer must be a callable')
        p = PoolProxy._create(self._checked(), processes, initializer, initargs,
                              maxtasksperchild, context or self._ctx)
        with self._lock:
            self._pools.add(p)
        return p

    # -- named objects: any process that opens the arena finds them ------

    def find(self, name):
        """The object named NAME (KeyError if there is none)."""
        return self._checked().find(name)

    def setdefault(self, name, obj):
        """The object named NAME; if there is none, OBJ is named so."""
        return self._checked().setdefault(name, obj)

    def remove(self, name):
        self._checked().remove(name)

    def names(self):
        return self._checked().names()


def Manager(*, ctx=None, **kwds):
    """A started SyncManager, as multiprocessing.Manager() returns."""
    m = SyncManager(ctx=ctx, **kwds)
    m.start()
    return m


def connect(name):
    """A manager of the existing arena NAME (its path, or its name under
    /dev/shm), made by another process: creates objects in it and reaches
    its named objects; shutdown() leaves the arena's name alone."""
    m = SyncManager()
    m._arena = _shmc.attach(name)
    m._state.value = State.STARTED
    return m
