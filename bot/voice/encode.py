"""PCM to OGG/Opus, the only place toolcord uses PyAV (FFmpeg's libopus, shipped in its wheels).

The Realtime API speaks raw 16-bit little-endian mono PCM at 24 kHz; a Discord voice message must
be OGG/Opus. PyAV's wheels carry FFmpeg with libopus, so no system library or binary is needed.
"""

from __future__ import annotations

import io

import av

PCM_RATE = 24_000
BITRATE = 32_000  # speech at 24 kHz mono: clear, and about 4 KB a second


class EncodingFailed(Exception):
    """The PCM could not be encoded (empty, odd length or an encoder error)."""


def pcm16_to_ogg_opus(pcm: bytes, rate: int = PCM_RATE) -> bytes:
    """Encode mono 16-bit little-endian PCM at ``rate`` Hz as an OGG/Opus file.

    Raises:
        EncodingFailed: ``pcm`` holds no whole sample, or the encoder refused it.
    """
    samples = len(pcm) // 2
    if samples == 0 or len(pcm) % 2:
        raise EncodingFailed(f"{len(pcm)} bytes are not 16-bit PCM samples")
    out = io.BytesIO()
    try:
        with av.open(out, "w", format="ogg") as container:
            stream = container.add_stream("libopus", rate=rate, layout="mono")
            stream.codec_context.bit_rate = BITRATE
            frame = av.AudioFrame(format="s16", layout="mono", samples=samples)
            frame.planes[0].update(pcm)
            frame.sample_rate = rate
            target = stream.codec_context.format.name
            resampler = av.AudioResampler(format=target, layout="mono", rate=rate)
            for piece in resampler.resample(frame):
                container.mux(stream.encode(piece))
            container.mux(stream.encode(None))
    except (av.FFmpegError, ValueError) as exc:
        raise EncodingFailed(str(exc)) from exc
    return out.getvalue()
