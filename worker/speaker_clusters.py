"""Voice embeddings grouped into speakers, with numpy alone.

Average-linkage agglomerative clustering on cosine similarity (over at most `SAMPLE` evenly
spread windows, so its cost stays bounded) gives the starting groups; spherical k-means over
every window then refines them. With a given count the merging stops at that many groups. With
`auto` it stops when the two closest groups are less alike than `AUTO_THRESHOLD`: an estimate,
and a rough one (voices alike are merged, one voice in two very different settings may be
split), so `auto` is best-effort by design.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SAMPLE = 800
MAX_SPEAKERS = 8
AUTO_THRESHOLD = 0.7
"""Average cosine similarity under which two groups of windows are taken as two voices (on
espeak-ng dialogs one voice's windows merged above 0.74, two voices at 0.60-0.66)."""
MIN_SHARE = 0.05
"""With `auto`, a group with fewer of the windows than this joins its nearest larger group."""
ITERATIONS = 20


def _agglomerate(x: Any, count: int | None) -> Any:
    """Group labels for the rows of `x` (unit vectors): merge the most similar groups until
    `count` are left (or, with None, until none is more alike than `AUTO_THRESHOLD`)."""
    n = len(x)
    similarity = (x @ x.T).astype(np.float64)
    np.fill_diagonal(similarity, -np.inf)
    sizes = np.ones(n)
    parent = np.arange(n)
    groups = n
    floor = count if count is not None else 1
    while groups > floor:
        flat = int(np.argmax(similarity))
        i, j = divmod(flat, n)
        best = similarity[i, j]
        if count is None and best < AUTO_THRESHOLD:
            break
        merged = (sizes[i] * similarity[i] + sizes[j] * similarity[j]) / (sizes[i] + sizes[j])
        similarity[i] = merged
        similarity[:, i] = merged
        similarity[i, i] = -np.inf
        similarity[j] = -np.inf
        similarity[:, j] = -np.inf
        sizes[i] += sizes[j]
        parent[parent == j] = i
        groups -= 1
    _, labels = np.unique(parent, return_inverse=True)
    return labels


def _centroids(x: Any, labels: Any, count: int) -> Any:
    centres = np.stack([x[labels == k].mean(axis=0) for k in range(count)])
    return centres / np.maximum(np.linalg.norm(centres, axis=1, keepdims=True), 1e-12)


def _without_small(x: Any, labels: Any, groups: int) -> tuple[Any, int]:
    sizes = np.bincount(labels, minlength=groups)
    keep = np.flatnonzero(sizes >= max(2, MIN_SHARE * len(x)))
    if len(keep) == 0 or len(keep) == groups:
        return labels, groups
    centres = _centroids(x, labels, groups)[keep]
    return np.argmax(x @ centres.T, axis=1), len(keep)


def cluster(x: Any, count: int | None) -> Any:
    """A speaker index (0…) for every row of `x`; `count` speakers, or estimated with None."""
    n = len(x)
    if n == 0:
        return np.zeros(0, dtype=int)
    if count is not None and n <= count:
        return np.arange(n)
    step = max(1, -(-n // SAMPLE))
    sample = x[::step]
    labels = _agglomerate(sample, count)
    groups = int(labels.max()) + 1
    if count is None and groups > MAX_SPEAKERS:
        labels = _agglomerate(sample, MAX_SPEAKERS)
        groups = MAX_SPEAKERS
    if count is None:
        labels, groups = _without_small(sample, labels, groups)
    centres = _centroids(sample, labels, groups)
    assigned = np.argmax(x @ centres.T, axis=1)
    for _ in range(ITERATIONS):
        present = np.unique(assigned)
        if len(present) < groups:  # a group lost every window: keep the ones left
            assigned = np.searchsorted(present, assigned)
            groups = len(present)
        centres = _centroids(x, assigned, groups)
        updated = np.argmax(x @ centres.T, axis=1)
        if np.array_equal(updated, assigned):
            break
        assigned = updated
    return assigned
