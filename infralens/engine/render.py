"""Expand a page's directives into Markdown with the engine's results
(step 3 of 3: scan -> run or take from cache -> render).

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
from infralens.engine.scan import (
    BLOCK_RE,
    SOURCE_RE,
    SOURCELINK_RE,
    VAL_RE,
    Directive,
)
from infralens.engine.source import SnippetError

LIST_ITEM_RE = re.compile(r"^\s*\d+\.\s")
# C0/C1 controls (tab and newline aside) and the bidi overrides that can
# make text read differently from what it is
CONTROL_RE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
# characters a glued value keeps as they are; any other is an entity
PLAIN_RE = re.compile(r"[^\w .,+%-]|_")


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
            alt = self.literals.attribute(im.alt)
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
                out.append(self._inline(line, no, ds))
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
                    # values and links work in annotations as in prose
                    annotations = [
                        self._inline(s, n + 1, by_line.get(n + 1, []))[
                            len(indent) :
                        ]
                        for n, s in enumerate(src[j:k], start=j)
                    ]
                    i = k
            out.extend(_indent(self._block(block, annotations), indent))
        return "\n".join(out) + "\n"

    def _inline(self, line: str, no: int, ds: list[Directive]) -> str:
        """A line of prose with its values and source links filled in."""
        for d in ds:
            if d.verb != "val":
                continue
            res = self._result(d)
            if d.arg not in res.glue:
                raise SnippetError(
                    self.page_path,
                    no,
                    f"{d.snippet} glues no value named '{d.arg}'",
                )
        line = VAL_RE.sub(lambda m: self._val(m, ds), line)
        return SOURCELINK_RE.sub(self._sourcelink, line)

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
            ims = [im for im in res.images if im.name == name]
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
