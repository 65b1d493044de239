"""Graders as RL rewards: the reward pool, data-source routing and one adapter module per framework
(verl, trl, openrlhf, verifiers). Frameworks are imported lazily, inside the adapters that need them."""
