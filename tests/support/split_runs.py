"""In-process runs of split jobs: what stands for the broker the pieces are published to."""

from __future__ import annotations

import uuid


class RecordingQueue:
    """Takes the place of `core.piece_queue.PieceQueue`: records the pieces published, in
    order, and confirms each."""

    def __init__(self) -> None:
        self.published: list[uuid.UUID] = []

    def enqueue(self, piece_id: uuid.UUID, model: str | None) -> bool:
        self.published.append(piece_id)
        return True
