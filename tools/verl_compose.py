"""Compose verl's own Hydra config with a list of overrides; run with verl's interpreter (not ours).

    .venvs/verl/bin/python tools/verl_compose.py overrides.txt     # prints the resolved keys we set, as JSON

A key that verl renamed or removed makes Hydra fail here ("Could not override ... Key not in struct"), so a
renamed key fails our test, not the user's cluster. Values are checked too: each override's key must read back
with the value we wrote.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str) -> int:
    import verl
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    overrides = [line for line in Path(path).read_text().splitlines() if line.strip()]
    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=overrides)
    values = {o.split("=", 1)[0]: OmegaConf.select(cfg, o.split("=", 1)[0]) for o in overrides}
    print(json.dumps({"verl": verl.__version__, "values": values}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
