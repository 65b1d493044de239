"""The evaluation harness: everything that writes a run directory."""
