"""Checks a `pointbook report` HTML file in headless Chromium.

Usage: check_report.py REPORT.html CHART:SERIES,SERIES ...

- the file is self-contained: no scripts, no external references;
- Chromium parses it with no console output, and its DOM holds every expected chart;
- every expected series is drawn with a non-empty shape and shows its own colour in a
  screenshot of its chart (each chart is rendered on its own page): a stacked area however
  thin (its outline stays visible), a bar series whenever one of its bars has a height.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

CHROMIUM = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--enable-logging=stderr", "--v=0", "--allow-file-access-from-files"]


def fail(message: str) -> None:
    print(f"report check FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*CHROMIUM, *args], capture_output=True, text=True, timeout=120)
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    if console:
        fail("console output: " + "; ".join(console))
    return result


def must_show(svg: str, series: str) -> bool:
    """Whether a series must be visible: an area or line always (an outlined area shows even
    when it is thin), bars when one of them has a height."""
    path = re.search(rf'<path data-series="{series}" d="([^"]*)"', svg)
    if path:
        if len(re.findall(r"[ML]([\d.]+),([\d.]+)", path.group(1))) < 1:
            fail(f"series {series}: empty path")
        return True
    group = re.search(rf'<g data-series="{series}"[^>]*>(.*?)</g>', svg, re.S)
    if group:
        heights = [float(h) for h in re.findall(r'height="([\d.]+)"', group.group(1))]
        if not heights:
            fail(f"series {series}: no bars")
        return any(h >= 1 for h in heights)
    fail(f"series {series}: no shape")
    return False


def colour_of(svg: str, series: str) -> tuple[int, int, int]:
    m = re.search(rf'data-series="{series}"[^>]*?(?:fill|stroke)="#([0-9a-f]{{6}})"', svg)
    if not m:
        fail(f"series {series}: no colour")
        raise AssertionError
    h = m.group(1)
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def main() -> None:
    report = Path(sys.argv[1]).resolve()
    expected = {spec.split(":")[0]: spec.split(":")[1].split(",") for spec in sys.argv[2:]}
    html = report.read_text(encoding="utf-8")
    for pattern in (r"<script", r"\ssrc=", r"\shref=", r"url\(", r"@import"):
        if re.search(pattern, html, re.I):
            fail(f"not self-contained: {pattern}")
    if re.sub(r'xmlns="http://www\.w3\.org/2000/svg"', "", html).count("http") > 0:
        fail("not self-contained: an http reference")
    dom = chromium("--dump-dom", report.as_uri()).stdout
    charts = {m.group(1): m.group(0)
              for m in re.finditer(r'<svg data-chart="(\w+)".*?</svg>', dom, re.S)}
    if set(charts) != set(expected):
        fail(f"charts in the DOM: {sorted(charts)}, expected {sorted(expected)}")
    with tempfile.TemporaryDirectory() as tmp:
        for name, series in expected.items():
            svg = charts[name]
            page = Path(tmp) / f"{name}.html"
            page.write_text(f"<!DOCTYPE html><html><body style='margin:0;background:#fff'>{svg}"
                            "</body></html>", encoding="utf-8")
            shot = Path(tmp) / f"{name}.png"
            chromium("--window-size=760,300", f"--screenshot={shot}", page.as_uri())
            with Image.open(shot) as opened:
                colours = opened.convert("RGB").getcolors(maxcolors=1 << 24) or []
            counts = {colour: count for count, colour in colours}
            if set(counts) <= {(255, 255, 255)}:
                fail(f"chart {name}: blank screenshot")
            drawn = []
            for s in series:
                if not must_show(svg, s):
                    drawn.append(f"{s} (no data)")
                    continue
                seen = counts.get(colour_of(svg, s), 0)
                if seen < 20:
                    fail(f"chart {name}: series {s} has data but only {seen} pixels of its colour")
                drawn.append(f"{s} ({seen} px)")
            print(f"chart {name}: " + ", ".join(drawn))
    print(f"report check passed: {report}")


if __name__ == "__main__":
    main()
