"""Graders: (gold/reference, response) -> verdict. Imports only `sandboxes`."""
