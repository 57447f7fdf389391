#!/usr/bin/env python3
"""report.py -- turn the benchmark records into the table, files and plot.

Usage: report.py RESULTS_DIR [--quick] [--seconds S] [--load-before L]

Reads RESULTS_DIR/raw.jsonl (one JSON record per line, from every program)
and, if bench/lines.py wrote it, RESULTS_DIR/lines.json, and writes, beside
them:
  table.txt     the tables printed on stdout, with the targets
  table.md      the same as markdown, for the README
  results.csv   one row per (operation, processes, system)
  results.json  everything, with the machine and the targets
  plot.dat      ns/op per operation and system, for bench/plot.gp
  scaling.dat   ops/s against P per operation and system, for bench/scaling.gp

The tables: the main one (every operation at P = 1, 2, 4, 8); throughput
against P; single-write latency percentiles at P = 2; shared cache lines per
operation; arena bytes per entry; the targets, each MET or MISSED with the
figures it is judged on.
"""
import argparse
import csv
import json
import os
import platform
import statistics
import sys
import time

# Operation id, label, the floor it is compared with.
OPS = [
    ('ns_set', 'ns.x = int', 'mutex'),
    ('ns_get', 'ns.x -> int', 'mutex'),
    ('dict_set_int_10k', 'd[int] = v      10k', 'mutex'),
    ('dict_get_int_10k', 'd[int]          10k', 'mutex'),
    ('dict_set_int_1m', 'd[int] = v      1M', 'mutex'),
    ('dict_get_int_1m', 'd[int]          1M', 'mutex'),
    ('dict_set_str_10k', 'd[str] = v      10k', 'mutex'),
    ('dict_get_str_10k', 'd[str]          10k', 'mutex'),
    ('dict_set_str_1m', 'd[str] = v      1M', 'mutex'),
    ('dict_get_str_1m', 'd[str]          1M', 'mutex'),
    ('list_append', 'ls.append(int)', 'mutex'),
    ('list_get', 'ls[i]           1M', 'mutex'),
    ('ns_add', 'ns.c += 1 atomic', 'atomic_add'),
    ('dict_add', 'd[k] += 1 atomic', 'atomic_add'),
    ('plist_read', 'read list of 10', 'mutex'),
    ('plist_write', 'write list of 10', 'mutex'),
    ('lock', 'lock acq+rel', 'mutex'),
    ('queue', 'queue put+get', 'mutex'),
    ('alloc', 'alloc+free 16B-4K', 'malloc'),
    ('arena_create', 'create named arena', 'shm_create'),
    ('arena_open', 'open from other proc', 'shm_open'),
]
PROCS = (1, 2, 4, 8)
PEERS = ['python', 'boost', 'boost_map']
SYSTEMS = ['shmc'] + PEERS + ['floor']
FLOOR_TAG = {'mutex': 'mtx', 'atomic_add': 'atom', 'malloc': 'malloc',
             'shm_create': 'shm', 'shm_open': 'shm'}
MEMORY = [
    ('dict_int_1m', 'dict 1M int -> int'),
    ('dict_str_1m', 'dict 1M str -> int'),
    ('list_int_1m', 'list 1M ints'),
]


def load(path):
    runs, mem, skips, lat = {}, {}, {}, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith('{'):
                continue
            r = json.loads(line)
            if 'mem' in r:
                mem[(r['system'], r['mem'])] = r
                if r['system'] == 'boost' and r['mem'] == 'map_int_1m':
                    mem[('boost_map', 'dict_int_1m')] = r
            elif 'latency' in r:
                lat[(r['system'], r['op'], r['procs'])] = dict(
                    r['latency'], samples=r['samples'], clock_ns=r['clock_ns'])
            elif 'skip' in r:
                if not r['skip'].startswith('latency'):
                    skips[(r['system'], r['op'], r['procs'])] = r['skip']
            elif 'ns' in r:
                runs[(r['system'], r['op'], r['procs'])] = summarise(r)
    return runs, mem, skips, lat


