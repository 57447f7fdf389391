#!/usr/bin/env python3
"""bench_manager.py -- the Python peer: multiprocessing.Manager.

The same operations as bench_shmc.c, on a SyncManager's Namespace, dicts
and lists, with the methodology of bench/bench.h: each process count runs
in forked children that warm up for half a repetition and then run REPS
time-boxed repetitions, each started by a barrier. Every Manager operation
is a round trip to the server process (about 40 us), so a repetition holds
a few hundred to a few thousand operations instead of millions; figures are
still reported per operation.

Where the Manager has no single operation for what shmc does, the nearest
correct Python is measured and named in the record's note:
  ns_add, dict_add   `with lock: ns.c += 1` -- a Manager Namespace has no
                     atomic add, and `ns.c += 1` alone loses updates;
  arena_create       SyncManager().start() + shutdown(): a new server;
  arena_open         SyncManager(address).connect() from another process.

Prints one JSON line per record on stdout, progress on stderr.
"""
import argparse
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from multiprocessing.managers import SyncManager

SMALL, BIG = 10_000, 1_000_000


def key(k):
    return 'k%07d' % k


class Peer:
    """The manager and the proxies every operation uses."""

    def __init__(self):
        self.mgr = SyncManager()
        self.mgr.start()
        m = self.mgr
        self.ns = m.Namespace()
        self.ns.x = 0
        self.ns.c = 0
        self.arr = list(range(1, 11))
        self.ns.arr = self.arr
        self.dint = [m.dict(), m.dict()]
        self.dstr = [m.dict(), m.dict()]
        for big, n in ((0, SMALL), (1, BIG)):
            for lo in range(0, n, 100_000):
                hi = min(n, lo + 100_000)
                self.dint[big].update({k: k for k in range(lo, hi)})
                self.dstr[big].update({key(k): k for k in range(lo, hi)})
        self.ls_big = m.list(range(BIG))
        self.ls_app = m.list()
        self.lock = m.Lock()
        self.queue = m.Queue()
        self.authkey = bytes(mp.current_process().authkey)


P = None  # the Peer, inherited by forked children


def run_ns_set(rng, n):
    ns = P.ns
    for i in range(n):
        ns.x = i


def run_ns_get(rng, n):
    ns = P.ns
    for _ in range(n):
        ns.x


def dict_runner(str_keys, big, get):
    size = BIG if big else SMALL

    def run(rng, n):
        d = (P.dstr if str_keys else P.dint)[big]
        for i in range(n):
            k = rng.randrange(size)
            if str_keys:
                k = key(k)
            if get:
                d[k]
            else:
                d[k] = i
    return run


def run_list_append(rng, n):
    ls = P.ls_app
    for i in range(n):
        ls.append(i)


def run_list_get(rng, n):
    ls = P.ls_big
    for _ in range(n):
        ls[rng.randrange(BIG)]


def run_ns_add(rng, n):
    ns, lock = P.ns, P.lock
    for _ in range(n):
        with lock:
            ns.c += 1


def run_dict_add(rng, n):
    d, lock = P.dint[0], P.lock
    for _ in range(n):
        k = rng.randrange(SMALL)
        with lock:
            d[k] += 1


def run_plist_read(rng, n):
    ns = P.ns
    for _ in range(n):
        ns.arr


def run_plist_write(rng, n):
    ns, arr = P.ns, P.arr
    for _ in range(n):
        ns.arr = arr


def run_lock(rng, n):
    lock = P.lock
    for _ in range(n):
        lock.acquire()
        lock.release()


def run_queue(rng, n):
    q = P.queue
    for i in range(n):
        q.put(i)
        q.get()


def run_create(rng, n):
    for _ in range(n):
        m = SyncManager()
        m.start()
        m.shutdown()


def run_open(rng, n):
    for _ in range(n):
        m = SyncManager(address=P.mgr.address, authkey=P.authkey)
        m.connect()


def timed(run, rng, duration_ns):
    done = 0
    start = now = time.perf_counter_ns()
    while now - start < duration_ns:
        run(rng, 1)
        done += 1
        now = time.perf_counter_ns()
    return done, start, now


