"""manager.Pool(): a multiprocessing.pool.Pool served through the arena.

The Manager runs the Pool in its server process and reaches it through
proxies; so does this, with a process of its own for the pool (its
server) instead of the Manager's, and the arena instead of sockets:

- the server owns a multiprocessing.pool.Pool, so the workers, the
  chunking, the callbacks and the exceptions are Python's own;
- requests travel on a queue in the arena: (method, arguments, result),
  the arguments pickled as the Manager pickles them;
- each result is a pair of managed objects -- a Namespace that receives
  (success, value) and an Event set once it is there -- so any process
  holding the AsyncResult (it pickles, like every proxy) may wait on it;
- imap results stream through a queue of their own.

The callbacks of *_async run in the server, as the Manager runs them in
its own, before the result is marked ready. The server stops when the
pool is terminated, or closed and done, or when the process that created
it (or the manager) goes; it is not a daemon, since a daemon cannot start
the pool's workers.
"""
import os
import queue
import threading
import weakref
from multiprocessing import TimeoutError, get_context, parent_process
from multiprocessing import pool as mp_pool

from . import _pickle

__all__ = ["PoolProxy", "AsyncResult", "IMapIterator"]

_POLL = 0.5  # seconds between the server's looks at its creator


# -- the client side -----------------------------------------------------

class AsyncResult:
    """What apply_async and map_async return (the Manager's
    AutoProxy[AsyncResult]): get, wait, ready, successful."""

    def __init__(self, ns, event, server_pid):
        self._ns = ns
        self._event = event
        self._server_pid = server_pid

    def __reduce__(self):
        return AsyncResult, (self._ns, self._event, self._server_pid)

    def __repr__(self):
        return "<AutoProxy[AsyncResult] object, typeid 'AsyncResult' at %#x>" % (
            self._event._id[0])

    def ready(self):
        return self._event.is_set()

    def successful(self):
        if not self.ready():
            raise ValueError("{0!r} not ready".format(self))
        return self._ns.success

    def wait(self, timeout=None):
        _wait(self._event, timeout, self._server_pid)

    def get(self, timeout=None):
        self.wait(timeout)
        if not self.ready():
            raise TimeoutError
        if self._ns.success:
            return self._ns.value
        raise self._ns.value


class IMapIterator:
    """What imap and imap_unordered return: an iterator over the results
    (the Manager's IteratorProxy); next(timeout) as IMapIterator has it."""

    def __init__(self, q, server_pid):
        self._q = q
        self._server_pid = server_pid
        self._done = False

    def __reduce__(self):
        return IMapIterator, (self._q, self._server_pid)

    def __iter__(self):
        return self

    def next(self, timeout=None):
        if self._done:
            raise StopIteration
        kind, value = _get(self._q, timeout, self._server_pid)
        if kind == "end":
            self._done = True
            raise StopIteration
        if kind == "error":
            raise value
        return value

    __next__ = next


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def _wait(event, timeout, server_pid):
    """event.wait(timeout), failing if the server died meanwhile."""
    if timeout is not None:
        event.wait(timeout)
        return
    while not event.wait(1.0):
        if not _alive(server_pid) and not event.is_set():
            raise RuntimeError("the pool's server process has died")


def _get(q, timeout, server_pid):
    if timeout is not None:
        try:
            return q.get(True, timeout)
        except queue.Empty:
            raise TimeoutError from None
    while True:
        try:
            return q.get(True, 1.0)
        except queue.Empty:
            if not _alive(server_pid):
                raise RuntimeError("the pool's server process has died") from None


