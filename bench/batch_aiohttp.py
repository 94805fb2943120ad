#!/usr/bin/env python3
"""The seed's batch example done properly, as the baseline for bench/batch.sh: asyncio + aiohttp,
a semaphore of CONCURRENCY calls in flight, every line of a simple-format JSONL input
({"id", "prompt"}) posted to an OpenAI-compatible /v1/chat/completions, one result line each.

usage: batch_aiohttp.py URL INPUT OUTPUT [--concurrency 500] [--model m]
Prints one JSON line: {"requests", "ok", "failed", "wall_s", "requests_per_s"}.
"""
import argparse
import asyncio
import json
import time

import aiohttp


async def one(session, sem, url, model, item, out):
    body = {"model": model, "messages": [{"role": "user", "content": item["prompt"]}]}
    async with sem:
        try:
            async with session.post(url, json=body) as resp:
                data = await resp.json()
                if resp.status != 200:
                    out.append({"id": item["id"], "error": data})
                    return False
                text = data["choices"][0]["message"]["content"]
                out.append({"id": item["id"], "response": text, "usage": data.get("usage")})
                return True
        except Exception as e:  # noqa: BLE001 - the baseline records and goes on
            out.append({"id": item["id"], "error": {"message": str(e)}})
            return False


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--concurrency", type=int, default=500)
    ap.add_argument("--model", default="m")
    a = ap.parse_args()
    with open(a.input, encoding="utf-8") as f:
        items = [json.loads(line) for line in f if line.strip()]
    sem = asyncio.Semaphore(a.concurrency)
    out = []
    start = time.monotonic()
    connector = aiohttp.TCPConnector(limit=a.concurrency)
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        results = await asyncio.gather(*(one(session, sem, a.url, a.model, i, out) for i in items))
    wall = time.monotonic() - start
    with open(a.output, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r) + "\n")
    ok = sum(1 for r in results if r)
    print(json.dumps({"requests": len(items), "ok": ok, "failed": len(items) - ok,
                      "wall_s": round(wall, 3), "requests_per_s": round(len(items) / wall, 1)}))


if __name__ == "__main__":
    asyncio.run(main())