def child(run, rank, reps, rep_ms, barrier, results):
    rng = random.Random(0x9E3779B9 * (rank + 1))
    duration = int(rep_ms * 1e6)
    timed(run, rng, duration // 2)  # warm-up (also opens this process's connections)
    for r in range(reps):
        barrier.wait()
        c0 = time.process_time_ns()
        done, t0, t1 = timed(run, rng, duration)
        results.put((r, rank, done, t0, t1, time.process_time_ns() - c0))
    os._exit(0)


def emit(rec):
    print(json.dumps(rec), flush=True)


def case(op, run, procs, args, note, before=None):
    if args.filter and args.filter not in op:
        return
    if before:
        before()
    ctx = mp.get_context('fork')
    barrier = ctx.Barrier(procs)
    results = ctx.SimpleQueue()  # written synchronously: safe before os._exit
    kids = [ctx.Process(target=child, args=(run, rank, args.reps, args.rep_ms,
                                            barrier, results))
            for rank in range(procs)]
    for k in kids:
        k.start()
    for k in kids:
        k.join(timeout=600)
    got = []
    while not results.empty():
        got.append(results.get())
    if any(k.exitcode != 0 for k in kids) or len(got) != args.reps * procs:
        for k in kids:
            if k.is_alive():
                k.kill()
        emit({'system': 'python', 'op': op, 'procs': procs,
              'skip': 'a benchmark process failed'})
        return
    ns, ops, cpu, total = [], [], [], 0
    for r in range(args.reps):
        rows = [g for g in got if g[0] == r]
        count = sum(g[2] for g in rows)
        total += count
        ns.append(statistics.fmean((g[4] - g[3]) / g[2] for g in rows))
        cpu.append(statistics.fmean(g[5] / g[2] for g in rows))
        span = max(g[4] for g in rows) - min(g[3] for g in rows)
        ops.append(count * 1e9 / span)
    emit({'system': 'python', 'op': op, 'procs': procs, 'n': total // args.reps,
          'reps': args.reps, 'ns': ns, 'ops': ops, 'cpu_ns': cpu, 'note': note})
    s = sorted(ns)
    print('  %-6s %-22s p=%d  %10.1f ns/op  (%.1f-%.1f, %d ops/rep)'
          % ('python', op, procs, s[len(s) // 2], s[0], s[-1], total // args.reps),
          file=sys.stderr, flush=True)


def skip(op, procs, args, why):
    if args.filter and args.filter not in op:
        return
    emit({'system': 'python', 'op': op, 'procs': procs, 'skip': why})
    print('  %-6s %-22s p=%d  skipped: %s' % ('python', op, procs, why),
          file=sys.stderr, flush=True)


def main():
    global P
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--reps', type=int, default=0)
    ap.add_argument('--procs', default='1,2')
    ap.add_argument('--filter', default=None)
    args = ap.parse_args()
    if args.reps <= 0:
        args.reps = 3 if args.quick else 5
    args.rep_ms = 20.0 if args.quick else 80.0
    procs_list = [int(p) for p in args.procs.split(',') if p]

    P = Peer()

    def fresh_append_list():
        P.ls_app = P.mgr.list()

    ops = [
        ('ns_set', run_ns_set, 'ns.x = i', None),
        ('ns_get', run_ns_get, 'ns.x', None),
    ]
    for str_keys, kind in ((0, 'int'), (1, 'str')):
        for big, size in ((0, '10k'), (1, '1m')):
            for get in (0, 1):
                op = 'dict_%s_%s_%s' % ('get' if get else 'set', kind, size)
                ops.append((op, dict_runner(str_keys, big, get),
                            'd[k]' if get else 'd[k] = i', None))
    ops += [
        ('list_append', run_list_append, 'ls.append(i), list grows from empty',
         fresh_append_list),
        ('list_get', run_list_get, 'ls[random index of 1e6]', None),
        ('ns_add', run_ns_add, 'with lock: ns.c += 1 (4 round trips; no atomic add)', None),
        ('dict_add', run_dict_add, 'with lock: d[k] += 1 (4 round trips; no atomic add)',
         None),
        ('plist_read', run_plist_read, 'ns.arr, a list of 10 ints', None),
        ('plist_write', run_plist_write, 'ns.arr = list of 10 ints', None),
        ('lock', run_lock, 'Manager Lock acquire + release', None),
        ('queue', run_queue, 'Manager Queue put + get', None),
    ]
    for op, run, note, before in ops:
        for procs in procs_list:
            case(op, run, procs, args, note, before)
    for procs in procs_list:
        skip('alloc', procs, args, 'no allocator in multiprocessing.Manager')
    for procs in procs_list:
        case('arena_create', run_create, procs, args,
             'SyncManager().start() + shutdown(): a server process')
    for procs in procs_list:
        case('arena_open', run_open, procs, args,
             'SyncManager(address).connect() from another process')
    P.mgr.shutdown()


if __name__ == '__main__':
    main()
