#!/usr/bin/env python3
"""Prints the performance tables of docs/performance.md from one run of the runtime's
criterion benchmarks (scripts/bench.sh runs them first). Every ratio is computed from
figures of the same run: a baseline and what is compared with it, side by side.

    python3 scripts/bench_tables.py [target/criterion]
"""

import json
import os
import sys


def load(root):
    """full_id -> (nanoseconds per iteration, elements per iteration) of every benchmark."""
    found = {}
    for directory, _, files in os.walk(root):
        if os.path.basename(directory) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(directory, "benchmark.json")) as f:
            benchmark = json.load(f)
        with open(os.path.join(directory, "estimates.json")) as f:
            estimates = json.load(f)
        # The figure criterion prints: the slope of the linear fit when it sampled
        # linearly, else the mean.
        estimate = estimates.get("slope") or estimates["mean"]
        elements = (benchmark.get("throughput") or {}).get("Elements", 1)
        found[benchmark["full_id"]] = (estimate["point_estimate"], elements)
    return found


def duration(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.3g} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.3g} µs"
    return f"{ns:.3g} ns"


def ratio(x):
    return f"{x:.3g}×"


class Tables:
    def __init__(self, figures):
        self.figures = figures
        self.missing = []

    def ns(self, full_id, per_element=False):
        if full_id not in self.figures:
            self.missing.append(full_id)
            return float("nan")
        ns, elements = self.figures[full_id]
        return ns / elements if per_element else ns

    def hot_path(self):
        t = self.ns
        print("`cargo bench -p conduit-metrics-runtime --bench hot_path`:\n")
        print("| group | variant | time | ratio |")
        print("|---|---|---|---|")
        std_now, raw = t("clock/std_instant_now"), t("clock/quanta_raw")
        print(f"| clock | `std::time::Instant::now()` | {duration(std_now)} | — |")
        print(f"| clock | `quanta` raw TSC read | {duration(raw)} | {ratio(std_now / raw)} cheaper |")
        bare, floor = t("success_path/bare"), t("success_path/floor")
        macro, naive = t("success_path/audio_metric"), t("success_path/naive_metrics_macros")
        floor_over, macro_over, naive_over = floor - bare, macro - bare, naive - bare
        print(f"| success path | bare function | {duration(bare)} | — |")
        print(f"| success path | floor: the same 2 clock reads + 5 atomic updates by hand, cells resolved once | {duration(floor)} | overhead {duration(floor_over)} |")
        print(f"| success path | `#[audio_metric]` | {duration(macro)} | overhead {duration(macro_over)} = **{ratio(macro_over / floor_over)} the floor's** |")
        print(f"| success path | naive `metrics::counter!`/`histogram!`/`gauge!`, `String` provider label | {duration(naive)} | overhead {duration(naive_over)} = **{ratio(naive_over / macro_over)} the macro's** |")
        for name, label in [
            ("error", "error (`Err` with a derived `AudioStatus`)"),
            ("cancelled", "cancelled (guard dropped)"),
            ("size_cost_cache_hit", "with `size`, `cost` and `cache_hit` closures"),
            ("provider_switch_every_call", "provider changes every call (call-site cache miss, table lookup)"),
            ("folded_provider", "provider folded into `other` (past MaxProviders)"),
        ]:
            print(f"| paths | {label} | {duration(t('paths/' + name))} | |")
        # Each iteration makes the first calls of 16 new providers.
        first = t("paths/first_call_of_provider") / 16
        print(f"| paths | first call of a new provider (insert, cells allocated; 16 per iteration) | {duration(first)} | |")
        one, two = t("contention/audio_metric/1_threads"), t("contention/audio_metric/2_threads")
        print(f"| contention | `#[audio_metric]`, 1 thread | {duration(one)} per call | {1e3 / one:.3g} M calls/s |")
        print(f"| contention | `#[audio_metric]`, 2 threads, same operation and provider | {duration(two)} per call per thread | {2e3 / two:.3g} M calls/s = **{ratio((2 / two) / (1 / one))} one thread** |")
        shared_one = t("contention/floor_shared_cells/1_threads")
        shared_two = t("contention/floor_shared_cells/2_threads")
        print(f"| contention | floor on shared (unstriped) cells, 1 → 2 threads | {duration(shared_one)} → {duration(shared_two)} | {ratio((2 / shared_two) / (1 / shared_one))} one thread: why cells are striped |")
        for series in ["100", "1000", "10000"]:
            shown = f"{int(series):,}"
            print(f"| scrape | render, {shown} series | {duration(t(f'scrape/render_{series}_series'))} | |")
        cached = t("scrape/cached_10000_series")
        print(f"| scrape | cached scrape (CacheExpiration), 10,000 series | {duration(cached)} | **{t('scrape/render_10000_series') / cached:,.0f}× cheaper** than rendering |")
        alone = t("recording_while_scraping/no_scraper")
        scraped = t("recording_while_scraping/scraper_rendering_continuously")
        print(f"| recording while scraping | no scraper | {duration(alone)} | — |")
        print(f"| recording while scraping | a thread rendering ~1,000 series continuously | {duration(scraped)} | **{ratio(scraped / alone)}** |")
        print()

    def native_and_protobuf(self):
        t = self.ns
        print("`cargo bench -p conduit-metrics-runtime --bench hot_path` (groups `native_buckets`, `voice_turns`, `protobuf`):\n")
        print("| group | variant | time | against the baseline |")
        print("|---|---|---|---|")
        for name, label in [("call", "a call (`start_call` .. `finish`)"), ("turn_latency", "a turn latency (`record_realtime_latency`)")]:
            classic = t(f"native_buckets/{name}/classic_only")
            native = t(f"native_buckets/{name}/classic_and_native")
            print(f"| native buckets | {label}, classic buckets only | {duration(classic)} | — |")
            print(f"| native buckets | {label}, native buckets beside them | {duration(native)} | **{native - classic:+.1f} ns** |")
        tsc = t("voice_turns/tsc_read")
        empty = t("voice_turns/turn_without_marks")
        full = t("voice_turns/turn_with_five_marks")
        mark = (full - empty) / 5
        print(f"| voice turns | a raw TSC read | {duration(tsc)} | — |")
        print(f"| voice turns | a turn without marks (its outcome recorded) | {duration(empty)} | |")
        print(f"| voice turns | a turn with all five marks (four stages, the whole turn, the outcome) | {duration(full)} | **{duration(mark)} a mark** = {ratio(mark / tsc)} a TSC read, stages and outcome recorded included |")
        text = t("protobuf/text_10000_series")
        ours = t("protobuf/protobuf_10000_series")
        mep = t("protobuf/metrics_exporter_prometheus_protobuf_10000_series")
        mep_text = t("protobuf/metrics_exporter_prometheus_text_10000_series")
        print(f"| render, 10,000 series | our text format 0.0.4 | {duration(text)} | — |")
        print(f"| render, 10,000 series | our protobuf (native buckets included) | {duration(ours)} | **{ratio(ours / text)}** our text |")
        print(f"| render, 10,000 series | metrics-exporter-prometheus 0.18 protobuf, same series | {duration(mep)} | {ratio(mep / ours)} our protobuf |")
        print(f"| render, 10,000 series | metrics-exporter-prometheus 0.18 text, same series | {duration(mep_text)} | {ratio(mep_text / text)} our text |")
        print()

    def recording(self):
        t = self.ns
        written = t("per_call/hand_written_call_site")
        macro = t("per_call/audio_metric_macro")
        print("`cargo bench -p conduit-metrics-runtime --bench recording`:\n")
        print("| variant | time | ratio |")
        print("|---|---|---|")
        print(f"| bare | {duration(t('per_call/bare'))} | |")
        print(f"| hand-written `CallSite` | {duration(written)} | — |")
        print(f"| `#[audio_metric]` | {duration(macro)} | **{ratio(macro / written)}** the hand-written form |")
        print(f"| `start_call` without a call site | {duration(t('per_call/start_call'))} | |")
        print(f"| naive macros | {duration(t('per_call/naive_metrics_macros'))} | |")
        print()

    def streaming(self):
        bare = self.ns("per_chunk/bare", per_element=True)
        stream = self.ns("per_chunk/stream", per_element=True)
        closures = self.ns("per_chunk/stream_with_closures", per_element=True)
        print("`cargo bench -p conduit-metrics-runtime --bench streaming` (per chunk):\n")
        print("| variant | per chunk | ratio |")
        print("|---|---|---|")
        print(f"| bare stream | {duration(bare)} | — |")
        print(f"| `#[audio_metric(stream)]` | {duration(stream)} | **{ratio(stream / bare)}**: {duration(stream - bare)} added per chunk |")
        print(f"| with per-chunk `size` and `audio_seconds` closures | {duration(closures)} | {ratio(closures / bare)}: {duration(closures - bare)} added per chunk |")
        print()

    def models(self):
        t = self.ns
        without = t("model_label/attribute_without_model")
        same = t("model_label/attribute_with_model")
        switch = t("model_label/attribute_model_switch_every_call")
        off = t("model_label/start_call_label_off")
        on = t("model_label/start_call_with_model_label_on")
        print("`cargo bench -p conduit-metrics-runtime --bench models` (`ModelLabel` on):\n")
        print("| variant | time | against the baseline |")
        print("|---|---|---|")
        print(f"| `#[audio_metric]` without `model` (the path of the label off) | {duration(without)} | — |")
        print(f"| with `model = ..`, the same model every call | {duration(same)} | **{same - without:+.1f} ns** |")
        print(f"| with `model = ..`, eight models in turn (a table lookup every call) | {duration(switch)} | {switch - without:+.1f} ns |")
        print(f"| `start_call`, label off (no call site) | {duration(off)} | — |")
        print(f"| `start_call_with_model`, label on (no call site) | {duration(on)} | {on - off:+.1f} ns |")
        print()

    def otlp(self, root):
        t = self.ns
        text = t("otlp/text_5000_series")
        otlp = t("otlp/otlp_5000_series")
        gz = t("otlp/otlp_gzip_5000_series")
        sizes_path = os.path.join(root, "otlp", "sizes.json")
        sizes = json.load(open(sizes_path)) if os.path.exists(sizes_path) else None
        if sizes is None:
            self.missing.append("otlp/sizes.json")
            sizes = {"series": 0, "text_bytes": 0, "otlp_bytes": 0, "otlp_gzip_bytes": 0}
        print("`cargo bench -p conduit-metrics-runtime --features otlp --bench otlp`:\n")
        print("| variant | time | against the text render | body |")
        print("|---|---|---|---|")
        print(f"| text render, {sizes['series']:,} series | {duration(text)} | — | {sizes['text_bytes']:,} bytes |")
        print(f"| OTLP `ExportMetricsServiceRequest`, same registry | {duration(otlp)} | **{ratio(otlp / text)}** | {sizes['otlp_bytes']:,} bytes |")
        print(f"| the same, gzipped as the exporter sends it | {duration(gz)} | {ratio(gz / text)} | {sizes['otlp_gzip_bytes']:,} bytes |")
        print()

    def audio_duration(self, root):
        t = self.ns
        sizes_path = os.path.join(root, "audio_duration", "sizes.json")
        sizes = json.load(open(sizes_path)) if os.path.exists(sizes_path) else {}
        if not sizes:
            self.missing.append("audio_duration/sizes.json")
        names = {
            "wav_16k_mono": "WAV, 16 kHz mono",
            "flac_44k_stereo_noise": "FLAC, 44.1 kHz stereo",
            "mp3_cbr_128k_xing": "MP3, 128 kbps, Xing header",
            "mp3_cbr_128k_no_header": "MP3, 128 kbps, no header (every frame counted)",
            "ogg_vorbis_stereo": "Ogg Vorbis, stereo",
            "ogg_opus_stereo": "Ogg Opus, stereo (baseline: every packet read, no decoder)",
            "m4a_aac_stereo": "M4A AAC, stereo",
            "webm_opus_stereo": "WebM Opus, stereo (baseline: every packet read, no decoder)",
        }
        print("`cargo bench -p conduit-metrics-runtime --features audio-duration --bench audio_duration`:\n")
        print("| file | size | audio | `audio_duration` | full decode (symphonia) | the decode ÷ `audio_duration` |")
        print("|---|---|---|---|---|---|")
        for key, label in names.items():
            ours = t(f"{key}/duration")
            decode = t(f"{key}/full_decode")
            size = sizes.get(key, {"bytes": 0, "seconds": 0})
            print(f"| {label} | {size['bytes'] / 1e6:.1f} MB | {size['seconds'] / 60:.1f} min | {duration(ours)} | {duration(decode)} | **{decode / ours:,.0f}×** |")
        worst = t("mp3_no_header_100mb/duration")
        print(f"| worst case: an MP3 of over 100 MB without a header | > 100 MB | 44 min | {duration(worst)} | — | — |")
        print()

    def exemplars(self):
        off = self.ns("exemplars/capture_off")
        none = self.ns("exemplars/no_trace_context")
        sampled = self.ns("exemplars/sampled_trace_context")
        print("`cargo bench -p conduit-metrics-runtime --features opentelemetry --bench exemplars`:\n")
        print("| variant | time | against capture off |")
        print("|---|---|---|")
        print(f"| exemplar capture off | {duration(off)} | — |")
        print(f"| capture on, no trace context current | {duration(none)} | **{none - off:+.1f} ns** |")
        print(f"| capture on, inside a sampled span | {duration(sampled)} | **{sampled - off:+.1f} ns** |")
        print()


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
    tables = Tables(load(root))
    tables.hot_path()
    tables.native_and_protobuf()
    tables.recording()
    tables.streaming()
    tables.models()
    tables.otlp(root)
    tables.audio_duration(root)
    tables.exemplars()
    if tables.missing:
        print("missing from this run: " + ", ".join(tables.missing), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
