"""MkDocs plugin: run every snippet a page names, then render its results.

All snippets run in ``on_files``, before MkDocs writes anything, so a
failing snippet stops the build with nothing new written to the site.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import time
from pathlib import Path, PurePosixPath

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files

from infralens.engine import images, library, notebook, pages
from infralens.engine.runner import (
    Engine,
    atomic_write,
    installed_version,
    shutdown_workers,
)
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

# {{ include FILE }} inserts a Markdown file from the repository (path from
# the project root), e.g. CONTRIBUTING.md. Unlike pymdownx.snippets, it
# keeps lines that look like snippet section markers ("--8<-- [start:x]"):
# when pymdownx.snippets is on, they are escaped with ";" so that it shows
# them as text.
SECTION_MARK_RE = re.compile(
    r"(-+8<-+[ \t]+\[[ \t]*(?:start|end)[ \t]*:)", re.I
)


def _within(path: Path, folder: Path) -> bool:
    """Whether ``path``, symbolic links followed, lies inside ``folder``."""
    return path.resolve().is_relative_to(folder.resolve())


class InfraLensConfig(base.Config):
    snippets_dir = c.Type(str, default="snippets")
    cache_dir = c.Type(str, default=".cache/infralens")
    timeout = c.Type(int, default=120)
    output_limit = c.Type(int, default=200_000)
    memory_limit_mb = c.Type(int, default=4096)
    preload = c.Type(list, default=["torch", "diffusers", "infralens.preload"])


def _rel_url(page_src: str, target_src: str) -> str:
    return os.path.relpath(
        target_src, os.path.dirname(page_src) or "."
    ).replace(os.sep, "/")


class InfraLensPlugin(BasePlugin[InfraLensConfig]):
    def on_startup(self, *, command, dirty):
        self.command = command

    def on_config(self, config):
        self.root = Path(config.config_file_path).resolve().parent
        # the docs folder as pages' error messages name it
        self.docs_name = (
            Path(config.docs_dir).resolve().relative_to(self.root).as_posix()
        )
        self.engine = Engine(
            root=self.root,
            cache_dir=self.root / self.config.cache_dir,
            snippets_dir=self.root / self.config.snippets_dir,
            timeout=self.config.timeout,
            output_limit=self.config.output_limit,
            memory_limit_mb=self.config.memory_limit_mb,
            preload=tuple(self.config.preload),
        )
        self.generated_dir = self.engine.cache_dir / "generated"
        self.engine_seconds = 0.0
        self.included: set[str] = set()
        self.markdown_extensions = list(config.markdown_extensions)
        self.literals: dict[str, pages.Literals] = {}
        self.library = library.Library(
            self.root / self.config.cache_dir / "library.json"
        )
        return config

    def on_serve(self, server, *, config, builder):
        for name in (self.config.snippets_dir, "infralens", "models"):
            if (self.root / name).is_dir():
                server.watch(str(self.root / name))
        for name in sorted(self.included):
            server.watch(str(self.root / name))
        return server

    def _include(self, path: str) -> str:
        self.included.add(path)
        text = (self.root / path).read_text(encoding="utf-8")
        if "pymdownx.snippets" in self.markdown_extensions:
            text = SECTION_MARK_RE.sub(r";\1", text)
        return text

    # -- collect and run -------------------------------------------------
    def on_files(self, files: Files, *, config) -> Files:
        started = time.perf_counter()
        try:
            return self._collect_and_run(files, config)
        finally:
            self.engine_seconds += time.perf_counter() - started

    def _collect_and_run(self, files: Files, config) -> Files:
        root_name = self.config.snippets_dir.strip("/")
        snippets_root = self.root / root_name
        errors: list[SnippetError] = []
        self.directives: dict[str, list[pages.Directive]] = {}
        self.quotes: dict[str, library.Quoted] = {}
        referenced: dict[str, tuple[str, int]] = {}
        for f in files.documentation_pages():
            if not f.src_uri.endswith(".md"):
                continue
            page_path = f"{self.docs_name}/{f.src_uri}"
            try:
                found = pages.scan(page_path, f.content_string, root_name)
            except SnippetError as exc:
                errors.append(exc)
                continue
            if found:
                self.directives[f.src_uri] = found
            for d in found:
                if d.verb in ("source", "sourcelink"):
                    errors += self._quote(page_path, d)
                elif d.verb == "include":
                    errors += self._check_include(page_path, d)
                elif not _within(self.root / d.snippet, snippets_root):
                    errors.append(
                        SnippetError(
                            page_path,
                            d.line,
                            f"{d.snippet} leads outside the snippets "
                            "folder (a symbolic link)",
                        )
                    )
                elif not (self.root / d.snippet).is_file():
                    errors.append(
                        SnippetError(
                            page_path,
                            d.line,
                            f"snippet file not found: {d.snippet}",
                        )
                    )
                else:
                    referenced.setdefault(d.snippet, (page_path, d.line))

        for p in sorted(snippets_root.rglob("*.py")):
            rel = p.relative_to(self.root).as_posix()
            if "__pycache__" in p.parts or p.name.startswith("_"):
                continue
            if rel not in referenced:
                errors.append(
                    SnippetError(
                        rel,
                        None,
                        "snippet is referenced "
                        "by no page (embed it or delete it)",
                    )
                )

        self.library.save()
        self.results, run_errors = self.engine.run_all(referenced)
        errors += run_errors
        if errors:
            for e in errors:
                if e.detail:
                    log.debug("traceback of %s:\n%s", e.location(), e.detail)
            raise PluginError(
                "snippet engine: the build stopped, nothing "
                "was published:\n  " + "\n  ".join(str(e) for e in errors)
            )
        return self._add_generated(files, config)

    def _quote(self, page_path, d) -> list[SnippetError]:
        where = (page_path, d.line)
        try:
            q = self.library.quote(d.snippet, where)
            library.check_span(q, d.span, d.anchor, where)
        except SnippetError as exc:
            return [exc]
        self.quotes[d.snippet] = q
        return []

    def _check_include(self, page_path, d) -> list[SnippetError]:
        path = self.root / d.snippet
        if not path.is_file():
            message = f"no file to include: {d.snippet}"
        elif not _within(path, self.root):
            message = f"{d.snippet} leads outside the repository"
        else:
            return []
        return [SnippetError(page_path, d.line, message)]

    def _add_generated(self, files: Files, config) -> Files:
        self.image_uris: dict[tuple[str, str], str] = {}
        self.source_uris: dict[str, str] = {}
        self.notebook_links: dict[str, dict[str, list[str]]] = {}
        for rel, res in self.results.items():
            stem = PurePosixPath(rel).relative_to(self.config.snippets_dir)
            source_uri = f"assets/snippets/{stem.as_posix()}"
            self.source_uris[rel] = source_uri
            files.append(
                File.generated(
                    config, source_uri, abs_src_path=str(self.root / rel)
                )
            )
            for im in res.images:
                name, ext = os.path.splitext(im["name"])
                base = (
                    f"assets/snippets/{stem.with_suffix('').as_posix()}/"
                    f"{name}.{im['sha'][:10]}"
                )
                self.image_uris[(rel, im["name"])] = found = []
                for uri, path in self._image_copies(im, base, ext):
                    found.append((uri, *images.png_size(path)))
                    files.append(
                        File.generated(config, uri, abs_src_path=str(path))
                    )
        for page_uri, ds in self.directives.items():
            for d in ds:
                if d.verb == "notebook":
                    files = self._add_notebook(files, config, page_uri, d)
        return files

    def _image_copies(self, im, base: str, ext: str):
        """(URI, file) of an image and of its smaller copies, smallest
        first."""
        full = Path(im["path"])
        width, _ = images.png_size(full)
        for w in images.copy_widths(width):
            copy = full.with_name(f"{full.stem}.{w}w{ext}")
            yield f"{base}.{w}w{ext}", images.resized(full, w, copy)
        yield f"{base}{ext}", full

    def _add_notebook(self, files, config, page_uri, d):
        res = self.results[d.snippet]
        if not res.snippet.cells:
            raise PluginError(
                f"{d.snippet}: a notebook starter needs '# %%' cells"
            )
        page = PurePosixPath(page_uri)
        folder = (
            page.parent if page.stem == "index" else page.parent / page.stem
        )
        stem = PurePosixPath(d.snippet).stem
        nb_uri = (folder / f"{stem}.ipynb").as_posix()
        py_uri = (folder / f"{stem}.py").as_posix()
        target = self.generated_dir / nb_uri
        content = notebook.build_notebook(res)
        if (
            not target.is_file()
            or target.read_text(encoding="utf-8") != content
        ):
            atomic_write(target, content.encode("utf-8"))
        # A File rooted in the generated folder (not File.generated): the
        # notebook plugin's wrapper resolves paths through src_dir.
        files.append(
            File(
                nb_uri,
                src_dir=str(self.generated_dir),
                dest_dir=config.site_dir,
                use_directory_urls=config.use_directory_urls,
            )
        )
        files.append(
            File.generated(
                config, py_uri, abs_src_path=str(self.root / d.snippet)
            )
        )
        nb_rel = _rel_url(page_uri, nb_uri)
        py_rel = _rel_url(page_uri, py_uri)
        self.notebook_links.setdefault(page_uri, {})[d.snippet] = [
            '!!! example "Starter notebook"',
            "",
            f"    [Open the executed notebook]({nb_rel}) (outputs from this "
            f"build) · download [`{stem}.py`]({py_rel}) · the page also "
            "offers the `.ipynb` download.",
        ]
        return files

    # -- render ----------------------------------------------------------
    def on_page_markdown(self, markdown, *, page, config, files):
        started = time.perf_counter()
        try:
            return self._render(markdown, page, config)
        finally:
            self.engine_seconds += time.perf_counter() - started

    def _render(self, markdown, page, config):
        try:
            return self._render_page(markdown, page, config)
        except SnippetError as exc:
            # lines counted in the page body; report them in the file
            raw = page.file.content_string
            offset = len(raw.splitlines()) - len(markdown.splitlines())
            line = exc.line + offset if exc.line else None
            raise PluginError(
                f"snippet engine: {exc.path}:{line}: {exc.message}"
            ) from None

    def _render_page(self, markdown, page, config):
        page_uri = page.file.src_uri
        page_path = f"{self.docs_name}/{page_uri}"
        if page_uri not in self.directives:
            return markdown
        folder = page.meta.get("snippets")
        ds = pages.scan(
            page_path,
            markdown,
            self.config.snippets_dir.strip("/"),
            folder=str(folder) if folder else "",
        )

        def image_files(res, im):
            return [
                images.ImageFile(_rel_url(page.file.dest_uri, uri), w, h)
                for uri, w, h in self.image_uris[(res.relpath, im["name"])]
            ]

        renderer = pages.PageRenderer(
            page_path,
            self.results,
            image_files,
            self.notebook_links.get(page_uri, {}),
            include=self._include,
            quotes=self.quotes,
        )
        self.literals[page_uri] = renderer.literals
        body = renderer.render(markdown, ds)
        if not any(d.names_snippet for d in ds):
            return body
        used = sorted(
            {d.snippet for d in ds if d.names_snippet and d.verb != "notebook"}
        )
        links = ", ".join(
            f"[`{PurePosixPath(s).name}`]"
            f"({_rel_url(page_uri, self.source_uris[s])})"
            for s in used
        )
        versions = (
            f"Python {platform.python_version()}, torch "
            f"{installed_version('torch')}, diffusers "
            f"{installed_version('diffusers')}"
        )
        note = [
            "",
            '!!! info "Provenance"',
            "",
            f"    Every output on this page was produced while this site was "
            f"built, with {versions} on {platform.machine()} CPU.",
        ]
        if links:
            note.append(f"    Snippet sources: {links}.")
        return body + "\n".join(note) + "\n"

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
        s = self.engine.stats
        log.info(
            "snippet engine: %d ran (%.2f s of snippet time), %d cached;"
            " engine wall time %.2f s",
            s["ran"],
            s["run_seconds"],
            s["cached"],
            self.engine_seconds,
        )

    def on_shutdown(self):
        shutdown_workers()
