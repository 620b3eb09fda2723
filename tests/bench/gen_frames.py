#!/usr/bin/env python3
"""Writes N JSON frames (one per line) of greenhouse readings, plus the same readings as CSV.

Usage: gen_frames.py FRAMES OUT.jsonl [OUT.csv] [--bad-every K] [--seed S] [--devices D]

Each good frame carries `device`, `ts` (milliseconds, strictly increasing per device) and seven
metrics. With --bad-every K, every K-th line is replaced by a bad one (cycling through parse
errors, bad names, NaN-like values and bad timestamps) so rejection counts can be checked.
"""
import argparse
import json
import random

METRICS = ["temperature", "humidity", "ph", "ec", "water_level", "light", "energy_wh"]
BAD_LINES = [
    ('{"device":"d1","temperature":', "parse"),
    ('{"device":"bad name!","temperature":1}', "bad_name"),
    ('{"device":"d1","ts":"1999-12-31T23:59:59Z","temperature":1}', "bad_ts"),
    ('{"device":"d1","note":"only text"}', "no_readings"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("frames", type=int)
    ap.add_argument("jsonl")
    ap.add_argument("csv", nargs="?")
    ap.add_argument("--bad-every", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--devices", type=int, default=10)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    start_ms = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    counts = {"good_frames": 0, "readings": 0}
    energy = [0.0] * a.devices
    with open(a.jsonl, "w") as out, (open(a.csv, "w") if a.csv else open("/dev/null", "w")) as csv:
        for i in range(a.frames):
            if a.bad_every and (i + 1) % a.bad_every == 0:
                line, reason = BAD_LINES[(i // a.bad_every) % len(BAD_LINES)]
                counts[reason] = counts.get(reason, 0) + 1
                out.write(line + "\n")
                continue
            d = i % a.devices
            ts = start_ms + (i // a.devices) * 1000
            energy[d] += rng.uniform(0.5, 2.0)
            values = {
                "temperature": round(rng.uniform(12, 34), 2),
                "humidity": round(rng.uniform(30, 95), 1),
                "ph": round(rng.uniform(5.2, 7.4), 2),
                "ec": round(rng.uniform(0.8, 2.6), 3),
                "water_level": round(rng.uniform(10, 90), 1),
                "light": round(rng.uniform(0, 60000), 0),
                "energy_wh": round(energy[d], 3),
            }
            frame = {"device": f"gh{d:03d}", "ts": ts, **values}
            out.write(json.dumps(frame, separators=(",", ":")) + "\n")
            for m in METRICS:
                csv.write(f"gh{d:03d},{m},{ts * 1000},{values[m]}\n")
            counts["good_frames"] += 1
            counts["readings"] += len(METRICS)
    print(json.dumps(counts))


if __name__ == "__main__":
    main()
