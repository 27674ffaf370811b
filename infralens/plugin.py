"""MkDocs plugin: wires MkDocs events to the engine's steps.

on_files scans every page, runs (or takes from the cache) every snippet
they name and adds the files the results publish, before MkDocs writes
anything: a failing snippet stops the build with nothing new written to
the site. on_page_markdown renders a page; on_page_content puts the
snippets' printed text into its HTML. The steps themselves live in
``infralens.engine`` (scan, run, render, site) and are the same for the
Markdown extension that Zensical uses.
"""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from infralens import live
from infralens.engine import library, settings, site
from infralens.engine.source import SnippetError

log = logging.getLogger("mkdocs.plugins.infralens")

# mkdocs-jupyter writes <script src=""> when custom_mathjax_url is empty
# (the setting that keeps it off the MathJax CDN); a browser would fetch
# the page itself as a script and log an error.
EMPTY_SCRIPT = re.compile(r'<script src=""\s*>\s*</script>')

# nbconvert's lab template, which mkdocs-jupyter extends, adds to every
# notebook page a module script that imports mermaid.js from cdnjs when
# the page holds a Mermaid diagram; mkdocs-jupyter has no setting for its
# URL. The site loads nothing from another host, so the loader is removed;
# a notebook that does show a diagram stops the build instead.
MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?jp-Mermaid'
    r"(?:(?!</script>).)*?</script>",
    re.S,
)
MERMAID_DIAGRAM = re.compile(r'class="[^"]*\bjp-Mermaid\b')


def _stamp(path: str) -> tuple[int, int, int]:
    """What changes when a file is written again."""
    st = os.stat(path)
    return st.st_ino, st.st_size, st.st_mtime_ns


def _options() -> type[base.Config]:
    """The plugin's config schema, made from the engine's settings table."""
    attrs = {}
    for name in settings.Settings.names():
        default = getattr(settings.Settings, name)
        kind = list if isinstance(default, tuple) else type(default)
        value = list(default) if isinstance(default, tuple) else default
        attrs[name] = c.Type(kind, default=value)
    return type("InfraLensConfig", (base.Config,), attrs)


InfraLensConfig = _options()


