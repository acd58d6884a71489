"""Every reliance on a dependency's private internals, one module per dependency.

Each module here names the private thing it uses (an underscore name, a vendored module, a class
attribute it overwrites), why (the gain, measured by the bench where it is about speed), and the
public-API path it falls back to when the dependency changes under it. Each has a test under
``tests/bot/shims/`` that fails when the dependency no longer has what the module relies on, so a
version bump shows up as one red test rather than a slow or broken bot.

Nothing outside this package touches a dependency's private names.
"""
