"""The deterministic after-sales flows: steps over the dialogue state (see ``dialogue``)."""
