#!/usr/bin/env python3
"""Flash-wear baseline: a plain SQLite table written in 100-row transactions and range-deleted.

Usage: wear_baseline.py DB [--rate 1000] [--seconds 60] [--synchronous full|normal]
                        [--rows-per-txn 100] [--upload-every 1.0]

What a hand-written outbox does: a table (device, metric, ts, value) in WAL mode, rows inserted
RATE per second in transactions of ROWS_PER_TXN, and every UPLOAD_EVERY seconds everything
inserted so far deleted with one `DELETE ... WHERE id <= last` (the upload is pretended). Bytes
written are this process's own /proc/self/io write_bytes (what reached the block layer, WAL
checkpoints included), counted over the second half of the run (the steady state), per row.
Prints one JSON object.
"""
import argparse
import json
import os
import random
import sqlite3
import time

METRICS = ["temperature", "humidity", "ph", "ec", "water_level", "light", "energy_wh"]


def write_bytes():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes:"):
                return int(line.split()[1])
    raise KeyError("write_bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("db")
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--synchronous", choices=["full", "normal"], default="full")
    ap.add_argument("--rows-per-txn", type=int, default=100)
    ap.add_argument("--upload-every", type=float, default=1.0)
    a = ap.parse_args()
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(a.db + suffix)
        except FileNotFoundError:
            pass
    db = sqlite3.connect(a.db, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {a.synchronous}")
    db.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, device TEXT, metric TEXT, "
               "ts INTEGER, value REAL)")
    rng = random.Random(3)
    interval = a.rows_per_txn / a.rate
    inserted = deleted = 0
    window = None
    t0 = time.monotonic()
    next_txn, next_upload, k = t0, t0 + a.upload_every, 0
    while True:
        now = time.monotonic()
        if window is None and now - t0 >= a.seconds / 2:
            window = (write_bytes(), inserted, deleted)
        if now - t0 >= a.seconds:
            break
        if now >= next_upload:
            db.execute("DELETE FROM readings WHERE id <= ?", (inserted,))
            deleted = inserted
            next_upload += a.upload_every
        if now < next_txn:
            time.sleep(max(0.0, min(next_txn, next_upload) - now))
            continue
        ts_us = int(time.time() * 1e6)
        rows = [(f"gh{(i // 7) % 10:03d}", METRICS[i % 7], ts_us + i, round(rng.uniform(0, 100), 3))
                for i in range(inserted, inserted + a.rows_per_txn)]
        db.execute("BEGIN")
        db.executemany("INSERT INTO readings (device, metric, ts, value) VALUES (?, ?, ?, ?)", rows)
        db.execute("COMMIT")
        inserted += a.rows_per_txn
        k += 1
        next_txn = t0 + k * interval
    w_bytes, w_ins, w_del = window
    written = write_bytes() - w_bytes
    rows = inserted - w_ins
    print(json.dumps({
        "synchronous": a.synchronous,
        "rows": inserted,
        "window_rows": rows,
        "window_deleted": deleted - w_del,
        "window_write_bytes": written,
        "bytes_per_row": written / rows if rows else 0.0,
    }))


if __name__ == "__main__":
    main()
