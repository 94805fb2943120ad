#!/usr/bin/env python3
"""Writes the ConverseStream transcripts used by stream_test.cpp (stream_text.bin,
stream_tool_use.bin, stream_exception.bin), built independently of modelmux (struct +
zlib.crc32). Their content matches response_text.json / response_tool_use.json (the shapes of the
examples in the Bedrock Converse documentation). Run from this folder:
python3 make_converse_streams.py"""
import json
import struct
import zlib


def string_header(name, value):
    n, v = name.encode(), value.encode()
    return struct.pack(">B", len(n)) + n + struct.pack(">BH", 7, len(v)) + v


def frame(headers, payload):
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def event(event_type, payload):
    payload = dict(payload, p="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"[: 5 + len(event_type)])
    hs = (string_header(":event-type", event_type) + string_header(":content-type", "application/json")
          + string_header(":message-type", "event"))
    return frame(hs, json.dumps(payload, separators=(",", ":")).encode())


def exception(exception_type, message):
    hs = (string_header(":exception-type", exception_type)
          + string_header(":content-type", "application/json")
          + string_header(":message-type", "exception"))
    return frame(hs, json.dumps({"message": message}).encode())


usage_text = {"inputTokens": 125, "outputTokens": 60, "totalTokens": 185}
text = [
    event("messageStart", {"role": "assistant"}),
    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "The most popular song "}}),
    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "on WZPZ is "}}),
    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "\"Elemental Hotel\" by 8 Storey Hike."}}),
    event("contentBlockStop", {"contentBlockIndex": 0}),
    event("messageStop", {"stopReason": "end_turn"}),
    event("metadata", {"usage": usage_text, "metrics": {"latencyMs": 1175}}),
]

usage_tool = {"inputTokens": 375, "outputTokens": 69, "totalTokens": 444,
              "cacheReadInputTokens": 100, "cacheWriteInputTokens": 20}
tool = [
    event("messageStart", {"role": "assistant"}),
    event("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "I'll look up the top song."}}),
    event("contentBlockStop", {"contentBlockIndex": 0}),
    event("contentBlockStart", {"contentBlockIndex": 1, "start": {"toolUse": {
        "toolUseId": "tooluse_kZJMlvQmRJ6eAyJE5GIl7Q", "name": "top_song"}}}),
    event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": "{\"sign\":"}}}),
    event("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"toolUse": {"input": " \"WZPZ\"}"}}}),
    event("contentBlockStop", {"contentBlockIndex": 1}),
    event("messageStop", {"stopReason": "tool_use"}),
    event("metadata", {"usage": usage_tool, "metrics": {"latencyMs": 980}}),
]

failing = text[:3] + [exception("throttlingException", "Too many requests, please wait before trying again.")]

for name, frames in (("stream_text.bin", text), ("stream_tool_use.bin", tool),
                     ("stream_exception.bin", failing)):
    with open(name, "wb") as f:
        for fr in frames:
            f.write(fr)
