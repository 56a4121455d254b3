use leptos::prelude::*;
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};

/// Which line a row shows: its run (`Session::epoch`) and its number in
/// that run's log. Rows are keyed by both, so a new run never shows an old
/// run's text in a row it reuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineKey {
    pub run: u64,
    pub n: u64,
}

/// A terminal-styled log: newest line at the bottom, filterable, copyable
/// and downloadable. The engine bounds what it keeps; the page shows the
/// newest lines it is given.
#[component]
pub fn LogPanel(
    title: Signal<String>,
    testid: &'static str,
    lines: Signal<Vec<(LineKey, String)>>,
) -> impl IntoView {
    let line_testid = format!("{testid}-line");
    let filter = RwSignal::new(String::new());
    let copied = RwSignal::new(false);
    let shown = Memo::new(move |_| {
        let f = filter.get().to_lowercase();
        lines.with(|l| l.iter().filter(|(_, s)| f.is_empty() || s.to_lowercase().contains(&f)).cloned().collect::<Vec<_>>())
    });
    let text = move || shown.with(|l| l.iter().map(|(_, s)| s.as_str()).collect::<Vec<_>>().join("\n"));
    let copy = move |_| super::clipboard::copy(&text(), move |ok| copied.set(ok));
    let href = move || format!("data:text/plain;charset=utf-8,{}", utf8_percent_encode(&(text() + "\n"), NON_ALPHANUMERIC));
    let file = format!("{testid}.log").replace("-log.log", ".log");
    view! {
        <div class="log-panel">
            <div class="log-head">
                <h3>{move || title.get()}</h3>
                <input
                    class="log-filter"
                    type="search"
                    placeholder="filter"
                    aria-label=move || format!("Filter {}", title.get())
                    data-testid=format!("{testid}-filter")
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))
                />
                <button class="log-action" data-testid=format!("{testid}-copy") on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
                <a class="log-action" data-testid=format!("{testid}-download") download=file href=href>"Download"</a>
            </div>
            <ol class="log" data-testid=testid aria-label=move || title.get()>
                <For
                    each=move || shown.get()
                    key=|(k, _)| *k
                    children=move |(_, line)| view! { <li data-testid=line_testid.clone()>{line}</li> }
                />
            </ol>
            <Show when=move || shown.with(|l| l.is_empty())>
                <p class="log-empty">{move || if filter.with(|f| f.is_empty()) { "(empty)" } else { "(no line matches)" }}</p>
            </Show>
        </div>
    }
}

/// Test ids of the layers' log panels (at most `sim::layer::MAX_LAYERS`).
const LAYER_TESTIDS: [&str; crate::sim::layer::MAX_LAYERS] = ["layer1-log", "layer2-log", "layer3-log", "layer4-log"];

/// One panel per layer in front of the proxy (Cloudflare's Logpush
/// records, the ALB's access log), labelled with the layer and its format,
/// and "documented, not verified": none of them could run here.
#[component]
pub fn LayerLogs() -> impl IntoView {
    let pg = super::playground::Playground::get();
    let revision = pg.revision;
    let names = Memo::new(move |_| {
        revision.track();
        pg.with_sim(|s| crate::sim::layer::log_sections(s.world()).into_iter().map(|(name, _)| name).collect::<Vec<_>>())
    });
    view! {
        <For
            each=move || { names.get().into_iter().enumerate().take(LAYER_TESTIDS.len()).collect::<Vec<_>>() }
            key=|(i, name)| (*i, name.clone())
            children=move |(i, name)| {
                let lines = Signal::derive(move || {
                    revision.track();
                    pg.with(|s| {
                        let epoch = s.epoch();
                        let Some(buf) = s.sim().world().layer_logs.get(i) else { return Vec::new() };
                        let skip = buf.len().saturating_sub(SHOWN_LINES);
                        let first = buf.total() - buf.len() as u64 + skip as u64;
                        buf.lines().skip(skip).cloned().enumerate().map(|(j, l)| (LineKey { run: epoch, n: first + j as u64 }, l)).collect::<Vec<_>>()
                    })
                });
                let title = format!("{name} ({})", crate::view::LAYER_NOTE);
                view! { <LogPanel title=Signal::derive(move || title.clone()) testid=LAYER_TESTIDS[i] lines /> }
            }
        />
    }
}

/// Lines a log panel shows (the newest).
const SHOWN_LINES: usize = 200;
