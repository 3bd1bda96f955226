"""The LLM reviewer: an OpenAI-compatible model reviews items against the taxonomy (issue 4)."""
