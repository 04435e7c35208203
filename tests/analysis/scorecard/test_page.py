"""The scorecard's HTML page in a real headless browser (Debian's chromium): it loads from the file alone,
the table and every image render, sorting works, and the console stays silent."""

import json
import re
import shutil
import subprocess

import pytest
import torch
import torch.nn as nn

from brainlike.analysis.scorecard import MEASUREMENTS, Measurement, Score, scorecard_report

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser") if shutil.which(name)), None)

# Appended to a copy of the page: after load, the images' decoded sizes, the table rows, and the model
# order after a click on the first score's header, written into the DOM that --dump-dom prints.
PROBE = """<script>
window.addEventListener("load", function () {
  var images = Array.prototype.map.call(document.images, function (i) { return i.complete ? i.naturalWidth : 0; });
  var table = document.querySelector("table.sortable");
  var order = function () {
    return Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[0].textContent; });
  };
  var before = order();
  table.querySelectorAll("thead th")[1].click();
  var ascending = order();
  table.querySelectorAll("thead th")[1].click();
  var probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({images: images, rows: table.tBodies[0].rows.length, before: before,
    ascending: ascending, descending: order()});
  document.body.appendChild(probe);
});
</script>"""


class Scaled(nn.Module):
    def __init__(self, scale: float):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor([scale]))

    def forward(self, x):
        return x * self.scale


def magnitude(model, job):
    with torch.no_grad():
        value = float(model(torch.ones(1)))
    return [Score("magnitude", value, ci=(value - 0.5, value + 0.5), per_step=(value / 2, value))]


@pytest.fixture
def page(monkeypatch, tmp_path):
    monkeypatch.setitem(
        MEASUREMENTS, "magnitude", Measurement("magnitude", "the scale", magnitude, lambda job: {"seed": job.seed})
    )
    models = {"middle": Scaled(2.0), "high": Scaled(3.0), "low": Scaled(1.0)}
    return scorecard_report(models, tmp_path / "card", suite="magnitude", device="cpu", progress=False) / "report.html"


@pytest.mark.slow
@pytest.mark.skipif(BROWSER is None, reason="no chromium installed (Debian: apt-get install chromium)")
def test_page_renders_in_a_headless_browser(page, tmp_path):
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    command = [
        BROWSER,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probed.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the page did not finish loading: {done.stderr[-2000:]}"
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(probe["images"]) == 2 and all(width > 100 for width in probe["images"])
    assert probe["rows"] == 3 and probe["before"] == ["middle", "high", "low"]
    assert probe["ascending"] == ["low", "middle", "high"] and probe["descending"] == ["high", "middle", "low"]
