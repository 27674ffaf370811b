"""Every page usable with a screen reader, a keyboard and a slow phone.

In a real browser (Debian's Chromium via Playwright), on the site this
session built. The page-by-page checks run once, in the background, while
the rest of the suite runs (the ``site_audit`` fixture in conftest.py and
``sitecheck.plan``); the tests here read their reports:

- axe-core's WCAG 2.1 A/AA rules find nothing on any page at desktop and
  phone width in the light and the dark palette (the code and output of
  every tab set shown);
- no page scrolls sideways at either width; no page logs an error or asks
  another host for anything;
- images say what they show, carry their size, load lazily and are no
  larger than they are displayed, at desktop and phone width;
- the keyboard reaches every control, shows where the focus is, skips to
  the content, switches code/output tabs and copies code;
- notebook cells are as wide as the text column.

How the lab page loads on a throttled phone is measured by
``scripts/audit_site.py``, not here: it is a benchmark.

Without Chromium or axe-core (``npm ci``) the tests are skipped, unless
INFRALENS_REQUIRE_BROWSER is set (CI sets it): then they fail.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from infralens import sitecheck

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode/"
HANDBOOK = "tracks/diffsynth/handbook/vae-encode-decode/"
NOTEBOOK = f"{LAB}vae_encode_decode/"
MISSING = sitecheck.missing_tools()
REQUIRED = bool(os.environ.get("INFRALENS_REQUIRE_BROWSER"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        MISSING is not None and not REQUIRED, reason=str(MISSING)
    ),
]


@pytest.fixture(scope="module")
def reports(site_audit) -> list[sitecheck.PageReport]:
    assert MISSING is None, MISSING
    return site_audit.result()


@pytest.fixture(scope="module")
def pages(built_site):
    found = sitecheck.site_pages(built_site)
    assert {"", LAB, HANDBOOK, NOTEBOOK, "404.html"} <= set(found)
    return found


@pytest.fixture
def open_page(browser, site_url):
    """A fresh page at ``path`` (viewport and device scale as given); the
    test fails if it asked another host for anything."""
    contexts, foreign = [], []

    def open_(path, width=1280, height=900, scale=1, **kw):
        context = browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=scale,
            **kw,
        )
        sitecheck.local_only(context, foreign)
        contexts.append(context)
        page = context.new_page()
        page.goto(site_url + path, wait_until="load")
        return page

    yield open_
    for c in contexts:
        c.close()
    assert not foreign, f"requests left localhost: {foreign}"


# -- every page ----------------------------------------------------------


def test_the_audit_covers_every_page_in_every_view(reports, pages):
    ruled = {(r.check.page, r.check.view) for r in reports}
    for view in ("desktop light", "desktop dark", "phone light", "phone dark"):
        assert {p for p, v in ruled if v == view} == set(pages), view
    imaged = {(r.check.page, r.check.view) for r in reports if r.check.images}
    for view in ("desktop light", "phone light"):
        assert {p for p, v in imaged if v == view} == set(pages), view


def test_no_page_scrolls_sideways(reports):
    wide = {(r.check.page, r.check.view): r.sideways for r in reports}
    assert not {k: px for k, px in wide.items() if px > 0}


def test_no_page_logs_an_error_or_leaves_localhost(reports):
    errors = {r.check.page: r.errors for r in reports if r.errors}
    foreign = {r.check.page: r.foreign for r in reports if r.foreign}
    assert not errors, errors
    assert not foreign, foreign


def test_screenshots_were_saved(reports):
    shot = [r.check.screenshot for r in reports if r.check.screenshot]
    assert len(shot) == 4 and all(p.stat().st_size > 0 for p in shot)


# -- images --------------------------------------------------------------


@pytest.mark.parametrize("viewport", sorted(sitecheck.VIEWPORTS))
def test_images_describe_themselves_and_fit_the_screen(reports, viewport):
    measured = [
        r for r in reports if r.check.images and r.check.viewport == viewport
    ]
    with_images = {r.check.page for r in measured if r.images}
    assert {LAB, HANDBOOK, "tiny-pipeline/"} <= with_images
    height = sitecheck.VIEWPORTS[viewport][1]
    for r in measured:
        fetched = {urlparse(u).path for u in r.fetched}
        for im in r.images:
            where = f"/{r.check.page} {im['src']} ({viewport})"
            name = im["src"].rsplit("/", 1)[-1].split(".")[0]
            assert im["alt"] and im["alt"] != name.replace("_", " "), where
            assert im["width"] > 0 and im["height"] > 0, where
            assert im["loading"] == "lazy", where
            # the box has the image's shape before the image arrives
            shown_w, shown_h = im["shown"]
            assert shown_h == pytest.approx(
                shown_w * im["height"] / im["width"], abs=1.5
            ), where
            # far below the fold: not fetched before the reader scrolls
            if im["top"] > height + 3000:
                stem = urlparse(im["src"]).path.rsplit(".", 1)[0]
                assert not any(f.startswith(stem) for f in fetched), where
            assert im["natural"] > 0, f"{where} did not load"
            # no more pixels than the screen shows (one copy step of
            # slack: the browser picks the next size up)
            needed = im["device_px"]
            assert im["natural"] <= max(needed * 1.25, needed + 160), (
                f"{where}: {im['chosen']} is {im['natural']} px wide, "
                f"shown at {needed:.0f} device px"
            )


# -- keyboard ------------------------------------------------------------

FOCUSED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  // a visually hidden radio input shows its focus on its label
  let shown = e;
  if (e.matches('.tabbed-set > input')) {
    const i = [...e.parentElement.querySelectorAll(':scope > input')]
      .indexOf(e);
    shown = e.parentElement.querySelector(
      `:scope > .tabbed-labels > :nth-child(${i + 1})`);
  } else if (e.matches('input.md-option')) {
    shown = e.nextElementSibling;
  }
  if (!e.dataset.tabStop) {
    window.tabStops = (window.tabStops || 0) + 1;
    e.dataset.tabStop = window.tabStops;
  }
  // focus transitions (the skip link fades in) jump to their end
  for (const a of shown.getAnimations()) {
    try { a.finish(); } catch (e) {}  // an endless one cannot finish
  }
  const s = getComputedStyle(shown);
  const r = shown.getBoundingClientRect();
  return {
    what: e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
      (e.className ? '.' + String(e.className).trim().split(/\\s+/)
        .filter(c => c !== 'focus-visible').join('.') : ''),
    ring: s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2,
    size: [r.width, r.height],
    visible: s.visibility !== 'hidden' && +s.opacity > 0,
    key: e.dataset.tabStop,
  };
}"""

