"""A progress bar over the WRITE steps of one or more blocks."""

from __future__ import annotations

import sys


class WriteBar:
    """A tqdm bar over several WRITEs, fed by write_progress(done, total) calls that restart at each block."""

    def __init__(self, total: int | None = None, desc: str = "WRITE", announce: str | None = None) -> None:
        self.total, self.desc, self.announce = total, desc, announce
        self.bar = None
        self.base = self.last = self.last_total = 0
        self.blocks = 0

    def __call__(self, done: int, total: int) -> None:
        from tqdm import tqdm

        if self.bar is None:
            if self.announce:
                print(self.announce, file=sys.stderr, flush=True)
            self.bar = tqdm(total=self.total or total, desc=self.desc, unit="step", file=sys.stderr,
                            dynamic_ncols=True, leave=True)
        if done < self.last:  # a new block started
            self.base += self.last_total
            self.blocks += 1
        self.last, self.last_total = done, total
        position = self.base + done
        if self.bar.total is not None and position > self.bar.total:
            self.bar.total = position
        self.bar.n = position
        self.bar.refresh()

    def close(self) -> bool:
        """Close the bar; True if anything was written."""
        if self.bar is None:
            return False
        self.bar.close()
        self.bar = None
        self.base = self.last = self.last_total = 0
        return True
