"""The cache reruns exactly the snippets whose inputs changed."""

from __future__ import annotations

import os

import pytest
from conftest import ServeSession

from infralens.engine import cache

SNIPPETS = {
    "snippets/plain.py": "print('plain')\n",
    "snippets/uses_helper.py": "from helperpkg import helper\n"
    "print(helper.VALUE)\n",
    "snippets/reads_data.py": "print(open('data/table.txt').read())\n",
    "snippets/loads_model.py": "import json\n"
    "cfg = json.load(open('models/m/config.json'))\n"
    "print(cfg['size'])\n",
    "snippets/uses_numpy.py": "import numpy\nprint('numpy imported')\n",
}


@pytest.fixture
def project(toy):
    for rel, text in SNIPPETS.items():
        toy.write(rel, text)
    toy.write("helperpkg/__init__.py", "")
    toy.write("helperpkg/helper.py", "VALUE = 1\n")
    toy.write("data/table.txt", "a table\n")
    toy.write("models/m/config.json", '{"size": 3}\n')
    (toy.root / "models/m/weights.safetensors").write_bytes(b"\0" * 64)
    return toy


def run_all(toy, **kw):
    eng = toy.engine(**kw)
    results, errors = eng.run_all(list(SNIPPETS))
    assert not errors, errors
    return {rel for rel, r in results.items() if not r.cached}


def test_first_run_runs_everything_second_runs_nothing(project):
    assert run_all(project) == set(SNIPPETS)
    assert run_all(project) == set()


def test_snippet_edit_reruns_only_that_snippet(project):
    run_all(project)
    project.write("snippets/plain.py", "print('plain, edited')\n")
    assert run_all(project) == {"snippets/plain.py"}


def test_imported_module_edit_reruns_only_its_importers(project):
    run_all(project)
    project.write("helperpkg/helper.py", "VALUE = 2\n")
    assert run_all(project) == {"snippets/uses_helper.py"}
    eng = project.engine()
    assert eng.result("snippets/uses_helper.py").chunks == ("2\n",)


def test_data_file_edit_reruns_only_its_readers(project):
    run_all(project)
    project.write("data/table.txt", "another table\n")
    assert run_all(project) == {"snippets/reads_data.py"}


def test_model_weights_edit_reruns_model_loaders(project):
    # the weights file is never opened from Python (as with safetensors'
    # Rust reader); it counts because its folder holds a config.json
    run_all(project)
    (project.root / "models/m/weights.safetensors").write_bytes(b"\1" * 64)
    assert run_all(project) == {"snippets/loads_model.py"}


def test_package_version_change_reruns_its_importers(project):
    run_all(project)

    def bumped(dist):
        version = cache.installed_version(dist)
        return "999.0" if dist == "numpy" else version

    assert run_all(project, version_of=bumped) == {"snippets/uses_numpy.py"}


def test_engine_change_reruns_everything(project, monkeypatch):
    run_all(project)
    monkeypatch.setattr(cache, "engine_hash", lambda: "changed")
    assert run_all(project) == set(SNIPPETS)


def test_prose_edit_reruns_nothing_in_a_build(project):
    project.write(
        "docs/index.md",
        "# P\n\n"
        + "\n\n".join(
            f"{{{{ run {rel.split('/', 1)[1]} }}}}" for rel in SNIPPETS
        )
        + "\n",
    )
    first = project.build()
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("(ran)") == len(SNIPPETS)
    project.write(
        "docs/index.md",
        (project.root / "docs/index.md").read_text()
        + "\nA new paragraph of prose.\n",
    )
    second = project.build()
    assert second.returncode == 0, second.stderr
    assert "(ran)" not in second.stderr
    assert second.stderr.count("(cached)") == len(SNIPPETS)


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_serve_many_snippets_each(toy, jobs):
    # a worker (heavy imports paid once) forks each snippet's process;
    # the engine starts at most `jobs` of them
    names = "abcdef"
    for name in names:
        toy.write(
            f"snippets/{name}.py",
            "import os, time\n"
            "from infralens import glue\n"
            "time.sleep(0.2)\n"
            "glue('worker', os.getppid())\n",
        )
    eng = toy.engine(jobs=jobs)
    results, errors = eng.run_all([f"snippets/{n}.py" for n in names])
    assert not errors
    workers = {r.glue["worker"] for r in results.values()}
    assert 1 <= len(workers) <= jobs
    assert len(eng._started) <= jobs


def test_parallel_workers_print_what_one_worker_prints(toy, tmp_path):
    for i in range(4):
        toy.write(
            f"snippets/s{i}.py",
            "import torch\n"
            "from infralens import glue\n"
            f"x = torch.randn(300, 300) @ torch.randn(300, 300) + {i}\n"
            "print(x.sum().item(), x.std().item())\n"
            "glue('first', f'{x[0, 0].item():.10f}')\n",
        )
    names = [f"snippets/s{i}.py" for i in range(4)]
    one, errors = toy.engine(jobs=1, preload=("torch",), timeout=60).run_all(
        names
    )
    assert not errors
    # run again, in parallel, from an empty cache
    (toy.root / ".cache").rename(tmp_path / "first-cache")
    two, errors = toy.engine(jobs=2, preload=("torch",), timeout=60).run_all(
        names
    )
    assert not errors
    assert not any(r.cached for r in two.values())
    for rel in names:
        assert (one[rel].chunks, one[rel].glue) == (
            two[rel].chunks,
            two[rel].glue,
        )


