"""Where the browser tests find chromium, axe-core and the build; where the
screenshots go."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHROMIUM = "/usr/bin/chromium"
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
BUILD = REPO / "vg" / "web" / "static" / "build"
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"]
VIEWPORTS = {"phone": {"width": 390, "height": 844},
             "desktop": {"width": 1366, "height": 900}}
PASSPHRASE = "een lange wachtzin voor de test"
UTRECHT = "GM0344"
