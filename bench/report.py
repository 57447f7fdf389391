#!/usr/bin/env python3
"""report.py -- turn the benchmark records into the table, files and plot.

Usage: report.py RESULTS_DIR [--quick] [--seconds S]

Reads RESULTS_DIR/raw.jsonl (one JSON record per line, from every program)
and writes, beside it:
  table.txt     the table printed on stdout, with the targets
  table.md      the same as markdown, for the README
  results.csv   one row per (operation, processes, system)
  results.json  everything, with the machine and the targets
  plot.dat      ns/op per operation and system, for bench/plot.gp
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
    runs, mem, skips = {}, {}, {}
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
            elif 'skip' in r:
                skips[(r['system'], r['op'], r['procs'])] = r['skip']
            else:
                runs[(r['system'], r['op'], r['procs'])] = summarise(r)
    return runs, mem, skips


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
    if x >= 100:
        return 'x%.0f' % x
    if x >= 10:
        return 'x%.1f' % x
    return 'x%.2f' % x


def build_rows(runs, skips):
    rows = []
    for op, label, floor_op in OPS:
        for procs in (1, 2):
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


def targets(rows, runs, mem):
    res = []

    def get(s, op, p):
        return runs.get((s, op, p))

    def also(r):
        """The noise-resistant figures beside a median."""
        return 'best rep %s, CPU %s/op' % (fmt_time(r['ns_min']), fmt_time(r['cpu_ns_median']))

    # 1. every operation >= 1000x faster than Python's Manager.
    worst, best, below, n = None, None, [], 0
    for row in rows:
        r = row['systems'].get('python', {})
        if 'ratio' not in r:
            continue
        n += 1
        here = (r['ratio'], row['op'], row['procs'])
        worst = here if worst is None or here < worst else worst
        best = here if best is None or here > best else best
        if r['ratio'] < 1000:
            below.append('%s P=%d %s' % (row['op'], row['procs'], fmt_ratio(r['ratio'])))
    if worst:
        res.append({
            'target': 'every operation >= 1000x faster than Python Manager',
            'measured': '%d of %d rows below 1000x; best %s (%s, P=%d), worst %s (%s, P=%d)' % (
                len(below), n, fmt_ratio(best[0]), best[1], best[2],
                fmt_ratio(worst[0]), worst[1], worst[2]),
            'detail': 'below 1000x: ' + ', '.join(below) if below else '',
            'met': not below})
    # 2. dict get, int key, 10k, 1 process: shmc <= Boost unordered_map.
    s, b = get('shmc', 'dict_get_int_10k', 1), get('boost', 'dict_get_int_10k', 1)
    if s and b:
        res.append({
            'target': 'dict get int key 10k, 1 proc: shmc <= Boost unordered_map find',
            'measured': 'shmc %s vs Boost %s (%.2fx Boost; shmc %s, Boost %s)' % (
                fmt_time(s['ns_median']), fmt_time(b['ns_median']),
                s['ns_median'] / b['ns_median'], also(s), also(b)),
            'met': s['ns_median'] <= b['ns_median']})
    # 3. namespace get/set within 2x of a robust mutex lock+unlock.
    m = get('floor', 'mutex', 1)
    for op in ('ns_get', 'ns_set'):
        s = get('shmc', op, 1)
        if s and m:
            res.append({
                'target': '%s, 1 proc: <= 2x robust mutex lock+unlock' % op,
                'measured': '%s vs mutex %s (%.1fx; %s %s, mutex %s)' % (
                    fmt_time(s['ns_median']), fmt_time(m['ns_median']),
                    s['ns_median'] / m['ns_median'], op, also(s), also(m)),
                'met': s['ns_median'] <= 2 * m['ns_median']})
    # 4. read scaling: 2 processes reading one dict.
    s1, s2 = get('shmc', 'dict_get_int_10k', 1), get('shmc', 'dict_get_int_10k', 2)
    if s1 and s2:
        x = s2['ops_median'] / s1['ops_median']
        res.append({
            'target': 'dict get, 2 procs: combined throughput >= 1.5x 1 proc',
            'measured': '%s vs %s (%.2fx; parallelism achieved %.2f of 2%s)' % (
                fmt_rate(s2['ops_median']), fmt_rate(s1['ops_median']), x,
                s2['parallelism'] or 0,
                ': the two never really ran at once, so this says little'
                if (s2['parallelism'] or 0) < 1.5 else ''),
            'met': x >= 1.5})
    # 5. memory.
    r = mem.get(('shmc', 'dict_int_1m'))
    if r:
        res.append({
            'target': 'dict 1M int->int: <= 64 arena bytes per entry',
            'measured': '%.1f bytes/entry' % r['bytes_per_entry'],
            'met': r['bytes_per_entry'] <= 64})
    return res


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


def write_csv(path, rows):
    with open(path, 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['op', 'procs', 'system', 'ns_per_op_median', 'ns_per_op_min',
                    'ns_per_op_max', 'ops_per_s_median', 'ops_per_s_min', 'ops_per_s_max',
                    'cpu_ns_per_op_median', 'parallelism', 'ratio_vs_shmc', 'reps',
                    'ops_per_rep', 'note'])
        for row in rows:
            for s in SYSTEMS:
                r = row['systems'].get(s)
                if not r:
                    continue
                if 'skip' in r:
                    w.writerow([row['op'], row['procs'], s] + [''] * 11 +
                               ['skipped: ' + r['skip']])
                    continue
                name = s if s != 'floor' else 'floor:' + row['floor_op']
                w.writerow([row['op'], row['procs'], name,
                            '%.3f' % r['ns_median'], '%.3f' % r['ns_min'],
                            '%.3f' % r['ns_max'], '%.1f' % r['ops_median'],
                            '%.1f' % r['ops_min'], '%.1f' % r['ops_max'],
                            '' if r['cpu_ns_median'] is None else '%.3f' % r['cpu_ns_median'],
                            '' if r['parallelism'] is None else '%.2f' % r['parallelism'],
                            '%.4g' % r['ratio'] if 'ratio' in r else '',
                            r['reps'], r['ops_per_rep'], r['note']])


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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('dir')
    ap.add_argument('--quick', action='store_true')
    ap.add_argument('--seconds', type=float, default=None)
    ap.add_argument('--load-before', default='')
    args = ap.parse_args()
    runs, mem, skips = load(os.path.join(args.dir, 'raw.jsonl'))
    rows = build_rows(runs, skips)
    lines = table_lines(rows)
    tg = targets(rows, runs, mem)
    m = machine()

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
    text.append('')
    text.append('arena bytes per entry       shmc   Boost unordered_map   Boost map')
    for label, a, b, c in memory_lines(mem):
        text.append('%-26s %6s   %19s   %9s' % (label, a, b, c))
    text.append('(shmc: shmc_arena_stats bytes_in_use delta; Boost: segment free-memory '
                'delta)')
    text.append('')
    text.append('targets')
    for t in tg:
        text.append('  %-7s %s: %s' % ('MET' if t['met'] else 'MISSED', t['target'],
                                         t['measured']))
        if t.get('detail'):
            text.append('          (%s)' % t['detail'])
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
                text.append('          (%s)' % t['detail'])
    if args.seconds is not None:
        text.append('')
        text.append('total run time: %.0f s' % args.seconds)
    print('\n'.join(text))
    with open(os.path.join(args.dir, 'table.txt'), 'w') as f:
        f.write('\n'.join(text) + '\n')

    md = ['<!-- generated by bench/report.py; do not edit -->',
          'Measured %s%s on %s (%s CPUs, Linux %s). Medians over repetitions; '
          'x = peer time / shmc time.' % (
              time.strftime('%Y-%m-%d'), ' in quick mode' if args.quick else '',
              m.get('cpu', '?'), m['cpus'], m['kernel']), '']
    md += render_md(lines)
    md.append('')
    for n in notes:
        md.append('- ' + n)
    md += ['', '| arena bytes per entry | shmc | Boost unordered_map | Boost map |',
           '|---|--:|--:|--:|']
    for label, a, b, c in memory_lines(mem):
        md.append('| %s | %s | %s | %s |' % (label, a, b, c))
    md += ['', '| target | measured | |', '|---|---|---|']
    for t in tg:
        md.append('| %s | %s | %s |' % (t['target'], t['measured'],
                                        'MET' if t['met'] else 'MISSED'))
    if py_md:
        md += ['', 'From Python (`bench/bench_python.py`, 1 process):', ''] + py_md
        md += ['', '| target | measured | |', '|---|---|---|']
        for t in py_tg:
            md.append('| %s | %s | %s |' % (t['target'], t['measured'],
                                            'MET' if t['met'] else 'MISSED'))
    with open(os.path.join(args.dir, 'table.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')

    write_csv(os.path.join(args.dir, 'results.csv'), rows)
    write_plot_data(os.path.join(args.dir, 'plot.dat'), rows)
    with open(os.path.join(args.dir, 'results.json'), 'w') as f:
        json.dump({'machine': m, 'quick': args.quick, 'seconds': args.seconds,
                   'rows': rows, 'memory': [v for v in mem.values()],
                   'targets': tg, 'notes': notes, 'python_targets': py_tg}, f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