def test_snippets_do_not_see_each_others_names(toy):
    toy.write("snippets/a.py", "leak = 1\n")
    toy.write("snippets/b.py", "print('leak' in globals())\n")
    results, _ = toy.engine().run_all(["snippets/a.py", "snippets/b.py"])
    assert results["snippets/b.py"].chunks == ("False\n",)


def test_modules_with_relative_file_are_not_project_modules(toy):
    # torch.ops reports __file__ == "_ops.py"; resolved against the
    # project root it looked like project code and was purged.
    toy.write(
        "makes_fake_rel.py",
        "import sys, types\n"
        "m = types.ModuleType('fake_rel')\nm.__file__ = 'rel.py'\n"
        "sys.modules['fake_rel'] = m\n",
    )
    toy.write(
        "snippets/b.py", "import sys\nprint('fake_rel' in sys.modules)\n"
    )
    engine = toy.engine(preload=("makes_fake_rel",))
    results, errors = engine.run_all(["snippets/b.py"])
    assert not errors
    assert results["snippets/b.py"].chunks == ("True\n",)


def test_version_of_a_quoted_package_reruns_the_snippet_that_ran_it(toy):
    # the snippet never imports diffsynth; it runs one function read from
    # the installed file, so diffsynth's version must still key its entry
    if cache.installed_version("diffsynth") is None:
        pytest.skip("diffsynth not installed (requirements-quoted.txt)")
    rel = "snippets/quotes.py"
    toy.write(
        rel,
        "from infralens.quoted import load_function\n"
        "f = load_function('diffsynth.diffusion.base_pipeline:"
        "BasePipeline.check_resize_height_width')\n"
        "print(f.label)\n",
    )
    assert not toy.engine().result(rel).cached
    assert toy.engine().result(rel).cached

    def bumped(dist):
        version = cache.installed_version(dist)
        return "999.0" if dist == "diffsynth" else version

    assert not toy.engine(version_of=bumped).result(rel).cached


def test_dirty_build_rerenders_a_page_whose_snippet_changed(toy):
    toy.write("snippets/demo/s.py", "print('first output')\n")
    toy.write("docs/other.md", "# Other\n\nNo snippets here.\n")
    toy.write(
        "docs/index.md", "---\nsnippets: demo\n---\n# P\n\n{{ run s.py }}\n"
    )
    assert toy.build().returncode == 0
    toy.write("snippets/demo/s.py", "print('second output')\n")
    proc = toy.build("--dirty", "--no-strict")
    assert proc.returncode == 0, proc.stderr
    html = (toy.root / "site/index.html").read_text()
    assert "second output" in html and "first output" not in html


def test_serve_keeps_one_plugin_instance_across_rebuilds(toy):
    toy.write("docs/index.md", "# P\n\nProse.\n")
    session = ServeSession(toy, dirty=False)
    first = session.build().plugins["infralens"]
    assert session.build().plugins["infralens"] is first


@pytest.mark.parametrize("dirty", [False, True], ids=["serve", "dirty"])
def test_serve_rebuild_shows_a_changed_snippet(toy, dirty):
    toy.write("snippets/demo/s.py", "# %%\nprint('first output')\n")
    toy.write(
        "docs/index.md",
        "---\nsnippets: demo\n---\n# P\n\n{{ run s.py }}\n\n"
        "{{ notebook s.py }}\n",
    )
    session = ServeSession(toy, dirty)
    session.build()
    assert "first output" in session.page()
    toy.write("snippets/demo/s.py", "# %%\nprint('second output')\n")
    session.build()
    html = session.page()
    assert "second output" in html and "first output" not in html
    nb = session.page("s.ipynb")
    assert "second output" in nb and "first output" not in nb


def test_dirty_serve_renders_an_including_page_when_its_file_changed(toy):
    toy.write("GUIDE.md", "The first guide.\n")
    toy.write("docs/index.md", "{{ include GUIDE.md }}\n")
    toy.write("docs/other.md", "# Other\n\nProse.\n")
    session = ServeSession(toy, dirty=True)
    session.build()
    written = (toy.root / "site/index.html").stat().st_mtime_ns
    # nothing the page shows changed: it is not rendered again
    toy.write("docs/other.md", "# Other\n\nMore prose.\n")
    session.build()
    assert (toy.root / "site/index.html").stat().st_mtime_ns == written
    # the included file changed: it is
    toy.write("GUIDE.md", "The second guide.\n")
    session.build()
    assert "The second guide." in session.page()
    # a page file this process did not write is rendered again
    (toy.root / "site/index.html").write_text("written by another build")
    session.build()
    assert "The second guide." in session.page()


def test_installed_versions_follow_an_install_during_a_session(
    tmp_path, monkeypatch
):
    site_packages = tmp_path / "site-packages"
    site_packages.mkdir()
    monkeypatch.syspath_prepend(str(site_packages))

    def install(version: str) -> None:
        for old in site_packages.glob("*.dist-info"):
            (old / "METADATA").unlink()
            old.rmdir()
        info = site_packages / f"fakepkg-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: fakepkg\nVersion: {version}\n"
            "Requires-Dist: numpy\n"
        )
        # as a real install does, well after the last one
        stamp = site_packages.stat().st_mtime_ns + int(version[0]) * 10**9
        os.utime(site_packages, ns=(stamp, stamp))

    assert cache.installed_version("fakepkg") is None
    install("1.0")
    assert cache.installed_version("fakepkg") == "1.0"
    assert cache.installed_requirements("fakepkg") == ("numpy",)
    install("2.0")
    assert cache.installed_version("fakepkg") == "2.0"