def load_lines(path):
    """bench/lines.py's counts: {(system, op): summary}, and the file's head."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return {}, None
    return {(r['system'], r['op']): r for r in doc.get('ops', [])}, doc


def summarise(r):
    ns, ops, cpu = r['ns'], r['ops'], r.get('cpu_ns', [])
    procs = r['procs']
    par = [c / w * procs for c, w in zip(cpu, ns) if w > 0]
    return {
        'ns_median': statistics.median(ns), 'ns_min': min(ns), 'ns_max': max(ns),
        'ops_median': statistics.median(ops), 'ops_min': min(ops), 'ops_max': max(ops),
        'cpu_ns_median': statistics.median(cpu) if cpu else None,
        'parallelism': statistics.median(par) if par else None,
        'reps': r['reps'], 'ops_per_rep': r['n'], 'note': r.get('note', ''),
        'ns_reps': ns, 'ops_reps': ops,
    }


def fmt_time(ns):
    if ns is None:
        return '-'
    if ns < 1e3:
        return '%.1f ns' % ns
    if ns < 1e6:
        return '%.1f us' % (ns / 1e3)
    return '%.2f ms' % (ns / 1e6)


def fmt_num(ns):
    """A time without unit changes inside one range: 61.3-67.8."""
    if ns < 1e3:
        return '%.1f' % ns
    if ns < 1e6:
        return '%.1fu' % (ns / 1e3)
    return '%.2fm' % (ns / 1e6)


def fmt_rate(ops):
    if ops >= 1e6:
        return '%.1f M/s' % (ops / 1e6)
    if ops >= 1e3:
        return '%.1f k/s' % (ops / 1e3)
    return '%.0f /s' % ops


def fmt_ratio(x):
    if x is None:
        return ''
    if x < 1:
        # Truncated, not rounded: 0.797 must not read as 0.80 beside a
        # target of "at least 0.8".
        return 'x%.2f' % (int(x * 100) / 100)
    if x >= 100:
        return 'x%.0f' % x
    if x >= 10:
        return 'x%.1f' % x
    return 'x%.2f' % x


def build_rows(runs, skips):
    rows = []
    for op, label, floor_op in OPS:
        for procs in PROCS:
            row = {'op': op, 'label': label, 'procs': procs, 'systems': {},
                   'floor_op': floor_op}
            for s in SYSTEMS:
                key_op = floor_op if s == 'floor' else op
                r = runs.get((s, key_op, procs))
                if r:
                    row['systems'][s] = r
                elif (s, key_op, procs) in skips:
                    row['systems'][s] = {'skip': skips[(s, key_op, procs)]}
            shmc = row['systems'].get('shmc', {}).get('ns_median')
            for s in PEERS + ['floor']:
                r = row['systems'].get(s)
                if r and shmc and 'ns_median' in r:
                    r['ratio'] = r['ns_median'] / shmc
            if any('ns_median' in v for v in row['systems'].values()):
                rows.append(row)
    return rows


def cell(row, s):
    r = row['systems'].get(s)
    if not r or 'ns_median' not in r:
        return '-', ''
    return fmt_time(r['ns_median']), fmt_ratio(r.get('ratio'))


HEAD = ('operation', 'P', 'shmc time/op', 'min-max', 'cpu/op', 'ops/s (all P)', 'Python', 'x',
        'Boost', 'x', 'Boost map', 'x', 'floor', '')


def table_lines(rows):
    """The main table as a list of tuples of strings."""
    out = []
    for row in rows:
        sh = row['systems'].get('shmc', {})
        if 'ns_median' in sh:
            t = fmt_time(sh['ns_median'])
            rng = '%s-%s' % (fmt_num(sh['ns_min']), fmt_num(sh['ns_max']))
            cpu = fmt_time(sh['cpu_ns_median'])
            rate = fmt_rate(sh['ops_median'])
        else:
            t, rng, cpu, rate = 'n/a', '', '', ''
        py, pyx = cell(row, 'python')
        bo, box = cell(row, 'boost')
        bm, bmx = cell(row, 'boost_map')
        fl = row['systems'].get('floor', {})
        flt = fmt_time(fl['ns_median']) if 'ns_median' in fl else '-'
        out.append((row['label'], str(row['procs']), t, rng, cpu, rate, py, pyx, bo, box,
                    bm, bmx, flt, FLOOR_TAG[row['floor_op']] if 'ns_median' in fl else ''))
    return out


def render_text(lines):
    widths = [max(len(HEAD[i]), *(len(l[i]) for l in lines)) for i in range(len(HEAD))]
    right = {1, 2, 4, 5, 6, 8, 10, 12}

    def fmt(t):
        parts = []
        for i, x in enumerate(t):
            parts.append(x.rjust(widths[i]) if i in right else x.ljust(widths[i]))
        return '  '.join(parts).rstrip()

    out = [fmt(HEAD), '-' * len(fmt(HEAD))]
    prev = None
    for l in lines:
        if prev is not None and l[0] != prev and l[1] == '1':
            pass
        out.append(fmt(l))
        prev = l[0]
    return out


def render_md(lines):
    out = ['| operation | P | shmc time/op | min-max | cpu/op | ops/s (all P) | Python | x | '
           'Boost | x | Boost map | x | floor |',
           '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|']
    for l in lines:
        label = l[0].replace('  ', ' ')
        while '  ' in label:
            label = label.replace('  ', ' ')
        floor = ('%s %s' % (l[12], l[13])).strip()
        out.append('| %s |' % ' | '.join([label] + list(l[1:12]) + [floor]))
    return out


def memory_lines(mem):
    out = []
    for what, label in MEMORY:
        vals = []
        for s in ('shmc', 'boost', 'boost_map'):
            r = mem.get((s, what))
            vals.append('%.1f' % r['bytes_per_entry'] if r else '-')
        out.append((label, *vals))
    return out


# The targets of the speed issue (items 1-5), and the read-scaling target
# kept from before. Each is judged on medians from this one run.
LISTED_VS_BOOST = ['ns_set', 'ns_add', 'dict_add', 'list_append', 'lock', 'queue',
                   'dict_set_int_10k', 'dict_set_int_1m', 'dict_set_str_10k',
                   'dict_set_str_1m', 'dict_get_int_10k', 'dict_get_int_1m',
                   'dict_get_str_10k', 'dict_get_str_1m', 'plist_read', 'plist_write']
# Single-process operations on a container that fits in cache: no 1M
# container (dicts of 1M entries, the list of 1M read at random) and no
# arena creation or opening, which have targets of their own.
IN_CACHE = ['ns_set', 'ns_get', 'dict_set_int_10k', 'dict_get_int_10k', 'dict_set_str_10k',
            'dict_get_str_10k', 'list_append', 'ns_add', 'dict_add', 'plist_read',
            'plist_write', 'lock', 'queue']


def targets(rows, runs, mem):
    res = []

    def get(s, op, p):
        return runs.get((s, op, p))

    def also(r):
        """The noise-resistant figures beside a median."""
        return 'best rep %s, CPU %s/op' % (fmt_time(r['ns_min']), fmt_time(r['cpu_ns_median']))

    def add(tid, target, measured, met, detail=''):
        res.append({'id': tid, 'target': target, 'measured': measured, 'met': met,
                    'detail': detail})

    # 1. At P=1 and P=2 at least as fast as Boost on the listed operations.
    judged, slower, worst = 0, [], None
    for op in LISTED_VS_BOOST:
        for p in (1, 2):
            s, b = get('shmc', op, p), get('boost', op, p)
            if not (s and b):
                continue
            judged += 1
            x = b['ns_median'] / s['ns_median']
            if worst is None or x < worst[0]:
                worst = (x, op, p)
            if x < 1:
                slower.append('%s P=%d %s' % (op, p, fmt_ratio(x)))
    if judged:
        add('1', 'sets, atomic adds, appends, lock, queue, dict set and get, plain list '
            'read and write: every row at P=1 and P=2 at least as fast as Boost',
            '%d of %d rows slower than Boost; worst %s (%s, P=%d)' % (
                len(slower), judged, fmt_ratio(worst[0]), worst[1], worst[2]),
            not slower, 'slower (Boost time / shmc time): ' + ', '.join(slower)
            if slower else '')

    # 2. Close to the floor, one process.
    m = get('floor', 'mutex', 1)
    for tid, op, what, limit in (('2a', 'lock', 'lock acquire+release', 1.1),
                                 ('2b', 'ns_get', 'namespace get', 1.5),
                                 ('2c', 'ns_set', 'namespace set', 2.0)):
        s = get('shmc', op, 1)
        if s and m:
            x = s['ns_median'] / m['ns_median']
            add(tid, '%s, 1 proc: <= %gx uncontended robust mutex lock+unlock' % (what, limit),
                '%s vs mutex %s (%.2fx; %s %s, mutex %s)' % (
                    fmt_time(s['ns_median']), fmt_time(m['ns_median']), x, op, also(s),
                    also(m)), x <= limit)
    s, b = get('shmc', 'plist_write', 1), get('boost', 'plist_write', 1)
    if s and b:
        x = s['ns_median'] / b['ns_median']
        s2, b2 = get('shmc', 'plist_write', 2), get('boost', 'plist_write', 2)
        at2 = ('; P=2: %s vs %s, %.2fx' % (fmt_time(s2['ns_median']), fmt_time(b2['ns_median']),
                                           s2['ns_median'] / b2['ns_median'])
               if s2 and b2 else '')
        add('2d', 'plain list of 10 written, 1 proc: <= 2x Boost in-place assignment',
            '%s vs Boost %s (%.2fx%s)' % (fmt_time(s['ns_median']), fmt_time(b['ns_median']),
                                         x, at2), x <= 2)

    # 3. 1000x Python on single-process in-cache operations; create and open
    # near the bare shm_open + ftruncate + mmap.
    judged, below, worst = 0, [], None
    for op in IN_CACHE:
        s, py = get('shmc', op, 1), get('python', op, 1)
        if not (s and py):
            continue
        judged += 1
        x = py['ns_median'] / s['ns_median']
        if worst is None or x < worst[0]:
            worst = (x, op)
        if x < 1000:
            below.append('%s %s' % (op, fmt_ratio(x)))
    every, all_below = 0, 0
    for row in rows:
        r = row['systems'].get('python', {})
        if 'ratio' in r:
            every += 1
            all_below += r['ratio'] < 1000
    if judged:
        add('3a', '>= 1000x Python Manager on every 1-process operation on a container '
            'that fits in cache (%d rows: no 1M container, no arena create/open)' % judged,
            '%d of %d rows below 1000x; worst %s (%s); over all %d Python rows at P=1,2: '
            '%d below' % (len(below), judged, fmt_ratio(worst[0]), worst[1], every, all_below),
            not below, 'below 1000x: ' + ', '.join(below) if below else '')
    for tid, op, floor_op, what, limit in (
            ('3b', 'arena_create', 'shm_create', 'create named arena', 2.0),
            ('3c', 'arena_open', 'shm_open', 'open named arena', 1.5)):
        s, f = get('shmc', op, 1), get('floor', floor_op, 1)
        if s and f:
            x = s['ns_median'] / f['ns_median']
            add(tid, '%s, 1 proc: <= %gx bare shm_open+ftruncate+mmap' % (what, limit)
                if op == 'arena_create' else
                '%s, 1 proc: <= %gx bare shm_open+mmap' % (what, limit),
                '%s vs %s (%.2fx)' % (fmt_time(s['ns_median']), fmt_time(f['ns_median']), x),
                x <= limit)

    # 4. Memory.
    s, b = mem.get(('shmc', 'dict_str_1m')), mem.get(('boost', 'dict_str_1m'))
    if s and b:
        add('4a', 'dict 1M str->int: arena bytes per entry <= Boost unordered_map',
            '%.1f vs Boost %.1f bytes/entry' % (s['bytes_per_entry'], b['bytes_per_entry']),
            s['bytes_per_entry'] <= b['bytes_per_entry'])
    s = mem.get(('shmc', 'dict_int_1m'))
    if s:
        add('4b', 'dict 1M int->int: <= 42 arena bytes per entry',
            '%.1f bytes/entry' % s['bytes_per_entry'], s['bytes_per_entry'] <= 42)

    # 5. Oversubscription: P=8 throughput at least 0.8x P=2's, every row.
    def scaling(system):
        n, bad, worst = 0, [], None
        for op, _, _ in OPS:
            r2, r8 = get(system, op, 2), get(system, op, 8)
            if not (r2 and r8):
                continue
            n += 1
            x = r8['ops_median'] / r2['ops_median']
            if worst is None or x < worst[0]:
                worst = (x, op)
            if x < 0.8:
                bad.append((op, x))
        return n, bad, worst
    n, bad, worst = scaling('shmc')
    bn, bbad, bworst = scaling('boost')
    if n:
        beside = []
        for op, x in bad:
            r2, r8 = get('boost', op, 2), get('boost', op, 8)
            bx = (' (Boost %s)' % fmt_ratio(r8['ops_median'] / r2['ops_median'])
                  if r2 and r8 else '')
            beside.append('%s %s%s' % (op, fmt_ratio(x), bx))
        add('5', 'P=8 on 2 cores: combined throughput >= 0.8x that at P=2, every row',
            'shmc: %d of %d rows below 0.8x, worst %s (%s); Boost: %d of %d below, worst %s (%s)'
            % (len(bad), n, fmt_ratio(worst[0]), worst[1], len(bbad), bn,
               fmt_ratio(bworst[0]) if bworst else '-', bworst[1] if bworst else '-'),
            not bad, 'below 0.8x (P=8 / P=2 throughput): ' + ', '.join(beside) if bad else '')

    # Kept: read scaling with 2 processes.
    s1, s2 = get('shmc', 'dict_get_int_10k', 1), get('shmc', 'dict_get_int_10k', 2)
    if s1 and s2:
        x = s2['ops_median'] / s1['ops_median']
        add('r', 'dict get, 2 procs: combined throughput >= 1.5x 1 proc',
            '%s vs %s (%.2fx; parallelism achieved %.2f of 2%s)' % (
                fmt_rate(s2['ops_median']), fmt_rate(s1['ops_median']), x,
                s2['parallelism'] or 0,
                ': the two never really ran at once, so this says little'
                if (s2['parallelism'] or 0) < 1.5 else ''), x >= 1.5)
    return res


# Throughput against P, latency, cache lines ------------------------------------

def fmt_rate_short(ops):
    if ops >= 1e6:
        return '%.1fM' % (ops / 1e6)
    if ops >= 1e3:
        return '%.1fk' % (ops / 1e3)
    return '%.0f' % ops


SCALING_HEAD = ('operation', 'shmc P=1', 'P=2', 'P=4', 'P=8', 'P8/P2',
                'Boost P=1', 'P=2', 'P=4', 'P=8', 'P8/P2')


def scaling_lines(runs):
    """Combined ops/s at each P, shmc then Boost, with P=8 over P=2."""
    out = []
    for op, label, _ in OPS:
        cells = [label]
        for system in ('shmc', 'boost'):
            got = [runs.get((system, op, p)) for p in PROCS]
            cells += [fmt_rate_short(r['ops_median']) if r else '-' for r in got]
            r2, r8 = got[1], got[3]
            cells.append(fmt_ratio(r8['ops_median'] / r2['ops_median'])[1:] if r2 and r8 else '')
        if any(c not in ('-', '') for c in cells[1:]):
            out.append(tuple(cells))
    return out


LAT_OPS = [(op, label) for op, label, _ in OPS if op in (
    'ns_set', 'dict_set_int_10k', 'dict_set_int_1m', 'dict_set_str_10k', 'dict_set_str_1m',
    'list_append', 'ns_add', 'dict_add', 'plist_write', 'lock', 'queue')]
LAT_FLOOR = [('mutex', 'robust mutex lock+unlock (floor)'),
             ('atomic_add', 'atomic fetch_add (floor)')]
LAT_HEAD = ('operation (P=2)', 'shmc p50', 'p99', 'p99.9', 'Boost p50', 'p99', 'p99.9',
            'samples')


def latency_lines(lat):
    out = []
    for op, label in LAT_OPS + LAT_FLOOR:
        cells = [label]
        systems = ('floor', None) if (op, label) in LAT_FLOOR else ('shmc', 'boost')
        samples = []
        for system in systems:
            r = lat.get((system, op, 2)) if system else None
            cells += [fmt_time(r[k]) for k in ('p50', 'p99', 'p999')] if r else ['-'] * 3
            if r:
                samples.append(fmt_rate_short(r['samples']))
        if any(c != '-' for c in cells[1:]):
            out.append(tuple(cells) + ('/'.join(samples),))
    return out


LINES_HEAD = ('operation', 'kind', 'shmc lines', 'written', 'Boost lines', 'written')


def lines_lines(lines):
    """Median shared cache lines touched / written per call, shmc and Boost."""
    out = []
    for op, label, _ in OPS:
        cells = [label, '']
        for system in ('shmc', 'boost'):
            r = lines.get((system, op))
            if r:
                cells[1] = r['kind']
                cells += ['%g' % r['touched']['median'], '%g' % r['written']['median']]
            else:
                cells += ['-', '-']
        if cells[1]:
            out.append(tuple(cells))
    for op, label in LAT_FLOOR:
        r = lines.get(('floor', op))
        if r:
            out.append((label, r['kind'], '%g' % r['touched']['median'],
                        '%g' % r['written']['median'], '', ''))
    return out


def render_generic(head, lines, left=(0,)):
    """Plain-text columns: LEFT columns left-aligned, the rest right."""
    widths = [max(len(head[i]), *(len(l[i]) for l in lines)) if lines else len(head[i])
              for i in range(len(head))]

    def fmt(t):
        return '  '.join(x.ljust(widths[i]) if i in left else x.rjust(widths[i])
                         for i, x in enumerate(t)).rstrip()
    return [fmt(head), '-' * len(fmt(head))] + [fmt(l) for l in lines]


def render_md_generic(head, lines, left=(0,)):
    out = ['| %s |' % ' | '.join(head),
           '|%s|' % '|'.join('---' if i in left else '--:' for i in range(len(head)))]
    for l in lines:
        cells = [' '.join(c.split()) for c in l]
        out.append('| %s |' % ' | '.join(cells))
    return out


def write_scaling_data(path, runs):
    """One block per operation: P, then ops/s of each system ('?' if none)."""
    with open(path, 'w') as f:
        ops = [op for op, _, _ in OPS if any(runs.get(('shmc', op, p)) for p in PROCS)]
        f.write('# ops: %s\n' % ' '.join(ops))
        f.write('# P shmc python boost boost_map floor (combined ops/s)\n')
        for op, _, floor_op in OPS:
            if op not in ops:
                continue
            f.write('# %s\n' % op)
            for p in PROCS:
                vals = []
                for system in SYSTEMS:
                    r = runs.get((system, floor_op if system == 'floor' else op, p))
                    vals.append('%.6g' % r['ops_median'] if r else '?')
                f.write('%d %s\n' % (p, ' '.join(vals)))
            f.write('\n\n')


# The Python section (bench/bench_python.py): shmc's proxies from Python
# beside multiprocessing.Manager's, the plain objects and ShareableList.
PY_OPS = [
    ('py_dict_set', 'd[k] = v'),
    ('py_dict_get', 'd[k]'),
    ('py_ns_set', 'ns.x = v'),
    ('py_ns_get', 'ns.x'),
    ('py_list_append', 'ls.append(x)'),
    ('py_list_get', 'ls[i]'),
    ('py_lock', 'lock acq+rel'),
    ('py_queue', 'q.put(x); q.get()'),
]
PY_HEAD = ('Python operation', 'shmc', 'min-max', 'cpu/op', 'Manager', 'Manager/shmc',
           'plain', 'shmc/plain', 'cpu shmc/plain', 'ShareableList')


def python_section(runs):
    """The Python table (text lines, markdown lines) and its targets."""
    rows, tg = [], []
    for op, label in PY_OPS:
        s = runs.get(('py_shmc', op, 1))
        if not s:
            continue
        mg, pl = runs.get(('py_manager', op, 1)), runs.get(('py_plain', op, 1))
        sl = runs.get(('py_shareable', op, 1))
        x_mgr = mg['ns_median'] / s['ns_median'] if mg else None
        x_pl = s['ns_median'] / pl['ns_median'] if pl else None
        x_cpu = (s['cpu_ns_median'] / pl['cpu_ns_median']
                 if pl and pl['cpu_ns_median'] else None)
        rows.append({'op': op, 'label': label, 'x_manager': x_mgr, 'x_plain': x_pl,
                     'x_plain_cpu': x_cpu, 'cells': (
                         label, fmt_time(s['ns_median']),
                         '%s-%s' % (fmt_num(s['ns_min']), fmt_num(s['ns_max'])),
                         fmt_time(s['cpu_ns_median']),
                         fmt_time(mg['ns_median']) if mg else '-', fmt_ratio(x_mgr),
                         fmt_time(pl['ns_median']) if pl else '-',
                         '%.2f' % x_pl if x_pl else '', '%.2f' % x_cpu if x_cpu else '',
                         fmt_time(sl['ns_median']) if sl else '-')})
    if not rows:
        return [], [], []
    with_mgr = [r for r in rows if r['x_manager']]
    slow = ['%s x%.0f' % (r['op'], r['x_manager']) for r in with_mgr if r['x_manager'] < 100]
    tg.append({'target': 'from Python, each operation >= 100x faster than multiprocessing.Manager',
               'measured': '%d of %d below 100x; lowest %s' % (
                   len(slow), len(with_mgr),
                   fmt_ratio(min(r['x_manager'] for r in with_mgr))) if with_mgr else '-',
               'detail': 'below: ' + ', '.join(slow) if slow else '',
               'met': bool(with_mgr) and not slow})
    with_pl = [r for r in rows if r['x_plain']]
    far = ['%s %.2fx (CPU %.2fx)' % (r['op'], r['x_plain'], r['x_plain_cpu'] or 0)
           for r in with_pl if r['x_plain'] > 3]
    tg.append({'target': 'from Python, each operation within 3x of the plain in-process object',
               'measured': '%d of %d above 3x; highest %.2fx' % (
                   len(far), len(with_pl), max(r['x_plain'] for r in with_pl)) if with_pl else '-',
               'detail': 'above: ' + ', '.join(far) if far else '',
               'met': bool(with_pl) and not far})
    cells = [r['cells'] for r in rows]
    widths = [max(len(PY_HEAD[i]), *(len(c[i]) for c in cells)) for i in range(len(PY_HEAD))]

    def fmt(t):
        return '  '.join(x.ljust(widths[i]) if i == 0 else x.rjust(widths[i])
                         for i, x in enumerate(t)).rstrip()
    text = ['from Python (bench_python.py, 1 process): shmc.Manager() proxies; Manager = '
            'multiprocessing.Manager() proxies;',
            'plain = the in-process object (dict, SimpleNamespace, list, threading.Lock, '
            'queue.Queue); ShareableList = multiprocessing.shared_memory.ShareableList.',
            '', fmt(PY_HEAD), '-' * len(fmt(PY_HEAD))] + [fmt(c) for c in cells]
    md = ['| ' + ' | '.join(PY_HEAD) + ' |', '|---|' + '--:|' * (len(PY_HEAD) - 1)]
    md += ['| ' + ' | '.join(c) + ' |' for c in cells]
    return text, md, tg


def write_csv(path, rows, lat):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['op', 'procs', 'system', 'ns_per_op_median', 'ns_per_op_min',
                    'ns_per_op_max', 'ops_per_s_median', 'ops_per_s_min', 'ops_per_s_max',
                    'cpu_ns_per_op_median', 'parallelism', 'ratio_vs_shmc', 'reps',
                    'ops_per_rep', 'lat_p50_ns', 'lat_p99_ns', 'lat_p999_ns', 'note'])
        for row in rows:
            for s in SYSTEMS:
                r = row['systems'].get(s)
                if not r:
                    continue
                if 'skip' in r:
                    w.writerow([row['op'], row['procs'], s] + [''] * 14 +
                               ['skipped: ' + r['skip']])
                    continue
                name = s if s != 'floor' else 'floor:' + row['floor_op']
                key_op = row['floor_op'] if s == 'floor' else row['op']
                lt = lat.get((s, key_op, row['procs']))
                w.writerow([row['op'], row['procs'], name,
                            '%.3f' % r['ns_median'], '%.3f' % r['ns_min'],
                            '%.3f' % r['ns_max'], '%.1f' % r['ops_median'],
                            '%.1f' % r['ops_min'], '%.1f' % r['ops_max'],
                            '' if r['cpu_ns_median'] is None else '%.3f' % r['cpu_ns_median'],
                            '' if r['parallelism'] is None else '%.2f' % r['parallelism'],
                            '%.4g' % r['ratio'] if 'ratio' in r else '',
                            r['reps'], r['ops_per_rep']] +
                           (['%.1f' % lt[k] for k in ('p50', 'p99', 'p999')] if lt
                            else ['', '', '']) + [r['note']])


def write_plot_data(path, rows):
    with open(path, 'w') as f:
        for procs in (1, 2):
            f.write('# %d process%s: label shmc python boost boost_map floor\n'
                    % (procs, 'es' if procs > 1 else ''))
            for row in rows:
                if row['procs'] != procs:
                    continue
                vals = []
                for s in SYSTEMS:
                    r = row['systems'].get(s, {})
                    vals.append('%.4g' % r['ns_median'] if 'ns_median' in r else '?')
                f.write('"%s" %s\n' % (' '.join(row['label'].split()), ' '.join(vals)))
            f.write('\n\n')


def machine():
    info = {'kernel': platform.release(), 'python': platform.python_version(),
            'cpus': os.cpu_count()}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    info['cpu'] = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info['loadavg'] = os.getloadavg()
    except OSError:
        pass
    return info


# What lines.py's counts depend on: a change here makes them stale.
LINES_INPUTS = ['lib', 'include', 'bench/bench.h', 'bench/bench_shmc.c',
                'bench/bench_boost.cpp', 'bench/bench_floor.c']


def lines_staleness(doc):
    """'' when the traced code is the same as in this tree, else why not."""
    import subprocess
    commit = (doc or {}).get('commit')
    if not commit:
        return ' (commit unknown)'
    if commit.endswith('+'):
        return ' (counted on a modified tree)'
    try:
        same = subprocess.run(['git', 'diff', '--quiet', commit, '--'] + LINES_INPUTS,
                              capture_output=True).returncode == 0
    except OSError:
        return ''
    return '' if same else ' (the traced code has changed since: run bench/lines.py)'


def reps_text(runs):
    """Which repetition counts the medians are over, per system and P."""
    by = {}
    for (system, _, p), r in runs.items():
        by.setdefault(system, {}).setdefault(p, set()).add(r['reps'])
    parts = []
    for system in ('shmc', 'boost', 'python'):
        if system in by:
            parts.append('%s %s' % (system, ', '.join(
                '%s at P=%d' % ('/'.join(str(x) for x in sorted(by[system][p])), p)
                for p in sorted(by[system]))))
    return '; '.join(parts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--seconds', type=float, default=None)
    ap.add_argument('--load-before', default='')
    args = ap.parse_args()
    runs, mem, skips, lat = load(os.path.join(args.dir, 'raw.jsonl'))
    cl, cl_doc = load_lines(os.path.join(args.dir, 'lines.json'))
    rows = build_rows(runs, skips)
    lines = table_lines(rows)
    tg = targets(rows, runs, mem)
    m = machine()
    clock = sorted(v['clock_ns'] for v in lat.values())
    clock_text = ('%.0f-%.0f ns' % (clock[0], clock[-1]) if clock and clock[0] != clock[-1]
                  else '%.0f ns' % clock[0] if clock else '?')

    text = []
    text.append('shmc benchmarks%s -- %s, %s CPUs, Linux %s; load average before %s, after %.2f'
                % (' (QUICK: indicative only)' if args.quick else '', m.get('cpu', '?'),
                   m['cpus'], m['kernel'], args.load_before or '?', m['loadavg'][0]))
    text.append('time/op: median per-process latency over the repetitions, min-max its range; '
                'cpu/op: median CPU time per operation;')
    text.append('ops/s: combined throughput of all P processes. x: peer time / shmc time '
                '(above 1: shmc is faster). u = us, m = ms.')
    text.append('floor: mtx = robust pthread mutex lock+unlock, atom = atomic fetch_add, '
                'malloc = glibc free+malloc, shm = shm_open+ftruncate+mmap.')
    text.append('P=4 and P=8 oversubscribe the CPUs (per-process time includes waiting for '
                'one); Python runs at P=1 and 2 only (each operation is a round trip).')
    text.append('Repetitions: %s.%s' % (reps_text(runs), ' Quick: the 1M rows at P=1 and 2 '
                                        'only.' if args.quick else ''))
    text.append('Targets are judged on medians; on a busy machine (load above the CPU count) '
                'the best repetition and the CPU time are steadier.')
    text.append('')
    text += render_text(lines)
    notes = []
    slow = [r for r in rows if r['procs'] == 2 and 'shmc' in r['systems'] and
            (r['systems']['shmc'].get('parallelism') or 2) < 1.5 and
            r['op'].startswith(('dict_get', 'list_get', 'ns_get', 'plist_read'))]
    if slow:
        notes.append('read rows at P=2 where the two processes were on CPU together '
                     'less than 1.5 of 2 (machine busy): ' +
                     ', '.join(r['op'] for r in slow))
    for n in notes:
        text.append(n)

    sc = scaling_lines(runs)
    lt = latency_lines(lat)
    ll = lines_lines(cl)
    lines_note = ('median over %d calls of each operation, in one process, under %s '
                  '(bench/lines.py), counted %s at commit %s%s; "10k" containers hold '
                  '1 000 entries there, 1M rows are not traced (same path)' % (
                      cl_doc['ops'][0]['samples'] if cl_doc and cl_doc['ops'] else 0,
                      cl_doc['tool'] if cl_doc else '?',
                      cl_doc.get('date', '?') if cl_doc else '?',
                      cl_doc.get('commit') if cl_doc else '?',
                      lines_staleness(cl_doc)))
    text += ['', 'throughput against P (combined ops/s; P8/P2: P=8 throughput over P=2\'s)']
    text += render_generic(SCALING_HEAD, sc)
    text += ['', 'single-operation latency at P=2 (every write timed alone, both processes '
             'writing the same object; %s clock-read cost subtracted, clock steps ~10 ns)'
             % clock_text]
    text += render_generic(LAT_HEAD, lt)
    if ll:
        text += ['', 'shared cache lines per operation (64 B lines of the arena or segment '
                 'loaded or stored; written: stored to)']
        text += render_generic(LINES_HEAD, ll, left=(0, 1))
        text.append('(%s)' % lines_note)
    else:
        text += ['', 'shared cache lines per operation: not measured in this run '
                 '(bench/lines.py, needs valgrind)']
    text.append('')
    text.append('arena bytes per entry       shmc   Boost unordered_map   Boost map')
    for label, a, b, c in memory_lines(mem):
        text.append('%-26s %6s   %19s   %9s' % (label, a, b, c))
    text.append('(shmc: shmc_arena_stats bytes_in_use delta; Boost: segment free-memory '
                'delta)')
    text.append('')
    text.append('targets (met: %d of %d)' % (sum(t['met'] for t in tg), len(tg)))
    for t in tg:
        text.append('  %-3s %-7s %s: %s' % (t['id'], 'MET' if t['met'] else 'MISSED',
                                           t['target'], t['measured']))
        if t.get('detail'):
            text.append('              (%s)' % t['detail'])
    py_text, py_md, py_tg = python_section(runs)
    if py_text:
        text.append('')
        text += py_text
        text.append('')
        text.append('targets (Python)')
        for t in py_tg:
            text.append('  %-7s %s: %s' % ('MET' if t['met'] else 'MISSED', t['target'],
                                             t['measured']))
            if t.get('detail'):
                text.append('              (%s)' % t['detail'])
    if args.seconds is not None:
        text.append('')
        text.append('total run time: %.0f s' % args.seconds)
    print('\n'.join(text))
    with open(os.path.join(args.dir, 'table.txt'), 'w') as f:
        f.write('\n'.join(text) + '\n')

    md = ['<!-- generated by bench/report.py; do not edit -->',
          'Measured %s%s on %s (%s CPUs, Linux %s), load average %s before, %.2f after. '
          'Medians over repetitions (%s); x = peer time / shmc time. Python runs at P=1 '
          'and 2 only.' % (
              time.strftime('%Y-%m-%d'), ' in quick mode' if args.quick else '',
              m.get('cpu', '?'), m['cpus'], m['kernel'], args.load_before or '?',
              m['loadavg'][0], reps_text(runs)), '']
    md += render_md(lines)
    md.append('')
    for n in notes:
        md.append('- ' + n)
    md += ['', 'Throughput against P (combined ops/s of all P processes):', '']
    md += render_md_generic(SCALING_HEAD, sc)
    md += ['', 'Single-operation latency at P=2 (each write timed alone while the other '
           'process writes the same object; %s of clock reads subtracted):' % clock_text, '']
    md += render_md_generic(LAT_HEAD, lt)
    if ll:
        md += ['', 'Shared cache lines per operation (64-byte lines of the arena or segment '
               'loaded or stored; *written*: stored to; %s):' % lines_note, '']
        md += render_md_generic(LINES_HEAD, ll, left=(0, 1))
    md += ['', '| arena bytes per entry | shmc | Boost unordered_map | Boost map |',
           '|---|--:|--:|--:|']
    for label, a, b, c in memory_lines(mem):
        md.append('| %s | %s | %s | %s |' % (label, a, b, c))
    md += ['', '| # | target | measured | |', '|---|---|---|---|']
    for t in tg:
        md.append('| %s | %s | %s | %s |' % (t['id'], t['target'], t['measured'],
                                             'MET' if t['met'] else 'MISSED'))
    md.append('')
    for t in tg:
        if t.get('detail'):
            md.append('- %s: %s' % (t['id'], t['detail']))
    if py_md:
        md += ['', 'From Python (`bench/bench_python.py`, 1 process):', ''] + py_md
        md += ['', '| target | measured | |', '|---|---|---|']
        for t in py_tg:
            md.append('| %s | %s | %s |' % (t['target'], t['measured'],
                                            'MET' if t['met'] else 'MISSED'))
    with open(os.path.join(args.dir, 'table.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')

    write_csv(os.path.join(args.dir, 'results.csv'), rows, lat)
    write_plot_data(os.path.join(args.dir, 'plot.dat'), rows)
    write_scaling_data(os.path.join(args.dir, 'scaling.dat'), runs)
    with open(os.path.join(args.dir, 'results.json'), 'w') as f:
        json.dump({'machine': m, 'quick': args.quick, 'seconds': args.seconds,
                   'rows': rows, 'memory': [v for v in mem.values()],
                   'latency': [dict(v, system=k[0], op=k[1], procs=k[2])
                               for k, v in lat.items()],
                   'lines': cl_doc, 'targets': tg, 'notes': notes,
                   'python_targets': py_tg}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
