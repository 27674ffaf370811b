"""Check a built site in Chromium: axe-core's WCAG rules on every page,
and how the lab page loads on a throttled phone profile.

Shared by the browser tests and ``scripts/audit_site.py``. Everything runs
against a local copy of the site served on 127.0.0.1; requests to any
other host are recorded and refused.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
# the rules axe-core files under WCAG 2.0 and 2.1, levels A and AA
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
SCHEMES = {"light": "default", "dark": "slate"}
# Lighthouse's mobile profile as DevTools applies it: slow 4G (150 ms
# round trip and 1.6 Mbit/s, times DevTools' 3.75 and 0.9 factors) and a
# CPU four times slower than this machine's.
PHONE_NETWORK = {
    "offline": False,
    "latency": 150 * 3.75,
    "downloadThroughput": 1.6 * 1024 * 1024 * 0.9 / 8,
    "uploadThroughput": 750 * 1024 * 0.9 / 8,
}
PHONE_CPU_SLOWDOWN = 4


def missing_tools() -> str | None:
    """Why the browser checks cannot run here, or None."""
    if CHROMIUM is None:
        return "Chromium not installed (apt-get install chromium)"
    if not AXE_JS.is_file():
        return "axe-core not installed (npm ci, in the repository root)"
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(site: Path):
    """The folder ``site`` over HTTP on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium():
    """A headless Chromium (Playwright driving the system's browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def site_pages(site: Path) -> list[str]:
    """Every page of a built site, as paths relative to its root URL
    ("" for the home page, "small-vae/", "404.html")."""
    pages = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        if rel == "index.html":
            pages.append("")
        elif rel.endswith("/index.html"):
            pages.append(rel[: -len("index.html")])
        else:
            pages.append(rel)
    return pages


def local_only(context, foreign: list[str]) -> None:
    """Refuse, and record in ``foreign``, every request off 127.0.0.1."""

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:")) or (
            urlparse(url).hostname == "127.0.0.1"
        ):
            r.continue_()
        else:
            foreign.append(url)
            r.abort()

    context.route("**/*", route)


@dataclass
class Violation:
    page: str
    view: str  # "desktop light", ...
    rule: str
    impact: str | None
    help: str
    targets: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:3])
        more = len(self.targets) - 3
        if more > 0:
            shown += f" (+{more} more)"
        return (
            f"/{self.page} [{self.view}] {self.rule} ({self.impact}): "
            f"{self.help}: {len(self.targets)} element(s): {shown}"
        )


# Every content tab set shown on its last tab (the output of a Code /
# Output pair), so that the rules see the text hidden behind the first.
SHOW_LAST_TABS = """async () => {
  const sets = document.querySelectorAll('.tabbed-set');
  for (const set of sets) {
    const inputs = set.querySelectorAll(':scope > input');
    // checked, not clicked: a click would also switch the linked tabs
    // of later pages (the theme remembers the choice)
    if (inputs.length > 1) inputs[inputs.length - 1].checked = true;
  }
  // let the theme's scripts see the new layout (they make code blocks
  // that scroll focusable)
  await new Promise(r => setTimeout(r, 50));
  await new Promise(r => requestAnimationFrame(
    () => requestAnimationFrame(r)));
  return sets.length;
}"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(' ')),
  }));
}"""


def _merge(found: dict, page: str, view: str, raw: list[dict]) -> None:
    for v in raw:
        key = (page, view, v["rule"])
        if key not in found:
            found[key] = Violation(
                page, view, v["rule"], v["impact"], v["help"]
            )
        known = found[key].targets
        known.extend(t for t in v["targets"] if t not in known)


@dataclass
class Sweep:
    """What one viewport and palette showed over all pages."""

    violations: list[Violation]
    foreign: list[str]  # requests that tried to leave 127.0.0.1
    sideways: dict[str, int]  # page -> px it scrolls sideways, if any


SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"


def axe_sweep(
    browser, base_url: str, pages: list[str], view: str, scheme: str
) -> Sweep:
    """axe-core's WCAG 2.1 A/AA rules on every page in one viewport and
    palette: each page as loaded, then with every tab set switched to its
    last tab. The violations come one per page and rule, with every
    element that failed; pages are also measured for sideways scrolling.
    """
    width, height = VIEWPORTS[view]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        color_scheme="dark" if scheme == "dark" else "light",
    )
    foreign: list[str] = []
    local_only(context, foreign)
    axe_source = AXE_JS.read_text(encoding="utf-8")
    found: dict = {}
    sideways: dict[str, int] = {}
    label = f"{view} {scheme}"
    try:
        page = context.new_page()
        for path in pages:
            page.goto(base_url + path, wait_until="load")
            page.wait_for_function(
                "s => document.body.dataset.mdColorScheme === s",
                arg=SCHEMES[scheme],
            )
            overflow = page.evaluate(SIDEWAYS)
            if overflow > 0:
                sideways[path] = overflow
            page.evaluate(axe_source)
            _merge(found, path, label, page.evaluate(RUN_AXE, WCAG_TAGS))
            if page.evaluate(SHOW_LAST_TABS):
                _merge(found, path, label, page.evaluate(RUN_AXE, WCAG_TAGS))
    finally:
        context.close()
    return Sweep(list(found.values()), foreign, sideways)


def count_by_rule(violations: list[Violation]) -> dict[str, int]:
    """Failing elements per rule, summed over pages and views."""
    counts: dict[str, int] = {}
    for v in violations:
        counts[v.rule] = counts.get(v.rule, 0) + len(v.targets)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


LCP_OBSERVER = """new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__lcp = e.startTime;
}).observe({type: 'largest-contentful-paint', buffered: true});"""


def phone_load(browser, base_url: str, path: str) -> dict:
    """Load one page, cold, as a phone on slow 4G with a 4x slower CPU.

    Returns first contentful paint and largest contentful paint (ms after
    navigation start), the bytes transferred until the network is idle
    (nothing scrolled), the number of requests, and the requests that
    tried to leave 127.0.0.1 (the throttling applies to requests the
    page makes itself, so none is intercepted here: they are recorded)."""
    width, height = VIEWPORTS["phone"]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
    )
    try:
        page = context.new_page()
        foreign = []
        page.on(
            "request",
            lambda r: (
                urlparse(r.url).hostname not in (None, "127.0.0.1")
                and not r.url.startswith(("data:", "blob:"))
                and foreign.append(r.url)
            ),
        )
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        cdp.send("Network.emulateNetworkConditions", PHONE_NETWORK)
        cdp.send(
            "Emulation.setCPUThrottlingRate", {"rate": PHONE_CPU_SLOWDOWN}
        )
        sizes: dict[str, int] = {}
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(
                e["requestId"], int(e["encodedDataLength"])
            ),
        )
        page.add_init_script(LCP_OBSERVER)
        page.goto(base_url + path, wait_until="load", timeout=120_000)
        page.wait_for_load_state("networkidle", timeout=120_000)
        fcp = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]"
            ".startTime"
        )
        lcp = page.evaluate("window.__lcp ?? null")
        return {
            "first_contentful_paint_ms": round(fcp),
            "largest_contentful_paint_ms": round(lcp) if lcp else None,
            "transferred_bytes": sum(sizes.values()),
            "requests": len(sizes),
            "foreign": foreign,
        }
    finally:
        context.close()


def axe_version() -> str:
    package = AXE_JS.parent / "package.json"
    return json.loads(package.read_text(encoding="utf-8"))["version"]
