"""The waveform Discord shows on a voice message: up to 256 amplitude bytes, base64 encoded.

Decoding Opus needs a native library, so the amplitudes are estimated from the Opus packets
instead: a variable-bitrate encoder (OpenAI's speech endpoint, Discord's apps, opusenc) spends more
bytes on loud, busy sound and about 3 bytes on a 20 ms frame of silence. Each of the (at most 256)
bars is the bytes per 20 ms of the packets in its time slice, scaled so that silence is 0 and the
busiest slice of the clip is 255. A constant-bitrate stream gets a flat waveform (only cosmetic).
"""

from __future__ import annotations

import base64

from bot.voice import ogg

MAX_SAMPLES = 256
SILENCE_BYTES_PER_FRAME = 3.0
FRAME_SAMPLES = 960  # 20 ms at 48 kHz


def opus_waveform(data: bytes, max_samples: int = MAX_SAMPLES) -> bytes:
    """Amplitude bytes (0-255) for an Ogg/Opus file; empty if it has no audio packets."""
    packets = [p for p in ogg.opus_audio_packets(data) if ogg.opus_packet_samples(p) > 0]
    if not packets:
        return b""
    count = min(max_samples, len(packets))
    rates = [_bytes_per_frame(piece) for piece in _slices(packets, count)]
    peak = max(rates)
    if peak <= SILENCE_BYTES_PER_FRAME:
        return bytes(count)
    scale = 255 / (peak - SILENCE_BYTES_PER_FRAME)
    return bytes(
        min(255, max(0, round((rate - SILENCE_BYTES_PER_FRAME) * scale))) for rate in rates
    )


def _slices(packets: list[bytes], count: int) -> list[list[bytes]]:
    """``packets`` cut into ``count`` consecutive, nearly equal, non-empty slices."""
    total = len(packets)
    return [packets[i * total // count : (i + 1) * total // count] for i in range(count)]


def _bytes_per_frame(packets: list[bytes]) -> float:
    samples = sum(ogg.opus_packet_samples(packet) for packet in packets)
    size = sum(len(packet) for packet in packets)
    return size * FRAME_SAMPLES / samples if samples else 0.0


def encode(waveform: bytes) -> str:
    """The base64 text Discord expects in an attachment's ``waveform``."""
    return base64.b64encode(waveform[:MAX_SAMPLES]).decode("ascii")
