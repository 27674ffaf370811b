"""Find the snippet directives in a page's Markdown (step 1 of 3:
scan -> run or take from cache -> render).

Directives stand on a line of their own (indentation allowed, so they work
inside admonitions and tabs)::

    {{ run FILE[:REGION] }}      code and output side by side, as tabs
    {{ code FILE[:REGION] }}     only the code
    {{ output FILE[:REGION] }}   only what it printed, then its images
    {{ image FILE NAME.png }}    one image the snippet saved
    {{ notebook FILE }}          the starter notebook made from FILE
    {{ include PATH }}           a Markdown file of the repository, as is
    {{ source OBJECT }}          an installed library object's source
    {{ source OBJECT A-B "TEXT" }}  lines A to B of it, which contain TEXT

Values glued by a snippet can stand anywhere in prose: ``{{ val FILE:NAME }}``,
and so can a pinned link to installed source: ``{{ sourcelink OBJECT }}``.
OBJECT is ``MODULE:QUALNAME`` of an installed package
(``diffusers.models.autoencoders.vae:DiagonalGaussianDistribution``); line
numbers are the file's, and the build fails when the object is gone or the
lines no longer contain TEXT (see ``library.py``).
FILE is relative to the page's ``snippets:`` front-matter folder, or to
``snippets/`` when the page sets none, and must stay inside the snippets
folder; PATH is relative to the repository root and must stay inside it.
An ordered list right after a ``run`` or ``code`` directive holds the code
annotations (``# (1)!``).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from infralens.engine.records import Request
from infralens.engine.source import SnippetError

BLOCK_RE = re.compile(
    r"^(?P<indent>[ \t]*)\{\{\s*(?P<verb>run|code|output|image|notebook)\s+"
    r"(?P<target>[^\s}]+)(?:\s+(?P<arg>[^}]*?))?\s*\}\}\s*$"
)
INCLUDE_RE = re.compile(r"^\{\{\s*include\s+(?P<path>[^\s}]+)\s*\}\}\s*$")
SOURCE_RE = re.compile(
    r"^(?P<indent>[ \t]*)\{\{\s*source\s+(?P<target>[^\s}]+)"
    r"(?:\s+(?P<first>\d+)-(?P<last>\d+)\s+\"(?P<anchor>.+)\")?\s*\}\}\s*$"
)
SOURCELINK_RE = re.compile(r"\{\{\s*sourcelink\s+(?P<target>[^\s}\"]+)\s*\}\}")
VAL_RE = re.compile(r"\{\{\s*val\s+(?P<target>[^\s}:]+):(?P<name>\w+)\s*\}\}")
ANY_RE = re.compile(r"\{\{\s*(\w+)")
VERBS = (
    "val",
    "run",
    "code",
    "output",
    "image",
    "notebook",
    "include",
    "source",
    "sourcelink",
)
FRONT_RE = re.compile(r"^---\s*\n(.*?)\n---\s*\n", re.S)
SNIPPETS_META_RE = re.compile(r"^snippets:\s*(\S+)\s*$", re.M)


@dataclass
class Directive:
    verb: str
    snippet: str  # path relative to the project root
    region: str | None
    arg: str | None
    line: int  # 1-based line in the page source
    # source and sourcelink: ``snippet`` holds MODULE:QUALNAME instead
    span: tuple[int, int] | None = None
    anchor: str | None = None

    @property
    def names_snippet(self) -> bool:
        """Whether ``snippet`` is a snippet file of the project."""
        return self.verb not in ("include", "source", "sourcelink")


def unfenced(lines: list[str]):
    """(index, line) of each line outside fenced code blocks (the fence
    lines themselves excluded): directives inside fences are examples."""
    in_fence = None
    for i, line in enumerate(lines):
        fence = re.match(r"^\s*(`{3,}|~{3,})", line)
        if fence:
            mark = fence.group(1)
            if in_fence is None:
                in_fence = mark
            elif mark.startswith(in_fence[0]) and len(mark) >= len(in_fence):
                in_fence = None
            continue
        if not in_fence:
            yield i, line


def snippet_base(markdown: str, snippets_root: str) -> str:
    m = FRONT_RE.match(markdown)
    if m:
        s = SNIPPETS_META_RE.search(m.group(1))
        if s:
            return f"{snippets_root}/{s.group(1).strip('/')}"
    return snippets_root


def _inside(path: str, folder: str, boundary: str) -> str | None:
    """``folder/path`` normalised, or None when ``path`` is absolute or
    the result leaves ``boundary`` ("" is the repository root)."""
    if path.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", path):
        return None
    joined = posixpath.normpath(posixpath.join(folder, path))
    if not boundary:
        return None if joined.split("/")[0] in ("..", ".") else joined
    return joined if joined.startswith(boundary + "/") else None


def _resolve(
    base: str, target: str, root: str, where: tuple[str, int]
) -> tuple[str, str | None]:
    file, _, region = target.partition(":")
    rel = _inside(file, base, root)
    if rel is None:
        raise SnippetError(
            *where, f"{file!r} is outside the snippets folder {root}/"
        )
    return rel, (region or None)


def _include_path(path: str, where: tuple[str, int]) -> str:
    rel = _inside(path, "", "")
    if rel is None:
        raise SnippetError(
            *where, f"{path!r} is outside the repository (include)"
        )
    if not rel.endswith(".md"):
        raise SnippetError(
            *where, f"{path!r}: only Markdown files can be included"
        )
    return rel


def scan(
    page_path: str,
    markdown: str,
    snippets_root: str = "snippets",
    folder: str | None = None,
):
    """All directives of a page, in order. Raises on a malformed one.

    ``folder`` is the page's ``snippets:`` front-matter value when the
    caller has already removed the front matter."""
    if folder == "":
        base = snippets_root
    elif folder is not None:
        base = f"{snippets_root}/{folder.strip('/')}"
    else:
        base = snippet_base(markdown, snippets_root)
    found: list[Directive] = []
    for i, line in unfenced(markdown.splitlines()):
        no = i + 1
        where = (page_path, no)
        inc = INCLUDE_RE.match(line)
        if inc:
            path = _include_path(inc.group("path"), where)
            found.append(Directive("include", path, None, None, no))
            continue
        src = SOURCE_RE.match(line)
        if src:
            span = None
            if src.group("first"):
                span = (int(src.group("first")), int(src.group("last")))
            found.append(
                Directive(
                    "source",
                    src.group("target"),
                    None,
                    None,
                    no,
                    span,
                    src.group("anchor"),
                )
            )
            continue
        m = BLOCK_RE.match(line)
        if m:
            snip, region = _resolve(
                base, m.group("target"), snippets_root, where
            )
            found.append(
                Directive(m.group("verb"), snip, region, m.group("arg"), no)
            )
            continue
        for v in VAL_RE.finditer(line):
            snip, _ = _resolve(base, v.group("target"), snippets_root, where)
            found.append(Directive("val", snip, None, v.group("name"), no))
        for s in SOURCELINK_RE.finditer(line):
            found.append(
                Directive("sourcelink", s.group("target"), None, None, no)
            )
        for a in ANY_RE.finditer(line):
            if a.group(1) not in VERBS:
                continue
            if not (
                VAL_RE.match(line, a.start())
                or SOURCELINK_RE.match(line, a.start())
                or BLOCK_RE.match(line)
            ):
                raise SnippetError(
                    page_path,
                    no,
                    f"malformed snippet directive: {line.strip()!r}",
                )
    return found


def requests(page_path: str, directives: list[Directive]) -> list[Request]:
    """The snippets a page's directives need run, first mention first."""
    seen: dict[str, Request] = {}
    for d in directives:
        if d.names_snippet and d.snippet not in seen:
            seen[d.snippet] = Request(d.snippet, page_path, d.line)
    return list(seen.values())
