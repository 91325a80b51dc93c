#!/usr/bin/env python3
"""Summarizes bench/verify/run.sh runs into a markdown table.

Usage: summarize.py RUNS_TSV [SUMMARY_MD] [--tools "..."] [--phases "..."] [--ground-truth WORD]

RUNS_TSV is either the runs table run.sh collects or a results file it wrote
(the part between "# runs" and "# summary" is used), so an old run can be
summarized again. Prints the table and writes it to SUMMARY_MD when given.
"""
import argparse
import csv
import io
import statistics
import sys

NAN = float("nan")


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return NAN


def med(xs):
    xs = [x for x in xs if x == x]
    return statistics.median(xs) if xs else NAN


def label(tool):
    if tool == "pt_table_checksum":
        return "pt-table-checksum"
    return f"cutover verify --threads {tool[len('cutover_t'):]}"


def ok(r):
    return not r["verdict"].startswith(("FAILED", "NO_REPLICA"))


def others(rs):
    """Median and worst 1 s of the CPU other people's processes used (older files lack it)."""
    o = [fnum(r.get("others_cpu")) for r in rs]
    mx = [x for x in (fnum(r.get("others_cpu_max")) for r in rs) if x == x]
    if not [x for x in o if x == x]:
        return "n/a"
    return f"{med(o):.2f} ({max(mx):.2f})" if mx else f"{med(o):.2f}"


def read_runs(path):
    text = open(path).read()
    if "# runs\n" in text:
        text = text.split("# runs\n", 1)[1].split("# summary", 1)[0]
    return list(csv.DictReader(io.StringIO(text), delimiter="\t"))


def fmt(x, spec):
    return format(x, spec) if x == x else "n/a"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("runs")
    ap.add_argument("summary", nargs="?")
    ap.add_argument("--tools")
    ap.add_argument("--phases")
    ap.add_argument("--ground-truth", default="")
    a = ap.parse_args()
    rows = read_runs(a.runs)
    tools = a.tools.split() if a.tools else list(dict.fromkeys(r["tool"] for r in rows if r["tool"] != "baseline"))
    phases = a.phases.split() if a.phases else list(dict.fromkeys(r["phase"] for r in rows))

    lines = [
        "| phase | tool | runs ok | median s | min..max s | pt-table-checksum median / this "
        "| runs reporting differences | source tps during run: median (worst 1 s) "
        "| source tps vs same round's baseline: median (range) | source p95 ms: median (worst 1 s) "
        "| other people's CPU, cores: median (worst 1 s) |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    goals = []
    for phase in phases:
        base = {r["round"]: r for r in rows if r["phase"] == phase and r["tool"] == "baseline"}
        pt_med = med([fnum(r["seconds"]) for r in rows
                      if r["phase"] == phase and r["tool"] == "pt_table_checksum" and ok(r)])
        for t in tools:
            rs = [r for r in rows if r["phase"] == phase and r["tool"] == t]
            if not rs:
                continue
            good = [r for r in rs if ok(r)]
            secs = [fnum(r["seconds"]) for r in good]
            m = med(secs)
            ratio = f"{pt_med / m:.2f}" if t != "pt_table_checksum" and m == m and pt_med == pt_med else ""
            with_diffs = [r for r in rs if "DIFFERENCES" in r["verdict"]]
            verdicts = sorted(set(r["verdict"] for r in rs))
            extra = ""
            if t == "pt_table_checksum":
                errs = [r for r in rs if "errors=0 skipped=0" not in r.get("note", "")]
                if errs:
                    extra = f"; {len(errs)} run(s) with chunk errors/skips"
            diffs_txt = f"{len(with_diffs)} of {len(rs)} ({', '.join(verdicts)}{extra})"
            if phase == "load":
                tps = med([fnum(r["tps_avg"]) for r in rs])
                tmin = min([fnum(r["tps_min"]) for r in rs] or [NAN])
                rel = [fnum(r["tps_avg"]) / fnum(base[r["round"]]["tps_avg"]) - 1 for r in rs if r["round"] in base]
                rel = [x for x in rel if x == x]
                vs = f"{med(rel):+.1%} ({min(rel):+.1%}..{max(rel):+.1%})" if rel else ""
                p95 = med([fnum(r["p95_ms_avg"]) for r in rs])
                p95max = max([fnum(r["p95_ms_max"]) for r in rs] or [NAN])
                src = (f"{fmt(tps, '.0f')} ({fmt(tmin, '.0f')})", vs, f"{fmt(p95, '.1f')} ({fmt(p95max, '.1f')})")
            else:
                src = ("idle", "", "")
            lo = f"{min(secs):.1f}..{max(secs):.1f}" if secs else ""
            lines.append(f"| {phase} | {label(t)} | {len(good)}/{len(rs)} | {fmt(m, '.1f')} | {lo} | {ratio} "
                         f"| {diffs_txt} | {src[0]} | {src[1]} | {src[2]} | {others(rs)} |")
            if t.startswith("cutover_t") and m == m and pt_med == pt_med:
                goals.append(f"{phase} {label(t)}: pt-table-checksum median / this median = {pt_med / m:.2f} "
                             f"(goal >= 3: {'met' if pt_med / m >= 3 else 'NOT met'}); "
                             f"false differences: {len(with_diffs)} of {len(rs)} runs "
                             f"({'met' if not with_diffs and len(good) == len(rs) else 'NOT met'})")
        if base:
            b = list(base.values())
            lines.append(f"| {phase} | baseline (load alone) | {len(b)} | | | | "
                         f"| {fmt(med([fnum(r['tps_avg']) for r in b]), '.0f')} "
                         f"({fmt(min(fnum(r['tps_min']) for r in b), '.0f')}) | "
                         f"| {fmt(med([fnum(r['p95_ms_avg']) for r in b]), '.1f')} "
                         f"({fmt(max(fnum(r['p95_ms_max']) for r in b), '.1f')}) | {others(b)} |")
    text = "\n".join(lines) + "\n\n" + "".join(f"- {g}\n" for g in goals)
    if a.ground_truth:
        text += f"- CHECKSUM TABLE source vs target at the end: {a.ground_truth}\n"
    print()
    print(text)
    if a.summary:
        open(a.summary, "w").write(text)


if __name__ == "__main__":
    sys.exit(main())
