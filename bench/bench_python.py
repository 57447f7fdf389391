#!/usr/bin/env python3
"""bench_python.py -- the Python binding beside its peers, from Python.

Each operation is timed, in this one process and one run, on:
  py_shmc       a proxy of shmc.Manager() (the extension: a C call into the
                shared-memory library)
  py_manager    a proxy of multiprocessing.Manager() (a round trip to its
                server process)
  py_plain      the plain in-process Python object (dict, SimpleNamespace,
                list, threading.Lock, queue.Queue): the floor
  py_shareable  multiprocessing.shared_memory.ShareableList, for list reads

The same code runs on each: a function whose loop body does the operation
ten times (unrolled, so that the loop costs a tenth), on keys and indices
drawn at random beforehand. Every figure is the median over REPS
time-boxed repetitions (chunks of the function until REP_MS has passed)
after an untimed warm-up, in ns per operation; nothing is pinned.

Prints one JSON record per (system, operation) on stdout, in the format of
the other benchmarks (report.py reads them), and progress on stderr.
"""
import argparse
import json
import multiprocessing
import queue
import random
import statistics
import sys
import threading
import time
import types

import shmc

UNROLL = 10
DICT_SIZE = 10_000
LIST_SIZE = 100_000

# id, label, setup(factory) -> object, loop body (X is the object; K0..K9
# the keys of this round), note
OPS = [
    ("py_dict_set", "d[k] = v", "dict", "X[{k}] = {k}", "int keys of a 10k dict"),
    ("py_dict_get", "d[k]", "dict", "X[{k}]", "int keys of a 10k dict"),
    ("py_ns_set", "ns.x = v", "ns", "X.x = {k}", "an int"),
    ("py_ns_get", "ns.x", "ns", "X.x", "an int"),
    ("py_list_append", "ls.append(x)", "append", "X.append({k})",
     "an int, to a list that starts empty each repetition"),
    ("py_list_get", "ls[i]", "list", "X[{k}]", "random index of a 100k list of ints"),
    ("py_lock", "lock acquire+release", "lock", "X.acquire(); X.release()", "uncontended"),
    ("py_queue", "q.put(x); q.get()", "queue", "X.put({k}); X.get()", "an int"),
]


def make(kind, system, mgr, rng):
    if kind == "dict":
        init = {k: k for k in range(DICT_SIZE)}
        return init if system == "py_plain" else mgr.dict(init)
    if kind == "ns":
        ns = types.SimpleNamespace() if system == "py_plain" else mgr.Namespace()
        ns.x = 0
        return ns
    if kind == "append":
        return [] if system == "py_plain" else mgr.list()
    if kind == "list":
        init = list(range(LIST_SIZE))
        if system == "py_shareable":
            return multiprocessing.shared_memory.ShareableList(init)
        return init if system == "py_plain" else mgr.list(init)
    if kind == "lock":
        return threading.Lock() if system == "py_plain" else mgr.Lock()
    if kind == "queue":
        return queue.Queue() if system == "py_plain" else mgr.Queue()
    raise ValueError(kind)


def compile_op(body):
    names = ", ".join("k%d" % i for i in range(UNROLL))
    lines = ["def run(X, rounds):", "    for %s in rounds:" % names]
    for i in range(UNROLL):
        lines.append("        " + body.format(k="k%d" % i))
    g = {}
    exec("\n".join(lines), g)
    return g["run"]


def keys_for(kind, rng):
    n = LIST_SIZE if kind == "list" else DICT_SIZE
    flat = [rng.randrange(n) for _ in range(UNROLL * 1000)]
    return [tuple(flat[i:i + UNROLL]) for i in range(0, len(flat), UNROLL)]


def measure(run, obj, rounds, reps, rep_ms, fresh=None):
    """Per-repetition ns/op and ops/s, and CPU ns/op. FRESH, if given,
    makes the object anew before each repetition (a list appended to
    starts empty each time, as in bench_shmc)."""
    chunk = rounds
    # Size a chunk to about 2 ms, so that reading the clock is negligible.
    t0 = time.perf_counter_ns()
    run(obj, chunk[:10])
    dt = max(1, time.perf_counter_ns() - t0)
    per_round = dt / 10
    nrounds = max(1, min(len(chunk), int(2e6 / per_round)))
    chunk = chunk[:nrounds]
    end = time.perf_counter_ns() + rep_ms * 5e5  # warm-up: half a repetition
    while time.perf_counter_ns() < end:
        run(obj, chunk)
    ns, ops, cpu = [], [], []
    for _ in range(reps):
        if fresh is not None:
            obj = fresh()
        done = 0
        c0 = time.process_time_ns()
        start = now = time.perf_counter_ns()
        while now - start < rep_ms * 1e6:
            run(obj, chunk)
            done += len(chunk) * UNROLL
            now = time.perf_counter_ns()
        c1 = time.process_time_ns()
        ns.append((now - start) / done)
        ops.append(done * 1e9 / (now - start))
        cpu.append((c1 - c0) / done)
    return ns, ops, cpu, done


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--filter", default=None)
    args = ap.parse_args()
    reps = args.reps or (3 if args.quick else 7)
    rep_ms = 20.0 if args.quick else 100.0
    manager_ms = 20.0 if args.quick else 60.0  # its operations are slow
    rng = random.Random(0x5EED)
    mgrs = {"py_shmc": shmc.Manager(), "py_manager": multiprocessing.Manager(),
            "py_plain": None, "py_shareable": None}
    print("bench_python: Python %s, shmc %s" % (sys.version.split()[0], shmc.LIBRARY_VERSION),
          file=sys.stderr)
    try:
        for op, label, kind, body, note in OPS:
            if args.filter and args.filter not in op:
                continue
            run = compile_op(body)
            rounds = keys_for(kind, rng)
            systems = ["py_shmc", "py_manager", "py_plain"]
            if kind == "list":
                systems.append("py_shareable")
            for system in systems:
                obj = make(kind, system, mgrs[system], rng)
                try:
                    ms = manager_ms if system == "py_manager" else rep_ms
                    rr = rounds[:20] if system == "py_manager" else rounds
                    fresh = ((lambda: make(kind, system, mgrs[system], rng))
                             if kind == "append" else None)
                    ns, ops, cpu, n = measure(run, obj, rr, reps, ms, fresh)
                finally:
                    if system == "py_shareable":
                        obj.shm.close()
                        obj.shm.unlink()
                    del obj
                rec = {"system": system, "op": op, "procs": 1, "n": n, "reps": reps,
                       "ns": ns, "ops": ops, "cpu_ns": cpu, "note": "%s: %s" % (label, note)}
                print(json.dumps(rec), flush=True)
                print("  %-13s %-16s %10.1f ns/op  (%.1f-%.1f)" % (
                    system, op, statistics.median(ns), min(ns), max(ns)),
                    file=sys.stderr, flush=True)
    finally:
        for m in mgrs.values():
            if m is not None:
                m.shutdown()


if __name__ == "__main__":
    main()
