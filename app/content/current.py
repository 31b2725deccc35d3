"""Access to the installed content from inside a request or CLI command."""

from __future__ import annotations

from flask import current_app

from . import Content, ContentRegistry


def registry() -> ContentRegistry:
    return current_app.extensions["content"]


def current() -> Content:
    return registry().current


def for_version(version: str) -> Content:
    return registry().get(version)
