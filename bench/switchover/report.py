#!/usr/bin/env python3
"""Turns the raw output of bench/switchover/run.sh into rows and tables.

  report.py row --tsv FILE --method M --rate R [--setting S] --move N --direction D \
      --workload FILE --switch FILE --switch-rc RC --switch-start T --switch-end T
      Appends one TSV row for one move. --workload is the workload's stdout with every
      line prefixed by the wall-clock time it arrived ("EPOCH<TAB>json"); --switch is
      the mover's stdout (cutover switchover/rollback --json lines, or the one JSON
      object of manual_switch.py). T are wall-clock seconds (bash $EPOCHREALTIME).

  report.py summary --tsv FILE [--markdown FILE]
      Prints the per-move tables and the summary (markdown), and the goal verdicts.
"""
import argparse
import csv
import json
import statistics
import sys

COLUMNS = ["method", "rate", "setting", "move", "direction", "switch_ok", "pause_ms", "switch_total_ms", "longest_op_ms",
           "longest_at_s", "move_at_s", "resumed_at_s", "longest_away_ms", "error_window_ms", "errors", "errors_by_code",
           "operations", "ops_per_s", "appends_ack", "missing", "duplicated", "unexpected", "unknown",
           "bank_ok", "workload_ok", "workload_rc", "steps", "note"]

WINDOW_S = 0.1
# Operations that started this close to the move (before or after it) count as
# "at the move"; the longest of all others is the background noise of that run.
MARGIN_S = 0.3


def read_stamped(path):
    """[(epoch_s or None, obj)] for the JSON lines of a file whose lines may be prefixed
    by "EPOCH<TAB>"; other lines are skipped."""
    out = []
    try:
        f = open(path)
    except OSError:
        return out
    with f:
        for line in f:
            line = line.rstrip("\n")
            stamp = None
            if "\t" in line and not line.startswith("{"):
                s, _, line = line.partition("\t")
                try:
                    stamp = float(s)
                except ValueError:
                    pass
            try:
                out.append((stamp, json.loads(line)))
            except ValueError:
                continue
    return out


def row(a):
    r = {c: "" for c in COLUMNS}
    r.update(method=a.method, rate=a.rate, setting=a.setting, move=a.move, direction=a.direction)
    notes = []

    # The mover.
    sw_stamped = read_stamped(a.switch)
    sw_lines = [j for _, j in sw_stamped]
    # When the proxy resumed the clients: the moment the "resume" step was reported.
    resumed = [t for t, j in sw_stamped if j.get("event") == "step" and j.get("step") == "resume" and t]
    r["switch_total_ms"] = f"{(a.switch_end - a.switch_start) * 1000:.1f}"
    if a.method == "cutover":
        done = [j for j in sw_lines if j.get("event") == "done"]
        errs = [j for j in sw_lines if j.get("event") == "error"]
        r["switch_ok"] = "yes" if a.switch_rc == 0 and done else "NO"
        if done:
            r["pause_ms"] = f"{done[-1].get('client_pause_ms', 0):.1f}"
            r["steps"] = " ".join(f"{t['step']}={t['ms']:.1f}" for t in done[-1].get("timeline", []))
        if errs:
            notes.append("switch error: " + errs[-1].get("message", "?"))
        elif a.switch_rc != 0:
            notes.append(f"switch exit status {a.switch_rc}")
    else:
        j = sw_lines[-1] if sw_lines else {}
        r["switch_ok"] = "yes" if a.switch_rc == 0 and j.get("ok") else "NO"
        if "writes_refused_ms" in j:
            r["pause_ms"] = f"{j['writes_refused_ms']:.1f}"
        r["steps"] = " ".join(f"{t['step']}={t['ms']:.1f}" for t in j.get("steps", []))
        if not j.get("ok"):
            notes.append(f"switch failed at {j.get('failed_step', '?')}: {j.get('error', 'no output')}")

    # The workload.
    lines = read_stamped(a.workload)
    reports = [(t, j) for t, j in lines if j.get("event") == "report"]
    progress = [(t, j) for t, j in lines if j.get("event") == "progress"]
    exits = [j for _, j in lines if j.get("event") == "exit"]
    werrs = [j for _, j in lines if j.get("event") == "error"]
    r["workload_rc"] = str(exits[-1]["rc"]) if exits else "?"
    if werrs:
        notes.append("workload error: " + werrs[-1].get("message", "?"))
    if not reports:
        notes.append("no workload report")
        r["note"] = "; ".join(notes)
        return r
    rep = reports[-1][1]
    # When the run's clock started, in wall-clock time: each progress line says how long
    # after it it was printed. The earliest estimate is the closest (printing lags).
    run_start = min((t - j["elapsed_s"] for t, j in progress), default=None)
    r["longest_op_ms"] = f"{rep['longest_op_ms']:.1f}"
    windows = rep.get("windows", [])
    if windows:
        w = max(windows, key=lambda w: w["max_ms"])
        r["longest_at_s"] = f"{w['start_s']:.1f}"
    if run_start is not None:
        lo, hi = a.switch_start - run_start, a.switch_end - run_start
        r["move_at_s"] = f"{lo:.2f}"
        if a.method == "cutover" and resumed:
            r["resumed_at_s"] = f"{resumed[0] - run_start:.2f}"
        away = [w["max_ms"] for w in windows
                if w["start_s"] + WINDOW_S < lo - MARGIN_S or w["start_s"] > hi + MARGIN_S]
        r["longest_away_ms"] = f"{max(away, default=0):.1f}"
    err_windows = [w for w in windows if w["errors"] > 0]
    if err_windows:
        span = err_windows[-1]["start_s"] - err_windows[0]["start_s"] + WINDOW_S
        r["error_window_ms"] = f"{span * 1000:.0f}"
    else:
        r["error_window_ms"] = "0"
    r["errors"] = str(rep.get("error_count", 0))
    r["errors_by_code"] = " | ".join(f"{k} x{v}" for k, v in sorted(rep.get("errors", {}).items()))
    r["operations"] = str(rep.get("operations", 0))
    if rep.get("duration_s"):
        r["ops_per_s"] = f"{rep['operations'] / rep['duration_s']:.0f}"
    chk = rep.get("check")
    if chk:
        r["appends_ack"] = str(chk["appends_acknowledged"])
        r["missing"] = str(chk["appends_missing"])
        r["duplicated"] = str(chk["appends_duplicated"])
        r["unexpected"] = str(chk["appends_unexpected"])
        r["unknown"] = f"{chk['appends_unknown']} ({chk['appends_unknown_present']} present)"
        r["bank_ok"] = "yes" if chk["bank_total_found"] == chk["bank_total_expected"] else \
            f"NO ({chk['bank_total_found']} != {chk['bank_total_expected']})"
    else:
        notes.append("not checked")
    r["workload_ok"] = "yes" if rep.get("ok") else "NO"
    r["note"] = "; ".join(notes)
    return r


