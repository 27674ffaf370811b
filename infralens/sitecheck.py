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
import os
import queue
import shutil
import sys
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
# width, height and device pixels per CSS pixel
VIEWPORTS = {"desktop": (1280, 900, 1), "phone": (390, 844, 3)}
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
# how long the sweep waits for a page to load or a script to finish
TIMEOUT_MS = 180_000


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


class _Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # a browser that leaves a page drops the requests still open
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serve(site: Path):
    """The folder ``site`` over HTTP on 127.0.0.1; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = _Server(("127.0.0.1", 0), handler)
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


# Every block of every content tab set shown at once (the printed output
# beside its code), so that one pass of the rules, and the image checks,
# see what a reader sees on either tab. The radio buttons are left as they
# were: a click would also switch the linked tabs of later pages.
SHOW_ALL_TABS = """async () => {
  const style = document.createElement('style');
  style.textContent = '.tabbed-set > .tabbed-content > .tabbed-block ' +
    '{display: block !important}';
  document.head.append(style);
  // let the theme's scripts see the new layout (they make code blocks
  // that scroll focusable)
  await new Promise(r => setTimeout(r, 50));
  await new Promise(r => requestAnimationFrame(
    () => requestAnimationFrame(r)));
  return document.querySelectorAll('.tabbed-set').length;
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

SIDEWAYS = "document.documentElement.scrollWidth - window.innerWidth"
FETCHED = "performance.getEntriesByType('resource').map(e => e.name)"

# every image in the article: what it says, the size it declares, where
# and how large it is shown
IMAGES = """() => [...document.querySelectorAll('article img')].map(img => {
  const r = img.getBoundingClientRect();
  return {
    src: img.src, alt: img.getAttribute('alt'),
    width: +img.getAttribute('width'), height: +img.getAttribute('height'),
    loading: img.getAttribute('loading'),
    top: r.top + window.scrollY, shown: [r.width, r.height],
  };
})"""

# each image brought into view, as a reader scrolls, and loaded: the
# width of the file the browser chose (naturalWidth is scaled by the
# srcset choice) and the device pixels it is shown at
LOADED = """async () => {
  const out = [];
  for (const img of document.querySelectorAll('article img')) {
    img.scrollIntoView({block: 'center'});
    const start = performance.now();
    while (!(img.complete && img.naturalWidth) &&
           performance.now() - start < 60000) {
      await new Promise(r => setTimeout(r, 50));
    }
    const r = img.getBoundingClientRect();
    const file = img.currentSrc && await createImageBitmap(
      await (await fetch(img.currentSrc)).blob());
    out.push({chosen: img.currentSrc, natural: file ? file.width : 0,
              device_px: r.width * window.devicePixelRatio});
  }
  return out;
}"""


@dataclass(frozen=True)
class Check:
    """One page in one viewport and palette, where every WCAG 2.1 A/AA
    rule runs; ``images``: measure the article's images too;
    ``screenshot``: save the viewport there, as loaded."""

    page: str
    viewport: str = "desktop"
    scheme: str = "light"
    images: bool = False
    screenshot: Path | None = None

    @property
    def view(self) -> str:
        return f"{self.viewport} {self.scheme}"


@dataclass
class PageReport:
    """What one check found on its page."""

    check: Check
    violations: list[Violation]
    sideways: int  # px the page scrolls sideways (0: it does not)
    errors: list[str]  # console errors and uncaught exceptions
    foreign: list[str]  # requests that tried to leave 127.0.0.1
    fetched: list[str]  # URLs loaded before anything was scrolled
    images: list[dict]  # IMAGES and LOADED merged, one dict per image


def _violations(check: Check, raw: list[dict]) -> list[Violation]:
    return [
        Violation(
            check.page,
            check.view,
            v["rule"],
            v["impact"],
            v["help"],
            v["targets"],
        )
        for v in raw
    ]


class _Tab:
    """One browser tab per viewport and palette, reused from page to page,
    with what the current page logged and asked for."""

    def __init__(self, browser, viewport: str, scheme: str):
        width, height, scale = VIEWPORTS[viewport]
        self.context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            color_scheme="dark" if scheme == "dark" else "light",
        )
        # the sweep shares the machine with the rest of a test session: a
        # page may take far longer than Playwright's 30 s default to load
        self.context.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.foreign: list[str] = []
        local_only(self.context, self.foreign)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(m.text),
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self, base_url: str, axe_source: str, c: Check) -> PageReport:
        self.errors.clear()
        self.foreign.clear()
        page = self.page
        page.goto(base_url + c.page, wait_until="load")
        page.wait_for_function(
            "s => document.body.dataset.mdColorScheme === s",
            arg=SCHEMES[c.scheme],
        )
        if c.screenshot:
            c.screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(c.screenshot))
        sideways = max(0, page.evaluate(SIDEWAYS))
        fetched = page.evaluate(FETCHED) if c.images else []
        page.evaluate(SHOW_ALL_TABS)
        images = []
        if c.images:
            shown = page.evaluate(IMAGES)
            loaded = page.evaluate(LOADED)
            images = [{**a, **b} for a, b in zip(shown, loaded, strict=True)]
        page.evaluate(axe_source)
        violations = _violations(c, page.evaluate(RUN_AXE, WCAG_TAGS))
        return PageReport(
            c,
            violations,
            sideways,
            list(self.errors),
            list(self.foreign),
            fetched,
            images,
        )


def plan(pages: list[str]) -> list[Check]:
    """The checks for a site with ``pages``: every rule on every page in
    both viewports and both palettes; images are measured in the light
    palette (no image changes with the palette)."""
    checks = [
        Check(page, viewport, scheme, images=scheme == "light")
        for viewport in VIEWPORTS
        for scheme in SCHEMES
        for page in pages
    ]
    # the slowest first: the browsers finish together
    checks.sort(key=lambda c: not c.images)
    return checks


def sweep(
    base_url: str,
    checks: list[Check],
    jobs: int = 0,
    stop: threading.Event | None = None,
) -> list[PageReport]:
    """Run ``checks`` on the site at ``base_url``, in ``jobs`` browsers at
    once (0: one per core); the reports come in the order of ``checks``.
    Setting ``stop`` ends it early (the reports not made are None).

    Every page is loaded fresh in a tab of its viewport and palette; its
    tab sets are then shown whole (SHOW_ALL_TABS), its images brought into
    view and loaded, and axe-core's rules run once over all of it."""
    jobs = min(jobs or os.cpu_count() or 1, len(checks)) or 1
    axe_source = AXE_JS.read_text(encoding="utf-8")
    todo: queue.SimpleQueue = queue.SimpleQueue()
    for i, c in enumerate(checks):
        todo.put((i, c))
    reports: list[PageReport | None] = [None] * len(checks)
    failures: list[BaseException] = []

    def work() -> None:
        try:
            with chromium() as browser:
                tabs: dict[tuple[str, str], _Tab] = {}
                while not failures and not (stop and stop.is_set()):
                    try:
                        i, c = todo.get_nowait()
                    except queue.Empty:
                        return
                    key = (c.viewport, c.scheme)
                    if key not in tabs:
                        tabs[key] = _Tab(browser, *key)
                    reports[i] = tabs[key].check(base_url, axe_source, c)
        except BaseException as exc:  # reported by the caller
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return reports


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
    width, height, scale = VIEWPORTS["phone"]
    context = browser.new_context(
        viewport={"width": width, "height": height},
        device_scale_factor=scale,
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
