"""The d-vector speaker encoder of the `resemblyzer` package, run with numpy alone.

The weights are `resemblyzer/pretrained.pt` (Apache-2.0), installed without the package's
dependencies (`make deps`, the worker image): only the file is used. It is torch's legacy
serialisation, a series of pickles followed by the raw storages; it is read with
`_TensorUnpickler`, which accepts only the names a tensor needs (`torch._utils.
_rebuild_tensor_v2`, `collections.OrderedDict`, storage types) and maps each storage to a numpy
array — a plain `pickle.load` would run whatever the file names.

The network: a 3-layer LSTM (40 → 256) over 160 frames (1.6 s) of a 40-band mel power
spectrogram (16 kHz, 25 ms Hann windows every 10 ms, librosa's Slaney mel filters), then
Linear 256 → 256, ReLU and L2 normalisation. The embedding of a window is the last layer's last
hidden state through that head.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import pickle
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

SAMPLE_RATE = 16000
N_FFT = 400
HOP = 160
N_MELS = 40
WINDOW_FRAMES = 160
"""Frames in one embedded window (1.6 s)."""
BATCH = 32
"""Windows run through the LSTM at a time (bounds memory)."""
TARGET_DBFS = -30.0
"""Quiet speech is raised to this level before it is embedded, as resemblyzer does."""

_STORAGE_TYPES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "LongStorage": np.int64}


class Stopped(Exception):
    """The embedding was stopped (the job is no longer this run's)."""


class UnsafeWeights(pickle.UnpicklingError):
    """The weights file names something other than tensors."""


def default_weights() -> Path:
    """`pretrained.pt` of the installed `resemblyzer` package, found without importing it
    (its `__init__` imports torch, which is not installed)."""
    spec = importlib.util.find_spec("resemblyzer")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The speaker encoder's weights are missing: install resemblyzer without its "
            "dependencies (`make deps`), or set SPEAKER_ENCODER_WEIGHTS."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pretrained.pt"


@dataclass
class _Storage:
    dtype: Any
    numel: int
    data: Any = None


@dataclass
class _LazyTensor:
    storage: _Storage
    offset: int
    size: tuple[int, ...]
    stride: tuple[int, ...]

    def array(self) -> Any:
        item = self.storage.data.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :],
            shape=self.size,
            strides=tuple(s * item for s in self.stride),
        )
        return np.array(view)


def _rebuild_tensor(storage: _Storage, offset: int, size: Any, stride: Any, *_: Any) -> Any:
    return _LazyTensor(storage, int(offset), tuple(size), tuple(stride))


class _TensorUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, storages: dict[str, _Storage]):
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if (module, name) == ("collections", "OrderedDict"):
            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_TYPES:
            return _STORAGE_TYPES[name]
        raise UnsafeWeights(f"the weights file names {module}.{name}, which is not a tensor part")

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage":
            raise UnsafeWeights("unexpected persistent id in the weights file")
        _, dtype, key, _location, numel = pid[:5]
        if dtype not in _STORAGE_TYPES.values():
            raise UnsafeWeights("unexpected storage type in the weights file")
        return self.storages.setdefault(str(key), _Storage(dtype, int(numel)))


def _restricted_load(file: BinaryIO) -> Any:
    """One pickle of the file, with only the tensor names allowed."""
    return _TensorUnpickler(file, {}).load()


def load_state(path: Path) -> dict[str, Any]:
    """The `model_state` of a torch legacy-format checkpoint, as numpy arrays."""
    with open(path, "rb") as file:
        return read_state(file)


def read_state(file: BinaryIO) -> dict[str, Any]:
    for _ in range(3):  # magic number, protocol version, system info: plain values
        _restricted_load(file)
    storages: dict[str, _Storage] = {}
    checkpoint = _TensorUnpickler(file, storages).load()
    keys = _restricted_load(file)
    for key in keys:
        storage = storages[str(key)]
        (numel,) = struct.unpack("<q", file.read(8))
        raw = file.read(numel * np.dtype(storage.dtype).itemsize)
        storage.data = np.frombuffer(raw, dtype=storage.dtype)
    state = checkpoint.get("model_state", checkpoint)
    return {name: t.array() for name, t in state.items() if isinstance(t, _LazyTensor)}


def _hz_to_mel(hz: Any) -> Any:
    hz = np.asarray(hz, dtype=np.float64)
    linear = hz / (200.0 / 3)
    log_part = 15.0 + np.log(np.maximum(hz, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(hz >= 1000.0, log_part, linear)


def _mel_to_hz(mel: Any) -> Any:
    mel = np.asarray(mel, dtype=np.float64)
    linear = mel * (200.0 / 3)
    log_part = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0))
    return np.where(mel >= 15.0, log_part, linear)


