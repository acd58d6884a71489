"""What the bot knows (issue 18): a guild knowledge base, user memory, rolling summaries.

``models`` holds the records, ``vectors`` the exact vector search and rank fusion, ``chunking``
splits sources into titled chunks. The stores are in ``bot.store.knowledge*``.
"""
