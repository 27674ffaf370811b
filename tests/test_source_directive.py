"""``{{ source }}`` and ``{{ sourcelink }}``: installed library code on a
page, found without importing it, linked at the installed version."""

from __future__ import annotations

import importlib.metadata as metadata
import inspect

import pytest
from conftest import assert_build_fails, page

from infralens.engine import library, scan
from infralens.engine.source import SnippetError

WHERE = ("docs/x.md", 3)
VAE = "diffusers.models.autoencoders.vae:DiagonalGaussianDistribution"
DIFFUSERS = metadata.version("diffusers")


def test_quote_matches_the_imported_object():
    from diffusers.models.autoencoders import vae

    q = library.Library().quote(VAE + ".sample", WHERE)
    lines, first = inspect.getsourcelines(
        vae.DiagonalGaussianDistribution.sample
    )
    assert (q.first, q.last) == (first, first + len(lines) - 1)
    assert q.text(q.first, q.last) == "".join(lines).rstrip("\n")
    assert q.dist == "diffusers" and q.version == DIFFUSERS
    assert q.repo_path == "src/diffusers/models/autoencoders/vae.py"
    assert q.url(q.first, q.last) == (
        f"https://github.com/huggingface/diffusers/blob/v{DIFFUSERS}/"
        f"src/diffusers/models/autoencoders/vae.py#L{q.first}-L{q.last}"
    )


def test_decorators_belong_to_the_object():
    q = library.Library().quote(
        "diffusers.schedulers.scheduling_ddim:DDIMScheduler.__init__", WHERE
    )
    assert q.lines[0].strip() == "@register_to_config"


def test_module_constants_and_package_inits_are_found():
    q = library.Library().quote(
        "diffusers.schedulers.scheduling_ddim:DDIMScheduler.order", WHERE
    )
    assert q.first == q.last and "order = 1" in q.lines[0]
    whole = library.Library().quote("diffusers", WHERE)
    assert whole.repo_path == "src/diffusers/__init__.py"


def test_diffsynth_is_quoted_without_importing_it():
    import sys

    if metadata.packages_distributions().get("diffsynth") is None:
        pytest.skip("diffsynth not installed")
    q = library.Library().quote(
        "diffsynth.pipelines.wan_video:WanVideoPipeline", WHERE
    )
    assert "diffsynth" not in sys.modules
    assert q.repo_path == "diffsynth/pipelines/wan_video.py"
    assert "/blob/81c15e5a1bb5b7a0c4eb23567047d310d2e32320/" in q.url(1, 2)


@pytest.mark.parametrize(
    "target, message",
    [
        ("no_such_package.x:Y", "no installed package provides"),
        ("diffusers.no_such_module:Y", "is not a module of diffusers"),
        (VAE + ".no_such_method", "defines no DiagonalGaussianDistribution"),
        ("numpy:ndarray", "numpy has no source repository"),
        ("diffusers:", "is not MODULE or MODULE:QUALNAME"),
    ],
)
def test_what_cannot_be_quoted_names_page_and_line(target, message):
    with pytest.raises(SnippetError) as err:
        library.Library().quote(target, WHERE)
    assert str(err.value).startswith("docs/x.md:3: ")
    assert message in str(err.value)


def test_a_span_must_lie_in_the_object_and_hold_its_anchor():
    q = library.Library().quote(VAE + ".sample", WHERE)
    a, b = q.first + 1, q.last
    assert library.check_span(q, (a, b), "randn_tensor", WHERE) == (a, b)
    with pytest.raises(SnippetError, match="no longer contain 'noise_pred'"):
        library.check_span(q, (a, b), "noise_pred", WHERE)
    with pytest.raises(SnippetError, match="are not inside"):
        library.check_span(q, (q.first - 5, b), "randn_tensor", WHERE)


def test_the_cache_is_keyed_on_the_version(tmp_path):
    cache = tmp_path / "library.json"
    lib = library.Library(cache)
    q = lib.quote(VAE + ".mode", WHERE)
    lib.save()
    assert f"diffusers=={DIFFUSERS} {VAE}.mode" in cache.read_text()
    assert library.Library(cache).quote(VAE + ".mode", WHERE) == q


def test_scan_reads_both_forms_and_rejects_a_span_without_anchor():
    md = (
        "# T\n\n"
        f'{{{{ source {VAE}.sample 10-12 "a \\"quoted\\" anchor" }}}}\n\n'
        f"See {{{{ sourcelink {VAE}.mode }}}} for the mode.\n"
    )
    src, link = scan.scan("docs/x.md", md)
    assert (src.verb, src.snippet, src.span) == (
        "source",
        VAE + ".sample",
        (10, 12),
    )
    assert src.anchor == 'a \\"quoted\\" anchor'
    assert (link.verb, link.line) == ("sourcelink", 5)
    assert not src.names_snippet
    with pytest.raises(SnippetError, match="docs/x.md:1: malformed"):
        scan.scan("docs/x.md", f"{{{{ source {VAE} 10-12 }}}}\n")


def test_a_page_shows_the_lines_with_their_pinned_link(toy):
    q = library.Library().quote(VAE + ".sample", WHERE)
    a, b = q.first + 1, q.last
    page(
        toy,
        f'{{{{ source {VAE}.sample {a}-{b} "randn_tensor" }}}}\n\n'
        f"The mode: {{{{ sourcelink {VAE}.mode }}}}.",
    )
    html = toy.build_page()
    assert "randn_tensor" in html
    assert f'href="{q.url(a, b)}"' in html
    assert f"diffusers {DIFFUSERS}" in html
    assert "{{ source" not in html and "{{ sourcelink" not in html
    assert (
        f"/blob/v{DIFFUSERS}/src/diffusers/models/autoencoders/vae.py#L"
        in (html.split("The mode:")[1])
    )


def test_a_stale_anchor_fails_the_build_with_page_and_line(toy):
    page(toy, f'\n\n{{{{ source {VAE}.sample 1-2 "x" }}}}')
    assert_build_fails(toy, "docs/index.md:8", "are not inside")


RULE = (
    "diffsynth.diffusion.base_pipeline:BasePipeline.check_resize_height_width"
)


def test_a_quoted_function_runs_without_its_package_being_imported():
    import sys
    import traceback
    from types import SimpleNamespace

    from infralens.quoted import assigned_keywords, load_function

    if metadata.packages_distributions().get("diffsynth") is None:
        pytest.skip("diffsynth not installed")
    rule = load_function(RULE)
    factors = assigned_keywords(
        "diffsynth.pipelines.wan_video:WanVideoPipeline.__init__",
        "super().__init__",
    )
    assert factors["time_division_factor"] == 4
    assert factors["time_division_remainder"] == 1
    wan = SimpleNamespace(**factors)
    got = [rule(wan, 16, 16, n, verbose=0)[2] for n in (5, 6, 8, 9, 10)]
    assert got == [5, 9, 9, 9, 13]
    assert "diffsynth" not in sys.modules
    assert rule.label.startswith("diffsynth ")
    # a failure inside it points at the installed file's own lines
    with pytest.raises(AttributeError) as err:
        rule(SimpleNamespace(), 17, 16)
    frame = traceback.extract_tb(err.value.__traceback__)[-1]
    q = rule.quoted
    assert frame.filename == q.repo_path
    assert q.first <= frame.lineno <= q.last
    assert "height_division_factor" in frame.line


def test_only_functions_can_be_loaded():
    from infralens.quoted import load_function

    with pytest.raises(TypeError, match="is not a function"):
        load_function(VAE)
