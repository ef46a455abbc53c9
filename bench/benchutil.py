"""What the benchmark scripts share: waiting for a server, the median round."""

import socket
import time


def wait_accepts(path, proc=None, timeout=10):
    """Until a unix socket accepts (it exists between bind and listen, refusing); proc: the
    server, whose exit ends the wait."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            c = socket.socket(socket.AF_UNIX)
            c.connect(path)
            c.close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("nothing accepts on " + path)


def median(runs):
    """The median round by throughput (field 1 of each run)."""
    return sorted(runs, key=lambda r: r[1])[len(runs) // 2]
