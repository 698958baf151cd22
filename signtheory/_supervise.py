"""Child processes that never outlive the process they work for.

Used by the sweep's pool (:mod:`signtheory.rates.sweep`) and by the workers of the
``processes`` backend: a daemon thread ends the child once the watched process is
gone, even when the child's own work is stuck in compiled code.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time


def alive(pid: int) -> bool:
    """Whether process ``pid`` (and the process that started this one) still runs."""
    parent = mp.parent_process()
    if parent is not None and not parent.is_alive():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def exit_when_gone(pid: int, poll: float, code: int = 0) -> None:
    """Start a daemon thread that ends this process with ``code`` once ``pid`` is gone,
    checking every ``poll`` seconds."""

    def watch():
        while alive(pid):
            time.sleep(poll)
        os._exit(code)

    threading.Thread(target=watch, name=f"watch-{pid}", daemon=True).start()
