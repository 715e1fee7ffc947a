"""Sales-guiding reply drafts: facts from the shop, an LLM or template drafter, guards."""
