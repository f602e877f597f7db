"""The `soundscripter` command-line client.

It speaks only the public HTTP API (uploads, the event streams, downloads, lifecycle), so it
imports nothing of `api`, `worker` or `core`: the same program works against any SoundScripter
reachable over the network.
"""