def cmd_row(a):
    r = row(a)
    new = False
    try:
        new = open(a.tsv).read(1) == ""
    except OSError:
        new = True
    with open(a.tsv, "a", newline="") as f:
        w = csv.DictWriter(f, COLUMNS, delimiter="\t", lineterminator="\n")
        if new:
            w.writeheader()
        w.writerow(r)
    print(f"{r['method']} rate={r['rate']} move {r['move']} {r['direction']}: switch {r['switch_ok']}"
          f" pause {r['pause_ms'] or '-'} ms, longest op {r['longest_op_ms'] or '-'} ms"
          f" (at {r['longest_at_s'] or '?'} s, move at {r['move_at_s'] or '?'} s; away from it {r['longest_away_ms'] or '-'} ms),"
          f" errors {r['errors'] or '-'} (for {r['error_window_ms'] or '-'} ms), missing {r['missing'] or '-'}, dup {r['duplicated'] or '-'},"
          f" bank {r['bank_ok'] or '-'}{' NOTE ' + r['note'] if r['note'] else ''}", file=sys.stderr)


def f(x):
    try:
        return float(x)
    except ValueError:
        return None


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


def label(method, rate, setting=""):
    speed = "full speed" if rate in ("0", "") else f"{rate}/s"
    tool = "cutover" if method == "cutover" else "haproxy + kill connections"
    return f"{tool} at {speed}" + (f", {setting}" if setting else "")


def group_of(r):
    return (r["method"], r["rate"], r.get("setting") or "")


