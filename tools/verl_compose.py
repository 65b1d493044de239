"""Compose verl's own Hydra config with a list of overrides and run verl's own validation; run with verl's
interpreter (not ours).

    .venvs/verl/bin/python tools/verl_compose.py overrides.txt [more overrides]   # prints the keys we set, as JSON

What `python -m verl.trainer.main_ppo` does with the config before it starts Ray, in verl 0.9.1's order:
Hydra composition (a key verl renamed or removed fails here: "Could not override ... Key not in struct"), then
`verl.utils.config.validate_config` (batch divisibility, micro-batch sizes, the actor config's own checks).
Then what the workers do first: the rollout and algorithm sections become verl's config dataclasses (their
__post_init__ checks), the config resolves, and the custom reward function loads through verl's loader. Values
are checked too: each override's key must read back with the value we wrote (the test compares them).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def main(path: str, extra: list[str]) -> int:
    import verl
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.trainer.ppo.utils import need_critic, need_reference_policy
    from verl.utils.config import omega_conf_to_dataclass, validate_config

    overrides = [line for line in Path(path).read_text().splitlines() if line.strip()] + extra
    config_dir = str(Path(verl.__file__).parent / "trainer" / "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(config_name="ppo_trainer", overrides=overrides)
    validate_config(config=cfg, use_reference_policy=need_reference_policy(cfg), use_critic=need_critic(cfg))
    OmegaConf.resolve(cfg)
    omega_conf_to_dataclass(cfg.actor_rollout_ref.rollout)
    omega_conf_to_dataclass(cfg.algorithm)
    if get_custom_reward_fn(cfg) is None:
        raise SystemExit("verl found no custom reward function")
    values = {o.split("=", 1)[0]: _plain(OmegaConf.select(cfg, o.split("=", 1)[0])) for o in overrides}
    print(json.dumps({"verl": verl.__version__, "validated": True, "values": values}, default=str))
    return 0


def _plain(value):
    from omegaconf import OmegaConf

    return OmegaConf.to_container(value) if OmegaConf.is_config(value) else value


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
