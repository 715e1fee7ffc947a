"""The HTTP API (FastAPI). ``HTTPException`` lives only in this package."""
