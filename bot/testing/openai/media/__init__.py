"""Small, real media files built with the standard library (no Pillow, no codecs).

The OpenAI emulator returns these from its image and speech routes and uses :mod:`.sniff` to check
uploads by their magic bytes, the way OpenAI rejects a file whose bytes do not match its name.
"""
