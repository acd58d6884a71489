"""The one front door: a Discord event that can start a turn becomes an arrival, then a turn.

A message (text or voice), ``/chat`` and the "Ask about this message" menu are classified once
into an :class:`Arrival`: the place (settings in force), the trigger, the conversation key (from
:func:`bot.store.keys.conversation_key`, the one key function), text or voice, and where the answer
goes. :func:`incoming_turn` makes the conversation service's turn of any arrival; cogs read
``event -> arrival -> turn -> service -> reply`` top to bottom.
"""

from bot.intake.arrival import (
    Arrival,
    Asker,
    ChannelTarget,
    InteractionTarget,
    Kind,
    ReplyTarget,
    incoming_turn,
    into_thread,
)
from bot.intake.interactions import interaction_arrival, where_of
from bot.intake.messages import (
    MessageText,
    is_known_thread,
    is_voice_message,
    message_arrival,
    message_text,
    read_attachments,
    settings_at,
)
from bot.intake.replies import open_thread, start_reply

__all__ = [
    "Arrival",
    "Asker",
    "ChannelTarget",
    "InteractionTarget",
    "Kind",
    "MessageText",
    "ReplyTarget",
    "incoming_turn",
    "interaction_arrival",
    "into_thread",
    "is_known_thread",
    "is_voice_message",
    "message_arrival",
    "message_text",
    "open_thread",
    "read_attachments",
    "settings_at",
    "start_reply",
    "where_of",
]
