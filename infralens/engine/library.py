"""Quote installed library code: find an object's lines and their link.

A page names an object of an installed package as ``MODULE:QUALNAME``
(``diffusers.models.autoencoders.vae:DiagonalGaussianDistribution.sample``).
The object is found by reading the package's own file and walking its
syntax tree, without importing anything, so a package that cannot be
imported on the build machine can still be quoted. The result carries the
distribution and its installed version, the file's path inside the
project's repository, the object's first and last line, and a link to the
same lines at the tag (or commit) of that version.
"""

from __future__ import annotations

import ast
import functools
import importlib.metadata as metadata
import importlib.util
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from infralens.engine.cache import installed_version
from infralens.engine.source import SnippetError


@dataclass(frozen=True)
class Repository:
    url: str  # https://github.com/OWNER/NAME
    prefix: str  # folder of the package inside the repository ("src/")
    tag: str = "v{version}"  # the release's git ref; {version} filled in
    # versions whose release has no tag: the commit whose files are the
    # published wheel's files
    commits: tuple[tuple[str, str], ...] = ()

    def ref(self, version: str) -> str | None:
        for v, commit in self.commits:
            if v == version:
                return commit
        if self.commits:
            return None
        return self.tag.format(version=version.split("+")[0])


# Where each quotable distribution's source lives. diffsynth 2.x publishes
# no git tags; the commit given for 2.1.2 ("update to version 2.1.2") has
# every .py file of the PyPI wheel diffsynth-2.1.2 byte for byte.
REPOSITORIES: dict[str, Repository] = {
    "diffusers": Repository(
        "https://github.com/huggingface/diffusers", "src/"
    ),
    "transformers": Repository(
        "https://github.com/huggingface/transformers", "src/"
    ),
    "accelerate": Repository(
        "https://github.com/huggingface/accelerate", "src/"
    ),
    "torch": Repository("https://github.com/pytorch/pytorch", ""),
    "diffsynth": Repository(
        "https://github.com/modelscope/DiffSynth-Studio",
        "",
        commits=(("2.1.2", "81c15e5a1bb5b7a0c4eb23567047d310d2e32320"),),
    ),
}

# Top-level names of the packages quoted in this process. A snippet that
# runs code read from an installed package (infralens.quoted) depends on
# that package's version; the engine adds these names to the snippet's
# cache key as if the snippet had imported them.
QUOTED: set[str] = set()

TARGET_RE = re.compile(
    r"^(?P<module>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)"
    r"(?::(?P<qualname>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*))?$"
)


@dataclass(frozen=True)
class Quoted:
    """An object's lines in an installed file, with where they come from."""

    target: str  # MODULE:QUALNAME as the page wrote it
    dist: str
    version: str
    repo_path: str  # path of the file inside the repository
    first: int  # 1-based, the object's first line (decorators included)
    last: int
    lines: tuple[str, ...]  # the file's lines first..last

    def text(self, first: int, last: int) -> str:
        return "\n".join(
            self.lines[first - self.first : last - self.first + 1]
        )

    def url(self, first: int, last: int) -> str:
        repo = REPOSITORIES[self.dist]
        ref = repo.ref(self.version)
        span = f"L{first}" if first == last else f"L{first}-L{last}"
        return f"{repo.url}/blob/{ref}/{self.repo_path}#{span}"


def _distribution(top: str) -> str | None:
    from infralens.engine.cache import distributions

    names = distributions().get(top) or []
    return names[0] if names else None


@functools.cache
def _package_dir(top: str) -> Path | None:
    # find_spec on a top-level name locates the package without running it
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


def _module_file(module: str) -> Path | None:
    top, *rest = module.split(".")
    base = _package_dir(top)
    if base is None:
        return None
    path = base.joinpath(*rest)
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if rest and candidate.is_file():
            return candidate
    init = base / "__init__.py"
    return init if not rest and init.is_file() else None


def _find(tree: ast.Module, qualname: str) -> ast.AST | None:
    body = tree.body
    node = None
    for part in qualname.split("."):
        node = None
        for stmt in body:
            if isinstance(
                stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
            ):
                if stmt.name == part:
                    node = stmt
            elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                targets = (
                    stmt.targets
                    if isinstance(stmt, ast.Assign)
                    else [stmt.target]
                )
                if any(
                    isinstance(t, ast.Name) and t.id == part for t in targets
                ):
                    node = stmt
        if node is None:
            return None
        body = getattr(node, "body", [])
    return node


