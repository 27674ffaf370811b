"""The engine's steps for a whole site, independent of the site generator.

``plan`` scans every page and checks what the directives name (snippet
files, included files, quoted library objects); ``publish`` lists the files
the results add to the site (snippet sources, images in several widths,
starter notebooks); ``render_page`` expands one page. The MkDocs plugin and
the Markdown extension only call these.
"""

from __future__ import annotations

import functools
import os
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from infralens.engine import images, library, notebook, render, scan
from infralens.engine.cache import atomic_write, installed_version
from infralens.engine.records import Request, Result
from infralens.engine.source import SnippetError

# {{ include FILE }} inserts a Markdown file from the repository (path from
# the project root), e.g. CONTRIBUTING.md. Unlike pymdownx.snippets, it
# keeps lines that look like snippet section markers ("--8<-- [start:x]"):
# when pymdownx.snippets is on, they are escaped with ";" so that it shows
# them as text.
SECTION_MARK_RE = re.compile(
    r"(-+8<-+[ \t]+\[[ \t]*(?:start|end)[ \t]*:)", re.I
)


def within(path: Path, folder: Path) -> bool:
    """Whether ``path``, symbolic links followed, lies inside ``folder``."""
    return path.resolve().is_relative_to(folder.resolve())


def rel_url(page_src: str, target_src: str) -> str:
    return os.path.relpath(
        target_src, os.path.dirname(page_src) or "."
    ).replace(os.sep, "/")


