"""Progress of a long CLI command, on stderr: a bar redrawn in place on a terminal, whole lines when piped or
redirected (a log file, CI), where a carriage return would run the steps together on one line."""

import sys
from typing import TextIO

BAR_WIDTH = 30
LINE_STEP = 10
"""Piped, a line every this many percent (and at 100 %): a file that reads as steps, not as every item."""


class Progress:
    """``report(phase, done, total)`` as items are done; each phase ends with a line of its own."""

    def __init__(self, stream: TextIO | None = None, *, terminal: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.terminal = self.stream.isatty() if terminal is None else terminal
        self._shown: dict[str, int] = {}

    def report(self, phase: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        last = self._shown.get(phase)
        if last == percent:
            return
        if not self.terminal and last is not None and percent < 100 and percent // LINE_STEP == last // LINE_STEP:
            return
        self._shown[phase] = percent
        if self.terminal:
            filled = BAR_WIDTH * percent // 100
            bar = "█" * filled + "·" * (BAR_WIDTH - filled)
            end = "\n" if percent >= 100 else ""
            self.stream.write(f"\r{phase}: {bar} {done}/{total} ({percent}%){end}")
        else:
            self.stream.write(f"{phase}: {done}/{total} ({percent}%)\n")
        self.stream.flush()
