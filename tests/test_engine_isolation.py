"""Snippets cannot reach each other, the repository or the machine.

Each snippet starts from the same state whatever ran before it, may only
read the repository, is bounded in time and memory, and dies with the
build; builds sharing one checkout and cache never mix their results.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ENV


def page(toy, body):
    toy.write("docs/index.md", f"---\nsnippets: demo\n---\n# P\n\n{body}\n")


# -- state -------------------------------------------------------------

POLLUTER = """\
import json, os
import numpy as np
import matplotlib
json.dumps = lambda *a, **k: 1 / 0
os.environ["INFRALENS_LEAK"] = "1"
np.set_printoptions(precision=1)
matplotlib.rcParams["lines.linewidth"] = 9.0
import random
random.random = lambda: 0.5
"""

READER = """\
import json, os, random
import numpy as np
import matplotlib
print(json.dumps({"a": 1}))
print(os.environ.get("INFRALENS_LEAK"))
print(np.array([1.23456]))
print(matplotlib.rcParams["lines.linewidth"])
print(random.random())
"""


def test_a_snippet_starts_from_the_same_state_whatever_ran_before(tmp_path):
    from conftest import ToyProject

    alone = ToyProject(tmp_path / "alone")
    alone.write("snippets/b.py", READER)
    cold, errors = alone.engine().run_all(["snippets/b.py"])
    assert not errors
    after = ToyProject(tmp_path / "after")
    after.write("snippets/a.py", POLLUTER)
    after.write("snippets/b.py", READER)
    both, errors = after.engine().run_all(["snippets/a.py", "snippets/b.py"])
    assert not errors, errors
    assert both["snippets/b.py"].chunks == cold["snippets/b.py"].chunks
    assert "None" in cold["snippets/b.py"].chunks[0]


def test_torch_defaults_do_not_leak_between_snippets(toy):
    toy.write(
        "snippets/a.py",
        "import torch\ntorch.set_default_dtype(torch.float64)\n"
        "torch.set_num_threads(1)\n",
    )
    toy.write("snippets/b.py", "import torch\nprint(torch.zeros(1).dtype)\n")
    engine = toy.engine(preload=("torch",), timeout=60)
    results, errors = engine.run_all(["snippets/a.py", "snippets/b.py"])
    assert not errors, errors
    assert results["snippets/b.py"].chunks == ("torch.float32\n",)


def test_patching_json_in_a_snippet_does_not_break_the_engine(toy):
    toy.write(
        "snippets/demo/p.py",
        "import json, marshal\njson.dumps = None\nmarshal.dumps = None\n"
        "print('patched')\n",
    )
    page(toy, "{{ run p.py }}")
    assert "patched" in toy.build_page()


# -- side by side ------------------------------------------------------

COLOURED = """\
import os, time
import numpy as np
from infralens import save_image
flags = {flags!r}
save_image(np.full((4, 4, 3), {value}), "plot.png", alt="one colour")
open(os.path.join(flags, "{me}"), "w").close()
deadline = time.time() + 20
while not os.path.exists(os.path.join(flags, "{other}")):
    assert time.time() < deadline
    time.sleep(0.05)
"""

RUN_ONE = """\
import sys
from infralens.engine.run import Engine
with Engine(root=sys.argv[1], cache_dir=sys.argv[1] + "/.cache",
            preload=(), timeout=60) as eng:
    print(eng.result(sys.argv[2]).images[0].path)
