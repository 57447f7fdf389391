"""make demo's Python part: the documented examples, run as Python
programs with their one import changed to `import shmc as
multiprocessing`, printed, and compared line for line with what Python's
own multiprocessing.Manager prints when the unchanged program runs now
(object addresses differ from run to run and are masked).

    python3 test/python/demo.py        # exit 1 if any output differs
"""
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "integration", "expected")
NAMES = ["manager_example.py", "append_example.py", "sync_example.py"]


def mask(text):
    return re.sub(r"at 0x[0-9a-f]+", "at 0x...", text)


def run(source):
    r = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        sys.stderr.write(r.stderr)
    return r.returncode, r.stdout


def main():
    differ = 0
    for name in NAMES:
        with open(os.path.join(EXAMPLES, name)) as f:
            source = f.read()
        mine = source.replace("import multiprocessing\n", "import shmc as multiprocessing\n", 1)
        assert mine != source, name
        print("== %s, with `import shmc as multiprocessing`" % name)
        rc, got = run(mine)
        sys.stdout.write(got)
        rc2, want = run(source)
        if rc or rc2 or mask(got) != mask(want):
            differ += 1
            print("-- DIFFERS from multiprocessing.Manager's output:")
            for a, b in zip(mask(want).splitlines(), mask(got).splitlines()):
                print(("   " if a == b else "!! ") + a + ("" if a == b else "  |  " + b))
        else:
            print("-- the same as multiprocessing.Manager's, line for line, but for "
                  "the addresses")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