def cmd_summary(a):
    rows = list(csv.DictReader(open(a.tsv), delimiter="\t"))
    groups = list(dict.fromkeys(group_of(r) for r in rows))
    out = []
    p = out.append
    for g in groups:
        rs = [r for r in rows if group_of(r) == g]
        cutover = g[0] == "cutover"
        pause_name = "client pause ms (proxy)" if cutover else "writes refused ms (read_only .. kill)"
        p(f"\n### {label(*g)}: per move\n")
        p(f"| move | direction | switch | {pause_name} | {'' if cutover else 'read_only / catch-up / promote ms | '}"
          f"longest op ms | at s (move at) | longest op away from move ms "
          f"| errors | error window ms | acked appends | missing | dup | bank | ops/s |")
        p("|---:|---|---|---:|" + ("" if cutover else "---:|") + "---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
        for r in rs:
            extra = ""
            if not cutover:
                st = dict(kv.split("=") for kv in r.get("steps", "").split())
                extra = " / ".join(st.get(k, "-") for k in ("read_only_on_old", "catch_up_new", "promote_new")) + " | "
            p(f"| {r['move']} | {r['direction']} | {r['switch_ok']} | {r['pause_ms'] or '-'} | {extra}{r['longest_op_ms'] or '-'} "
              f"| {r['longest_at_s'] or '?'} ({r['move_at_s'] or '?'}) | {r['longest_away_ms'] or '-'} "
              f"| {r['errors'] or '-'} | {r['error_window_ms'] or '-'} | {r['appends_ack'] or '-'} | {r['missing'] or '-'} "
              f"| {r['duplicated'] or '-'} | {r['bank_ok'] or '-'} | {r['ops_per_s'] or '-'} |")
        codes = {}
        for r in rs:
            for part in filter(None, r["errors_by_code"].split(" | ")):
                key, _, n = part.rpartition(" x")
                codes[key] = codes.get(key, 0) + int(n)
        if codes:
            p("\nErrors by code over all moves: " + "; ".join(f"`{k}` ×{v}" for k, v in sorted(codes.items())))
        notes = [f"move {r['move']}: {r['note']}" for r in rs if r["note"]]
        if notes:
            p("\nNotes: " + "; ".join(notes))

    p("\n### Summary\n")
    p("| method | moves | switch ok | longest op ms: median | max | pause ms: median (cutover: at the proxy; haproxy: "
      "read_only .. kill) | longest op away from move ms: median "
      "| errors (all moves) | moves with errors | error window ms: median | lost writes (missing) | duplicated | bank ok |")
    p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    verdicts = []
    for g in groups:
        rs = [r for r in rows if group_of(r) == g]
        lo = [f(r["longest_op_ms"]) for r in rs if f(r["longest_op_ms"]) is not None]
        errors = sum(int(r["errors"] or 0) for r in rs)
        missing = sum(int(r["missing"] or 0) for r in rs)
        dup = sum(int(r["duplicated"] or 0) for r in rs)
        unexpected = sum(int(r["unexpected"] or 0) for r in rs)
        bank_ok = sum(1 for r in rs if r["bank_ok"] == "yes")
        sw_ok = sum(1 for r in rs if r["switch_ok"] == "yes")
        with_err = sum(1 for r in rs if int(r["errors"] or 0) > 0)
        p(f"| {label(*g)} | {len(rs)} | {sw_ok}/{len(rs)} | {fmt(med(lo))} | {fmt(max(lo) if lo else None)} "
          f"| {fmt(med(f(r['pause_ms']) for r in rs))} | {fmt(med(f(r['longest_away_ms']) for r in rs))} "
          f"| {errors:,} | {with_err} | {fmt(med(f(r['error_window_ms']) for r in rs), 0)} | {missing} | {dup} "
          f"| {bank_ok}/{len(rs)} |")
        pauses = [f(r["pause_ms"]) for r in rs if f(r["pause_ms"]) is not None]
        if g[0] == "cutover" and "sessions" in g[2] and pauses:
            verdicts.append(f"- {label(*g)}: pause median {med(pauses):.1f} ms <= 100: "
                            f"{'met' if med(pauses) <= 100 else 'NOT met'}; every move succeeded "
                            f"({sw_ok}/{len(rs)}): {'met' if sw_ok == len(rs) else 'NOT met'}")
        elif g[0] == "cutover" and lo:
            checks = [
                (f"median longest stall {med(lo):.1f} ms <= 100", med(lo) <= 100),
                (f"worst {max(lo):.1f} ms <= 250", max(lo) <= 250),
                (f"errors {errors} == 0", errors == 0),
                (f"lost writes {missing} (+{dup} duplicated, {unexpected} unexpected, "
                 f"{len(rs) - bank_ok} bank mismatch) == 0",
                 missing == 0 and dup == 0 and unexpected == 0 and bank_ok == len(rs)),
                (f"every move succeeded ({sw_ok}/{len(rs)})", sw_ok == len(rs)),
            ]
            verdicts.append(f"- {label(*g)}: " + "; ".join(f"{t}: {'met' if ok else 'NOT met'}" for t, ok in checks))
    if verdicts:
        p("\nGoals (moves under load: median longest stall <= 100 ms, worst <= 250 ms, zero errors, zero lost "
          "writes; idle sessions: pause median <= 100 ms):")
        out.extend(verdicts)
    text = "\n".join(out) + "\n"
    print(text)
    if a.markdown:
        open(a.markdown, "w").write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("row")
    r.add_argument("--tsv", required=True)
    r.add_argument("--method", required=True, choices=["cutover", "haproxy"])
    r.add_argument("--rate", required=True)
    r.add_argument("--setting", default="", help='what else held for this move: "replica 5 s behind", "1000 sessions"')
    r.add_argument("--move", required=True)
    r.add_argument("--direction", required=True)
    r.add_argument("--workload", required=True)
    r.add_argument("--switch", required=True)
    r.add_argument("--switch-rc", type=int, required=True)
    r.add_argument("--switch-start", type=float, required=True)
    r.add_argument("--switch-end", type=float, required=True)
    s = sub.add_parser("summary")
    s.add_argument("--tsv", required=True)
    s.add_argument("--markdown")
    a = ap.parse_args()
    if a.cmd == "row":
        cmd_row(a)
    else:
        cmd_summary(a)


if __name__ == "__main__":
    main()
