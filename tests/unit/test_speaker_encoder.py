"""The numpy speaker encoder: its weights read by the restricted unpickler, its shapes, and
that it tells voices apart (espeak-ng speech made on the spot)."""

from __future__ import annotations

import io
import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from tests.support import dialogs
from worker import speaker_encoder
from worker.speaker_encoder import SpeakerEncoder, UnsafeWeights, read_state

pytestmark = pytest.mark.unit


class _Evil:
    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("echo owned > /dev/null",))


def _legacy_file(main: object) -> io.BytesIO:
    """Torch's legacy layout: three plain pickles, then the checkpoint."""
    buffer = io.BytesIO()
    for value in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}):
        pickle.dump(value, buffer, protocol=2)
    pickle.dump(main, buffer, protocol=2)
    buffer.seek(0)
    return buffer


def test_the_reader_refuses_a_pickle_that_calls_anything_else() -> None:
    with pytest.raises(UnsafeWeights, match=r"(posix|os)\.system"):
        read_state(_legacy_file({"model_state": _Evil()}))


def test_the_reader_refuses_code_in_the_header_pickles_too() -> None:
    buffer = io.BytesIO()
    pickle.dump(_Evil(), buffer, protocol=2)
    buffer.seek(0)
    with pytest.raises(UnsafeWeights):
        read_state(buffer)


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return SpeakerEncoder.load()


def test_the_weights_load_with_the_network_s_shapes() -> None:
    state = speaker_encoder.load_state(speaker_encoder.default_weights())
    assert state["lstm.weight_ih_l0"].shape == (1024, 40)
    for layer in (1, 2):
        assert state[f"lstm.weight_ih_l{layer}"].shape == (1024, 256)
    assert state["lstm.weight_hh_l2"].shape == (1024, 256)
    assert state["linear.weight"].shape == (256, 256)
    assert all(np.isfinite(v).all() for v in state.values())


def test_mel_filters_match_librosa_s_slaney_bank() -> None:
    filters = speaker_encoder.mel_filters()
    assert filters.shape == (40, 201)
    assert (filters >= 0).all()
    assert filters[0].argmax() < filters[20].argmax() < filters[39].argmax()
    assert speaker_encoder.mel_spectrogram(np.zeros(16000)).shape == (101, 40)


def _embedding(encoder: SpeakerEncoder, audio: np.ndarray) -> np.ndarray:
    mels = speaker_encoder.mel_spectrogram(audio)
    windows = np.stack([mels[i : i + 160] for i in range(0, len(mels) - 160, 80)])
    out = encoder.embed(windows)
    assert out.shape == (len(windows), 256)
    assert np.allclose(np.linalg.norm(out, axis=1), 1, atol=1e-5)
    mean = out.mean(axis=0)
    return mean / np.linalg.norm(mean)


def test_the_same_voice_is_closer_than_another(encoder: SpeakerEncoder, tmp_path: Path) -> None:
    line_a, line_b = dialogs.LINES[0], dialogs.LINES[1]
    a1 = _embedding(encoder, dialogs.voice(line_a, "en-us", tmp_path, "a1"))
    a2 = _embedding(encoder, dialogs.voice(line_b, "en-us", tmp_path, "a2"))
    b1 = _embedding(encoder, dialogs.voice(line_a, "en+f2", tmp_path, "b1"))
    b2 = _embedding(encoder, dialogs.voice(line_b, "en+f2", tmp_path, "b2"))
    same = min(a1 @ a2, b1 @ b2)
    other = max(a1 @ b1, a1 @ b2, a2 @ b1, a2 @ b2)
    print(f"same voice {same:.2f}, other voice {other:.2f}")
    assert same > other + 0.05


def test_embedding_stops_between_batches(encoder: SpeakerEncoder) -> None:
    with pytest.raises(speaker_encoder.Stopped):
        encoder.embed(np.zeros((40, 160, 40), dtype=np.float32), stop=lambda: True)
