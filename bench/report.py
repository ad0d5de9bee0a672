#!/usr/bin/env python3
"""bench/report.py RESULTS_DIR [--docs DOCS_DIR] — the table of one bench/run.sh run (standard library only).

Prints every figure and its ratio to HotDtls; with --docs, rewrites the generated part of DOCS_DIR/benchmarks.md
(between the BEGIN/END markers) and draws DOCS_DIR/benchmarks-echo.png with gnuplot.
"""
import json, os, subprocess, sys, datetime, platform

def load(results, name):
    path = os.path.join(results, name + ".json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}

def fmt(x, digits=0):
    if x is None or x != x:
        return "—"
    return f"{x:,.{digits}f}"

def ratio(hot, other):
    if not hot or not other:
        return "—"
    return f"{hot / other:.2f}×"

SERVERS = [
    ("c-mmsg", "C recvmmsg/sendmmsg echo (plaintext, ceiling)", True),
    ("udp-blocking", "C# blocking ReceiveFrom echo (plaintext)", True),
    ("udp-async", "C# ReceiveFromAsync echo (plaintext)", True),
    ("openssl", "OpenSSL 3 DTLS 1.2 PSK echo in C", False),
    ("bouncycastle", "BouncyCastle 2.7.0 DTLS 1.2 PSK echo in C#", False),
    ("hotdtls", "HotDtls (`hotdtls serve --echo --quiet --loops 1`, batched recvmmsg/sendmmsg)", False),
    ("hotdtls-blocking", "HotDtls, `--receive blocking` (ReceiveFrom thread)", False),
    ("hotdtls-async", "HotDtls, `--receive async` (ReceiveFromAsync)", False),
]

def server_us_per_op(results, name):
    """Server CPU µs per operation over the generator's measured window (HotDtls.Load --pid)."""
    return load(results, name).get("server_cpu_us_per_op")

def main():
    results = sys.argv[1]
    docs = sys.argv[sys.argv.index("--docs") + 1] if "--docs" in sys.argv else None
    hot_echo = load(results, "hotdtls-echo").get("datagrams_per_second")
    hot_hs = load(results, "hotdtls-handshake").get("handshakes_per_second")
    hot_echo256 = load(results, "hotdtls-echo256").get("datagrams_per_second")
    rows = []
    for key, label, plain in SERVERS:
        echo = load(results, key + "-echo")
        hs = {} if plain else load(results, key + "-handshake")
        echo256 = {} if plain else load(results, key + "-echo256")
        has_hs = bool(hs)
        rows.append((label,
                     fmt(echo.get("datagrams_per_second")), ratio(hot_echo, echo.get("datagrams_per_second")) if key != "hotdtls" else "1.00×",
                     fmt(server_us_per_op(results, key + "-echo"), 1),
                     fmt(echo.get("rtt_p50_us")), fmt(echo.get("rtt_p99_us")), fmt(100 * echo.get("loss", float("nan")), 2),
                     fmt(echo256.get("datagrams_per_second")) if echo256 else "n/a",
                     (ratio(hot_echo256, echo256.get("datagrams_per_second")) if key != "hotdtls" else "1.00×") if echo256 else "n/a",
                     fmt(hs.get("handshakes_per_second")) if has_hs else "n/a",
                     (ratio(hot_hs, hs.get("handshakes_per_second")) if key != "hotdtls" else "1.00×") if has_hs else "n/a",
                     fmt(server_us_per_op(results, key + "-handshake"), 1) if has_hs else "n/a",
                     fmt(hs.get("latency_p99_us")) if has_hs else "n/a"))
    lines = []
    lines.append("| server | echo datagrams/s | HotDtls ÷ this | server CPU µs/datagram | RTT p50 µs | RTT p99 µs | loss % "
                 "| echo AES-256 datagrams/s | HotDtls ÷ this | handshakes/s | HotDtls ÷ this | server CPU µs/handshake | handshake p99 µs |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")
    ceiling = load(results, "ceiling")
    hot_half = load(results, "hotdtls-half")
    udp_half = load(results, "udp-async-half")
    extra = []
    extra.append(f"* Generator ceiling (plain echo against the C recvmmsg server, NOT a server figure): "
                 f"{fmt(ceiling.get('datagrams_per_second'))} datagrams/s; generator CPU {fmt(ceiling.get('generator_cpu_us_per_op'), 2)} µs per round trip "
                 f"(≈ {fmt(ceiling.get('generator_ceiling_per_core'))}/s per generator core).")
    hs_gen = load(results, "hotdtls-handshake")
    if hs_gen:
        extra.append(f"* Generator cost per handshake: {fmt(hs_gen.get('generator_cpu_us_per_op'), 1)} µs of CPU "
                     f"(≈ {fmt(hs_gen.get('generator_ceiling_per_core'))} handshakes/s per generator core).")
    if hot_half and udp_half:
        p_hot, p_udp = hot_half.get("rtt_p99_us"), udp_half.get("rtt_p99_us")
        extra.append(f"* RTT p99 at half of each server's peak: HotDtls {fmt(p_hot)} µs at {fmt(hot_half.get('datagrams_per_second'))}/s, "
                     f"C# ReceiveFromAsync plaintext {fmt(p_udp)} µs at {fmt(udp_half.get('datagrams_per_second'))}/s "
                     f"(ratio {ratio(p_hot, p_udp)}; target ≤ 1.5×).")
    holds = [n[:-5] for n in os.listdir(results) if n.startswith("hotdtls-hold-") and n.endswith(".json")]
    for name in sorted(holds, key=lambda n: int(n[13:]) if n[13:].isdigit() else 0):
        h = load(results, name)
        count = f"{int(name[13:]):,}" if name[13:].isdigit() else name[13:]
        if "skipped" in h:
            extra.append(f"* HotDtls RSS per established idle session, {count} sessions: {h['skipped']}.")
            continue
        how = "generator sockets closed once established" if h.get("sockets_released") else "a keep-alive every 30 s"
        held = h.get("sessions_held")
        short_of = (f"; only {fmt(held)} of {fmt(h.get('sessions_requested'))} established, {fmt(h.get('failures'))} handshakes failed"
                    if held is not None and held != h.get("sessions_requested") else "")
        extra.append(f"* HotDtls RSS per established idle session, {count} sessions ({how}{short_of}): "
                     f"{fmt(h.get('server_rss_per_session_bytes'))} B (server RSS {fmt(h.get('server_rss_before_kib'))} → {fmt(h.get('server_rss_after_kib'))} KiB; target ≤ 1024 B).")
    table = "\n".join(lines + [""] + extra)
    print(table)
    if docs:
        write_docs(docs, table, rows, results)

def run_time(results):
    """When the run started: from its directory name (run-YYYYmmddTHHMMSSZ), so re-rendering keeps the date."""
    name = os.path.basename(os.path.normpath(results))
    try:
        return datetime.datetime.strptime(name, "run-%Y%m%dT%H%M%SZ")
    except ValueError:
        return datetime.datetime.now(datetime.timezone.utc)

def write_docs(docs, table, rows, results):
    md = os.path.join(docs, "benchmarks.md")
    with open(md) as f:
        text = f.read()
    begin, end = "<!-- BEGIN bench/run.sh -->", "<!-- END bench/run.sh -->"
    stamp = (f"Run {run_time(results):%Y-%m-%d %H:%M} UTC on {platform.node()} "
             f"({os.cpu_count()} CPUs, {platform.platform()}); server on CPU 0, generator on CPU 1.\n\n")
    generated = begin + "\n" + stamp + table + "\n\n![echo throughput](benchmarks-echo.png)\n" + end
    if begin in text and end in text:
        text = text[:text.index(begin)] + generated + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    with open(md, "w") as f:
        f.write(text)
    data = os.path.join(docs, ".benchmarks-echo.dat")
    with open(data, "w") as f:
        for label, dps, *_ in rows:
            short = label.split(" (")[0].replace('"', "'").replace("`", "")
            f.write(f'"{short}" {dps.replace(",", "") if dps != "—" else 0}\n')
    script = f"""set terminal png size 1000,500
set output '{os.path.join(docs, "benchmarks-echo.png")}'
set title 'Echo, 1200-byte datagrams, 16 sessions x 8 in flight (datagrams/s, higher is better)'
set style data histograms
set style fill solid 0.8
set boxwidth 0.7
set xtics rotate by -20 font ',9'
set yrange [0:*]
set grid ytics
unset key
plot '{data}' using 2:xtic(1) lc rgb '#3070b0'
"""
    try:
        subprocess.run(["gnuplot"], input=script, text=True, check=True)
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"chart not drawn ({error}); install gnuplot (apt-get install gnuplot-nox)", file=sys.stderr)
    finally:
        os.remove(data)

if __name__ == "__main__":
    main()
