"""CPython's own manager tests, unmodified, given shmc.Manager() in place
of multiprocessing.Manager().

The classes of the installed Python's test/_test_multiprocessing.py that
run with a manager (ALLOWED_TYPES includes 'manager'), made by its own
install_tests_in_module_dict(), and TestSyncManagerTypes with
manager_class = shmc.SyncManager. Each test is printed with its result,
then a last line 'N passed, N failed'.

Also checked after each test: the arena holds no more managed objects
than before it (what dead processes held is released first), as CPython
checks the Manager's _number_of_objects() after each class; a test that
leaves objects behind fails, but for the leaks listed in EXPECTED_LEAKS,
which Python's Manager has too.

    python3 cpython_manager_tests.py [-v] [--start-method fork|spawn|forkserver]
                                     [-k PATTERN]...

Needs the test package of the Python running it (on Debian:
libpython3.11-testsuite).
"""
import faulthandler
import gc
import os
import sys
import time
import unittest

# The start method is read at import: a spawned child imports this module
# again and must build the same classes.
START_METHOD = os.environ.setdefault("SHMC_START_METHOD", "fork")

import multiprocessing  # noqa: E402

import shmc  # noqa: E402

try:
    import test._test_multiprocessing as cpython  # noqa: E402
except ImportError as e:  # pragma: no cover
    sys.exit("cpython_manager_tests: CPython's test package is missing (%s); "
             "on Debian: apt-get install libpython3.%d-testsuite"
             % (e, sys.version_info[1]))

# The one substitution: the mixin's setUpClass calls multiprocessing.Manager().
multiprocessing.Manager = shmc.Manager

# Classes that test BaseManager's server (custom types registered with
# register(), connect() to an address, a TCP server restarted on the same
# port): there is no server in shmc, and these tests do not use
# multiprocessing.Manager(), so running them would test CPython, not shmc.
NOT_APPLICABLE = {
    "WithManagerTestMyManager": "a BaseManager subclass with register()ed types",
    "WithManagerTestRemoteManager": "a BaseManager serving a queue over TCP, connect()",
    "WithManagerTestManagerRestart": "a BaseManager's TCP server restarted on its port",
}

# Tests that leave unreachable managed objects behind by design, as
# Python's Manager does (its server keeps them): their unreachable blocks
# are not held against them.
EXPECTED_LEAKS = {
    # b = self.list(); b.append(b): a cycle of managed objects is never
    # freed, by shmc as by the Manager (its server keeps the list).
    "test_list_proxy_in_list": 1,
}

TEST_TIMEOUT = 300  # seconds

_globs = {"__name__": __name__}
try:
    cpython.install_tests_in_module_dict(_globs, START_METHOD, only_type="manager")
except TypeError:  # 3.11.2 (Debian 12) builds every type of test: keep ours
    cpython.install_tests_in_module_dict(_globs, START_METHOD)
for _name, _obj in _globs.items():
    if _name.startswith("WithManager") and _name not in NOT_APPLICABLE:
        globals()[_name] = _obj
setUpModule = _globs["setUpModule"]
tearDownModule = _globs["tearDownModule"]


class TestSyncManagerTypes(cpython.TestSyncManagerTypes):
    manager_class = shmc.SyncManager

    def setUp(self):
        super().setUp()
        self._shmc_before = _usage(self.manager)

    def tearDown(self):
        # CPython's tearDown shuts the manager down; measure what is left
        # first (the proxies the test's child held are released by then).
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        self.proc = None
        _check_leak(self, self.manager, self._shmc_before)
        super().tearDown()


TestSyncManagerTypes.__module__ = __name__


def _slow():
    """SHMC_TEST_SLOW=N: how much slower than usual this machine may be."""
    try:
        return min(max(float(os.environ.get("SHMC_TEST_SLOW", "1")), 1.0), 1000.0)
    except ValueError:
        return 1.0


_SLOW = _slow()


def _usage(mgr, settle=5.0 * _SLOW):
    """(managed objects alive, blocks allocated but unreachable) in MGR's
    arena, once what dead processes held is released. The arena check
    finds the second: a cycle of managed objects (uncounted by the first,
    since nothing reaches it), or a block an operation lost. The check is
    exact only while no process changes the arena (a pool's server may
    still be delivering results): what it finds is taken once two checks
    in a row agree and report no broken invariant, or after SETTLE."""
    arena = mgr.arena
    end = time.monotonic() + settle
    last = None
    while True:
        n = arena.count_objects()
        errors, leaked, findings = arena.check()
        now = (n, leaked) if not errors else None
        if now is not None and now == last:
            return now
        if time.monotonic() > end:
            if now is None:
                raise AssertionError("the arena check failed:\n  " + "\n  ".join(findings))
            return now
        last = now
        time.sleep(0.01)


