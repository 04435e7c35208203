"""`robustness --skip-bad` counts the images it scored, and a random-weight run resumes with the same network."""

import json

import pytest

from brainlike.cli import main
from tests.data import fixtures


@pytest.mark.slow
def test_skipped_images_are_not_counted_and_a_rerun_reuses_the_cells(tmp_path, capsys):
    root = fixtures.image_folder(tmp_path / "imgs", per_class=5)  # 10 validation images
    (root / "val" / "dog" / "broken.png").write_bytes(b"\x89PNG not an image")
    out = tmp_path / "out"
    argv = ["robustness", "cornet_z", "--data", str(root), "--pretrained", "false", "--corruptions", "contrast"]
    argv += ["--severities", "1", "--batch-size", "4", "--workers", "0", "-o", str(out)]
    assert main(argv) == 2  # the broken image stops the run, in one line
    err = [x for x in capsys.readouterr().err.splitlines() if x.strip() and not x.startswith("corruptions:")]  # no bar
    assert len(err) == 1 and err[0].startswith("brainlike: error") and "broken.png" in err[0], err
    assert main([*argv, "--skip-bad"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["images"] == 10 and report["unreadable_images"] == 1
    assert "Images scored: 10 (1 unreadable, skipped)" in (out / "report.md").read_text()
    cells = json.loads((out / "cells.json").read_text())
    assert cells["scored"] == {"clean/0": 10, "contrast/1": 10}
    # the same random network again (seeded): every cell is reused, none measured anew
    (out / "cells.json").write_text(json.dumps({**cells, "cells": {k: [0.5] for k in cells["cells"]}}))
    assert main([*argv, "--skip-bad"]) == 0
    assert json.loads((out / "report.json").read_text())["clean_top1_per_step"] == [0.5]
