"""Running `python -m brainlike ...` as a two-process torchrun job (gloo on CPU), for the DDP tests."""

import os
import subprocess
import sys


def torchrun_brainlike(*args: str, processes: int = 2) -> subprocess.CompletedProcess:
    """Run `torchrun --standalone --nproc_per_node N -m brainlike ARGS`; one compute thread per process,
    so the processes do not fight over the cores."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([*command, "-m", "brainlike", *args], env=env, capture_output=True, text=True, timeout=300)
