"""Figures and the printed report of bench_profiles_form.py: summaries per form, per-round ratios,
where the time of a navigation goes (Navigation and Resource Timing)."""

from __future__ import annotations

import math
import os
import statistics

#: the issue's targets for nav -> interactive, cold and warm (issue #14, item 2)
TARGET_BUILTIN, TARGET_FANCY = 1.05, 0.40
TARGET_RENDER = 1.1  # the server render, ours over the built-in form
#: Navigation Timing marks of a page, in the order they happen (ms since navigation start)
MARKS = (
    ("ttfb", "HTML first byte (TTFB)"),
    ("response_end", "HTML response end"),
    ("dom_interactive", "DOM interactive (HTML parsed)"),
    ("interactive", "form interactive (probe)"),
    ("dom_content_loaded", "DOMContentLoaded end"),
    ("fcp", "first contentful paint"),
    ("load", "load event end"),
)


def pct(samples: list[float], p: float) -> float | None:  # nearest rank
    s = sorted(samples)
    return round(s[max(0, math.ceil(p / 100 * len(s)) - 1)], 2) if s else None


def med(samples: list[float], digits: int = 1) -> float | None:
    return round(statistics.median(samples), digits) if samples else None


def nav_summary(runs: list[dict]) -> dict:
    ok = [r for r in runs if r["interactive"] is not None]
    t = [r["interactive"] for r in ok]
    out = {"median_ms": med(t), "p90_ms": pct(t, 90), "n": len(runs), "failed": len(runs) - len(ok)}
    out["lost_selections"] = sum(r["lost"] for r in runs)
    # a person cannot pick what is not painted yet: the later of interactive and first paint
    out["painted_median_ms"] = med([max(r["interactive"], r["fcp"] or 0) for r in ok])
    for k, _ in MARKS:
        out[f"{k}_median_ms"] = med([r[k] for r in runs if r[k] is not None])
    out["html_transfer_median"] = med([r["html_transfer"] for r in runs], 0)
    # what the page fetched (transfer: 0 when the HTTP cache answered) and what blocked rendering
    out["fetched_median"] = med([sum(x["transfer"] > 0 for x in r["resources"]) for r in runs], 0)
    out["fetched_bytes_median"] = med([sum(x["transfer"] for x in r["resources"]) for r in runs], 0)
    out["before_interactive_median"] = med(
        [sum(x["end"] <= r["interactive"] for x in r["resources"]) for r in ok], 0
    )
    out["resources"] = resource_table(runs)
    return out


def resource_table(runs: list[dict]) -> list[dict]:
    """Each URL the page loaded: in how many runs, median start, end and bytes sent."""
    by_url: dict[str, list[dict]] = {}
    for r in runs:
        for x in r["resources"]:
            by_url.setdefault(x["url"], []).append(x)
    rows = []
    for url, xs in by_url.items():
        rows.append(
            {
                "url": url,
                "type": xs[0]["type"],
                "blocking": xs[0]["blocking"],
                "runs": len(xs),
                "start_ms": med([x["start"] for x in xs]),
                "end_ms": med([x["end"] for x in xs]),
                "transfer": med([x["transfer"] for x in xs], 0),
                "body": med([x["body"] for x in xs], 0),
            }
        )
    return sorted(rows, key=lambda x: x["start_ms"])


def per_round(runs: dict[str, list[dict]], ours: str, base: str) -> dict:
    """Median of `ours` over median of `base` in each round; their median and spread."""
    rounds = sorted({r["round"] for r in runs[ours]})
    ratios = []
    for k in rounds:

        def median_of(form: str, k: int = k) -> float | None:
            t = [r["interactive"] for r in runs[form] if r["round"] == k and r["interactive"]]
            return statistics.median(t) if t else None

        a, b = median_of(ours), median_of(base)
        if a is not None and b:
            ratios.append(a / b)
    return spread(ratios)


