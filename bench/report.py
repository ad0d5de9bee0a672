#!/usr/bin/env python3
"""bench/report.py RESULTS_DIR [--docs DOCS_DIR] — the table of one bench/run.sh run (standard library only).
bench/report.py --suites RESULTS_DIR [--docs DOCS_DIR] — the table of one bench/suites.sh run.

Prints every figure and its ratio to HotDtls; with --docs, rewrites the generated part of DOCS_DIR/benchmarks.md
(between the BEGIN/END markers of bench/run.sh, or of bench/suites.sh) and, for bench/run.sh, draws
DOCS_DIR/benchmarks-echo.png with gnuplot.
"""
import json, os, statistics, subprocess, sys, datetime, platform

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
    args = sys.argv[1:]
    docs = None
    if "--docs" in args:
        i = args.index("--docs")
        docs = args[i + 1]
        del args[i:i + 2]
    if "--suites" in args:
        args.remove("--suites")
        suites_main(args[0], docs)
        return
    results = args[0]
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
    def hold_key(n):
        # hotdtls-hold-<count>[c]: "c" for the runs with Connection ID negotiated (run.sh's HOLD entries).
        digits = n[13:].rstrip("c")
        return (n.endswith("c"), int(digits) if digits.isdigit() else 0)
    for name in sorted(holds, key=hold_key):
        h = load(results, name)
        with_cid, number = hold_key(name)
        count = f"{number:,}" if number else name[13:]
        if "skipped" in h:
            extra.append(f"* HotDtls RSS per established idle session, {count} sessions{' with CID' if with_cid else ''}: {h['skipped']}.")
            continue
        how = "generator sockets closed once established" if h.get("sockets_released") else "a keep-alive every 30 s"
        if with_cid:
            how += f", Connection ID negotiated by {fmt(h.get('sessions_with_cid'))}"
        held = h.get("sessions_held")
        short_of = (f"; only {fmt(held)} of {fmt(h.get('sessions_requested'))} established, {fmt(h.get('failures'))} handshakes failed"
                    if held is not None and held != h.get("sessions_requested") else "")
        extra.append(f"* HotDtls RSS per established idle session, {count} sessions ({how}{short_of}): "
                     f"{fmt(h.get('server_rss_per_session_bytes'))} B (server RSS {fmt(h.get('server_rss_before_kib'))} → {fmt(h.get('server_rss_after_kib'))} KiB; target ≤ 1024 B).")
    resumption = resumption_table(results)
    table = "\n".join(lines + [""] + extra + ([""] + resumption if resumption else []))
    print(table)
    if docs:
        write_docs(docs, table, rows, results)

def resumption_table(results):
    """Full and abbreviated handshakes, HotDtls beside OpenSSL's C server resuming the same way (bench/run.sh)."""
    rows = [("PSK AES-128-GCM: full handshake", "handshake"), ("PSK AES-128-GCM: resumed by session ID", "resume-id"),
            ("PSK AES-128-GCM: resumed by RFC 5077 ticket", "resume-ticket"),
            ("ECDHE_PSK ChaCha20 (X25519): full handshake", "resume-ecdhe-full"),
            ("ECDHE_PSK ChaCha20: resumed by RFC 5077 ticket", "resume-ecdhe-ticket")]
    if not any(load(results, f"hotdtls-{suffix}") for _, suffix in rows[1:]):
        return []
    lines = ["Resumption: the abbreviated handshake (RFC 5246 §7.3), each slot's first handshake full and every later one "
             "resumed (`HotDtls.Load handshake --resume id|ticket`); OpenSSL's C server with `--resume id` (session cache, "
             "no tickets) or `--resume ticket` (tickets, no cache); HotDtls's `serve` does both by default.",
             "",
             "| handshake | HotDtls handshakes/s | OpenSSL handshakes/s | HotDtls server CPU µs | OpenSSL server CPU µs "
             "| OpenSSL ÷ HotDtls (CPU) | resumed, HotDtls / OpenSSL |",
             "|---|--:|--:|--:|--:|--:|--:|"]
    for label, suffix in rows:
        hot, other = load(results, f"hotdtls-{suffix}"), load(results, f"openssl-{suffix}")
        hot_cpu, other_cpu = hot.get("server_cpu_us_per_op"), other.get("server_cpu_us_per_op")
        resumed = "—" if suffix in ("handshake", "resume-ecdhe-full") else \
            f"{fmt(hot.get('handshakes_resumed'))} of {fmt(hot.get('handshakes'))} / {fmt(other.get('handshakes_resumed'))} of {fmt(other.get('handshakes'))}"
        lines.append(f"| {label} | {fmt(hot.get('handshakes_per_second'))} | {fmt(other.get('handshakes_per_second'))} "
                     f"| {fmt(hot_cpu, 1)} | {fmt(other_cpu, 1)} | {ratio(other_cpu, hot_cpu)} | {resumed} |")
    return lines

