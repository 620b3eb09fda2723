#!/usr/bin/env python3
"""Paced HTTP ingest into a running `fieldsync run`, sampling the agent's memory and disk writes.

Usage: steady_load.py --port P --key-file F --pid PID [--rate 1000] [--seconds 60]
                      [--frames-per-post 15] [--devices 10]

POSTs arrays of 7-metric JSON frames (greenhouse readings, device timestamps close to now) to
/api/data over one keep-alive connection, on a fixed schedule that gives RATE readings/s. Every
0.5 s it samples /proc/PID/status (VmRSS, VmHWM) and /proc/PID/io (write_bytes: what the agent
hands to the block layer, its WAL checkpoints included). The second half of the run is the
steady-state window: prints one JSON object with the peak RSS (VmHWM at the end), the median RSS
of the window, and the agent's write_bytes, accepted readings and uploaded readings over the
window (uploaded from GET /metrics).
"""
import argparse
import http.client
import json
import random
import re
import statistics
import sys
import time

METRICS = ["temperature", "humidity", "ph", "ec", "water_level", "light", "energy_wh"]


def proc_field(path, key):
    with open(path) as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    raise KeyError(key)


def metric_value(text, name):
    m = re.search(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


class Agent:
    def __init__(self, port, key, pid):
        self.pid = pid
        self.key = key
        self.post_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.get_conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def _exchange(self, which, method, path, body=None, headers=None):
        # The agent closes a keep-alive connection that stayed idle; a request that finds it
        # closed was never read, so it goes again on a new connection.
        for attempt in range(2):
            conn = getattr(self, which)
            try:
                conn.request(method, path, body, headers or {})
                r = conn.getresponse()
                return r, r.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def post(self, frames):
        body = json.dumps(frames, separators=(",", ":"))
        r, answer = self._exchange("post_conn", "POST", "/api/data", body,
                                   {"X-API-Key": self.key, "Content-Type": "application/json"})
        if r.status != 202:
            return 0, r.status
        return json.loads(answer)["accepted"], r.status

    def uploaded(self):
        _, answer = self._exchange("get_conn", "GET", "/metrics")
        text = answer.decode()
        return (metric_value(text, "fieldsync_uploaded_readings_total"),
                metric_value(text, "fieldsync_pending_readings"))

    def sample(self):
        status = f"/proc/{self.pid}/status"
        return (proc_field(status, "VmRSS:"), proc_field(status, "VmHWM:"),
                proc_field(f"/proc/{self.pid}/io", "write_bytes:"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key-file", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--rate", type=float, default=1000.0)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--frames-per-post", type=int, default=15)
    ap.add_argument("--devices", type=int, default=10)
    a = ap.parse_args()
    with open(a.key_file) as f:
        key = f.read().strip()
    agent = Agent(a.port, key, a.pid)
    rng = random.Random(7)
    per_post = a.frames_per_post * len(METRICS)
    interval = per_post / a.rate
    last_ts = [0] * a.devices
    energy = [0.0] * a.devices
    frame_no = 0
    accepted = 0
    failed_posts = 0
    rss_samples = []  # (t, VmRSS KiB)
    window = None     # (write_bytes, accepted, uploaded) when the second half starts
    t0 = time.monotonic()
    next_post, next_sample, k = t0, t0, 0
    while True:
        now = time.monotonic()
        if now >= next_sample:
            rss, _, _ = agent.sample()
            rss_samples.append((now - t0, rss))
            next_sample += 0.5
        if window is None and now - t0 >= a.seconds / 2:
            uploaded, _ = agent.uploaded()
            window = (agent.sample()[2], accepted, uploaded, now)
        if now - t0 >= a.seconds:
            break
        if now < next_post:
            time.sleep(min(next_post, next_sample) - now)
            continue
        frames = []
        wall_ms = int(time.time() * 1000)
        for _ in range(a.frames_per_post):
            d = frame_no % a.devices
            frame_no += 1
            ts = max(wall_ms, last_ts[d] + 1)
            last_ts[d] = ts
            energy[d] += rng.uniform(0.5, 2.0)
            frames.append({"device": f"gh{d:03d}", "ts": ts,
                           "temperature": round(rng.uniform(12, 34), 2),
                           "humidity": round(rng.uniform(30, 95), 1),
                           "ph": round(rng.uniform(5.2, 7.4), 2),
                           "ec": round(rng.uniform(0.8, 2.6), 3),
                           "water_level": round(rng.uniform(10, 90), 1),
                           "light": round(rng.uniform(0, 60000), 0),
                           "energy_wh": round(energy[d], 3)})
        n, status = agent.post(frames)
        accepted += n
        if status != 202:
            failed_posts += 1
        k += 1
        next_post = t0 + k * interval
    end_now = time.monotonic()
    rss, hwm, written = agent.sample()
    uploaded, pending = agent.uploaded()
    steady = [r for t, r in rss_samples if t >= a.seconds / 2]
    w_bytes, w_acc, w_up, w_t = window
    print(json.dumps({
        "seconds": end_now - t0,
        "accepted": accepted,
        "rate": accepted / (end_now - t0),
        "failed_posts": failed_posts,
        "rss_peak_kib": hwm,
        "rss_steady_kib": statistics.median(steady) if steady else rss,
        "rss_last_kib": rss,
        "window_seconds": end_now - w_t,
        "window_write_bytes": written - w_bytes,
        "window_accepted": accepted - w_acc,
        "window_uploaded": uploaded - w_up,
        "pending_at_end": pending,
    }))
    return 0 if failed_posts == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
