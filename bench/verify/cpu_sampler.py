#!/usr/bin/env python3
"""Samples the machine's CPU use once per interval, split into "ours" and "others".

Usage: cpu_sampler.py --root PID --out FILE [--interval S]

Every interval it appends one line to FILE:
  EPOCH BUSY_CORES OURS_CORES OTHERS_CORES STEAL_CORES
BUSY is all non-idle CPU time of the machine (/proc/stat: user, nice, system,
irq, softirq; iowait counts as idle), OURS the CPU time of PID and all of its
descendants (the benchmark's servers, load and tools), OTHERS = BUSY - OURS
(other people's work on a shared machine), STEAL the time the hypervisor gave
to other guests. All in cores averaged over the interval (2.0 = both of 2 cores).
A process that exits between two samples loses its last partial interval, so
OURS is a slight underestimate; the kernel's tick accounting on a busy VM is
itself approximate (samples are clamped to the core count). Runs until killed.
"""
import argparse
import os
import time

HZ = os.sysconf("SC_CLK_TCK")
NCPU = float(os.cpu_count() or 1)


def machine():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = v[:7]
    steal = v[7] if len(v) > 7 else 0
    return user + nice + system + irq + softirq, steal


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        kids.setdefault(int(rest[1]), []).append((int(d), int(rest[11]) + int(rest[12])))
    return kids


def ours(root):
    kids = children_map()
    total, todo, seen = {}, [root], set()
    try:
        with open(f"/proc/{root}/stat") as f:
            s = f.read()
        rest = s[s.rfind(")") + 2:].split()
        total[root] = int(rest[11]) + int(rest[12])
    except OSError:
        pass
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        for c, ticks in kids.get(p, []):
            total[c] = ticks
            todo.append(c)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    prev_busy, prev_steal = machine()
    prev_ours = ours(a.root)
    prev_t = time.time()
    with open(a.out, "a", buffering=1) as out:
        while True:
            time.sleep(a.interval)
            busy, steal = machine()
            cur = ours(a.root)
            t = time.time()
            dt = t - prev_t
            d_ours = sum(max(0, ticks - prev_ours.get(p, 0)) for p, ticks in cur.items())
            # Tick accounting on this VM sometimes books a busy second late (0.7 cores, then 5);
            # clamp to what the machine has so one sample never reads above its core count.
            b = min((busy - prev_busy) / HZ / dt, NCPU)
            o = min(d_ours / HZ / dt, b)
            out.write(f"{t:.3f} {b:.3f} {o:.3f} {max(0.0, b - o):.3f} {(steal - prev_steal) / HZ / dt:.3f}\n")
            prev_busy, prev_steal, prev_ours, prev_t = busy, steal, cur, t


if __name__ == "__main__":
    main()
