"""Read a snippet file: its named regions, notebook cells and run chunks.

A snippet is plain Python. Two kinds of marker comment split it:

- named regions, in pymdownx.snippets syntax::

      # --8<-- [start:encode]
      ...
      # --8<-- [end:encode]

- jupytext percent cells (``# %%``), used by starter notebooks.

The file runs as a sequence of *chunks*: runs of top-level statements that
no marker separates. Each chunk's output is captured on its own, so a page
can show a region's code next to exactly what that region printed.
"""

from __future__ import annotations

import ast
import bisect
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

REGION_RE = re.compile(
    r"^\s*#\s*--8<--\s*\[(start|end):([A-Za-z0-9_-]+)\]\s*$"
)
CELL_RE = re.compile(r"^# %%(.*)$")


class SnippetError(Exception):
    """A problem in a snippet or page, located at ``path:line``."""

    def __init__(self, path, line: int | None, message: str, detail: str = ""):
        self.path = str(path)
        self.line = line
        self.message = message
        self.detail = detail
        super().__init__(self.location() + ": " + message)

    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass
class Chunk:
    index: int
    first_line: int  # 1-based, inclusive
    last_line: int
    region: str | None


@dataclass
class Cell:
    kind: str  # "code" or "markdown"
    first_line: int  # line after the "# %%" marker
    last_line: int
    source: str


@dataclass
class Snippet:
    path: Path
    text: str
    regions: dict[str, tuple[int, int]] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def shown_code(self, region: str | None = None) -> str:
        """The code a page shows: the region's lines, or the whole file,
        without marker lines (the bytes that run, minus the markers)."""
        lines = self.lines
        if region is None:
            first, last = 1, len(lines)
        else:
            start, end = self.regions[region]
            first, last = start + 1, end - 1
        kept = [
            ln for ln in lines[first - 1 : last] if not REGION_RE.match(ln)
        ]
        while kept and not kept[0].strip():
            kept.pop(0)
        while kept and not kept[-1].strip():
            kept.pop()
        return "\n".join(kept)

    def chunk_ids(self, region: str | None = None) -> list[int]:
        if region is None:
            return [c.index for c in self.chunks]
        return [c.index for c in self.chunks if c.region == region]


def _stmt_first_line(node: ast.stmt) -> int:
    lines = [node.lineno]
    for dec in getattr(node, "decorator_list", []):
        lines.append(dec.lineno)
    return min(lines)


@functools.lru_cache(maxsize=256)
def _statement_lines(text: str, filename: str) -> tuple[tuple[int, int], ...]:
    """(first line, last line) of each top-level statement of ``text``.
    Every build reads every snippet and parsing is the slow part, so the
    lines are remembered for the same text (a SyntaxError is raised
    again each time: exceptions are not remembered)."""
    tree = ast.parse(text, filename=filename)
    return tuple(
        (_stmt_first_line(node), node.end_lineno or node.lineno)
        for node in tree.body
    )


def parse(path: Path, text: str | None = None) -> Snippet:
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SnippetError(path, None, "snippet file not found") from None
    snip = Snippet(path=path, text=text)
    lines = text.splitlines()

    boundaries: list[int] = []
    open_region: tuple[str, int] | None = None
    cell_marks: list[tuple[int, str]] = []
    for no, line in enumerate(lines, start=1):
        m = REGION_RE.match(line)
        if m:
            kind, name = m.groups()
            boundaries.append(no)
            if kind == "start":
                if open_region:
                    raise SnippetError(
                        path,
                        no,
                        f"region '{name}' starts "
                        f"inside region '{open_region[0]}' "
                        "(regions do not nest)",
                    )
                if name in snip.regions:
                    raise SnippetError(
                        path, no, f"region '{name}' defined twice"
                    )
                open_region = (name, no)
            else:
                if not open_region or open_region[0] != name:
                    raise SnippetError(
                        path, no, f"end of region '{name}' that is not open"
                    )
                snip.regions[name] = (open_region[1], no)
                open_region = None
            continue
        c = CELL_RE.match(line)
        if c:
            boundaries.append(no)
            cell_marks.append((no, c.group(1)))
    if open_region:
        raise SnippetError(
            path, open_region[1], f"region '{open_region[0]}' is never closed"
        )

    try:
        statements = _statement_lines(text, str(path))
    except SyntaxError as exc:
        raise SnippetError(
            path, exc.lineno, f"SyntaxError: {exc.msg}"
        ) from None

    def region_of(line: int) -> str | None:
        for name, (start, end) in snip.regions.items():
            if start < line < end:
                return name
        return None

    current: Chunk | None = None
    current_seg = None
    for first, last in statements:
        seg = bisect.bisect_right(boundaries, first)
        if seg != bisect.bisect_right(boundaries, last):
            inner = boundaries[seg]
            raise SnippetError(
                path,
                inner,
                "region or cell marker inside a "
                f"statement that starts at line {first}",
            )
        if current is not None and seg == current_seg:
            current.last_line = last
        else:
            current = Chunk(len(snip.chunks), first, last, region_of(first))
            current_seg = seg
            snip.chunks.append(current)

    for i, (no, tail) in enumerate(cell_marks):
        end = (
            cell_marks[i + 1][0] - 1 if i + 1 < len(cell_marks) else len(lines)
        )
        body = lines[no:end]
        kind = "markdown" if "[markdown]" in tail else "code"
        if kind == "markdown":
            body = [re.sub(r"^# ?", "", ln) for ln in body]
        while body and not body[-1].strip():
            body.pop()
        snip.cells.append(Cell(kind, no + 1, end, "\n".join(body)))
    return snip


def compile_chunk(snip: Snippet, chunk: Chunk, tree: ast.Module):
    """Compile one chunk's statements with their real line numbers."""
    body = [
        n
        for n in tree.body
        if chunk.first_line <= _stmt_first_line(n) <= chunk.last_line
    ]
    module = ast.Module(body=body, type_ignores=[])
    return compile(module, str(snip.path), "exec", dont_inherit=True)
