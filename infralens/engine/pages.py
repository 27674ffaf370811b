"""Find snippet directives in page Markdown and expand them.

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

Everything a snippet produced is data, never markup: glued values become
one line of literal text, and printed output is left out of the Markdown
altogether (a placeholder stands in for it, replaced by escaped text in the
finished HTML), so no Markdown extension ever reads it.
"""

from __future__ import annotations

import html
import os
import posixpath
import re
import secrets
from dataclasses import dataclass, field

from infralens.engine.images import img_tag
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
LIST_ITEM_RE = re.compile(r"^\s*\d+\.\s")
# C0/C1 controls (tab and newline aside) and the bidi overrides that can
# make text read differently from what it is
CONTROL_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# characters a glued value keeps as they are; any other is an entity
PLAIN_RE = re.compile(r"[^\w .,+%-]|_")


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


def _list_end(src: list[str], j: int, indent: str) -> int:
    """Index just past the ordered list that starts at ``src[j]``: its
    items, their deeper-indented continuation lines and blank lines
    between them."""

    def continues(line: str) -> bool:
        deeper = (
            line.startswith(indent) and line[len(indent) : len(indent) + 1]
        )
        return bool(LIST_ITEM_RE.match(line)) or deeper in (" ", "\t")

    k = j
    while k < len(src):
        if continues(src[k]):
            k += 1
        elif not src[k].strip() and k + 1 < len(src) and continues(src[k + 1]):
            k += 1
        else:
            break
    return k


def _fence(text: str, lang: str, attrs: str = "") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    head = f"{ticks} {lang}" + (f" {attrs}" if attrs else "")
    return [head, *text.split("\n"), ticks]


def _indent(lines: list[str], prefix: str) -> list[str]:
    return [prefix + ln if ln.strip() else "" for ln in lines]


def visible(text: str) -> str:
    """Text with control characters shown as symbols (NUL as U+2400, ESC
    as U+241B, ...) instead of passed on; tabs and newlines kept."""
    text = text.replace("\r\n", "\n")

    def symbol(m: re.Match) -> str:
        code = ord(m.group())
        if code < 0x20:
            return chr(0x2400 + code)
        return "\u2421" if code == 0x7F else f"<U+{code:04X}>"

    return CONTROL_RE.sub(symbol, text)


def inline_text(value: str) -> str:
    """A glued value as literal prose: one line, every character that
    Markdown, HTML or an extension could read as syntax written as a
    numeric character reference."""
    one_line = visible(re.sub(r"\s+", " ", value).strip())
    return PLAIN_RE.sub(lambda m: f"&#{ord(m.group())};", one_line)


@dataclass
class Literals:
    """Printed output kept out of the Markdown: each block is a token in
    the page source, swapped for its escaped text in the finished HTML.
    Attribute tokens (an image's alt text) stand inside a quoted HTML
    attribute and become one line of text with quotes escaped too."""

    nonce: str = field(default_factory=lambda: secrets.token_hex(8))
    texts: dict[str, str] = field(default_factory=dict)

    def token(self, text: str) -> str:
        token = f"infralens-literal-{self.nonce}-{len(self.texts)}"
        self.texts[token] = text
        return token

    def attribute(self, text: str) -> str:
        token = f"infralens-attr-{self.nonce}-{len(self.texts)}"
        self.texts[token] = " ".join(text.split())
        return token

    def fill(self, page_html: str) -> str:
        pattern = re.compile(rf"infralens-(literal|attr)-{self.nonce}-\d+")

        def text(m: re.Match) -> str:
            raw = self.texts.get(m.group())
            if raw is None:
                return m.group()
            return html.escape(visible(raw), quote=m.group(1) == "attr")

        return pattern.sub(text, page_html)


