"""The device-folder agent: sends what endoscopy towers, POCUS docks and cameras export.

It talks to the hub only over its public HTTP API (tus uploads, capture
look-ups); it imports nothing of the hub. docs/device-agent.md describes it.
"""
