"""Find snippet directives in page Markdown and expand them.

Directives stand on a line of their own (indentation allowed, so they work
inside admonitions and tabs)::

    {{ run FILE[:REGION] }}      code and output side by side, as tabs
    {{ code FILE[:REGION] }}     only the code
    {{ output FILE[:REGION] }}   only what it printed, then its images
    {{ image FILE NAME.png }}    one image the snippet saved
    {{ notebook FILE }}          the starter notebook made from FILE
    {{ include PATH }}           a repository Markdown file (the plugin
                                 expands it before anything else)

Values glued by a snippet can stand anywhere in prose: ``{{ val FILE:NAME }}``.
FILE is relative to the page's ``snippets:`` front-matter folder, or to
``snippets/`` when the page sets none. An ordered list right after a
``run`` or ``code`` directive holds the code annotations (``# (1)!``).
"""

from __future__ import annotations

import html
import os
import re
from dataclasses import dataclass

from infralens.engine.source import SnippetError

BLOCK_RE = re.compile(
    r"^(?P<indent>[ \t]*)\{\{\s*(?P<verb>run|code|output|image|notebook)\s+"
    r"(?P<target>[^\s}]+)(?:\s+(?P<arg>[^}]*?))?\s*\}\}\s*$"
)
VAL_RE = re.compile(r"\{\{\s*val\s+(?P<target>[^\s}:]+):(?P<name>\w+)\s*\}\}")
ANY_RE = re.compile(r"\{\{\s*(\w+)")
FRONT_RE = re.compile(r"^---\s*\n(.*?)\n---\s*\n", re.S)
SNIPPETS_META_RE = re.compile(r"^snippets:\s*(\S+)\s*$", re.M)
LIST_ITEM_RE = re.compile(r"^\s*\d+\.\s")


@dataclass
class Directive:
    verb: str
    snippet: str  # path relative to the project root
    region: str | None
    arg: str | None
    line: int  # 1-based line in the page source


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


def _resolve(base: str, target: str) -> tuple[str, str | None]:
    file, _, region = target.partition(":")
    return f"{base}/{file}", (region or None)


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
        m = BLOCK_RE.match(line)
        if m:
            snip, region = _resolve(base, m.group("target"))
            found.append(
                Directive(m.group("verb"), snip, region, m.group("arg"), no)
            )
            continue
        for v in VAL_RE.finditer(line):
            snip, _ = _resolve(base, v.group("target"))
            found.append(Directive("val", snip, None, v.group("name"), no))
        for a in ANY_RE.finditer(line):
            if a.group(1) not in (
                "val",
                "run",
                "code",
                "output",
                "image",
                "notebook",
            ):
                continue
            if not (VAL_RE.match(line, a.start()) or BLOCK_RE.match(line)):
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


class PageRenderer:
    """Expands one page's directives with results from the engine."""

    def __init__(self, page_path, results, image_url, notebook_links):
        self.page_path = page_path
        self.results = results  # relpath -> Result
        self.image_url = image_url  # (Result, image dict) -> relative URL
        self.notebook_links = notebook_links  # relpath -> markdown lines

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
            alt = os.path.splitext(im["name"])[0].replace("_", " ")
            lines += ["", f"![{alt}]({self.image_url(res, im)})"]
        return lines

    def _output(self, res, d: Directive) -> list[str]:
        text = res.output(d.region).rstrip()
        lines = _fence(text or "(this code prints nothing)", "text")
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
            block = next((d for d in ds if d.verb != "val"), None)
            if block is None:
                for d in ds:
                    res = self._result(d)
                    if d.arg not in res.glue:
                        raise SnippetError(
                            self.page_path,
                            no,
                            f"{d.snippet} glues no value named '{d.arg}'",
                        )
                line = VAL_RE.sub(lambda m, ds=ds: self._val(m, ds), line)
                out.append(line)
                i += 1
                continue
            indent = BLOCK_RE.match(line).group("indent")
            i += 1
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
                return html.escape(self.results[d.snippet].glue[d.arg])
        return m.group(0)

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
        out = ["", '=== "Code"', ""] + _indent(code, "    ")
        out += ["", '=== "Output"', ""] + _indent(self._output(res, d), "    ")
        return out + [""]