class PageRenderer:
    """Expands one page's directives with results from the engine."""

    def __init__(
        self,
        page_path,
        results,
        image_files,
        notebook_links,
        include=None,
        literals: Literals | None = None,
        quotes=None,
    ):
        self.page_path = page_path
        self.results = results  # relpath -> Result
        # (Result, image dict) -> [ImageFile], smallest first, URLs relative
        # to the page as served
        self.image_files = image_files
        self.notebook_links = notebook_links  # relpath -> markdown lines
        self.include = include  # repository path -> Markdown text
        self.literals = literals or Literals()
        self.quotes = quotes or {}  # MODULE:QUALNAME -> library.Quoted

    def _result(self, d: Directive):
        res = self.results.get(d.snippet)
        if res is None:
            raise SnippetError(
                self.page_path, d.line, f"no result for {d.snippet}"
            )
        if d.region and d.region not in res.snippet.regions:
            raise SnippetError(
                self.page_path,
                d.line,
                f"{d.snippet} has no region '{d.region}'",
            )
        return res

    def _code(self, res, d: Directive, annotations: list[str]) -> list[str]:
        code = res.snippet.shown_code(d.region)
        name = os.path.basename(d.snippet)
        title = f"{name} ({d.region})" if d.region else name
        attrs = f'title="{title}"'
        if d.region:
            attrs += f' linenums="{res.snippet.regions[d.region][0] + 1}"'
        elif not res.snippet.regions:
            attrs += ' linenums="1"'
        lines = _fence(code, "python", attrs)
        if annotations:
            lines += ["", *annotations]
        return lines

    def _images(self, res, images) -> list[str]:
        lines = []
        for im in images:
            alt = self.literals.attribute(im["alt"])
            lines += ["", img_tag(self.image_files(res, im), alt)]
        return lines

    def _output(self, res, d: Directive) -> list[str]:
        text = res.output(d.region).rstrip()
        shown = self.literals.token(text) if text else None
        lines = _fence(shown or "(this code prints nothing)", "text")
        return lines + self._images(res, res.images_for(d.region))

    def render(self, markdown: str, directives: list[Directive]) -> str:
        by_line: dict[int, list[Directive]] = {}
        for d in directives:
            by_line.setdefault(d.line, []).append(d)
        src = markdown.splitlines()
        out: list[str] = []
        i = 0
        while i < len(src):
            line, no = src[i], i + 1
            ds = by_line.get(no, [])
            block = next(
                (d for d in ds if d.verb not in ("val", "sourcelink")), None
            )
            if block is None:
                for d in ds:
                    if d.verb == "sourcelink":
                        continue
                    res = self._result(d)
                    if d.arg not in res.glue:
                        raise SnippetError(
                            self.page_path,
                            no,
                            f"{d.snippet} glues no value named '{d.arg}'",
                        )
                line = VAL_RE.sub(lambda m, ds=ds: self._val(m, ds), line)
                line = SOURCELINK_RE.sub(self._sourcelink, line)
                out.append(line)
                i += 1
                continue
            i += 1
            if block.verb == "include":
                out.extend(
                    self.include(block.snippet).rstrip("\n").split("\n")
                )
                continue
            if block.verb == "source":
                indent = SOURCE_RE.match(line).group("indent")
                out.extend(_indent(self._source(block), indent))
                continue
            indent = BLOCK_RE.match(line).group("indent")
            annotations: list[str] = []
            if block.verb in ("run", "code"):
                j = i
                while j < len(src) and not src[j].strip():
                    j += 1
                if (
                    j < len(src)
                    and LIST_ITEM_RE.match(src[j])
                    and src[j].startswith(indent)
                    and not src[j][len(indent) : len(indent) + 1].isspace()
                ):
                    k = _list_end(src, j, indent)
                    annotations = [s[len(indent) :] for s in src[j:k]]
                    i = k
            out.extend(_indent(self._block(block, annotations), indent))
        return "\n".join(out) + "\n"

    def _val(self, m, ds):
        for d in ds:
            if (
                d.verb == "val"
                and d.arg == m.group("name")
                and d.snippet.endswith("/" + m.group("target"))
            ):
                return inline_text(self.results[d.snippet].glue[d.arg])
        return m.group(0)

    def _sourcelink(self, m: re.Match) -> str:
        q = self.quotes[m.group("target")]
        name = m.group("target").partition(":")[2] or m.group("target")
        where = f"{q.dist} {q.version}: {q.repo_path} lines {q.first}-{q.last}"
        return f'[`{name}`]({q.url(q.first, q.last)} "{where}")'

    def _source(self, d: Directive) -> list[str]:
        q = self.quotes[d.snippet]
        first, last = d.span or (q.first, q.last)
        name = d.snippet.partition(":")[2] or d.snippet
        lines = "line" if first == last else "lines"
        span = str(first) if first == last else f"{first}\u2013{last}"
        caption = (
            f"`{name}` as installed ({q.dist} {q.version}): "
            f"[`{q.repo_path}`, {lines} {span}]({q.url(first, last)})"
        )
        code = _fence(
            q.text(first, last),
            "python",
            f'title="{posixpath.basename(q.repo_path)}" linenums="{first}"',
        )
        return ["", caption, "", *code, ""]

    def _block(self, d: Directive, annotations: list[str]) -> list[str]:
        if d.verb == "notebook":
            return self.notebook_links[d.snippet]
        res = self._result(d)
        if d.verb == "code":
            return self._code(res, d, annotations)
        if d.verb == "output":
            return self._output(res, d)
        if d.verb == "image":
            name = (d.arg or "").split()[0] if d.arg else ""
            ims = [im for im in res.images if im["name"] == name]
            if not ims:
                raise SnippetError(
                    self.page_path,
                    d.line,
                    f"{d.snippet} saved no image named '{name}'",
                )
            return self._images(res, ims)[1:]
        # run: code and output as content tabs
        code = self._code(res, d, annotations)
        text = res.output(d.region).rstrip()
        images = res.images_for(d.region)
        if not text and not images:
            return [""] + code + [""]
        # "===!" starts a tab set of its own: two run blocks in a row stay
        # two Code / Output pairs instead of one set of four tabs
        out = ["", '===! "Code"', ""] + _indent(code, "    ")
        out += ["", '=== "Output"', ""] + _indent(self._output(res, d), "    ")
        return out + [""]
