#!/usr/bin/env python3
"""check_layers.py -- hold lib/ to the table in lib/LAYERS.

Checks, from the top of a source tree (--root, default: the current folder):
  1. every folder of lib/ is in the table, and every folder of the table exists;
  2. every #include "..." of lib/*/*.[ch] names a header of its own folder or
     of one its line allows, and the header exists;
  3. with --objects DIR (the lib/ folder of a build, DIR/FOLDER/NAME.o): every
     symbol an object takes from an object of another folder (nm) is allowed
     by the same table;
  4. the programs the table's `public` line names include no header of lib/.
Prints each violation and exits 1 if there is any; else prints a summary.
"""
import argparse
import os
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def parse_layers(path):
    allowed, order, public, exceptions, strata = {}, [], [], {}, []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            key, rest = line[0], line[1:]
            if key == 'public':
                public += rest
            elif key == 'stratum':
                strata.append(set(rest))
            elif key == 'except':
                if len(rest) < 1:
                    sys.exit('%s:%d: except needs a path' % (path, n))
                exceptions[rest[0]] = set(rest[1:])
            else:
                if key in allowed:
                    sys.exit('%s:%d: %s listed twice' % (path, n, key))
                allowed[key] = set(rest) | {key}
                order.append((key, n))
    # A folder may use only folders listed above it, or its stratum's.
    seen = set()
    for key, n in order:
        for r in allowed[key] - {key}:
            mutual = any(key in s and r in s for s in strata)
            if r not in seen and not mutual:
                sys.exit('%s:%d: %s may use %s, which is not below it'
                         % (path, n, key, r))
        seen.add(key)
    return allowed, [k for k, _ in order], public, exceptions


def sources(top, exts=('.c', '.h')):
    for dirpath, _, files in os.walk(top):
        for name in sorted(files):
            if name.endswith(exts):
                yield os.path.join(dirpath, name)


def includes(path):
    with open(path, errors='replace') as f:
        text = f.read()
    for m in INCLUDE.finditer(text):
        line = text.count('\n', 0, m.start()) + 1
        yield line, m.group(1)


def check_includes(root, allowed, problems):
    lib = os.path.join(root, 'lib')
    folders = sorted(d for d in os.listdir(lib)
                     if os.path.isdir(os.path.join(lib, d)))
    for d in folders:
        if d not in allowed:
            problems.append('lib/%s: a folder lib/LAYERS does not list' % d)
    for d in allowed:
        if d not in folders:
            problems.append('lib/LAYERS: %s is not a folder of lib/' % d)
    n = 0
    for d in folders:
        for path in sources(os.path.join(lib, d)):
            rel = os.path.relpath(path, root)
            for line, inc in includes(path):
                n += 1
                if inc == 'shmc.h':
                    continue
                target = inc.split('/', 1)[0] if '/' in inc else None
                if target is None:
                    problems.append('%s:%d: #include "%s" does not name its folder'
                                    % (rel, line, inc))
                elif not os.path.exists(os.path.join(lib, inc)):
                    problems.append('%s:%d: #include "%s": no such header'
                                    % (rel, line, inc))
                elif target not in allowed.get(d, ()):
                    problems.append('%s:%d: #include "%s": %s may not use %s'
                                    % (rel, line, inc, d, target))
    return n


def nm(path, *flags):
    out = subprocess.run(['nm', *flags, path], check=True, capture_output=True,
                         text=True).stdout
    return out.splitlines()


def check_calls(objdir, allowed, problems):
    defined, undefined = {}, {}
    for path in sources(objdir, ('.o',)):
        folder = os.path.relpath(path, objdir).split(os.sep)[0]
        name = os.path.relpath(path, objdir)
        for line in nm(path, '-g', '--defined-only'):
            parts = line.split()
            if len(parts) == 3:
                defined[parts[2]] = (folder, name)
        undefined[name] = (folder, [l.split()[-1] for l in nm(path, '-u')])
    if not undefined:
        problems.append('%s: no object files (build the library first)' % objdir)
    n = 0
    for name, (folder, syms) in sorted(undefined.items()):
        for sym in syms:
            if sym not in defined:
                continue  # the C library, jemalloc, libatomic_ops ...
            n += 1
            tfolder, tname = defined[sym]
            if tfolder not in allowed.get(folder, ()):
                problems.append('lib/%s uses %s of lib/%s: %s may not use %s'
                                % (name.replace('.o', '.c'), sym,
                                   tname.replace('.o', '.c'), folder, tfolder))
    return n


def check_public(root, allowed, public, exceptions, problems):
    n = 0
    for entry in public:
        top = os.path.join(root, entry)
        paths = [top] if os.path.isfile(top) else list(sources(top, ('.c', '.h', '.cpp')))
        for path in paths:
            rel = os.path.relpath(path, root)
            ok = exceptions.get(rel, set())
            for line, inc in includes(path):
                n += 1
                folder = inc.split('/', 1)[0] if '/' in inc else None
                if folder in allowed and folder not in ok:
                    problems.append('%s:%d: #include "%s": %s uses include/shmc.h only'
                                    % (rel, line, inc, entry))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default='.')
    ap.add_argument('--objects', help="a build's lib/ folder of object files")
    args = ap.parse_args()
    allowed, order, public, exceptions = parse_layers(
        os.path.join(args.root, 'lib', 'LAYERS'))
    problems = []
    ni = check_includes(args.root, allowed, problems)
    nc = check_calls(args.objects, allowed, problems) if args.objects else 0
    np = check_public(args.root, allowed, public, exceptions, problems)
    for p in problems:
        print('layers: ' + p, file=sys.stderr)
    if problems:
        print('layers: %d violation(s) of lib/LAYERS' % len(problems), file=sys.stderr)
        return 1
    print('layers: %s -- %d includes, %d cross-file symbols, %d public-only '
          'includes checked, none against lib/LAYERS'
          % (' < '.join(order), ni, nc, np))
    return 0


if __name__ == '__main__':
    sys.exit(main())