def spread(ratios: list[float]) -> dict:
    """Per-round (or per-batch) ratios: all of them, their median, quartiles and extremes."""
    return {
        "ratios": [round(x, 3) for x in ratios],
        "median": med(ratios, 3),
        "min": round(min(ratios), 3) if ratios else None,
        "max": round(max(ratios), 3) if ratios else None,
        "p25": pct(ratios, 25),
        "p75": pct(ratios, 75),
    }


def per_batch(ours: list[float], base: list[float], batches: int) -> dict:
    """The server renders in `batches` consecutive slices (the requests of the three forms
    alternate, so slice k of each form covers the same stretch of time): the ratio of medians
    in each slice, their median and spread, and the slices at or under the target."""
    size = min(len(ours), len(base)) // batches
    ratios = []
    for k in range(batches):
        a, b = ours[k * size : (k + 1) * size], base[k * size : (k + 1) * size]
        if a and b:
            ratios.append(statistics.median(a) / statistics.median(b))
    return {
        **spread(ratios),
        "batches": len(ratios),
        "size": size,
        "batches_met": sum(x <= TARGET_RENDER for x in ratios),
    }


def summarise(navigation: dict[str, dict[str, list[dict]]], forms: tuple) -> dict:
    out: dict = {}
    for kind in ("cold", "warm"):
        runs = {f: navigation[f][kind] for f in forms}
        out[kind] = {f: nav_summary(runs[f]) for f in forms}
        out[kind]["ratios"] = {
            "builtin": per_round(runs, "ours", "builtin"),
            "fancy": per_round(runs, "ours", "fancy"),
        }
        r = out[kind]["ratios"]
        r["builtin"]["rounds_met"] = sum(x <= TARGET_BUILTIN for x in r["builtin"]["ratios"])
        r["fancy"]["rounds_met"] = sum(x <= TARGET_FANCY for x in r["fancy"]["ratios"])
    return out


# -- the printed report ------------------------------------------------------------------------
def _bytes(n) -> str:
    return f"{n:,.0f} B" if n is not None else "n/a"


def _ms(v, digits: int = 1) -> str:
    return f"{v:.{digits}f} ms" if v is not None else "n/a"


def _ratio(a, b) -> str:
    return f"{a / b:.2f}x" if a is not None and b else "-"


def _met(value, limit) -> str:
    return "met" if value is not None and limit is not None and value <= limit else "NOT met"


def _script(s: dict) -> str:
    return f"  {s['url']}: {s['raw']:,} B raw, {s['gzip9']:,} B gz-9, {s['transfer']:,} B sent"


