"""Streaming decoding (`core.media.iter_audio`), windows cut at silences (`worker.windows`) and
one recording transcribed window by window (`worker.windowed`). Real speech from espeak-ng,
real Silero VAD; a fake model where a model is needed."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from core import media
from core.errors import MediaError
from core.options import JobOptions
from tests.support import media as media_files
from tests.support.fake_transcriber import FakeModel, FakeSegment, FakeWord
from worker import windows as windows_module
from worker.windowed import PREVIOUS_TEXT_CHARS, WindowedTranscription, shifted
from worker.windows import Window, at_silences, last_silence

pytestmark = pytest.mark.unit

SENTENCES = (
    "The finance team prepared the quarterly report before the meeting on Friday. "
    "Our new neighbour repaired the old bicycle. Everyone agreed that it was a good idea. "
    "The night shift nurse answered every letter in the library near the station. "
    "A young engineer tested the new software during the lunch break. "
    "Please remember to lock the door when you leave."
)
RUN_ON = (
    "and then and then and then we went on and on without any stop at all because we never "
    "want to pause for breath and so the words keep coming one after another after another"
)
"""Spoken fast with no gap between words: speech with no silence in it."""


@pytest.fixture(scope="module")
def sentences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media_files.speech(SENTENCES, tmp_path_factory.mktemp("windows"), name="sentences")


@pytest.fixture(scope="module")
def run_on(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run-on")
    wav = folder / "run-on.wav"
    espeak = media_files.require("espeak-ng")
    command = [espeak, "-v", "en-us", "-s", "200", "-g", "0", "-w", str(wav), RUN_ON]
    subprocess.run(command, check=True, capture_output=True)
    return wav


def collected(windows: list[tuple[int, np.ndarray]]) -> np.ndarray:
    return np.concatenate([audio for _, audio in windows])


def cut(path: Path, seconds: float) -> list[tuple[int, np.ndarray]]:
    """The windows of `path` (their audio copied: a window is valid until the next one)."""
    return [(w.start, w.audio.copy()) for w in at_silences(media.iter_audio(path), seconds)]


# --- decoding as a stream ---------------------------------------------------------------------


def test_blocks_are_the_whole_recording_in_order(sentences: Path) -> None:
    blocks = list(media.iter_audio(sentences))
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    assert max(len(b) for b in blocks) < media.SAMPLE_RATE, "no block holds a second"
    whole = media.decode_audio(sentences)
    assert np.array_equal(np.concatenate(blocks), whole)
    assert 15 < len(whole) / media.SAMPLE_RATE < 40
    assert np.abs(whole).max() <= 1.0


def test_the_limit_is_raised_before_a_block_past_it_is_handed_out(sentences: Path) -> None:
    limit = 5.0
    handed: list[int] = []

    def take_all() -> None:
        handed.extend(len(block) for block in media.iter_audio(sentences, max_seconds=limit))

    with pytest.raises(MediaError) as refused:
        take_all()
    assert refused.value.code == "duration_exceeded"
    assert sum(handed) <= limit * media.SAMPLE_RATE
    assert sum(handed) > (limit - 1) * media.SAMPLE_RATE


@pytest.mark.parametrize(
    ("name", "extra"),
    [
        ("16k.wav", ("-ar", "16000")),  # PCM at the decoding rate: seeks
        ("espeak.wav", ()),  # PCM at espeak-ng's 22,050 Hz: seeks, then resampled
        ("cd.wav", ("-ar", "44100", "-ac", "2")),
        ("lossless.flac", ()),  # not a seekable container: decoded from the beginning
    ],
)
def test_a_start_gives_the_very_samples_of_a_whole_decode(
    sentences: Path, tmp_path: Path, name: str, extra: tuple[str, ...]
) -> None:
    path = media_files.convert(sentences, tmp_path / name, *extra)
    whole = media.decode_audio(path)
    for start in (1, 901, len(whole) // 3 + 7, len(whole) - 5):
        blocks = list(media.iter_audio(path, start=start))
        assert np.concatenate(blocks).tobytes() == whole[start:].tobytes(), f"from {start}"


def test_a_pcm_start_is_reached_without_decoding_what_comes_before(sentences: Path) -> None:
    import av

    with av.open(str(sentences)) as container:
        assert media.seeks_exactly(container, container.streams.audio[0])
    late = len(media.decode_audio(sentences)) - media.SAMPLE_RATE
    decoded = []
    real_resample = av.AudioResampler.resample

    def counting(self: av.AudioResampler, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
        decoded.append(frame.samples if frame is not None else 0)
        return real_resample(self, frame)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(av.AudioResampler, "resample", counting)
        list(media.iter_audio(sentences, start=late))
    assert sum(decoded) < 2 * media.SAMPLE_RATE, "only the last second, and a tenth before"


def test_a_start_past_the_end_is_refused(sentences: Path) -> None:
    past = len(media.decode_audio(sentences)) + 10
    with pytest.raises(MediaError) as refused:
        list(media.iter_audio(sentences, start=past))
    assert refused.value.code == "undecodable_audio"


def test_a_file_that_does_not_decode_raises_at_the_first_block(tmp_path: Path) -> None:
    path = tmp_path / "noise.mp3"
    path.write_bytes(b"not audio at all" * 64)
    with pytest.raises(MediaError) as refused:
        next(media.iter_audio(path))
    assert refused.value.code == "undecodable_audio"


# --- windows cut at silences ------------------------------------------------------------------


def test_windows_cover_every_sample_once_and_end_in_silence(sentences: Path) -> None:
    whole = media.decode_audio(sentences)
    windows = cut(sentences, 8)
    assert len(windows) >= 3
    assert collected(windows).tobytes() == whole.tobytes()
    starts = [start for start, _ in windows]
    ends = [start + len(audio) for start, audio in windows]
    assert starts == [0, *ends[:-1]], "each window starts where the one before ended"
    for start, end in zip(starts[:-1], ends[:-1], strict=True):
        assert end < start + 8 * media.SAMPLE_RATE, "cut at a pause, before the window's end"
        around = whole[end - 480 : end + 480]  # 30 ms either side of the cut
        assert np.abs(around).max() < 0.01, f"cut at {end / media.SAMPLE_RATE:.2f} s in speech"


def test_speech_without_silence_is_cut_at_the_window_end(run_on: Path) -> None:
    whole = media.decode_audio(run_on)
    windows = cut(run_on, 4)
    assert [len(audio) for _, audio in windows[:-1]] == [4 * media.SAMPLE_RATE] * (len(windows) - 1)
    assert collected(windows).tobytes() == whole.tobytes()


def test_last_silence_is_the_middle_of_the_last_pause(sentences: Path) -> None:
    audio = media.decode_audio(sentences)
    found = last_silence(audio)
    assert found is not None
    assert np.abs(audio[found - 480 : found + 480]).max() < 0.01
    silent = np.zeros(media.SAMPLE_RATE, dtype=np.float32)
    assert last_silence(silent) == media.SAMPLE_RATE // 2, "no speech: one silence"


def test_a_recording_shorter_than_a_window_is_one_window(sentences: Path) -> None:
    [(start, audio)] = cut(sentences, 600)
    assert start == 0
    assert audio.tobytes() == media.decode_audio(sentences).tobytes()


def test_memory_is_one_window_buffer(sentences: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every window is a view of one buffer of the window's size, whatever the length."""
    monkeypatch.setattr(windows_module, "WINDOW_SECONDS", 5.0)
    seen = list(at_silences(media.iter_audio(sentences)))
    bases = {id(w.audio.base) for w in seen}
    assert len(seen) >= 4
    assert len(bases) == 1
    assert seen[0].audio.base.nbytes == 5 * media.SAMPLE_RATE * 4


