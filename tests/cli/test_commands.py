"""The `brainlike` command: thin wrappers, one-line errors, non-zero exit codes."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from brainlike import create_model
from brainlike.cli import main
from brainlike.weights import save_weights


def test_models_lists_every_cornet(capsys):
    assert main(["models", "cornet*"]) == 0
    out = capsys.readouterr().out
    for name in ("cornet_z", "cornet_r", "cornet_rt", "cornet_s"):
        assert f"`{name}`" in out


def test_info_prints_areas_steps_shapes_params_flops_and_rfs(capsys):
    assert main(["info", "cornet_z"]) == 0
    out = capsys.readouterr().out
    assert "parameters 2,071,656" in out and "FLOPs per forward 1.62 G" in out
    assert "| V1 | V1.output | 1 | 0 | 64x56x56 | 0.236 G | 11 px / 0.39° |" in out
    assert "| IT | IT.output | 1 | 0 | 512x7x7 |" in out


def test_classify_with_a_local_checkpoint(tmp_path, capsys):
    checkpoint = save_weights(create_model("cornet_z"), tmp_path / "z.pth", dataparallel_format=True)
    image = tmp_path / "noise.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8)).save(image)
    assert main(["classify", "cornet_z", str(image), "--pretrained", str(checkpoint), "--topk", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(image) and len(lines) == 4
    assert all(line.strip().split()[0].endswith("%") for line in lines[1:])


def test_user_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"nope")
    assert main(["classify", "cornet_z", str(broken), "--pretrained", "false"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("brainlike: error: cannot read image") and "broken.jpg" in err and "\n" not in err


@pytest.mark.slow
def test_console_entry_point_has_no_traceback_on_errors():
    result = subprocess.run([sys.executable, "-m", "brainlike", "info", "cornet_q"], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("brainlike: error: unknown model 'cornet_q'; did you mean cornet_")
    assert "Traceback" not in result.stderr