def _table(table: list[list[str]]) -> None:
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    for r in table:
        cells = [
            c.ljust(w) if i in (0, len(r) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())


def _spread(r: dict, target: float) -> str:
    return (
        f"{r['median']:.3f}x (p25-p75 {r['p25']:.3f}-{r['p75']:.3f}, min-max {r['min']:.3f}-"
        f"{r['max']:.3f}; <= {target}x in {r['rounds_met']} of {len(r['ratios'])} rounds: "
        f"{_met(r['median'], target)})"
    )


def report(res: dict, forms: tuple, titles: dict) -> None:
    pages, act, nav = res["pages"], res["interactions"], res["nav"]
    print(f"\nProfiles form at /hub/spawn: {res['rounds']} rounds of {res['loads']} cold loads per")
    print("form (each followed by a warm load in the same browser context), the three forms")
    print(f"interleaved; {res['clicks']} timed clicks per kind; Chromium {res['chromium']}; peers:")
    print("  " + ", ".join(f"{k} {v}" for k, v in res["versions"].items()))
    before, after = res["load_average_1min"]
    print(f"{res['measured_at']}; 1-min load average {before} before, {after} after")
    print(f"({os.cpu_count()} cores)")
    net = res.get("network")
    if net:
        print(
            f"network emulated by Chromium on every request: {net['rtt_ms']} ms round trip, "
            f"{net['mbps']} Mbit/s down, {net['mbps']} Mbit/s up"
        )
    print()
    head = ["figure", *(titles[f] for f in forms), "ours/built-in", "ours/fancy"]
    table = [head]

    def row(name: str, vals: list, fmt=_ms) -> None:
        table.append([name, *map(fmt, vals), _ratio(vals[2], vals[0]), _ratio(vals[2], vals[1])])

    row("entry script, raw", [pages[f]["entry"]["raw"] for f in forms], _bytes)
    row("entry script, gzip -9", [pages[f]["entry"]["gzip9"] for f in forms], _bytes)
    row("entry script, transferred", [pages[f]["entry"]["transfer"] for f in forms], _bytes)
    row("spawn page HTML, transferred", [pages[f]["html"]["transfer"] for f in forms], _bytes)
    for kind in ("cold", "warm"):
        s = nav[kind]
        row(f"{kind}: nav -> interactive, median", [s[f]["median_ms"] for f in forms])
        row(f"{kind}: nav -> interactive, p90", [s[f]["p90_ms"] for f in forms])
        row(f"{kind}:   at least first paint, median", [s[f]["painted_median_ms"] for f in forms])
        for key, label in MARKS:
            if key != "interactive":
                row(f"{kind}:   {label}", [s[f][f"{key}_median_ms"] for f in forms])
        row(f"{kind}:   resources fetched", [s[f]["fetched_median"] for f in forms], _num)
        row(f"{kind}:   bytes fetched", [s[f]["fetched_bytes_median"] for f in forms], _bytes)
        row(
            f"{kind}:   resources done before interactive",
            [s[f]["before_interactive_median"] for f in forms],
            _num,
        )
    for key, label in (("profile_click", "profile click"), ("option_change", "option change")):
        row(f"{label}, median", [act[f][key]["median_ms"] for f in forms], lambda v: _ms(v, 2))
        row(f"{label}, p90", [act[f][key]["p90_ms"] for f in forms], lambda v: _ms(v, 2))
    _table(table)

    print("\nnav -> interactive, median of the per-round ratios of medians (hub-extensions over):")
    for kind in ("cold", "warm"):
        r = nav[kind]["ratios"]
        print(f"  {kind}, built-in:       {_spread(r['builtin'], TARGET_BUILTIN)}")
        print(f"  {kind}, fancy-profiles: {_spread(r['fancy'], TARGET_FANCY)}")

    print("\ncold nav -> interactive by the form loaded just before (median ms, loads):")
    for form in forms:
        cells = []
        for prev in forms:
            runs = res["navigation"][form]["cold"]
            t = [r["interactive"] for r in runs if r.get("after") == prev and r["interactive"]]
            cells.append(f"after {prev}: {_ms(med(t))} ({len(t)})")
        print(f"  {titles[form]}: " + ", ".join(cells))

    for form in forms:
        n, a = nav["cold"][form], act[form]
        print(
            f"\n{titles[form]}: {n['failed']} + {nav['warm'][form]['failed']} runs never "
            f"interactive, {n['lost_selections']} selections lost to a re-render, "
            f"{a['profile_click']['failed']} + {a['option_change']['failed']} clicks without "
            "effect. Form scripts:"
        )
        for s in pages[form]["form_scripts"]:
            print(_script(s))
        for e in res["page_errors"][form]:
            print(f"  page error: {e[:200]}")
        print("  cold load, what the page fetched (median start / end ms, bytes sent, blocking):")
        for x in n["resources"]:
            print(
                f"    {x['start_ms']:7.1f} {x['end_ms']:7.1f}  {x['transfer']:>9,.0f} B  "
                f"{x['blocking']:<12} {x['url'][-72:]}"
            )
    common = {
        form: sorted(s["url"] for s in pages[form]["common_scripts"] if s["transfer"])
        for form in forms
    }
    one = len({tuple(v) for v in common.values()}) == 1
    same = "the same URLs on the three pages" if one else "DIFFERENT"
    print(f"\nJupyterHub's own page scripts, not counted above ({same}):")
    for s in pages["builtin"]["common_scripts"]:
        print(_script(s))
    print(
        f"\nClick figures: in-page performance.now() (Chromium coarsens it to 0.1 ms). Event Timing"
        f" supported: {act['ours']['profile_click']['event_timing']}, not used (8 ms granularity)."
    )


def _num(v) -> str:
    return f"{v:.0f}" if v is not None else "n/a"


def report_floor(res: dict) -> None:
    """The floor page's figures beside the fancy-profiles target they bound."""
    floor = res.get("floor")
    if not floor:
        return
    print(
        "\nfloor: a page with only the two radios (no stylesheet, script or hub; a static server"
        " on 127.0.0.1), median:"
    )
    for kind in ("cold", "warm"):
        f = floor[kind]
        fancy = res["nav"][kind]["fancy"]["median_ms"]
        print(
            f"  {kind}: nav -> interactive {_ms(f['interactive'])} (DOM interactive "
            f"{_ms(f['dom_interactive'])}, first byte {_ms(f['ttfb'])}); "
            f"{TARGET_FANCY}x fancy-profiles' median is {_ms(fancy * TARGET_FANCY)}"
        )


def _ratio_spread(r: dict) -> str:
    return f"{r['median']:.3f}x (p25-p75 {r['p25']:.3f}-{r['p75']:.3f})"


def report_references(res: dict, titles: dict) -> None:
    """Two bare radios in JupyterHub's spawn page and in the suite's, beside ours and
    fancy-profiles' loaded in turn with them."""
    for name, ref in res.get("references", {}).items():
        print(
            f"\nreference {name}: {titles[name]}, around a form of two bare radios (no profile"
            " list, no form script, no prices); each load followed by ours, then"
            " fancy-profiles':"
        )
        for kind in ("cold", "warm"):
            r = ref[kind]
            print(
                f"  {kind}: medians {_ms(r['reference_median_ms'])} / ours "
                f"{_ms(r['ours_median_ms'])} / fancy-profiles {_ms(r['fancy_median_ms'])}; "
                f"median of {len(r['over_fancy']['ratios'])} per-triple ratios: reference over "
                f"fancy-profiles {_ratio_spread(r['over_fancy'])}, ours over fancy-profiles "
                f"{_ratio_spread(r['ours_over_fancy'])} (the target {TARGET_FANCY}x), reference"
                f" over ours {_ratio_spread(r['over_ours'])}"
            )


def report_render(render: dict, forms: tuple, titles: dict) -> None:
    b, o = render["builtin"], render["ours"]
    ratio = o["server_median_ms"] / b["server_median_ms"] if b["server_median_ms"] else None
    print(f"\nGET /hub/spawn on the server (hub log), {o['n']} interleaved requests per form:")
    for f in forms:
        r = render[f]
        print(
            f"  {titles[f]}: median {r['server_median_ms']} ms, p90 {r['server_p90_ms']} ms "
            f"(client through the proxy: median {r['client_median_ms']} ms)"
        )
    if ratio is not None:
        print(f"  ours/built-in, server median: {ratio:.2f}x")
    r = render.get("ratio")
    if r and r["median"] is not None:
        print(
            f"  ours/built-in, median of per-batch ratios of medians ({r['batches']} batches of "
            f"{r['size']}): {r['median']:.3f}x (p25-p75 {r['p25']:.3f}-{r['p75']:.3f}, min-max "
            f"{r['min']:.3f}-{r['max']:.3f}; <= {TARGET_RENDER}x in {r['batches_met']} of "
            f"{r['batches']} batches: {_met(r['median'], TARGET_RENDER)})"
        )
