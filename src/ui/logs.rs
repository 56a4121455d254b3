use leptos::prelude::*;

/// A terminal-styled log: newest line at the bottom.
#[component]
pub fn LogPanel(
    title: Signal<String>,
    testid: &'static str,
    lines: Signal<Vec<(u64, String)>>,
) -> impl IntoView {
    let line_testid = format!("{testid}-line");
    view! {
        <div class="log-panel">
            <h3>{move || title.get()}</h3>
            <ol class="log" data-testid=testid aria-label=move || title.get()>
                <For
                    each=move || lines.get()
                    key=|(n, _)| *n
                    children=move |(_, line)| view! { <li data-testid=line_testid.clone()>{line}</li> }
                />
            </ol>
            <Show when=move || lines.with(|l| l.is_empty())>
                <p class="log-empty">"(empty)"</p>
            </Show>
        </div>
    }
}