CONTROLS = """() => [...document.querySelectorAll(
  'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
  '[tabindex]:not([tabindex="-1"])')].filter(e => {
    if (e.closest('[hidden], [inert]') || e.tabIndex < 0) return false;
    if (e.matches('input[type=radio]') && !e.checked) return false;
    if (!e.checkVisibility({visibilityProperty: true})) return false;
    const r = e.getBoundingClientRect();
    return r.width * r.height > 0 || e.matches('input[type=radio]');
  })"""

UNREACHED = f"""() => ({CONTROLS})()
  .filter(e => !e.dataset.tabStop)
  .map(e => e.outerHTML.slice(0, 120))"""


def tab_through(page, limit=600) -> list[dict]:
    """Every stop of the Tab key, from the top of the page round to it."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED)
        if stop is None or (stops and stop["key"] == stops[0]["key"]):
            break
        stops.append(stop)
    return stops


@pytest.mark.parametrize("path", [LAB, HANDBOOK, NOTEBOOK, ""])
def test_keyboard_reaches_every_control_with_a_visible_focus(open_page, path):
    page = open_page(path)
    stops = tab_through(page)
    assert stops[0]["what"].endswith(".md-skip"), stops[0]
    unseen = [
        s
        for s in stops
        if not (s["ring"] and s["visible"] and min(s["size"]) > 0)
    ]
    assert not unseen, f"focus not visible on: {unseen}"
    assert not page.evaluate(UNREACHED), "controls Tab never reaches"
    ARTIFACTS.mkdir(exist_ok=True)
    slug = path.strip("/").split("/")[-1] or "home"
    (ARTIFACTS / f"tab-stops-{slug}.txt").write_text(
        "\n".join(s["what"] for s in stops) + "\n"
    )


@pytest.mark.parametrize("path", [LAB, NOTEBOOK, "", "404.html"])
def test_skip_link_moves_to_the_content(open_page, path):
    page = open_page(path, 390, 844)
    page.keyboard.press("Tab")
    skip = page.evaluate(
        """() => { const e = document.activeElement;
          const r = e.getBoundingClientRect();
          return {cls: e.className, href: e.getAttribute('href'),
                  inside: r.top >= 0 && r.left >= 0 &&
                    r.bottom <= innerHeight && r.right <= innerWidth}; }"""
    )
    assert "md-skip" in skip["cls"] and skip["inside"], skip
    page.keyboard.press("Enter")
    target = skip["href"].split("#", 1)[1]
    page.wait_for_function(f"location.hash === '#{target}'")
    top = page.evaluate(
        f"document.getElementById({target!r}).getBoundingClientRect().top"
    )
    assert 0 <= top < 844 / 2


def test_code_and_output_tabs_switch_from_the_keyboard(open_page):
    page = open_page(HANDBOOK)
    tabs = page.locator(".tabbed-set", has_text="01_load_vae.py (load)")
    output = tabs.locator(".tabbed-block").nth(1)
    radio_id = tabs.locator(":scope > input").first.get_attribute("id")
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == radio_id:
            break
    else:
        pytest.fail("Tab never reached the code/output tabs")
    assert not output.is_visible()
    page.keyboard.press("ArrowRight")
    assert output.is_visible()
    assert "spatial factor" in output.inner_text()
    page.keyboard.press("ArrowLeft")
    assert not output.is_visible()


def test_copy_button_works_from_the_keyboard(open_page):
    page = open_page(HANDBOOK)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    for _ in range(300):
        page.keyboard.press("Tab")
        if page.evaluate(
            "document.activeElement.matches('button[data-md-type=copy]')"
        ):
            break
    else:
        pytest.fail("Tab never reached a copy button")
    code = page.evaluate(
        "document.activeElement.closest('.highlight')"
        ".querySelector('code').innerText"
    )
    page.keyboard.press("Enter")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.split() and copied.split() == code.split()


# -- notebook pages ------------------------------------------------------

WIDTHS = """() => {
  const col = document.querySelector('article').getBoundingClientRect();
  const w = sel => [...document.querySelectorAll(sel)].map(
    e => e.getBoundingClientRect().width);
  const h1 = document.querySelector('article h1').getBoundingClientRect();
  const row = document.querySelector('.md-content__button-row')
    .getBoundingClientRect();
  return {column: col.width, cells: w('.jp-Cell'),
          code: w('.jp-CodeCell .jp-InputArea-editor'),
          outputs: w('.jp-OutputArea-output'),
          title: h1.width, title_top: h1.top, buttons_bottom: row.bottom};
}"""


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_notebook_cells_use_the_full_column(open_page, width, height):
    page = open_page(NOTEBOOK, width, height)
    m = page.evaluate(WIDTHS)
    print(f"\nnotebook at {width} px: {json.dumps(m)}")
    column = m["column"]
    assert m["cells"] and m["code"] and m["outputs"]
    for kind in ("cells", "code", "outputs"):
        narrow = [round(w) for w in m[kind] if w < column - 2]
        assert not narrow, f"{kind} narrower than the {column} px column"
    # the download buttons sit above the title, which has the full width
    assert m["buttons_bottom"] <= m["title_top"]
    assert m["title"] >= column - 2
