use leptos::prelude::*;

use crate::sim::world::Exchange;

/// One chip per recent request, coloured by outcome; a click shows that
/// request's response and timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Chip {
    pub id: usize,
    /// `502`, `009`, `---` (no HTTP response) or `…` (in flight).
    pub label: String,
    /// ok / warn / fail / pending
    pub class: &'static str,
    pub title: String,
}

impl Chip {
    /// The chip for request `e`: the status the proxy logged, coloured by
    /// how the request ended (`Exchange::outcome_class`).
    pub fn of(e: &Exchange) -> Chip {
        let label = match (e.is_finished(), crate::view::shown_status(e)) {
            (false, _) => "…".to_string(),
            (true, Some(st)) => format!("{st:03}"),
            (true, None) => "---".to_string(),
        };
        Chip { id: e.id, title: e.console.join(" "), label, class: e.outcome_class().css() }
    }
}

#[component]
pub fn RecentRequests(chips: Signal<Vec<Chip>>, selected: Signal<Option<usize>>, on_select: Callback<usize>) -> impl IntoView {
    view! {
        <section class="recent" aria-label="Recent requests">
            <h2>"Requests"</h2>
            <ol class="chips" data-testid="requests">
                <For
                    each=move || chips.get()
                    key=|c| (c.id, c.label.clone())
                    children=move |c| {
                        let id = c.id;
                        let class = move || {
                            let sel = if selected.get() == Some(id) { " selected" } else { "" };
                            format!("chip {}{sel}", c.class)
                        };
                        view! {
                            <li>
                                <button
                                    class=class
                                    data-testid="request-chip"
                                    title=c.title.clone()
                                    aria-pressed=move || (selected.get() == Some(id)).to_string()
                                    on:click=move |_| on_select.run(id)
                                >
                                    {format!("#{} {}", id + 1, c.label)}
                                </button>
                            </li>
                        }
                    }
                />
            </ol>
            <Show when=move || chips.with(|c| c.is_empty())>
                <p class="log-empty">"No request yet: send one."</p>
            </Show>
        </section>
    }
}
