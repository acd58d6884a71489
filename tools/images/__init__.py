"""The ``images`` tool family: ``generate_image``, ``edit_image``, and ``generate`` for /imagine.

Load it with ``tools.modules = ["tools.images"]``; settings live under ``[tools.config.images]``
(see :class:`tools.images.settings.ImagesSettings`; the model is the bot's ``openai.image_model``).
"""

from tools.images.service import (
    ImageBatch,
    ImageError,
    InputImage,
    edit,
    generate,
    generate_batch,
)
from tools.images.settings import ImagesSettings, load_settings
from tools.images.tool import edit_image, generate_image

__all__ = [
    "ImageBatch",
    "ImageError",
    "ImagesSettings",
    "InputImage",
    "edit",
    "edit_image",
    "generate",
    "generate_batch",
    "generate_image",
    "load_settings",
]
