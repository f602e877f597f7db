"""SoundScripter transcription workers (Celery on RabbitMQ, faster-whisper)."""