"""


def test_two_builds_at_once_keep_their_own_images(toy, tmp_path):
    from PIL import Image

    flags = tmp_path / "flags"
    flags.mkdir()
    for me, other, value in (("a", "b", 1.0), ("b", "a", 0.0)):
        toy.write(
            f"snippets/{me}.py",
            COLOURED.format(flags=str(flags), me=me, other=other, value=value),
        )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE, str(toy.root), f"snippets/{n}.py"],
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in "ab"
    ]
    outs = [p.communicate(timeout=120) for p in procs]
    for proc, (_, err) in zip(procs, outs, strict=True):
        assert proc.returncode == 0, err
    white, black = (Image.open(o.strip()).getpixel((0, 0)) for o, _ in outs)
    assert white == (255, 255, 255)
    assert black == (0, 0, 0)


# -- the cache ----------------------------------------------------------


def _built_once(toy):
    toy.write(
        "snippets/demo/s.py",
        "import numpy as np\nfrom infralens import save_image\n"
        "print('the real output')\n"
        "save_image(np.full((4, 4, 3), 0.5), 'grey.png', alt='grey')\n",
    )
    page(toy, "{{ run s.py }}")
    toy.build_page()
    return next((toy.root / ".cache/infralens/entries").glob("*.json"))


@pytest.mark.parametrize("field", ["import_names", "result", "deps"])
def test_cache_entry_missing_a_field_is_rerun_with_a_warning(toy, field):
    entry_path = _built_once(toy)
    entry = json.loads(entry_path.read_text())
    del entry[field]
    entry_path.write_text(json.dumps(entry))
    proc = toy.build()
    assert proc.returncode == 0, proc.stderr
    assert "discarded" in proc.stderr and "(ran)" in proc.stderr
    assert "the real output" in (toy.root / "site/index.html").read_text()


@pytest.mark.parametrize("content", [b"", b"garbage"])
def test_damaged_cached_image_is_never_published(toy, content):
    _built_once(toy)
    (image,) = (toy.root / ".cache/infralens/images").glob("*.png")
    good = image.read_bytes()
    image.write_bytes(content)
    proc = toy.build()
    assert proc.returncode == 0, proc.stderr
    assert "discarded" in proc.stderr
    (served,) = (toy.root / "site/assets/snippets/demo/s").glob("*.png")
    assert served.read_bytes() == good


# -- read-only inputs ---------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "open('models/m/config.json', 'w').write('{}')",
        "import os\ntry:\n    os.remove('models/m/config.json')\n"
        "except OSError:\n    pass",
        "open('snippets/demo/other.py', 'a').write('x = 2\\n')",
        "open('docs/new.md', 'w').write('# new page')",
    ],
)
def test_a_snippet_cannot_change_the_repository(toy, code):
    toy.write("models/m/config.json", '{"size": 3}\n')
    toy.write("snippets/demo/other.py", "x = 1\n")
    toy.write("snippets/demo/w.py", code + "\n")
    page(toy, "{{ run w.py }}\n\n{{ run other.py }}")
    proc = toy.build()
    assert proc.returncode != 0
    assert "snippets/demo/w.py" in proc.stderr
    assert "may only read the repository" in proc.stderr
    assert (toy.root / "models/m/config.json").read_text() == '{"size": 3}\n'
    assert (toy.root / "snippets/demo/other.py").read_text() == "x = 1\n"
    assert not (toy.root / "docs/new.md").exists()


def test_a_temporary_folder_outside_the_repository_is_not_a_write(toy):
    # shutil.rmtree removes entries by name relative to an open directory
    toy.write("models/m/config.json", '{"size": 3}\n')
    toy.write(
        "snippets/t.py",
        "import os, tempfile\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    os.makedirs(os.path.join(d, 'models', 'm'))\n"
        "    open(os.path.join(d, 'models', 'm', 'c.json'), 'w').close()\n"
        "print('cleaned', not os.path.exists(d))\n",
    )
    results, errors = toy.engine().run_all(["snippets/t.py"])
    assert not errors, errors
    assert results["snippets/t.py"].output().strip() == "cleaned True"
    assert (toy.root / "models/m/config.json").read_text() == '{"size": 3}\n'


def test_writes_from_other_processes_leave_the_repository_unchanged(toy):
    toy.write("models/m/config.json", '{"size": 3}\n')
    toy.write(
        "snippets/w.py",
        "import subprocess\n"
        "subprocess.run('echo x >> models/m/config.json', shell=True)\n",
    )
    results, errors = toy.engine().run_all(["snippets/w.py"])
    assert (toy.root / "models/m/config.json").read_text() == '{"size": 3}\n'


def test_without_the_read_only_mount_changes_are_named_and_undone(toy):
    toy.write("models/m/config.json", '{"size": 3}\n')
    toy.write(
        "snippets/w.py",
        "import subprocess\n"
        "subprocess.run('echo x >> models/m/config.json', shell=True)\n"
        "subprocess.run('echo y > models/m/new.txt', shell=True)\n",
    )
    _, errors = toy.engine(seal=False).run_all(["snippets/w.py"])
    assert errors and "models/m/config.json" in str(errors[0])
    assert "models/m/new.txt" in str(errors[0])
    config = toy.root / "models/m/config.json"
    assert config.read_text() == '{"size": 3}\n'
    assert not (toy.root / "models/m/new.txt").exists()


# -- bounds -------------------------------------------------------------


def _dead(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "State:\tZ" in status


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_the_snippet_dies_with_the_build(toy, tmp_path, sig):
    pid_file = tmp_path / "pid"
    toy.write(
        "snippets/demo/loop.py",
        f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "while True:\n    pass\n",
    )
    page(toy, "{{ run loop.py }}")
    build = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "build"],
        cwd=toy.root,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.time() < deadline and build.poll() is None
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    build.send_signal(sig)
    build.wait(timeout=30)
    deadline = time.time() + 10
    while not _dead(pid):
        assert time.time() < deadline, "the snippet outlived the build"
        time.sleep(0.1)


def test_memory_limit_fails_the_build_naming_snippet_and_limit(toy):
    text = (toy.root / "mkdocs.yml").read_text()
    toy.write(
        "mkdocs.yml",
        text.replace("timeout:", "memory_limit_mb: 300\n      timeout:"),
    )
    toy.write(
        "snippets/demo/big.py",
        "import time\nblock = b'x' * (600 * 2**20)\ntime.sleep(1)\n",
    )
    page(toy, "{{ run big.py }}")
    proc = toy.build()
    assert proc.returncode != 0
    assert "snippets/demo/big.py" in proc.stderr
    assert "memory limit of 300 MiB" in proc.stderr


# -- compatibility with python FILE ---------------------------------------

COMPAT = """\
import faulthandler
import os
import sys
faulthandler.enable()
sys.stdout.buffer.write(b"bytes out\\n")
os.write(sys.stdout.fileno(), b"fd out\\n")
print("text out", file=sys.stderr)
"""


def test_what_runs_under_python_runs_in_the_engine(toy):
    toy.write("snippets/c.py", COMPAT)
    plain = subprocess.run(
        [sys.executable, "snippets/c.py"],
        cwd=toy.root,
        env=ENV,
        capture_output=True,
    )
    assert plain.returncode == 0, plain.stderr
    results, errors = toy.engine().run_all(["snippets/c.py"])
    assert not errors, errors
    assert results["snippets/c.py"].chunks == (
        "bytes out\nfd out\ntext out\n",
    )
