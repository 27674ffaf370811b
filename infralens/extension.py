"""The snippet engine as a Python-Markdown extension, for Zensical.

Zensical reads ``mkdocs.yml`` but runs no MkDocs plugin; it does run the
Markdown extensions listed under ``markdown_extensions``. For each page it
renders, this extension takes the page's path and front matter from
Zensical's rendering context, runs the page's snippets (or takes them from
the cache the MkDocs build shares), writes the images, snippet sources and
notebooks the page links to into the site folder, and expands the
directives with the same steps the MkDocs plugin uses; a postprocessor
puts the snippets' printed text into the finished HTML.

Under MkDocs, where the plugin has already expanded every directive, and
wherever no page context is available, it leaves the text as it is.
A page whose snippets fail raises ``SnippetError`` (file and line), which
stops the build.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from markdown import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from infralens.engine import library, settings, site
from infralens.engine.source import SnippetError


def _zensical_context(md):
    """(page, config) of the page Zensical is rendering, or None."""
    try:
        from zensical.extensions.context import ContextPreprocessor
    except ImportError:
        return None
    ctx = ContextPreprocessor.from_markdown(md)
    if ctx is None or ctx.page is None:
        return None
    return ctx.page, ctx.config


def _copy(asset: site.Asset, site_dir: Path) -> None:
    dest = site_dir / asset.uri
    if dest.is_file() and dest.stat().st_size == asset.path.stat().st_size:
        if dest.read_bytes() == asset.path.read_bytes():
            return
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(asset.path, dest)


class _Render(Preprocessor):
    def __init__(self, md, ext: InfraLensExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, lines: list[str]) -> list[str]:
        self.ext.literals = None
        found = _zensical_context(self.md)
        if found is None:
            return lines
        page, config = found
        root = Path(config["root_dir"]).resolve()
        docs = Path(config["docs_dir"])
        docs_name = (
            docs.resolve().relative_to(root).as_posix()
            if docs.is_absolute()
            else docs.as_posix().strip("/")
        )
        page_uri = PurePosixPath(page.path).as_posix()
        page_path = f"{docs_name}/{page_uri}"
        markdown = "\n".join(lines)
        opts = settings.load(root)  # the plugin's options in mkdocs.yml
        folder = page.meta.get("snippets")
        quotes = library.Library(root / opts.cache_dir / "library.json")
        # scanned from the file itself, so that errors name its lines
        source_text = (root / page_path).read_text(encoding="utf-8")
        plan = site.plan(
            root, opts.snippets_dir, [(page_path, source_text)], quotes, False
        )
        if page_path not in plan.directives:
            return lines
        with opts.engine(root) as engine:
            results, errors = engine.run_all(r.snippet for r in plan.requests)
        errors = plan.errors + errors
        if errors:
            first, rest = errors[0], errors[1:]
            also = "".join(f"; also {e}" for e in rest)
            raise SnippetError(first.path, first.line, first.message + also)
        published = site.publish(
            root,
            opts.snippets_dir,
            root / opts.cache_dir / "generated",
            results,
            plan.directives,
            lambda path: path.removeprefix(docs_name + "/"),
        )
        site_dir = Path(config["site_dir"])
        if not site_dir.is_absolute():
            site_dir = root / site_dir
        for asset in published.assets:
            _copy(asset, site_dir)
        body, self.ext.literals = site.render_page(
            page_path,
            markdown,
            opts.snippets_dir,
            str(folder) if folder else "",
            results,
            published,
            plan.quotes,
            # Zensical resolves relative URLs, raw HTML included, from the
            # page's source file, as links between pages are written
            page_uri,
            page_uri,
            lambda path: site.include_text(root, path, True),
        )
        return body.split("\n")


class _Fill(Postprocessor):
    def __init__(self, md, ext: InfraLensExtension):
        super().__init__(md)
        self.ext = ext

    def run(self, text: str) -> str:
        # also called on fragments (heading texts for the table of
        # contents), so the page's literals stay until the next page
        literals = self.ext.literals
        return literals.fill(text) if literals else text


class InfraLensExtension(Extension):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.literals = None

    def extendMarkdown(self, md):
        # before everything that reads Markdown (fences, snippets: 32)
        md.preprocessors.register(_Render(md, self), "infralens", 40)
        # after the raw HTML is restored, like MkDocs' on_page_content
        md.postprocessors.register(_Fill(md, self), "infralens-literals", 0)


def makeExtension(**kwargs):
    return InfraLensExtension(**kwargs)