@functools.cache
def mel_filters() -> Any:
    """librosa's `filters.mel(sr=16000, n_fft=400, n_mels=40)`: Slaney scale and area norm."""
    fft_freqs = np.linspace(0, SAMPLE_RATE / 2, 1 + N_FFT // 2)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(SAMPLE_RATE / 2), N_MELS + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return weights.astype(np.float32)


@functools.cache
def _hann() -> Any:
    return (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)


def mel_spectrogram(audio: Any) -> Any:
    """(frames, 40) mel power spectrogram of 16 kHz samples, frames centred every 10 ms
    (zero-padded at both ends, as librosa's `center=True`)."""
    audio = np.asarray(audio, dtype=np.float32)
    padded = np.pad(audio, N_FFT // 2)
    count = 1 + len(audio) // HOP
    out = np.empty((count, N_MELS), dtype=np.float32)
    filters = mel_filters().T
    for first in range(0, count, 4096):  # bounded memory for long audio
        last = min(count, first + 4096)
        frames = np.lib.stride_tricks.as_strided(
            padded[first * HOP :],
            shape=(last - first, N_FFT),
            strides=(padded.strides[0] * HOP, padded.strides[0]),
        )
        spectrum = np.fft.rfft(frames * _hann(), axis=1)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        out[first:last] = power @ filters
    return out


def louder(audio: Any, speech_rms: float) -> Any:
    """`audio` raised to `TARGET_DBFS` given the RMS of its speech (never made quieter)."""
    if speech_rms <= 0:
        return audio
    change = TARGET_DBFS - 20 * np.log10(speech_rms)
    return audio * np.float32(10 ** (change / 20)) if change > 0 else audio


def _sigmoid(x: Any) -> Any:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


class SpeakerEncoder:
    """`embed(mels)` → (n, 256) unit vectors for (n, 160, 40) mel windows."""

    def __init__(self, state: dict[str, Any]):
        self.layers = []
        for n in range(3):
            w_ih = state[f"lstm.weight_ih_l{n}"].astype(np.float32)
            w_hh = state[f"lstm.weight_hh_l{n}"].astype(np.float32)
            bias = (state[f"lstm.bias_ih_l{n}"] + state[f"lstm.bias_hh_l{n}"]).astype(np.float32)
            self.layers.append((np.ascontiguousarray(w_ih.T), np.ascontiguousarray(w_hh.T), bias))
        self.linear_w = np.ascontiguousarray(state["linear.weight"].T.astype(np.float32))
        self.linear_b = state["linear.bias"].astype(np.float32)

    @classmethod
    def load(cls, path: Path | None = None) -> SpeakerEncoder:
        return cls(load_state(path or default_weights()))

    def _lstm_last(self, x: Any) -> Any:
        """The last layer's hidden state after the last frame, for (batch, frames, 40)."""
        batch, frames, _ = x.shape
        sequence = x
        hidden = np.zeros((batch, 256), dtype=np.float32)
        for depth, (w_ih, w_hh, bias) in enumerate(self.layers):
            inputs = sequence @ w_ih + bias  # every frame's input part at once
            hidden = np.zeros((batch, 256), dtype=np.float32)
            cell = np.zeros((batch, 256), dtype=np.float32)
            last = depth == len(self.layers) - 1
            outputs = None if last else np.empty((batch, frames, 256), dtype=np.float32)
            for t in range(frames):
                gates = inputs[:, t] + hidden @ w_hh
                i, f, g, o = np.split(gates, 4, axis=1)  # torch's gate order
                cell = _sigmoid(f) * cell + _sigmoid(i) * np.tanh(g)
                hidden = _sigmoid(o) * np.tanh(cell)
                if outputs is not None:
                    outputs[:, t] = hidden
            if outputs is not None:
                sequence = outputs
        return hidden

    def embed(self, mels: Any, stop: Callable[[], bool] | None = None) -> Any:
        """Raises `Stopped` between two batches once `stop()` is true."""
        mels = np.asarray(mels, dtype=np.float32)
        if mels.ndim != 3 or mels.shape[2] != N_MELS:
            raise ValueError(f"expected (n, frames, {N_MELS}) mel windows, got {mels.shape}")
        out = np.empty((len(mels), 256), dtype=np.float32)
        for first in range(0, len(mels), BATCH):
            if stop is not None and stop():
                raise Stopped
            hidden = self._lstm_last(mels[first : first + BATCH])
            raw = np.maximum(hidden @ self.linear_w + self.linear_b, 0)
            norms = np.linalg.norm(raw, axis=1, keepdims=True)
            out[first : first + BATCH] = raw / np.maximum(norms, 1e-12)
        return out
