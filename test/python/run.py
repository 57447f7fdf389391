"""Run the Python binding's tests: shmc's own (test_shmc.py), then
CPython's manager tests through the harness (cpython_manager_tests.py).

    python3 test/python/run.py [--start-method fork|spawn|forkserver|all]

Exit status 0 only if both pass. `make python-test` runs it with the
package of the build on PYTHONPATH.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(args):
    print("==", " ".join(os.path.basename(a) for a in args[1:]), flush=True)
    return subprocess.call(args, cwd=HERE)


def main(argv):
    methods = ["fork"]
    if "--start-method" in argv:
        m = argv[argv.index("--start-method") + 1]
        methods = ["fork", "spawn", "forkserver"] if m == "all" else [m]
    failed = 0
    failed += run([sys.executable, os.path.join(HERE, "test_shmc.py")]) != 0
    for m in methods:
        failed += run([sys.executable, os.path.join(HERE, "cpython_manager_tests.py"),
                       "--start-method", m]) != 0
    print("python tests: %s" % ("all passed" if not failed else "%d run(s) failed" % failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