@dataclass
class Plan:
    """What the pages ask for: their directives, the snippets to run, the
    library objects they quote, and every problem found on the way."""

    directives: dict[str, list[scan.Directive]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    quotes: dict[str, library.Quoted] = field(default_factory=dict)
    errors: list[SnippetError] = field(default_factory=list)


@dataclass(frozen=True)
class Asset:
    """A file the site publishes at ``uri`` (relative to the site root)."""

    uri: str
    path: Path


def plan(
    root: Path,
    snippets_dir: str,
    pages: list[tuple[str, str]],
    quotes: library.Library,
    whole_site: bool = True,
) -> Plan:
    """Scan ``pages`` ((page path, Markdown)) and check what they name.
    With ``whole_site``, a snippet file no page embeds is an error too."""
    root_name = snippets_dir.strip("/")
    snippets_root = root / root_name

    @functools.cache  # once per snippet, not for each of its directives
    def snippet_problem(snippet: str) -> str | None:
        if not within(root / snippet, snippets_root):
            return (
                f"{snippet} leads outside the snippets folder (a symbolic "
                "link)"
            )
        if not (root / snippet).is_file():
            return f"snippet file not found: {snippet}"
        return None

    out = Plan()
    first: dict[str, Request] = {}
    for page_path, text in pages:
        try:
            found = scan.scan(page_path, text, root_name)
        except SnippetError as exc:
            out.errors.append(exc)
            continue
        if found:
            out.directives[page_path] = found
        runnable = []
        for d in found:
            where = (page_path, d.line)
            if d.verb in ("source", "sourcelink"):
                try:
                    out.quotes[d.snippet] = quotes.quote_span(
                        d.snippet, d.span, d.anchor, where
                    )
                except SnippetError as exc:
                    out.errors.append(exc)
            elif d.verb == "include":
                path = root / d.snippet
                if not path.is_file():
                    message = f"no file to include: {d.snippet}"
                elif not within(path, root):
                    message = f"{d.snippet} leads outside the repository"
                else:
                    continue
                out.errors.append(SnippetError(*where, message))
            elif message := snippet_problem(d.snippet):
                out.errors.append(SnippetError(*where, message))
            else:
                runnable.append(d)
        for req in scan.requests(page_path, runnable):
            first.setdefault(req.snippet, req)
    out.requests = list(first.values())
    if whole_site:
        for p in sorted(snippets_root.rglob("*.py")):
            rel = p.relative_to(root).as_posix()
            if "__pycache__" in p.parts or p.name.startswith("_"):
                continue
            if rel not in first:
                out.errors.append(
                    SnippetError(
                        rel,
                        None,
                        "snippet is referenced "
                        "by no page (embed it or delete it)",
                    )
                )
    quotes.save()
    return out


@dataclass
class Published:
    """Where each result's files are on the site."""

    assets: list[Asset] = field(default_factory=list)
    source_uris: dict[str, str] = field(default_factory=dict)
    # (snippet, image name) -> [(uri, width, height)], smallest first
    image_uris: dict[tuple[str, str], list] = field(default_factory=dict)
    # page path -> snippet -> Markdown lines of its notebook box
    notebook_links: dict[str, dict[str, list[str]]] = field(
        default_factory=dict
    )


def _image_copies(im, base: str, ext: str):
    """(URI, file) of an image and of its smaller copies, smallest
    first."""
    full = Path(im.path)
    width, _ = images.png_size(full)
    for w in images.copy_widths(width):
        copy = full.with_name(f"{full.stem}.{w}w{ext}")
        yield f"{base}.{w}w{ext}", images.resized(full, w, copy)
    yield f"{base}{ext}", full


def publish(
    root: Path,
    snippets_dir: str,
    generated_dir: Path,
    results: dict[str, Result],
    directives: dict[str, list[scan.Directive]],
    page_uri,
) -> Published:
    """The files ``results`` add to the site. ``page_uri`` maps a page
    path (as in ``directives``) to its source URI under the docs folder.
    Raises SnippetError when a notebook starter has no cells."""
    out = Published()
    for rel, res in results.items():
        stem = PurePosixPath(rel).relative_to(snippets_dir.strip("/"))
        source_uri = f"assets/snippets/{stem.as_posix()}"
        out.source_uris[rel] = source_uri
        out.assets.append(Asset(source_uri, root / rel))
        for im in res.images:
            name, ext = os.path.splitext(im.name)
            base = (
                f"assets/snippets/{stem.with_suffix('').as_posix()}/"
                f"{name}.{im.sha[:10]}"
            )
            out.image_uris[(rel, im.name)] = found = []
            for uri, path in _image_copies(im, base, ext):
                found.append((uri, *images.png_size(path)))
                out.assets.append(Asset(uri, path))
    for page_path, ds in directives.items():
        for d in ds:
            if d.verb == "notebook" and d.snippet in results:
                _notebook(
                    out,
                    root,
                    generated_dir,
                    page_uri(page_path),
                    page_path,
                    d,
                    results[d.snippet],
                )
    return out


def _notebook(out, root, generated_dir, uri, page_path, d, res) -> None:
    if not res.snippet.cells:
        raise SnippetError(
            page_path,
            d.line,
            f"{d.snippet}: a notebook starter needs '# %%' cells",
        )
    page = PurePosixPath(uri)
    folder = page.parent if page.stem == "index" else page.parent / page.stem
    stem = PurePosixPath(d.snippet).stem
    nb_uri = (folder / f"{stem}.ipynb").as_posix()
    py_uri = (folder / f"{stem}.py").as_posix()
    target = generated_dir / nb_uri
    content = notebook.build_notebook(res)
    if not target.is_file() or target.read_text(encoding="utf-8") != content:
        atomic_write(target, content.encode("utf-8"))
    out.assets.append(Asset(nb_uri, target))
    out.assets.append(Asset(py_uri, root / d.snippet))
    nb_rel, py_rel = rel_url(uri, nb_uri), rel_url(uri, py_uri)
    out.notebook_links.setdefault(page_path, {})[d.snippet] = [
        '!!! example "Starter notebook"',
        "",
        f"    [Open the executed notebook]({nb_rel}) (outputs from this "
        f"build) · download [`{stem}.py`]({py_rel}) · the page also "
        "offers the `.ipynb` download.",
    ]


def render_page(
    page_path: str,
    markdown: str,
    snippets_dir: str,
    folder: str | None,
    results: dict[str, Result],
    published: Published,
    quotes: dict[str, library.Quoted],
    page_dest: str,
    page_uri: str,
    include,
) -> tuple[str, render.Literals]:
    """A page's Markdown with its directives expanded, a provenance note
    at the end, and the literal texts to put into its HTML. ``folder`` is
    the page's ``snippets:`` front-matter value when ``markdown`` no longer
    has its front matter; ``page_dest`` is the page's output path (image
    URLs are relative to it), ``page_uri`` its source path under docs."""
    ds = scan.scan(page_path, markdown, snippets_dir.strip("/"), folder=folder)

    def image_files(res, im):
        return [
            images.ImageFile(rel_url(page_dest, uri), w, h)
            for uri, w, h in published.image_uris[(res.relpath, im.name)]
        ]

    renderer = render.PageRenderer(
        page_path,
        results,
        image_files,
        published.notebook_links.get(page_path, {}),
        include=include,
        quotes=quotes,
    )
    body = renderer.render(markdown, ds)
    if not any(d.names_snippet for d in ds):
        return body, renderer.literals
    used = sorted(
        {d.snippet for d in ds if d.names_snippet and d.verb != "notebook"}
    )
    links = ", ".join(
        f"[`{PurePosixPath(s).name}`]"
        f"({rel_url(page_uri, published.source_uris[s])})"
        for s in used
    )
    note = [
        "",
        '!!! info "Provenance"',
        "",
        "    Every output on this page was produced while this site was "
        f"built, with {versions()} on {platform.machine()} CPU.",
    ]
    if links:
        note.append(f"    Snippet sources: {links}.")
    return body + "\n".join(note) + "\n", renderer.literals


def versions() -> str:
    return (
        f"Python {platform.python_version()}, torch "
        f"{installed_version('torch')}, diffusers "
        f"{installed_version('diffusers')}"
    )


def include_text(root: Path, path: str, escape_markers: bool) -> str:
    """A repository Markdown file for ``{{ include }}``."""
    text = (root / path).read_text(encoding="utf-8")
    return SECTION_MARK_RE.sub(r";\1", text) if escape_markers else text
