"""Profile a child process for one phase: ``python -m tests.bench.profiling <module> [args]``.

The child runs ``<module>`` as ``__main__``; SIGUSR1 starts pyinstrument, SIGUSR2 stops it and
writes ``<BENCH_PROFILE_OUT>.txt`` and ``.html``. The parent sends the signals around the phase it
wants to see, so start-up and shutdown stay out of the profile.
"""

from __future__ import annotations

import os
import runpy
import signal
import sys
from pathlib import Path
from types import FrameType

PROFILE_ENV = "BENCH_PROFILE_OUT"
INTERVAL_S = 0.0005
WRITTEN_MARKER = "bench-profile-written"


def main() -> None:
    """Run the module named by ``argv[1]`` with the profiler switched by signals."""
    from pyinstrument import Profiler

    out = Path(os.environ[PROFILE_ENV])
    profiler = Profiler(interval=INTERVAL_S, async_mode="disabled")

    def start(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            profiler.start()

    def stop(signum: int, frame: FrameType | None) -> None:
        if not profiler.is_running:
            return
        profiler.stop()
        out.with_suffix(".txt").write_text(
            profiler.output_text(unicode=True, show_all=False), encoding="utf-8"
        )
        out.with_suffix(".html").write_text(profiler.output_html(), encoding="utf-8")
        if profiler.last_session is not None:
            profiler.last_session.save(str(out.with_suffix(".pyisession")))
        print(f"{WRITTEN_MARKER} {out}", flush=True)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    module, sys.argv = sys.argv[1], sys.argv[1:]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
