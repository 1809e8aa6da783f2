"""``pipvet serve``: a local package firewall in front of an upstream Simple API index.

The server (``app``) answers PEP 503 HTML and PEP 691 JSON project pages listing only what the
install gate (``pipvet.services.gate``) lets through, and serves each file only after it was
downloaded from upstream (``upstream``), checked against upstream's sha256 and inspected
(``inspect``, results cached by sha256 and shared with every other pipvet command). The
decisions about projects and versions are ``decide``; the pages are written by ``listing``;
every decision is appended to a log (``decisions``). aiohttp is imported only here: no other
command pays for it. The service entry is ``pipvet.services.serve``.
"""
