"""The built site in a real browser (Debian's Chromium via Playwright).

Clicks and typing a reader does: tabs, copy, permalinks, search, the
palette switch. Served on localhost; every request to any other host is
recorded and blocked, and the tests fail if there was one, or if the page
logged an error. (Every page's images, width, console and requests are
checked by the site audit, tests/test_accessibility.py.)
"""

from __future__ import annotations

import os

import pytest

from infralens import sitecheck

LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode/"
HANDBOOK = "tracks/diffsynth/handbook/vae-encode-decode/"

# CI sets INFRALENS_REQUIRE_BROWSER: there a missing Chromium fails
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        sitecheck.CHROMIUM is None
        and not os.environ.get("INFRALENS_REQUIRE_BROWSER"),
        reason="Chromium not installed (apt-get install chromium)",
    ),
]


class Visit:
    """A page plus everything it asked for and complained about."""

    def __init__(self, browser, base_url, path, width=1280, height=900):
        self.context = browser.new_context(
            viewport={"width": width, "height": height},
            permissions=["clipboard-read", "clipboard-write"],
        )
        self.foreign, self.errors = [], []
        sitecheck.local_only(self.context, self.foreign)
        self.page = self.context.new_page()
        self.page.on(
            "console",
            lambda m: m.type == "error" and self.errors.append(m.text),
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(base_url + path, wait_until="networkidle")

    def close(self):
        self.context.close()
        assert not self.foreign, f"requests left localhost: {self.foreign}"
        assert not self.errors, f"console errors: {self.errors}"


@pytest.fixture
def visit(browser, site_url):
    opened = []

    def open_(path, **kw):
        v = Visit(browser, site_url, path, **kw)
        opened.append(v)
        return v

    yield open_
    for v in opened:
        v.close()


def load_vae_tabs(page):
    return page.locator(".tabbed-set", has_text="01_load_vae.py (load)")


def test_code_and_output_tabs_switch(visit):
    page = visit(HANDBOOK).page
    tabs = load_vae_tabs(page)
    output_block = tabs.locator(".tabbed-block").nth(1)
    assert not output_block.is_visible()
    tabs.locator("label", has_text="Output").click()
    assert output_block.is_visible()
    assert "spatial factor" in output_block.inner_text()


def test_code_copy_button_copies_the_code(visit):
    page = visit(HANDBOOK).page
    block = load_vae_tabs(page).locator(".tabbed-block").first
    block.hover()
    block.locator("button[data-md-type=copy]").first.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "AutoencoderKL.from_pretrained(MODEL_DIR)" in copied


def test_heading_permalink_lands_on_its_section(visit):
    page = visit(HANDBOOK).page
    link = page.locator("h2#memory a.headerlink")
    link.click()
    page.wait_for_function("location.hash === '#memory'")
    top = page.eval_on_selector(
        "h2#memory", "e => e.getBoundingClientRect().top"
    )
    assert 0 <= top < 200


def test_search_finds_scaling_factor_and_opens_the_lab(visit):
    page = visit("").page
    page.locator("input.md-search__input").click()
    page.keyboard.type("scaling_factor", delay=20)  # keyup drives search
    results = page.locator(".md-search-result__item a")
    results.first.wait_for(timeout=15000)
    hrefs = results.evaluate_all("els => els.map(e => e.href)")
    lab = next(h for h in hrefs if LAB in h)
    page.locator(f".md-search-result__item a[href='{lab}']").first.click()
    page.wait_for_url(f"**/{LAB}**")
    assert "Lab 07" in page.locator("h1").inner_text()


def test_dark_mode_toggles(visit):
    page = visit(LAB).page
    scheme = "document.body.getAttribute('data-md-color-scheme')"
    before = page.evaluate(scheme)
    page.locator(
        "form[data-md-component='palette'] label:visible"
    ).first.click()
    after = page.evaluate(scheme)
    assert {before, after} == {"default", "slate"}