class PoolProxy:
    """manager.Pool(): the methods of multiprocessing.pool.Pool, each a
    request to the pool's server."""

    def __init__(self, reqs, state, finished, server_pid):
        self._reqs = reqs
        self._state = state
        self._finished_ev = finished
        self._server_pid = server_pid
        self._arena = reqs._arena
        self._process = None

    @classmethod
    def _create(cls, arena, processes, initializer, initargs, maxtasksperchild,
                context):
        ctx = context if context is not None else get_context()
        reqs = arena.JoinableQueue(0)
        state = arena.Namespace()
        state.state = "INIT"
        state.pool_size = 0
        state.error = None
        ready = arena.Event()
        finished = arena.Event()
        proc = ctx.Process(
            target=_serve, name="shmc-pool-server",
            args=(reqs, state, ready, finished, processes, initializer, initargs,
                  maxtasksperchild))
        proc.start()
        while not ready.wait(1.0):
            if not proc.is_alive():
                break
        if state.state != "RUN":
            proc.join()
            raise RuntimeError("the pool's server did not start: %s" % (state.error,))
        p = cls(reqs, state, finished, proc.pid)
        p._process = proc
        # A pool whose creator lets go of it stops, as a Pool collected does.
        p._finalizer = weakref.finalize(p, _stop, reqs, finished, proc)
        return p

    def __reduce__(self):
        return PoolProxy, (self._reqs, self._state, self._finished_ev, self._server_pid)

    def __repr__(self):
        return "<PoolProxy object, typeid 'Pool' at %#x>" % self._reqs._id[0]

    def __str__(self):
        return "<multiprocessing.pool.Pool state=%s pool_size=%d>" % (
            self._state.state, self._state.pool_size)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.terminate()

    def _finished(self):
        return self._finished_ev.is_set()

    def _running(self):
        if self._state.state != "RUN":
            raise ValueError("Pool not running")

    def _request(self, method, args, a, b):
        # Pickled here, so that what cannot be pickled fails in the caller,
        # and what cannot be unpickled fails in the server as this result.
        payload, refs = _pickle.dumps(args, self._arena)
        self._reqs.put((method, payload, refs, a, b))

    def _result(self, method, args):
        self._running()
        ns = self._arena.Namespace()
        ev = self._arena.Event()
        self._request(method, args, ns, ev)
        return AsyncResult(ns, ev, self._server_pid)

    def apply_async(self, func, args=(), kwds={}, callback=None, error_callback=None):
        return self._result("apply_async", (func, args, kwds, callback, error_callback))

    def apply(self, func, args=(), kwds={}):
        return self.apply_async(func, args, kwds).get()

    def map_async(self, func, iterable, chunksize=None, callback=None,
                  error_callback=None):
        return self._result("map_async", (func, list(iterable), chunksize, callback,
                                          error_callback))

    def map(self, func, iterable, chunksize=None):
        return self.map_async(func, iterable, chunksize).get()

    def starmap_async(self, func, iterable, chunksize=None, callback=None,
                      error_callback=None):
        return self._result("starmap_async", (func, list(iterable), chunksize,
                                              callback, error_callback))

    def starmap(self, func, iterable, chunksize=None):
        return self.starmap_async(func, iterable, chunksize).get()

    def _imap(self, method, func, iterable, chunksize):
        self._running()
        q = self._arena.Queue(0)
        self._request(method, (func, list(iterable), chunksize), q, None)
        return IMapIterator(q, self._server_pid)

    def imap(self, func, iterable, chunksize=1):
        return self._imap("imap", func, iterable, chunksize)

    def imap_unordered(self, func, iterable, chunksize=1):
        return self._imap("imap_unordered", func, iterable, chunksize)

    def close(self):
        if self._state.state == "RUN":
            self._reqs.put(("close", b"", (), None, None))
            while self._state.state == "RUN" and not self._finished():
                self._finished_ev.wait(0.01)

    def terminate(self):
        if not self._finished():
            self._reqs.put(("terminate", b"", (), None, None))
            _wait(self._finished_ev, None, self._server_pid)
        self._reap()

    def join(self):
        if self._state.state == "RUN":
            raise ValueError("Pool is still running")
        _wait(self._finished_ev, None, self._server_pid)
        self._reap()

    def _reap(self):
        if self._process is not None and self._process._parent_pid == os.getpid():
            self._process.join()
            self._process = None

    def _shutdown(self):
        """The manager is shutting down: stop the pool."""
        fin = getattr(self, "_finalizer", None)
        if fin is not None:
            fin()


def _stop(reqs, finished, proc):
    try:
        if not finished.is_set():
            reqs.put(("terminate", b"", (), None, None))
            finished.wait(30)
        if proc is not None and proc._parent_pid == os.getpid():
            proc.join(30)
    except Exception:
        pass


# -- the server side -------------------------------------------------------

def _complete(ns, ev, success, value):
    ns.success = success
    try:
        ns.value = value
    except Exception as e:  # an unpicklable result: report why, as Python does
        ns.success = False
        ns.value = mp_pool.MaybeEncodingError(e, value)
    ev.set()


def _callbacks(ns, ev, callback, error_callback):
    def ok(value):
        if callback is not None:
            callback(value)
        _complete(ns, ev, True, value)

    def failed(exc):
        if error_callback is not None:
            error_callback(exc)
        _complete(ns, ev, False, exc)
    return ok, failed


def _stream(it, q):
    while True:
        try:
            item = ("value", next(it))
        except StopIteration:
            q.put(("end", None))
            return
        except BaseException as e:
            item = ("error", e)
        q.put(item)


def _handle(pool, method, payload, refs, a, b):
    """Start request METHOD on POOL; A and B receive its result."""
    try:
        args = _pickle.loads(payload, refs)
        if method in ("imap", "imap_unordered"):
            func, items, chunksize = args
            it = getattr(pool, method)(func, items, chunksize)
            threading.Thread(target=_stream, args=(it, a), daemon=True).start()
            return
        ok, failed = _callbacks(a, b, *args[-2:])
        if method == "apply_async":
            func, fargs, kwds = args[:3]
            pool.apply_async(func, fargs, kwds, ok, failed)
        elif method in ("map_async", "starmap_async"):
            func, items, chunksize = args[:3]
            getattr(pool, method)(func, items, chunksize, ok, failed)
            if not items:  # Python's Pool calls no callback then
                _complete(a, b, True, [])
    except BaseException as e:  # refused at once (pool closed, unpickling)
        if a is not None and b is not None:
            _complete(a, b, False, e)
        elif a is not None:
            a.put(("error", e))


def _serve(reqs, state, ready, finished, processes, initializer, initargs,
           maxtasksperchild):
    try:
        pool = mp_pool.Pool(processes, initializer, initargs, maxtasksperchild)
    except BaseException as e:
        state.error = repr(e)
        state.state = "FAILED"
        ready.set()
        finished.set()
        return
    state.pool_size = len(pool._pool)
    state.state = "RUN"
    ready.set()
    parent = parent_process()
    closer = None
    try:
        while True:
            try:
                req = reqs.get(True, _POLL)
            except queue.Empty:
                if parent is not None and not parent.is_alive():
                    break  # the creator is gone (its sentinel, any start method)
                if closer is not None and not closer.is_alive():
                    break
                continue
            if req[0] == "terminate":
                break
            if req[0] == "close":
                pool.close()
                state.state = "CLOSE"
                closer = threading.Thread(target=pool.join, daemon=True)
                closer.start()
                continue
            _handle(pool, *req)
            req = None  # hold no result object longer than the pool does
    finally:
        state.state = "TERMINATE" if closer is None else state.state
        pool.terminate()
        pool.join()
        finished.set()