class Library:
    """Finds quoted objects; remembers them per installed version in
    ``cache_file`` (a JSON file), checked against the file's size and
    modification time."""

    def __init__(self, cache_file: Path | None = None):
        self.cache_file = cache_file
        self._entries: dict[str, dict] | None = None
        self._dirty = False

    def _cache(self) -> dict[str, dict]:
        if self._entries is None:
            self._entries = {}
            if self.cache_file and self.cache_file.is_file():
                try:
                    loaded = json.loads(self.cache_file.read_text("utf-8"))
                    if isinstance(loaded, dict):
                        self._entries = loaded
                except (OSError, ValueError):
                    pass
        return self._entries

    def save(self) -> None:
        if self.cache_file and self._dirty:
            from infralens.engine.cache import atomic_write

            data = json.dumps(self._cache(), indent=0, sort_keys=True)
            atomic_write(self.cache_file, data.encode("utf-8"))
            self._dirty = False

    def quote(self, target: str, where: tuple[str, int]) -> Quoted:
        m = TARGET_RE.match(target)
        if not m:
            raise SnippetError(
                *where, f"{target!r} is not MODULE or MODULE:QUALNAME"
            )
        module, qualname = m.group("module"), m.group("qualname")
        top = module.split(".")[0]
        dist = _distribution(top)
        if dist is None:
            raise SnippetError(
                *where,
                f"no installed package provides {top!r} (the packages "
                "pages quote are in requirements-quoted.txt)",
            )
        if dist not in REPOSITORIES:
            raise SnippetError(
                *where,
                f"{dist} has no source repository in "
                "infralens/engine/library.py REPOSITORIES",
            )
        version = installed_version(dist)
        QUOTED.add(top)
        if REPOSITORIES[dist].ref(version) is None:
            raise SnippetError(
                *where,
                f"{dist} {version} is installed but REPOSITORIES knows no "
                "git ref for that version",
            )
        path = _module_file(module)
        if path is None:
            raise SnippetError(
                *where, f"{module} is not a module of {dist} {version}"
            )
        stat = path.stat()
        key = f"{dist}=={version} {target}"
        hit = self._cache().get(key)
        if hit and hit.get("stamp") == [stat.st_size, stat.st_mtime_ns]:
            fields = {k: v for k, v in hit.items() if k != "stamp"}
            fields["lines"] = tuple(fields["lines"])
            return Quoted(**fields)
        quoted = self._read(
            target, dist, version, path, module, qualname, where
        )
        entry = asdict(quoted)
        entry["stamp"] = [stat.st_size, stat.st_mtime_ns]
        self._cache()[key] = entry
        self._dirty = True
        return quoted

    def quote_span(self, target, span, anchor, where) -> Quoted:
        """``quote`` and then ``check_span``: the object, with its lines
        A-B still holding ``anchor`` when a span is given."""
        quoted = self.quote(target, where)
        check_span(quoted, span, anchor, where)
        return quoted

    def _read(self, target, dist, version, path, module, qualname, where):
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        if qualname:
            node = _find(ast.parse(text, str(path)), qualname)
            if node is None:
                raise SnippetError(
                    *where,
                    f"{dist} {version}: {module} defines no {qualname} "
                    "(renamed, moved, or imported from another module?)",
                )
            decorators = getattr(node, "decorator_list", [])
            first = min([node.lineno] + [d.lineno for d in decorators])
            last = node.end_lineno
        else:
            first, last = 1, len(lines)
        base = _package_dir(module.split(".")[0]).parent
        rel = path.relative_to(base).as_posix()
        return Quoted(
            target=target,
            dist=dist,
            version=version,
            repo_path=REPOSITORIES[dist].prefix + rel,
            first=first,
            last=last,
            lines=tuple(lines[first - 1 : last]),
        )


def check_span(
    quoted: Quoted,
    span: tuple[int, int] | None,
    anchor: str | None,
    where: tuple[str, int],
) -> tuple[int, int]:
    """The lines to show: ``span`` checked to lie inside the object and to
    contain ``anchor``; the whole object when no span is given."""
    first, last = span or (quoted.first, quoted.last)
    label = f"{quoted.dist} {quoted.version} {quoted.target}"
    if first > last or first < quoted.first or last > quoted.last:
        raise SnippetError(
            *where,
            f"lines {first}-{last} are not inside {label} "
            f"(lines {quoted.first}-{quoted.last} of {quoted.repo_path})",
        )
    if anchor is not None and anchor not in quoted.text(first, last):
        raise SnippetError(
            *where,
            f"lines {first}-{last} of {quoted.repo_path} ({label}) no "
            f"longer contain {anchor!r}",
        )
    return first, last


# Links to files in GitHub repositories, as pages write them: a link to a
# file is evidence only at a fixed version.
GITHUB_FILE_RE = re.compile(
    r"^https?://github\.com/(?P<repo>[\w.-]+/[\w.-]+)"
    r"/(?:blob|tree|raw|blame)/(?P<ref>[^/?#]+)"
    r"|^https?://raw\.githubusercontent\.com/(?P<raw_repo>[\w.-]+/[\w.-]+)"
    r"/(?P<raw_ref>[^/?#]+)"
)
TAG_LIKE_RE = re.compile(r"^v?\d+(?:\.\d+)+(?:[-.+]?[0-9A-Za-z]+)*$")
COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")


def link_problem(url: str) -> str | None:
    """Why a link to a file on GitHub is not pinned, or None when it is.

    A file link must name a tag-like ref (``v0.42.1``, ``2.1.2``) or a
    full commit hash, never a branch. A link into the repository of an
    installed, quotable package must name that installed version's ref
    (``Repository.ref``). Links that name no file (a repository, an
    issue, a pull request) are not file links and pass."""
    m = GITHUB_FILE_RE.match(url)
    if not m:
        return None
    repo = (m.group("repo") or m.group("raw_repo")).lower()
    ref = m.group("ref") or m.group("raw_ref")
    for dist, r in REPOSITORIES.items():
        if r.url.lower().endswith("/" + repo):
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                return f"links into {dist}, which is not installed"
            want = r.ref(version)
            if ref != want:
                return (
                    f"names {ref!r}; {dist} {version} is installed, "
                    f"whose files are at {want!r}"
                )
            return None
    if COMMIT_RE.match(ref) or TAG_LIKE_RE.match(ref):
        return None
    return f"names {ref!r}, a branch or other moving ref, not a tag or commit"