def test_closing_the_windows_closes_the_decoder(sentences: Path) -> None:
    blocks = media.iter_audio(sentences)
    windows = at_silences(blocks, 4)
    next(windows)
    windows.close()
    assert blocks.gi_frame is None, "the decoder (and its file) was closed"


# --- transcribing window by window ---------------------------------------------------------


def window(start_seconds: float, seconds: float) -> Window:
    samples = int(seconds * media.SAMPLE_RATE)
    return Window(int(start_seconds * media.SAMPLE_RATE), np.zeros(samples, dtype=np.float32))


def test_segments_are_moved_by_their_windows_start_and_the_text_carries_on() -> None:
    first = [FakeSegment(0.0, 1.5, " One.", [FakeWord(0.0, 0.5, " One.", 0.9)])]
    second = [FakeSegment(0.2, 1.0, " Two."), FakeSegment(1.0, 2.0, " Three.")]
    model = FakeModel(first, language="de", windows=[second, []])
    options = JobOptions(model="tiny.en")
    run = WindowedTranscription(
        model, iter([window(0, 2.5), window(2.5, 2), window(4.5, 1)]), options
    )

    segments = list(run.segments())

    assert [(s.start, s.end, s.text) for s in segments] == [
        (0.0, 1.5, " One."),
        (2.7, 3.5, " Two."),
        (3.5, 4.5, " Three."),
    ]
    assert segments[0].words == first[0].words
    assert (run.language, run.seconds) == ("de", 5.5)
    assert [c.previous_text for c in model.calls] == ["", " One.", " One. Two. Three."]
    assert [c.samples for c in model.calls] == [40000, 32000, 16000]
    assert model.calls[0].options == options
    assert [c.options.requested_language for c in model.calls[1:]] == ["de", "de"], (
        "the language found in the first window holds for the others"
    )


def test_the_text_handed_on_is_bounded() -> None:
    long = [FakeSegment(0.0, 1.0, " word" * 1000)]
    model = FakeModel(long, windows=[[]])
    run = WindowedTranscription(
        model, iter([window(0, 1), window(1, 1)]), JobOptions(model="tiny.en")
    )
    list(run.segments())
    handed = model.calls[1].previous_text
    assert len(handed) == PREVIOUS_TEXT_CHARS
    assert long[0].text.endswith(handed)


def test_words_move_with_their_segment() -> None:
    segment = FakeSegment(1.0, 2.0, " Hi there.", [FakeWord(1.0, 1.4, " Hi", 0.8)])
    moved = shifted(segment, 300.25)
    assert (moved.start, moved.end) == (301.25, 302.25)
    assert moved.words == [FakeWord(301.25, 301.65, " Hi", 0.8)]
    assert shifted(segment, 0.0) is segment
