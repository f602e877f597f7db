"""Shared domain of SoundScripter: the only code both the API and the workers import."""
