"""The local playground: talk to your bot in a browser, with no Discord application.

``python -m bot playground [--offline] [--port N]`` starts the test kit's Discord emulator, runs the
real bot against it exactly as in production, and serves a page on loopback that shows a guild,
its channels, a thread and your DM, with live updates as the bot streams its answers.
"""

from .run import DEFAULT_PORT, run_playground
from .session import Playground

__all__ = ["DEFAULT_PORT", "Playground", "run_playground"]
