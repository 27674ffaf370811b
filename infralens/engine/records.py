"""The typed records that pass between the engine's steps.

scan -> ``Request`` (a snippet a page needs, and where the page names it)
run or cache -> ``Result`` (what the run printed, drew and glued) built
from a ``CacheEntry`` (a result plus the inputs it was made from), with
its images as ``Image`` records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from infralens.engine import source
from infralens.engine.state import ALT_MAX, IMAGE_NAME_RE

SHA_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Request:
    """One snippet to run (path relative to the project root), and the
    page line that first asked for it (for error messages)."""

    snippet: str
    page: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Image:
    """A figure a snippet saved: its name, the output chunk it belongs
    to, its text alternative, the hash of its bytes and where they are."""

    name: str
    chunk: int
    alt: str
    sha: str
    path: Path


@dataclass(frozen=True)
class Result:
    relpath: str
    snippet: source.Snippet
    chunks: tuple[str, ...]
    images: tuple[Image, ...]
    glue: dict[str, str]
    seconds: float
    cached: bool

    def output(self, region: str | None = None) -> str:
        ids = self.snippet.chunk_ids(region)
        return "".join(self.chunks[i] for i in ids if i < len(self.chunks))

    def images_for(self, region: str | None = None) -> list[Image]:
        ids = set(self.snippet.chunk_ids(region))
        return [im for im in self.images if im.chunk in ids]


@dataclass(frozen=True)
class CacheEntry:
    """A run's result and every input it was made from; stored as JSON."""

    key: dict
    snippet: str  # sha256 of the snippet's bytes
    deps: dict[str, str]  # project file -> sha256
    import_names: tuple[str, ...]  # top-level packages it imported
    packages: dict[str, str | None]  # distribution -> version
    chunks: tuple[str, ...]
    images: tuple[dict, ...]  # name, chunk, alt and sha of each figure
    glue: dict[str, str]
    seconds: float

    def to_json(self) -> dict:
        return {
            "key": self.key,
            "snippet": self.snippet,
            "deps": self.deps,
            "import_names": list(self.import_names),
            "packages": self.packages,
            "result": {
                "chunks": list(self.chunks),
                "images": list(self.images),
                "glue": self.glue,
                "seconds": self.seconds,
            },
        }

    @classmethod
    def from_json(cls, data) -> CacheEntry:
        """The entry ``data`` describes; ValueError says what is wrong
        with its shape."""
        problem = entry_problem(data)
        if problem:
            raise ValueError(problem)
        res = data["result"]
        return cls(
            key=data["key"],
            snippet=data["snippet"],
            deps=data["deps"],
            import_names=tuple(data["import_names"]),
            packages=data["packages"],
            chunks=tuple(res["chunks"]),
            images=tuple(res["images"]),
            glue=res["glue"],
            seconds=float(res["seconds"]),
        )


# -- checking what is read back ------------------------------------------


def _is_str_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_str_dict(value, keys=str) -> bool:
    return isinstance(value, dict) and all(
        isinstance(k, str) and isinstance(v, keys) for k, v in value.items()
    )


def images_problem(images, item) -> str | None:
    if not isinstance(images, list):
        return "images is not a list"
    for im in images:
        name, alt = item(im)
        if not isinstance(name, str) or not IMAGE_NAME_RE.fullmatch(name):
            return f"image name {name!r} is not a plain '*.png' name"
        if not isinstance(alt, str) or not alt.strip():
            return (
                f"image {name} was saved without alt text: pass "
                'alt="what the figure shows" to save_figure / save_image'
            )
        if len(alt) > ALT_MAX:
            return f"alt text of image {name} is over {ALT_MAX} characters"
    return None


def entry_problem(entry) -> str | None:
    """What is wrong with the shape of a stored cache entry, or None."""
    if not isinstance(entry, dict):
        return "not an object"
    kinds = {
        "key": dict,
        "snippet": str,
        "deps": dict,
        "import_names": list,
        "packages": dict,
        "result": dict,
    }
    for name, kind in kinds.items():
        if not isinstance(entry.get(name), kind):
            return f"field {name!r} missing or of the wrong type"
    if not _is_str_dict(entry["deps"]) or not _is_str_list(
        entry["import_names"]
    ):
        return "deps or import_names malformed"
    res = entry["result"]
    if not _is_str_list(res.get("chunks")):
        return "result chunks malformed"
    if not _is_str_dict(res.get("glue")):
        return "result glue malformed"
    if not isinstance(res.get("seconds"), (int, float)):
        return "result seconds malformed"
    problem = images_problem(
        res.get("images"),
        lambda im: (
            (im.get("name"), im.get("alt"))
            if isinstance(im, dict)
            else (None, None)
        ),
    )
    if problem:
        return problem
    for im in res["images"]:
        if not (
            isinstance(im.get("chunk"), int)
            and isinstance(im.get("sha"), str)
            and SHA_RE.fullmatch(im["sha"])
        ):
            return "image record malformed"
    return None


def response_problem(resp: dict) -> str | None:
    """What is wrong with what the worker sent back (a snippet can tamper
    with the engine's records in its own process), or None."""
    if not _is_str_list(resp.get("chunks")):
        return "the run's output is malformed"
    if not _is_str_dict(resp.get("glue")):
        return "glued values must be text"
    if not all(name.isidentifier() for name in resp["glue"]):
        return "glue names must be identifiers"
    problem = images_problem(
        resp.get("images"),
        lambda im: (
            (im[0], im[2])
            if isinstance(im, list) and len(im) == 3
            else (None, None)
        ),
    )
    if problem:
        return problem
    if not all(isinstance(c, int) for _, c, _ in resp["images"]):
        return "image records are malformed"
    if not all(
        _is_str_list(resp.get(k)) for k in ("modules", "files", "packages")
    ):
        return "the run's input records are malformed"
    return None
