"""The engine's settings: one table of defaults, read from ``mkdocs.yml``.

The MkDocs plugin, the Markdown extension (for Zensical), the command
line, the tests and the scripts all take their settings from here, so a
value set under ``plugins: - infralens:`` in ``mkdocs.yml`` means the same
everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Settings:
    snippets_dir: str = "snippets"
    cache_dir: str = ".cache/infralens"
    timeout: int = 120  # seconds per snippet
    output_limit: int = 200_000  # characters a snippet may print
    memory_limit_mb: int = 4096  # per snippet process
    preload: tuple[str, ...] = ("torch", "diffusers", "infralens.preload")
    jobs: int = 0  # worker processes; 0: one per core
    # how `mkdocs serve` notices edits: "events" (the system's file
    # events, see infralens/live.py) or "polling" (MkDocs's own watcher,
    # for file systems that send no events)
    watcher: str = "events"

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def from_options(cls, options: dict, where: str = "") -> Settings:
        """Settings from a plugin options mapping; unknown keys and wrong
        types are errors that name ``where``."""
        unknown = sorted(set(options) - set(cls.names()))
        if unknown:
            raise ValueError(f"{where}unknown infralens option(s): {unknown}")
        values = {}
        for f in fields(cls):
            if f.name not in options:
                continue
            value = options[f.name]
            default = f.default
            if isinstance(default, tuple):
                if not isinstance(value, (list, tuple)):
                    raise ValueError(f"{where}{f.name} must be a list")
                value = tuple(value)
            elif not isinstance(value, type(default)) or isinstance(
                value, bool
            ):
                raise ValueError(
                    f"{where}{f.name} must be {type(default).__name__}"
                )
            values[f.name] = value
        for name, allowed in CHOICES.items():
            if name in values and values[name] not in allowed:
                raise ValueError(
                    f"{where}{name} must be one of {list(allowed)}, "
                    f"not {values[name]!r}"
                )
        return cls(**values)

    def engine(self, root: Path, **overrides):
        """An ``Engine`` (a context manager) with these settings."""
        from infralens.engine.run import Engine

        kw = dict(
            root=root,
            cache_dir=Path(root) / self.cache_dir,
            snippets_dir=Path(root) / self.snippets_dir,
            timeout=self.timeout,
            output_limit=self.output_limit,
            memory_limit_mb=self.memory_limit_mb,
            preload=self.preload,
            jobs=self.jobs,
        )
        kw.update(overrides)
        return Engine(**kw)


CHOICES = {"watcher": ("events", "polling")}


class _Loader(yaml.SafeLoader):
    """YAML as mkdocs.yml writes it: tags such as ``!ENV`` and
    ``!!python/name:`` are read as plain values (this module only needs
    the plugin's own options)."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_Loader.add_multi_constructor("!", _untagged)
_Loader.add_multi_constructor("tag:yaml.org,2002:python/", _untagged)


def plugin_options(config: dict) -> dict | None:
    """The options of the ``infralens`` plugin in a loaded mkdocs.yml, {}
    when it is listed without options, None when it is not listed."""
    for item in config.get("plugins") or []:
        if item == "infralens":
            return {}
        if isinstance(item, dict) and "infralens" in item:
            return dict(item["infralens"] or {})
    return None


def load(root: Path, config_file: str = "mkdocs.yml") -> Settings:
    """The settings ``root/mkdocs.yml`` gives the infralens plugin."""
    path = Path(root) / config_file
    config = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    options = plugin_options(config or {})
    if options is None:
        raise ValueError(f"{path}: the infralens plugin is not listed")
    return Settings.from_options(options, where=f"{path}: ")