def _check_leak(test, mgr, before, deadline=5.0 * _SLOW):
    """Record in TEST what it left in MGR's arena, once that is back to
    BEFORE or after DEADLINE: processes a test started may still be
    letting go of objects (a pool's server completes results after the
    caller has them)."""
    allowed = EXPECTED_LEAKS.get(test._testMethodName, 0)
    end = time.monotonic() + deadline
    while True:
        gc.collect()
        now = _usage(mgr)
        objects, blocks = now[0] - before[0], now[1] - before[1]
        if allowed:  # a cycle: unreachable, so its blocks are what it leaves
            blocks = 0
        if (objects <= 0 and blocks <= 0) or time.monotonic() > end:
            break
        time.sleep(0.02)
    test._shmc_leak = (objects, blocks)


class Result(unittest.TextTestResult):
    """One line per test; a leak of managed objects is a failure."""

    def __init__(self, *args, **kwds):
        super().__init__(*args, **kwds)
        self.passed = 0

    def startTest(self, test):
        test._shmc_leak = (0, 0)
        test._shmc_mgr = None
        mgr = getattr(type(test), "manager", None)
        if isinstance(mgr, shmc.SyncManager):
            gc.collect()
            test._shmc_mgr = mgr
            test._shmc_before = _usage(mgr)
        super().startTest(test)
        self.stream.write("%s.%s ... " % (type(test).__name__, test._testMethodName))
        self.stream.flush()
        self._t0 = time.monotonic()
        # A test that hangs ends the run, with every thread's traceback.
        faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)

    def _outcome(self, test, what):
        self.stream.writeln("%s (%.2fs)" % (what, time.monotonic() - self._t0))
        self.stream.flush()

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)

    def addSuccess(self, test):
        if test._shmc_mgr is not None:
            _check_leak(test, test._shmc_mgr, test._shmc_before)
        objects, nbytes = test._shmc_leak
        if objects > 0 or nbytes > 0:
            try:
                raise AssertionError("left in the arena: %d managed object(s), %d "
                                     "unreachable block(s)"
                                     % (objects, nbytes))
            except AssertionError:
                self.addFailure(test, sys.exc_info())
            return
        unittest.TestResult.addSuccess(self, test)
        self.passed += 1
        self._outcome(test, "ok")

    def addError(self, test, err):
        unittest.TestResult.addError(self, test, err)
        self._outcome(test, "ERROR")

    def addFailure(self, test, err):
        unittest.TestResult.addFailure(self, test, err)
        self._outcome(test, "FAIL")

    def addSkip(self, test, reason):
        unittest.TestResult.addSkip(self, test, reason)
        self._outcome(test, "skipped by the test: %s" % reason)

    def addExpectedFailure(self, test, err):
        unittest.TestResult.addExpectedFailure(self, test, err)
        self._outcome(test, "expected failure")

    def addUnexpectedSuccess(self, test):
        unittest.TestResult.addUnexpectedSuccess(self, test)
        self._outcome(test, "unexpected success")

    def printErrors(self):
        self.stream.writeln()
        super().printErrors()


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", action="append", default=[], help="only tests matching")
    ap.add_argument("--start-method", choices=("fork", "spawn", "forkserver"))
    args = ap.parse_args(argv)
    if args.start_method and args.start_method != START_METHOD:
        os.environ["SHMC_START_METHOD"] = args.start_method
        os.execv(sys.executable, [sys.executable] + sys.argv)
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % k for k in args.k]
    suite = loader.loadTestsFromModule(sys.modules[__name__])
    print("CPython's manager tests (%s, Python %s) on shmc %s, start method %s"
          % (cpython.__file__, sys.version.split()[0], shmc.LIBRARY_VERSION,
             START_METHOD))
    for name, why in sorted(NOT_APPLICABLE.items()):
        print("not applicable: %s (%s)" % (name, why))
    runner = unittest.TextTestRunner(stream=sys.stdout, resultclass=Result,
                                     verbosity=0)
    t0 = time.monotonic()
    result = runner.run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    print("%d skipped by the tests themselves (not for a manager); %.1f s"
          % (len(result.skipped), time.monotonic() - t0))
    print("%d passed, %d failed" % (result.passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