class InfraLensPlugin(BasePlugin[InfraLensConfig]):
    def __init__(self):
        super().__init__()
        # page file this process wrote -> (the file's stamp then, {included
        # file: its text}); kept across `mkdocs serve` rebuilds (on_startup)
        self.written_includes: dict[str, tuple[tuple, dict[str, str]]] = {}
        self.templates = live.TemplateCode()

    def on_startup(self, *, command, dirty):
        """Defined so that MkDocs keeps this instance for a whole
        ``mkdocs serve`` session: it makes plugins that have neither
        on_startup nor on_shutdown anew for every rebuild."""

    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        try:
            self.settings = settings.Settings.from_options(dict(self.config))
        except ValueError as exc:
            raise PluginError(str(exc)) from None
        # the docs folder as pages' error messages name it
        self.docs_name = (
            Path(config.docs_dir).resolve().relative_to(self.root).as_posix()
        )
        self.cache_dir = self.root / self.settings.cache_dir
        self.engine_seconds = 0.0
        self.included: set[str] = set()
        # page file -> {included file: text} of the pages this build renders
        self.rendered_includes: dict[str, dict[str, str]] = {}
        self.escape_markers = "pymdownx.snippets" in config.markdown_extensions
        self.literals = {}
        self.library = library.Library(self.cache_dir / "library.json")
        return config

    def on_serve(self, server, *, config, builder):
        for name in (self.settings.snippets_dir, "infralens", "models"):
            if (self.root / name).is_dir():
                server.watch(str(self.root / name))
        for name in sorted(self.included):
            server.watch(str(self.root / name))
        if self.settings.watcher == "events":
            server = live.event_server(
                server, builder, config.config_file_path
            )
        return server

    def _page_path(self, src_uri: str) -> str:
        return f"{self.docs_name}/{src_uri}"

    def _fail(self, errors: list[SnippetError]):
        for e in errors:
            if e.detail:
                log.debug("traceback of %s:\n%s", e.location(), e.detail)
        raise PluginError(
            "snippet engine: the build stopped, nothing "
            "was published:\n  " + "\n  ".join(str(e) for e in errors)
        )

    def on_env(self, env, *, config, files):
        env.bytecode_cache = self.templates  # rebuilds reuse compiled code
        return env

    def on_files(self, files: Files, *, config) -> Files:
        started = time.perf_counter()
        pages = [
            (self._page_path(f.src_uri), f.content_string)
            for f in files.documentation_pages()
            if f.src_uri.endswith(".md")
        ]
        self.plan = site.plan(
            self.root, self.settings.snippets_dir, pages, self.library
        )
        with self.settings.engine(self.root) as engine:
            wanted = [r.snippet for r in self.plan.requests]
            self.results, errors = engine.run_all(wanted)
        self.stats = engine.stats
        errors = self.plan.errors + errors
        if not errors:
            prefix = self.docs_name + "/"
            try:
                self.published = site.publish(
                    self.root,
                    self.settings.snippets_dir,
                    self.cache_dir / "generated",
                    self.results,
                    self.plan.directives,
                    lambda path: path.removeprefix(prefix),
                )
            except SnippetError as exc:
                errors.append(exc)
        self.engine_seconds += time.perf_counter() - started
        if errors:
            self._fail(errors)
        for asset in self.published.assets:
            files.append(self._file(asset, config))
        self._mark_pages_with_new_results(files)
        return files

    def _mark_pages_with_new_results(self, files: Files) -> None:
        """Under ``mkdocs serve --dirty`` MkDocs renders only pages whose
        source changed; a page whose snippets ran again (new results), or
        whose included files changed, is rendered too, so no page shows a
        stale output."""
        fresh = {rel for rel, res in self.results.items() if not res.cached}
        for f in files.documentation_pages():
            ds = self.plan.directives.get(self._page_path(f.src_uri), [])
            included = {d.snippet for d in ds if d.verb == "include"}
            if self._includes_changed(f.abs_dest_path, included) or any(
                d.names_snippet and d.snippet in fresh for d in ds
            ):
                f.is_modified = lambda: True

    def _includes_changed(self, dest: str, paths: set[str]) -> bool:
        """Whether the files a page includes now read differently from
        when this process wrote the page file ``dest``. A file it did not
        write (the first build, a build that stopped, another process's
        build) counts as changed."""
        if not paths:
            return False
        written = self.written_includes.get(dest)
        try:
            if written is None or written[0] != _stamp(dest):
                return True
        except OSError:
            return True
        texts = written[1]
        return texts.keys() != paths or any(
            site.include_text(self.root, path, self.escape_markers)
            != texts[path]
            for path in paths
        )

    def _file(self, asset: site.Asset, config) -> File:
        generated = self.cache_dir / "generated"
        if asset.path.is_relative_to(generated):
            # rooted in the generated folder (not File.generated): the
            # notebook plugin's wrapper resolves paths through src_dir
            return File(
                asset.uri,
                src_dir=str(generated),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        return File.generated(config, asset.uri, abs_src_path=str(asset.path))

    def on_page_markdown(self, markdown, *, page, config, files):
        page_path = self._page_path(page.file.src_uri)
        if page_path not in self.plan.directives:
            return markdown
        started = time.perf_counter()
        folder = page.meta.get("snippets")
        includes = self.rendered_includes[page.file.abs_dest_path] = {}

        def include(path: str) -> str:
            self.included.add(path)
            text = site.include_text(self.root, path, self.escape_markers)
            includes[path] = text
            return text

        try:
            body, self.literals[page.file.src_uri] = site.render_page(
                page_path,
                markdown,
                self.settings.snippets_dir,
                str(folder) if folder else "",
                self.results,
                self.published,
                self.plan.quotes,
                page.file.dest_uri,
                page.file.src_uri,
                include,
            )
        except SnippetError as exc:
            # lines counted in the page body; report them in the file
            raw = page.file.content_string
            offset = len(raw.splitlines()) - len(markdown.splitlines())
            line = exc.line + offset if exc.line else None
            raise PluginError(
                f"snippet engine: {exc.path}:{line}: {exc.message}"
            ) from None
        finally:
            self.engine_seconds += time.perf_counter() - started
        return body

    def on_page_content(self, html, *, page, config, files):
        literals = self.literals.pop(page.file.src_uri, None)
        return literals.fill(html) if literals else html

    def on_post_page(self, output, *, page, config):
        output = EMPTY_SCRIPT.sub("", output)
        output, loaders = MERMAID_LOADER.subn("", output)
        if loaders and MERMAID_DIAGRAM.search(output):
            raise PluginError(
                f"{page.file.src_uri}: the notebook shows a Mermaid "
                "diagram, which would load mermaid.js from a CDN"
            )
        return output

    def on_post_build(self, *, config):
        # the pages this build rendered are written now
        for dest, includes in self.rendered_includes.items():
            try:
                self.written_includes[dest] = (_stamp(dest), includes)
            except OSError:  # an empty page is not written
                self.written_includes.pop(dest, None)
        s = self.stats
        log.info(
            "snippet engine: %d ran (%.2f s of snippet time), %d cached;"
            " engine wall time %.2f s",
            s["ran"],
            s["run_seconds"],
            s["cached"],
            self.engine_seconds,
        )
