"""The capture context: its dataclasses, their JSON form, and the body sites the hub knows."""
