"""SoundScripter HTTP gateway (FastAPI)."""
