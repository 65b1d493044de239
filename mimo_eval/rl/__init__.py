"""The bundled RL loop: GRPO with MiMo-7B's recipe on one machine (extra [rl]); see trainer.py and
docs/training.md. torch and transformers are imported only by the modules that need them."""