def run_time(results, prefix="run-"):
    """When the run started: from its directory name (run-YYYYmmddTHHMMSSZ), so re-rendering keeps the date."""
    name = os.path.basename(os.path.normpath(results))
    try:
        return datetime.datetime.strptime(name, prefix + "%Y%m%dT%H%M%SZ")
    except ValueError:
        return datetime.datetime.now(datetime.timezone.utc)

def replace_between(md, begin, end, generated):
    """Puts GENERATED (markers included) in place of what lies between BEGIN and END in MD, or at its end."""
    with open(md) as f:
        text = f.read()
    if begin in text and end in text:
        text = text[:text.index(begin)] + generated + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    with open(md, "w") as f:
        f.write(text)

# ---- bench/suites.sh ----------------------------------------------------------------------------------------------

def suites_main(results, docs):
    """Medians over rounds of the server CPU per echo datagram and per handshake, HotDtls beside OpenSSL, per suite."""
    with open(os.path.join(results, "suites.txt")) as f:
        rows = [line.rstrip("\n").split("|") for line in f if line.strip()]
    settings = load(results, "settings")
    rounds = int(settings.get("rounds", 1))

    def runs(server, key, mode):
        return [load(results, f"{server}-{key}-{mode}-{r}") for r in range(1, rounds + 1)]

    def med(values):
        values = [v for v in values if isinstance(v, (int, float))]
        return statistics.median(values) if values else None

    def per_round(values, digits):
        return " ".join(fmt(v, digits) if isinstance(v, (int, float)) else "–" for v in values)

    def ratio_of(openssl, hot):
        """Median over rounds of OpenSSL ÷ HotDtls: each round's two servers ran back to back, so a round that was slow
        for both (the machine is shared) cancels out, where a ratio of medians would mix rounds."""
        pairs = [o / h for o, h in zip(openssl, hot) if isinstance(o, (int, float)) and isinstance(h, (int, float)) and o and h]
        return f"{statistics.median(pairs):.2f}×" if pairs else "—"

    def rate(v):
        return "—" if v is None else (f"{v / 1000:.1f}k" if v >= 1000 else f"{v:.0f}")

    lines = ["| suite | HotDtls CPU µs/echo | OpenSSL CPU µs/echo | OpenSSL ÷ HotDtls | HotDtls CPU µs/handshake "
             "| OpenSSL CPU µs/handshake | OpenSSL ÷ HotDtls | echoes/s HotDtls / OpenSSL | handshakes/s HotDtls / OpenSSL |",
             "|---|--:|--:|--:|--:|--:|--:|--:|--:|"]
    notes, detail, summary = [], [], {}
    for key, label, ciphers, _groups, _suite, _group, expected in rows:
        hotdtls_only = ciphers == "-"
        fig = {}
        for server in ("hotdtls",) if hotdtls_only else ("hotdtls", "openssl"):
            echo, hs = runs(server, key, "echo"), runs(server, key, "handshake")
            for mode, data in (("echo", echo), ("handshake", hs)):
                negotiated = {d.get("suite") for d in data if d.get("suite")}
                if negotiated - {expected}:
                    notes.append(f"* **{label}, {server} {mode}: negotiated {', '.join(sorted(negotiated))}, not {expected}** — "
                                 "these figures are not this suite's.")
                failed = [d.get("error") for d in data if not d or d.get("error")]
                if failed:
                    notes.append(f"* {label}, {server} {mode}: {len(failed)} of {rounds} run(s) failed "
                                 f"({failed[0] or 'no result'}); see {os.path.basename(results)}/{server}-{key}-{mode}-*.txt.")
            fig[server] = {
                "echo_cpu": [d.get("server_cpu_us_per_op") for d in echo],
                "hs_cpu": [d.get("server_cpu_us_per_op") for d in hs],
                "echo_rate": med(d.get("datagrams_per_second") for d in echo),
                "hs_rate": med(d.get("handshakes_per_second") for d in hs),
                "gen_hs_cpu": med(d.get("generator_cpu_us_per_op") for d in hs),
            }
            fig[server]["echo_cpu_median"] = med(fig[server]["echo_cpu"])
            fig[server]["hs_cpu_median"] = med(fig[server]["hs_cpu"])
            detail.append(f"  {label}, {server}: CPU µs/echo {per_round(fig[server]['echo_cpu'], 2)}; "
                          f"CPU µs/handshake {per_round(fig[server]['hs_cpu'], 1)}; "
                          f"generator CPU µs/handshake {fmt(fig[server]['gen_hs_cpu'], 1)}")
        hot, ossl = fig["hotdtls"], fig.get("openssl")
        summary[key] = {"label": label, "suite": expected, **{s: {k: v for k, v in f.items()} for s, f in fig.items()}}
        if ossl is None:
            lines.append(f"| {label} — HotDtls only (OpenSSL 3.0 lacks it) | {fmt(hot['echo_cpu_median'], 2)} | n/a | n/a "
                         f"| {fmt(hot['hs_cpu_median'], 1)} | n/a | n/a | {rate(hot['echo_rate'])} / n/a | {rate(hot['hs_rate'])} / n/a |")
        else:
            lines.append(f"| {label} | {fmt(hot['echo_cpu_median'], 2)} | {fmt(ossl['echo_cpu_median'], 2)} "
                         f"| {ratio_of(ossl['echo_cpu'], hot['echo_cpu'])} "
                         f"| {fmt(hot['hs_cpu_median'], 1)} | {fmt(ossl['hs_cpu_median'], 1)} "
                         f"| {ratio_of(ossl['hs_cpu'], hot['hs_cpu'])} "
                         f"| {rate(hot['echo_rate'])} / {rate(ossl['echo_rate'])} | {rate(hot['hs_rate'])} / {rate(ossl['hs_rate'])} |")
    with open(os.path.join(results, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    how = (f"Medians of {rounds} round(s), the servers' order alternating each round; echo {settings.get('echo_seconds')} s "
           f"after a {settings.get('warmup_seconds')} s warm-up, {int(settings.get('handshakes', 0)):,} handshakes after the same "
           "warm-up. OpenSSL ÷ HotDtls: the median of each round's ratio (the two servers of a round ran back to back); "
           "above 1, HotDtls spends less CPU per operation. Rates are capped by the one generator core (its CPU per "
           "echo and per handshake is in the results) and are given for reference only.")
    table = "\n".join(lines + [""] + [how] + ([""] + notes if notes else []))
    print(table)
    print()
    print("Per round (results in " + results + "):")
    print("\n".join(detail))
    if docs:
        stamp = (f"Run {run_time(results, 'suites-'):%Y-%m-%d %H:%M} UTC on {platform.node()} "
                 f"({os.cpu_count()} CPUs, {platform.platform()}); server on CPU 0, generator on CPU 1; "
                 f"results in `bench/results/{os.path.basename(os.path.normpath(results))}/`.\n\n")
        begin, end = "<!-- BEGIN bench/suites.sh -->", "<!-- END bench/suites.sh -->"
        replace_between(os.path.join(docs, "benchmarks.md"), begin, end, begin + "\n" + stamp + table + "\n" + end)

def write_docs(docs, table, rows, results):
    md = os.path.join(docs, "benchmarks.md")
    begin, end = "<!-- BEGIN bench/run.sh -->", "<!-- END bench/run.sh -->"
    stamp = (f"Run {run_time(results):%Y-%m-%d %H:%M} UTC on {platform.node()} "
             f"({os.cpu_count()} CPUs, {platform.platform()}); server on CPU 0, generator on CPU 1.\n\n")
    replace_between(md, begin, end, begin + "\n" + stamp + table + "\n\n![echo throughput](benchmarks-echo.png)\n" + end)
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
