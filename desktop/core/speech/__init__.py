"""Audio sources and local speech-to-text (no Qt): see docs/speech.md.

- :mod:`desktop.core.speech.audio`: WAV file, growing WAV (baresip recordings), OS capture device.
- :mod:`desktop.core.speech.vad`: energy voice-activity detection cutting utterances as audio arrives.
- :mod:`desktop.core.speech.transcriber`: one shared faster-whisper model, utterance → text.
- :mod:`desktop.core.speech.recordings`: which of baresip's recording files belong to a call.
"""
