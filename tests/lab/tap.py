"""A tiny test runner: each test prints "ok - suite/name" or "not ok - suite/name" (+ reason).

    suite = Suite("gate")
    @suite.test
    def tls_required(): ...
    suite.run(setup, teardown)

setup() runs once before the tests (its failure fails every test, loudly); teardown() always runs.
A test fails by raising (assert). Nothing is ever skipped silently.
"""

import sys
import time
import traceback


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self, setup=None, teardown=None):
        failed = 0
        only = set(sys.argv[1:])
        try:
            if setup:
                setup()
            for fn in self.tests:
                if only and fn.__name__ not in only:
                    continue
                t0 = time.time()
                try:
                    fn()
                    print("ok - %s/%s (%.1fs)" % (self.name, fn.__name__, time.time() - t0))
                except Exception:
                    failed += 1
                    print("not ok - %s/%s" % (self.name, fn.__name__))
                    for line in traceback.format_exc().rstrip().splitlines():
                        print("#   " + line)
                sys.stdout.flush()
        except Exception:
            failed += 1
            print("not ok - %s/setup" % self.name)
            for line in traceback.format_exc().rstrip().splitlines():
                print("#   " + line)
        finally:
            if teardown:
                try:
                    teardown()
                except Exception:
                    failed += 1
                    print("not ok - %s/teardown" % self.name)
                    for line in traceback.format_exc().rstrip().splitlines():
                        print("#   " + line)
        sys.stdout.flush()
        sys.exit(1 if failed else 0)
