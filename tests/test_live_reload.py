"""`mkdocs serve` with the plugin: which watcher notices edits, and an edit
reaching the served page with either."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import watchdog.observers
from conftest import ENV, ServeSession
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer

from infralens import live
from infralens.devtools import fetch, free_port
from infralens.engine import settings


def watcher_option(toy, watcher):
    text = (toy.root / "mkdocs.yml").read_text()
    toy.write(
        "mkdocs.yml",
        text.replace(
            "      preload: []\n",
            f"      preload: []\n      watcher: {watcher}\n",
        ),
    )


def served(toy):
    """The toy project built once as `mkdocs serve` builds it, and the
    live-reload server MkDocs makes for it, watching what serve watches,
    handed to the plugins' on_serve: (MkDocs's server, what on_serve
    returned)."""
    toy.write("docs/index.md", "---\nsnippets: demo\n---\n{{ run s.py }}\n")
    toy.write("snippets/demo/s.py", "print('hi')\n")
    config = ServeSession(toy, dirty=False).build()
    server = LiveReloadServer(
        builder=lambda: None,
        host="127.0.0.1",
        port=0,
        root=config.site_dir,
    )
    server.watch(config.docs_dir)
    server.watch(config.config_file_path)
    result = config.plugins.on_serve(server, config=config, builder=None)
    return server, result


def watched(server):
    return {
        (e.watch.raw_path, e.watch.is_recursive)
        for e in server.observer.emitters
    }


def test_serve_watches_with_file_events_by_default(toy):
    server, result = served(toy)
    assert isinstance(result, live.EventServer)
    assert isinstance(result.observer, watchdog.observers.Observer)
    # the same paths as MkDocs's server: docs, config, the plugin's own
    assert watched(result) == watched(server)
    assert (str(toy.root / "snippets"), True) in watched(result)
    assert (str(toy.root / "mkdocs.yml"), False) in watched(result)
    assert result.error_handler is server.error_handler
    assert result.url == server.url
    result.server_close()


def test_polling_watcher_keeps_mkdocs_server(toy):
    watcher_option(toy, "polling")
    server, result = served(toy)
    assert result is server
    server.server_close()


def test_unknown_watcher_is_an_error_naming_the_config(toy):
    watcher_option(toy, "inotify")
    with pytest.raises(ValueError) as err:
        settings.load(toy.root)
    assert "mkdocs.yml" in str(err.value)
    assert "watcher must be one of ['events', 'polling']" in str(err.value)


@pytest.mark.parametrize("watcher", ["events", "polling"])
def test_edits_reach_the_served_page_and_reads_start_no_build(toy, watcher):
    watcher_option(toy, watcher)
    page = toy.write("docs/index.md", "# P\n\nFirst prose.\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "--dirty", "--no-strict"]
        + ["-a", f"127.0.0.1:{port}"],
        cwd=toy.root,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def shows(text):
        deadline = time.monotonic() + 120
        while text not in (fetch(url, timeout=5) or ""):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)

    try:
        shows("First prose.")
        page.write_text("# P\n\nSecond prose.\n")  # written in place
        shows("Second prose.")
        # saved as many editors save: a new file renamed over the page
        spare = toy.write("spare.md", "# P\n\nThird prose.\n")
        os.replace(spare, page)
        shows("Third prose.")
        os.utime(page)  # touched: its modification time is new
        time.sleep(2)  # the builds read every page; reading is no change
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    assert out.count("Detected file changes") == 3, out


def test_rebuilds_reuse_compiled_templates_until_one_changes(toy):
    toy.write("docs/index.md", "# P\n\nProse.\n")
    text = (toy.root / "mkdocs.yml").read_text()
    toy.write(
        "mkdocs.yml",
        text.replace(
            "  name: material\n", "  name: material\n  custom_dir: theme\n"
        ),
    )
    override = (
        '{% extends "base.html" %}\n{% block footer %}FOOTER{% endblock %}\n'
    )
    toy.write("theme/main.html", override.replace("FOOTER", "First footer"))
    session = ServeSession(toy, dirty=False)
    plugin = session.build().plugins["infralens"]
    compiled = dict(plugin.templates.code)
    assert compiled and "First footer" in session.page()
    toy.write("docs/index.md", "# P\n\nMore prose.\n")
    assert session.build().plugins["infralens"] is plugin
    assert plugin.templates.code == compiled  # nothing compiled again
    assert "More prose." in session.page()
    toy.write("theme/main.html", override.replace("FOOTER", "Second footer"))
    session.build()
    html = session.page()
    assert "Second footer" in html and "First footer" not in html


@pytest.mark.skipif(sys.platform != "linux", reason="inotify is Linux's")
@pytest.mark.parametrize(
    "refused, error",
    [
        ("InotifyFD", (24, "inotify instance limit reached")),  # on_serve
        ("InotifyWatchGroup", (28, "inotify watch limit reached")),  # start
    ],
)
def test_a_system_that_refuses_file_events_gets_a_clear_error(
    toy, monkeypatch, refused, error
):
    import watchdog.observers.inotify as inotify

    def refuse(*args, **kwargs):
        raise OSError(*error)

    monkeypatch.setattr(inotify, refused, refuse)
    with pytest.raises(PluginError) as err:
        _, result = served(toy)
        try:
            result.observer.start()
        finally:
            result.server_close()
    message = str(err.value)
    assert error[1] in message
    config = toy.root / "mkdocs.yml"
    assert f"`watcher: polling` under the infralens plugin in {config}" in (
        message
    )
