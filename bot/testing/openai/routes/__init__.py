"""The emulator's HTTP routes, one module per OpenAI resource."""
