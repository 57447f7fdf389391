#!/usr/bin/env python3
"""lines.py -- count the shared cache lines one operation touches.

Usage: bench/lines.py [BUILD_DIR] [--out FILE] [--filter OP] [--systems shmc,boost,floor]

Runs bench_shmc, bench_boost and bench_floor with --lines under valgrind's
lackey tool (--trace-mem=yes), which prints every load and store the program
makes. In that mode a program runs each read and write operation
BENCH_LINES_SAMPLES times in one process, each call between stores to two
private marker words (bench.h), and prints beforehand the marker addresses
and, per operation, the address ranges of its shared mappings (the arena,
the Boost segment, the floor's page). For each call this script counts the
distinct 64-byte lines of those shared ranges that the call loaded or stored
(an access that straddles two lines counts both), and how many of them it
stored to: a stored line must be held exclusively, so it is the one that
moves between cores when another process uses the same object. Private
memory (stack, the caller's copy of a value, malloc) is not counted.

The count is of the code path, not of the hardware: a simulated CPU runs
the real binary, one process, after BENCH_LINES_WARMUP untraced calls. It is
exact for that path and reproducible (the keys come from the same seeded
generator each run), and independent of the machine's load.

The three programs are traced two at a time (2 processes). It takes minutes
(valgrind writes one line per access), so `make bench` does not run it
unless asked (bench/run.sh --lines). Writes FILE (default
bench/results/lines.json), with the commit it counted, and prints a table;
report.py puts the counts in the benchmark tables whenever the file is
there, and says so when they were counted at another commit.
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

LINE = 64
PROGRAMS = [('shmc', 'bench_shmc'), ('boost', 'bench_boost'), ('floor', 'bench_floor')]


def read_records(path):
    """The JSON records the program has printed so far."""
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith('{') and line.endswith('}'):
                out.append(json.loads(line))
    return out


class Op:
    def __init__(self, rec):
        self.rec = rec
        self.ranges = [(int(lo, 16), int(hi, 16)) for lo, hi in rec['shared']]
        self.touched, self.written = [], []
        self.fixed_t, self.fixed_w = None, None

    def add(self, read, written):
        both = read | written
        self.touched.append(len(both))
        self.written.append(len(written))
        self.fixed_t = both if self.fixed_t is None else self.fixed_t & both
        self.fixed_w = written if self.fixed_w is None else self.fixed_w & written

    def summary(self):
        def stat(v):
            return {'median': statistics.median(v), 'min': min(v), 'max': max(v),
                    'mean': round(statistics.fmean(v), 2)}
        return {'system': self.rec['system'], 'op': self.rec['op'],
                'kind': self.rec['kind'], 'samples': len(self.touched),
                'touched': stat(self.touched), 'written': stat(self.written),
                'fixed_touched': len(self.fixed_t), 'fixed_written': len(self.fixed_w),
                'note': self.rec.get('note', '')}


def trace(prog, filt):
    """Run PROG --lines under lackey; @return the summaries of its ops."""
    rfd, wfd = os.pipe()
    cmd = ['valgrind', '--tool=lackey', '--trace-mem=yes', '--log-fd=%d' % wfd, prog,
           '--lines']
    if filt:
        cmd += ['--filter', filt]
    out = tempfile.NamedTemporaryFile('w+', suffix='.jsonl', delete=False)
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, pass_fds=(wfd,))
    os.close(wfd)
    ops, done = [], []
    begin = end = None
    cur = None
    read, written = set(), set()
    inside = False
    checked = 0
    try:
        with os.fdopen(rfd, 'r', buffering=1 << 20) as log:
            for n, line in enumerate(log):
                if inside:
                    c = line[1:2]
                    if line[0] == 'I' or c not in ('L', 'S', 'M'):
                        continue
                    if line.startswith(end):
                        inside = False
                        cur.add(read, written)
                        continue
                    comma = line.index(',', 3)
                    addr = int(line[3:comma], 16)
                    size = int(line[comma + 1:])
                    for lo, hi in cur.ranges:
                        if lo <= addr < hi:
                            first, last = addr // LINE, (addr + size - 1) // LINE
                            for ln in range(first, last + 1):
                                if c != 'S':
                                    read.add(ln)
                                if c != 'L':
                                    written.add(ln)
                            break
                elif begin is None:
                    # The marks are printed before the set-up, millions of
                    # trace lines before the first marked call.
                    if n - checked >= 4096:
                        checked = n
                        recs = read_records(out.name)
                        if recs and 'marks' in recs[0]:
                            b, e = (int(x, 16) for x in recs[0]['marks'])
                            begin, end = ' S %08x,' % b, ' S %08x,' % e
                elif line.startswith(begin):
                    if cur is None or len(cur.touched) == cur.rec['lines']:
                        recs = [r for r in read_records(out.name) if 'lines' in r]
                        if len(recs) <= len(ops):
                            raise RuntimeError('%s: a marked call with no record' % prog)
                        cur = Op(recs[len(ops)])
                        ops.append(cur)
                    read, written = set(), set()
                    inside = True
    finally:
        rc = proc.wait()
        out.close()
    recs = [r for r in read_records(out.name) if 'lines' in r]
    os.unlink(out.name)
    if rc != 0:
        raise RuntimeError('%s exited with %d' % (prog, rc))
    if len(recs) != len(ops) or any(len(o.touched) != o.rec['lines'] for o in ops):
        raise RuntimeError('%s: %d records, %d traced operations, calls %s' % (
            prog, len(recs), len(ops), [len(o.touched) for o in ops]))
    for o in ops:
        done.append(o.summary())
    return done


def commit():
    """The commit counted, with '+' when the tree has changes."""
    try:
        head = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               capture_output=True, text=True).stdout.strip()
        return head + ('+' if dirty else '')
    except (OSError, subprocess.CalledProcessError):
        return None


def trace_timed(system, prog, filt):
    t0 = time.time()
    got = trace(prog, filt)
    return system, got, time.time() - t0


def valgrind_version():
    try:
        return subprocess.run(['valgrind', '--version'], capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('build', nargs='?', default='build/release')
    ap.add_argument('--out', default='bench/results/lines.json')
    ap.add_argument('--filter', default=None)
    ap.add_argument('--systems', default='shmc,boost,floor')
    args = ap.parse_args()
    version = valgrind_version()
    if version is None:
        print('lines: valgrind not found; no cache-line counts', file=sys.stderr)
        return 1
    start = time.time()
    results = {}
    want = args.systems.split(',')
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as pool:
        jobs = [pool.submit(trace_timed, system, os.path.join(args.build, 'bench', name),
                            args.filter)
                for system, name in PROGRAMS if system in want]
        for job in concurrent.futures.as_completed(jobs):
            system, got, seconds = job.result()
            results[system] = got
            print('lines: %-6s %d operations traced in %.0f s' % (system, len(got), seconds),
                  file=sys.stderr)
    results = [r for system, _ in PROGRAMS for r in results.get(system, [])]
    doc = {'tool': version + ' --tool=lackey --trace-mem=yes', 'line_bytes': LINE,
           'commit': commit(), 'date': time.strftime('%Y-%m-%d'),
           'seconds': round(time.time() - start, 1), 'ops': results}
    os.makedirs(os.path.dirname(args.out) or '.', exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(doc, f, indent=1)
    print('%-11s %-18s %-5s %8s %8s %6s %6s' % ('system', 'operation', 'kind', 'touched',
                                              'written', 'fixed', 'fixedw'))
    for r in results:
        print('%-11s %-18s %-5s %8g %8g %6d %6d' % (
            r['system'], r['op'], r['kind'], r['touched']['median'], r['written']['median'],
            r['fixed_touched'], r['fixed_written']))
    print('(medians over %d calls each; 64-byte lines of shared mappings; %s)'
          % (results[0]['samples'] if results else 0, doc['tool']))
    return 0


if __name__ == '__main__':
    sys.exit(main())
