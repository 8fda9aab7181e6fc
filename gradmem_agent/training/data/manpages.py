"""The manual pages installed on this machine, rendered to plain text with groff (no network, nothing downloaded).

Pages are grouped into families by the first part of their name (git-commit, git-push -> "git"; the ~16,000
gcloud pages of some machines are one family), so that a sampler can draw families evenly and a split can hold
whole families."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
from functools import cache, lru_cache
from pathlib import Path

MAN_ROOT = Path("/usr/share/man")
SECTIONS = tuple(f"man{n}" for n in range(1, 9))
_GROFF = ("groff", "-t", "-mandoc", "-Tutf8", "-P-cbou", "-rLL=2000n", "-rHY=0")  # one line per paragraph
_TAG_GAP = re.compile(r"(?<=\S) {2,}(?=\S)")
_BOX = re.compile("[\u2500-\u257f]")  # table rules
_ASCII = str.maketrans({"\u2010": "-", "\u2011": "-", "\u2212": "-", "\u2013": "-", "\u2014": "--",
                        "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2022": "-", "\u00b7": "-",
                        "\u00a0": " "})


def available() -> bool:
    """True when groff is installed and at least one page is present."""
    return shutil.which("groff") is not None and bool(pages())


@cache
def pages() -> tuple[tuple[str, Path], ...]:
    """(page name, path) of every compressed page in the English sections, sorted; symlinks left out."""
    found = []
    for section in SECTIONS:
        directory = MAN_ROOT / section
        if directory.is_dir():
            found += [(path.name.removesuffix(".gz"), path) for path in directory.glob("*.gz") if not path.is_symlink()]
    return tuple(sorted(found))


def family(page: str) -> str:
    return re.split(r"[._:-]", page, maxsplit=1)[0].lower()


@cache
def families() -> dict[str, tuple[Path, ...]]:
    grouped: dict[str, list[Path]] = {}
    for name, path in pages():
        grouped.setdefault(family(name), []).append(path)
    return {name: tuple(paths) for name, paths in sorted(grouped.items())}


@lru_cache(maxsize=512)
def render(path: Path) -> str:
    """The page as plain text: one line per paragraph or option tag, blank lines between paragraphs, header, footer
    and tables dropped, typographic dashes and quotes as ASCII. "" for an alias page (.so) or a page groff fails on."""
    try:
        source = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        return ""
    if source.lstrip().startswith((b".so ", b".so\t")):
        return ""
    try:
        done = subprocess.run(_GROFF, input=source, capture_output=True, timeout=20, check=False,
                              env={"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"})
    except (OSError, subprocess.TimeoutExpired):
        return ""
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    body = [line for line in lines if line.strip()][1:-1]  # running header and footer
    if not body:
        return ""
    first, last = lines.index(body[0]), len(lines) - 1 - lines[::-1].index(body[-1])
    kept = []
    for line in lines[first:last + 1]:
        if _BOX.search(line):
            continue
        # a short option tag shares its line with its description, a wide gap between them: two lines
        parts = _TAG_GAP.split(line.strip(), maxsplit=1) if line.lstrip().startswith("-") else [line]
        kept += [" ".join(part.translate(_ASCII).split()) for part in parts]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()
