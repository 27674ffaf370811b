"""Audit a built site: axe-core violations and the lab page on a phone.

Usage: python scripts/audit_site.py [--site DIR] [--runs N] [--out FILE]

Without --site, builds the site into a temporary folder first. Runs
axe-core's WCAG 2.1 A/AA rules on every page at desktop (1280 px) and phone
(390 px) width in the light and the dark palette, and prints the failing
elements per rule; then loads the lab page N times, cold, on the phone
profile (slow 4G, CPU 4x slower) and prints the median first contentful
paint, largest contentful paint and bytes transferred. --out writes the
same numbers as JSON. Needs Chromium and axe-core (npm ci).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infralens import sitecheck  # noqa: E402

LAB = "tracks/diffsynth/labs/lab-07-vae-encode-decode/"


def build(site: Path) -> None:
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"build failed:\n{proc.stderr[-3000:]}")


def audit(site: Path, runs: int) -> dict:
    pages = sitecheck.site_pages(site)
    report: dict = {
        "pages": len(pages),
        "views": {},
        "rules": {},
        "sideways": {},
    }
    with sitecheck.serve(site) as url:
        found = sitecheck.sweep(url, sitecheck.plan(pages))
        for r in found:
            if r.foreign:
                sys.exit(f"requests left localhost: {r.foreign}")
            view = r.check.view
            report["views"][view] = report["views"].get(view, 0) + sum(
                len(v.targets) for v in r.violations
            )
            if r.sideways > 0:
                report["sideways"].setdefault(view, {})[r.check.page] = (
                    r.sideways
                )
        every = [v for r in found for v in r.violations]
        report["rules"] = sitecheck.count_by_rule(every)
        report["total"] = sum(report["rules"].values())
        with sitecheck.chromium() as browser:
            loads = [
                sitecheck.phone_load(browser, url, LAB) for _ in range(runs)
            ]
    report["phone_lab_page"] = {
        "runs": runs,
        **{
            key: statistics.median(load[key] for load in loads)
            for key in (
                "first_contentful_paint_ms",
                "largest_contentful_paint_ms",
                "transferred_bytes",
                "requests",
            )
        },
    }
    return report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", type=Path, help="a built site (default: build)")
    ap.add_argument("--runs", type=int, default=5, help="phone-profile loads")
    ap.add_argument("--out", type=Path, help="write the numbers as JSON")
    ap.add_argument(
        "--label", default="", help="what was audited, kept in the JSON"
    )
    args = ap.parse_args()
    why = sitecheck.missing_tools()
    if why:
        sys.exit(why)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            build(site)
        report = audit(site, args.runs)
    print(
        f"axe-core {sitecheck.axe_version()}, WCAG 2.1 A/AA rules, "
        f"{report['pages']} pages x 2 widths x 2 palettes"
    )
    print(f"{'rule':<28} failing elements")
    for rule, n in report["rules"].items():
        print(f"{rule:<28} {n:>8,}")
    print(f"{'total':<28} {report['total']:>8,}")
    for view, n in report["views"].items():
        print(f"  {view:<26} {n:>8,}")
    for view, found in report["sideways"].items():
        for path, px in found.items():
            print(f"  /{path} scrolls sideways by {px} px ({view})")
    phone = report["phone_lab_page"]
    print(
        f"lab page on the phone profile (median of {phone['runs']} cold "
        "loads, slow 4G, CPU 4x slower):"
    )
    for key, label, unit in (
        ("first_contentful_paint_ms", "first contentful paint", "ms"),
        ("largest_contentful_paint_ms", "largest contentful paint", "ms"),
        ("transferred_bytes", "transferred", "bytes"),
        ("requests", "requests", ""),
    ):
        print(f"  {label:<24} {phone[key]:>8,.0f} {unit}".rstrip())
    if args.out:
        report["label"] = args.label
        report["axe_core"] = sitecheck.axe_version()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
