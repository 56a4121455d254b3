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
