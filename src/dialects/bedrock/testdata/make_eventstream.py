#!/usr/bin/env python3
"""Writes converse_stream.bin: AWS event-stream frames built independently of modelmux (struct +
zlib.crc32), used by eventstream_test.cpp. Run from this folder: python3 make_eventstream.py"""
import struct
import sys
import zlib


def header(name, type_id, value=b""):
    n = name.encode()
    return struct.pack(">B", len(n)) + n + struct.pack(">B", type_id) + value


def string_header(name, value):
    v = value.encode()
    return header(name, 7, struct.pack(">H", len(v)) + v)


def frame(headers, payload):
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude += struct.pack(">I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + headers + payload
    return body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def event(event_type, payload):
    hs = (string_header(":event-type", event_type) + string_header(":content-type", "application/json")
          + string_header(":message-type", "event"))
    return frame(hs, payload.encode())


frames = [
    event("messageStart", '{"p":"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS","role":"assistant"}'),
    event("contentBlockDelta", '{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"}'),
    # Every header type 0-9 before the string headers, to check that the parser skips them.
    frame(header("t", 0) + header("f", 1) + header("i8", 2, b"\x7f") + header("i16", 3, b"\x01\x02")
          + header("i32", 4, b"\x00\x00\x00\x2a") + header("i64", 5, b"\x00" * 7 + b"\x01")
          + header("bin", 6, b"\x00\x03\x00\xff\x07") + header(":date", 8, struct.pack(">q", 1700000000000))
          + header("id", 9, bytes(range(16))) + string_header(":event-type", "messageStop")
          + string_header(":message-type", "event"),
          b'{"stopReason":"end_turn"}'),
    frame(string_header(":exception-type", "throttlingException") + string_header(":content-type", "application/json")
          + string_header(":message-type", "exception"),
          b'{"message":"Too many requests, please wait before trying again."}'),
]
with open("converse_stream.bin", "wb") as f:
    for fr in frames:
        f.write(fr)
for fr in frames:
    sys.stdout.write("%d bytes, prelude crc %08x, message crc %s\n" % (len(fr), struct.unpack(">I", fr[8:12])[0], fr[-4:].hex()))
