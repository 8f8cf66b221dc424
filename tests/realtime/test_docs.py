"""The socket docs match the schema: generated tables up to date, every example valid.

``docs/websocket.md`` (the page socket) and the streaming part of ``docs/api.md`` hold
tables generated from ``pulse.realtime.schema`` (every type and field), and hand-written
examples; each example must be a valid message of its type, and each type must have one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pulse.realtime import schema

ROOT = Path(__file__).resolve().parents[2]
CODE_SPAN = re.compile(r"`(\{.*?\})`")


def doc(socket: str) -> str:
    return (ROOT / schema.DOCS[socket]).read_text(encoding="utf-8")


def section(text: str, start: str, end: str) -> str:
    """Return the part of ``text`` from the heading ``start`` to the heading ``end``."""
    return text[text.index(start):text.index(end, text.index(start))]


@pytest.mark.parametrize("socket", sorted(schema.DOCS))
def test_the_generated_tables_are_up_to_date(socket):
    text = doc(socket)
    assert text == schema.with_tables(text, socket), (
        f"{schema.DOCS[socket]} is stale: run python -m pulse.realtime.schema --update-docs")


def test_every_page_message_has_a_section_with_a_valid_example():
    text = section(doc("page"), "## Server to page", "## Page to server")
    examples = {}
    for part in re.split(r"^### ", text, flags=re.MULTILINE)[1:]:
        kind = re.match(r"`(\w+)`", part).group(1)
        block = re.search(r"```json\n(.*?)```", part, re.DOTALL)
        assert block, f"### `{kind}` has no JSON example"
        examples[kind] = json.loads(block.group(1))
    assert set(examples) == set(schema.SCHEMAS["page", "out"])
    for kind, example in examples.items():
        assert example["type"] == kind
        schema.check("page", "out", example)


def test_every_page_request_is_documented_with_a_valid_example():
    text = section(doc("page"), "## Page to server", "## Message reference")
    requests = [json.loads(span) for span in CODE_SPAN.findall(text)]
    for request in requests:
        schema.check("page", "in", request)
    assert {r["action"] for r in requests} == set(schema.SCHEMAS["page", "in"])


def api_transcript() -> list[tuple[str, str]]:
    """Return the (direction, JSON text) lines of the streaming API's sample session."""
    text = section(doc("api"), "## Streaming API", "### Client to server")
    block = re.search(r"```text\n(.*?)```", text, re.DOTALL).group(1)
    found: list[tuple[str, str]] = []
    for line in block.splitlines():
        if line.startswith(("< {", "> {")):
            found.append(("out" if line[0] == "<" else "in", line[2:]))
        elif line.startswith("   ") and found:  # a message continued on the next line
            found[-1] = (found[-1][0], found[-1][1] + line.strip())
    return found


def test_the_api_sample_session_uses_only_valid_messages():
    kinds = {"out": set(), "in": set()}
    for direction, text in api_transcript():
        key = "type" if direction == "out" else "action"
        kind = re.search(rf'"{key}":"(\w+)"', text).group(1)
        assert kind in schema.SCHEMAS["api", direction], text
        kinds[direction].add(kind)
        if "..." not in text:  # rows abridged in the doc are shown in docs/websocket.md
            schema.check("api", direction, json.loads(text))
    assert kinds["out"] >= {"hello", "subscribed", "snapshot", "event", "pong", "heartbeat"}


def test_every_api_request_is_documented():
    text = section(doc("api"), "### Client to server", "### Server to client")
    actions = set()
    for span in CODE_SPAN.findall(text):
        actions.add(re.search(r'"action":"(\w+)"', span).group(1))
        if "..." not in span:
            schema.check("api", "in", json.loads(span))
    assert actions == set(schema.SCHEMAS["api", "in"])
