"""verify's pool never outlives verify, and Ctrl-C stops a sweep at once with one line."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

HERE = Path(__file__).parent


def start_verify(tmp_path, via_cli: bool):
    """verify of one slow row on a pool of two processes, in a child interpreter; returns the
    process once its pool's processes are running."""
    if via_cli:  # a registry row that takes tens of seconds
        argv = ["verify", "--only", "ssvr-mv-1/T", "--out", str(tmp_path), "--no-figures", "--processes", "2",
                "--no-progress"]
        code = f"import sys; from signtheory.cli import main; sys.exit(main({argv!r}))"
    else:
        code = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(HERE)!r})
            from test_verify import tiny_row
            from signtheory.rates.verify import verify
            row = tiny_row(id="slow", method="signsgd", label="signSGD", problem_params={{"d": 64}},
                           options={{"B": 64}}, theory_exponent=-0.5, exponent_text="-1/2",
                           grid=(16000, 32000, 64000, 128000), seeds=2)
            verify({str(tmp_path)!r}, selected=[row], processes=2, progress=None, figures=False)
        """)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    parent = psutil.Process(proc.pid)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if len(parent.children(recursive=True)) >= 2:
            time.sleep(1.0)  # the pool is at work
            return proc, parent.children(recursive=True)
        time.sleep(0.05)
    proc.kill()
    pytest.fail(f"verify's pool did not start: {proc.communicate()}")


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_no_pool_process_outlives_a_killed_verify(tmp_path, sig):
    proc, pool = start_verify(tmp_path, via_cli=False)
    proc.send_signal(sig)
    proc.communicate(timeout=30)  # returns: nothing of verify's still holds its output open
    gone, alive = psutil.wait_procs(pool, timeout=5)
    assert not alive, f"pool processes alive 5 s after {sig.name}: {[p.pid for p in alive]}"


def test_ctrl_c_stops_verify_within_two_seconds_with_one_line(tmp_path):
    proc, pool = start_verify(tmp_path, via_cli=True)
    start = time.monotonic()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    elapsed = time.monotonic() - start
    assert proc.returncode == 130, (proc.returncode, err)
    assert elapsed < 2.0, elapsed
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("signtheory: interrupted;") and "rerun to resume" in lines[0], err
    gone, alive = psutil.wait_procs(pool, timeout=5)
    assert not alive
