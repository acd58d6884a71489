"""Voice messages: audio checks, transcription, speech, and sending voice messages to Discord."""

from bot.voice.audio import AudioClip, AudioLimits, AudioRejected, check_declared, sniff, validate
from bot.voice.failures import VoiceFailure
from bot.voice.intake import audio_attachment, read_audio, voice_attachment
from bot.voice.realtime import RealtimeSynth
from bot.voice.send import send_voice_message, voice_message_form
from bot.voice.service import (
    AnswerRecorder,
    Payer,
    SpokenReply,
    Transcript,
    VoiceService,
)
from bot.voice.speech import SpeechSynth, Synth, VoiceClip, clip_from_ogg_opus, speakable_text
from bot.voice.transcribe import Transcriber, normalize_language
from bot.voice.transcript import ShownTranscript, show_transcript, transcript_for_model

__all__ = [
    "AnswerRecorder",
    "AudioClip",
    "AudioLimits",
    "AudioRejected",
    "Payer",
    "RealtimeSynth",
    "ShownTranscript",
    "SpeechSynth",
    "SpokenReply",
    "Synth",
    "Transcriber",
    "Transcript",
    "VoiceClip",
    "VoiceFailure",
    "VoiceService",
    "audio_attachment",
    "check_declared",
    "clip_from_ogg_opus",
    "normalize_language",
    "read_audio",
    "send_voice_message",
    "show_transcript",
    "sniff",
    "speakable_text",
    "transcript_for_model",
    "validate",
    "voice_attachment",
    "voice_message_form",
]
