"""Live reload under ``mkdocs serve`` driven by file events.

MkDocs's live-reload server looks for changed files by polling every half
second and then waits a tenth of a second for more changes, so an edit
waits up to 0.6 s before its rebuild starts. The plugin's ``on_serve``
hands MkDocs an ``EventServer`` instead: the same server, watching the
same paths, with watchdog's observer for the platform (inotify on Linux,
FSEvents on macOS, ReadDirectoryChangesW on Windows), which reports a
change as it happens. ``watcher: polling`` in the plugin's options keeps
MkDocs's own server, for file systems that send no events (some network
and virtual-machine mounts).
"""

from __future__ import annotations

import jinja2
import watchdog.events as ev
import watchdog.observers
from mkdocs.exceptions import PluginError
from mkdocs.livereload import LiveReloadServer

# seconds without another change before the rebuild starts: an editor's
# save can be several events (write, rename)
SETTLE = 0.05


# The events that mean a file changed (attributes too: `touch` starts a
# rebuild, as a new modification time does under polling). The inotify
# observer (Linux) also reports files opened and closed unwritten: a build
# reads every page, and those reads would start the next build.
CHANGES = [
    ev.FileCreatedEvent,
    ev.FileModifiedEvent,
    ev.FileMovedEvent,
    ev.FileDeletedEvent,
    ev.FileAttribEvent,
]


class ChangeObserver(watchdog.observers.Observer):
    """The platform's event observer, passing on only CHANGES; a system
    that refuses to watch (say, Linux's inotify limits reached) stops
    `mkdocs serve` with an error that says what to set in ``config_file``.
    """

    def __init__(self, config_file: str):
        self.config_file = config_file
        try:
            super().__init__()
        except OSError as exc:
            raise self._refused(exc) from None

    def schedule(self, event_handler, path, *, recursive=False, **kw):
        kw.setdefault("event_filter", CHANGES)
        return super().schedule(event_handler, path, recursive=recursive, **kw)

    def start(self):
        try:
            super().start()
        except OSError as exc:
            raise self._refused(exc) from None

    def _refused(self, exc: OSError) -> PluginError:
        return PluginError(
            f"mkdocs serve cannot watch files through file events here "
            f"({exc}); set `watcher: polling` under the infralens plugin "
            f"in {self.config_file}"
        )


class EventServer(LiveReloadServer):
    """MkDocs's live-reload server with an event-driven file observer."""

    def __init__(self, *args, config_file: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.observer = ChangeObserver(config_file)
        self.build_delay = SETTLE


def event_server(
    server: LiveReloadServer, builder, config_file: str
) -> EventServer:
    """An ``EventServer`` to use in place of ``server``, which has not
    started: same address, site folder, error pages and watched paths
    (``config_file`` is named in its errors)."""
    host, port = server.server_address[:2]
    events = EventServer(
        builder=builder,
        host=host,
        port=port,
        root=server.root,
        mount_path=server.mount_path,
        config_file=config_file,
    )
    events.error_handler = server.error_handler
    # a watched file is watched through its folder: raw_path is the file
    for watch in sorted(
        (e.watch for e in server.observer.emitters), key=lambda w: w.raw_path
    ):
        events.watch(watch.raw_path, recursive=watch.is_recursive)
    server.server_close()  # its socket was made but never bound
    return events


class TemplateCode(jinja2.BytecodeCache):
    """Compiled theme templates, kept in memory from one rebuild to the
    next. MkDocs makes a new Jinja environment for every build, which
    compiles each template it renders again; with this cache set on it
    (the plugin's on_env), a template whose source is unchanged is
    loaded compiled (Jinja checks the source's checksum)."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()
