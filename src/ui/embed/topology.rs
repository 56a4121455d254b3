//! The topology in one row of boxes (client → layers → proxy → app servers), for the
//! embed: the page's SVG draws at a fixed size that is either too small or
//! too tall in a 600×400 frame. It renders the same `topology::model`.

use leptos::prelude::*;

use crate::ui::topology::Model;

/// Class of a link: the outcome of the newest request that used it.
fn link_class(last: &str, busy: usize) -> String {
    format!("embed-link {last}{}", if busy > 0 { " busy" } else { "" })
}

#[component]
pub fn CompactTopology(model: Signal<Model>) -> impl IntoView {
    let to_proxy = move || model.with(|m| m.inflight.iter().filter(|d| d.outcome.is_none() && d.app.is_none()).count());
    let to_apps = move || model.with(|m| m.inflight.iter().filter(|d| d.outcome.is_none() && d.app.is_some()).count());
    let apps_last = move || model.with(|m| m.apps_last);
    view! {
        <div
            class=move || if model.with(|m| m.layers.is_empty()) { "embed-topology" } else { "embed-topology with-layers" }
            role="group"
            aria-label=move || model.with(Model::describe)
        >
            <div class=move || format!("embed-box client {}", model.with(|m| m.last)) data-testid="embed-box-client">
                <span class="embed-box-head">
                    <b>"client"</b>
                    <span class="embed-box-state">{move || model.with(|m| m.last_text.clone())}</span>
                </span>
                <span class="embed-box-detail" title=move || model.with(|m| m.client.clone())>{move || model.with(|m| m.client.clone())}</span>
            </div>
            <span class=move || link_class(model.with(|m| m.last), to_proxy()) aria-hidden="true"></span>
            // The layers in front of the proxy (Cloudflare, an ALB), outermost first, stacked in
            // one column: what answered a chain's request is on screen, as on the page.
            <Show when=move || model.with(|m| !m.layers.is_empty())>
                <div class="embed-layers" data-testid="embed-layers">
                    <For
                        each=move || model.with(|m| m.layers.iter().cloned().enumerate().collect::<Vec<_>>())
                        key=|(i, l)| (*i, l.name, l.state.clone(), l.last, l.detail.clone())
                        children=move |(_, l)| view! {
                            // Name, then what it did: the frame is too narrow for both on a line.
                            <div class=format!("embed-box layer {}", l.last) data-testid="embed-box-layer" title=format!("{} · {}", l.detail, crate::view::LAYER_NOTE)>
                                <span class="embed-box-head"><b>{l.name}</b></span>
                                <span class="embed-box-state embed-layer-state">{l.state.clone()}</span>
                            </div>
                        }
                    />
                    <span class="embed-layers-note">{crate::view::LAYER_NOTE}</span>
                </div>
                <span class=move || link_class(model.with(|m| m.last), to_proxy()) aria-hidden="true"></span>
            </Show>
            <div class=move || format!("embed-box proxy {}", if model.with(|m| m.proxy_running) { "running" } else { "down" })>
                <span class="embed-box-head">
                    <b>{move || model.with(|m| m.proxy_name.clone())}</b>
                    <span class="embed-box-state">{move || if model.with(|m| m.proxy_running) { "running" } else { "not running" }}</span>
                </span>
                <span class="embed-box-detail" title=move || model.with(|m| m.proxy_detail.clone())>{move || model.with(|m| m.proxy_detail.clone())}</span>
            </div>
            <span class=move || link_class(apps_last(), to_apps()) aria-hidden="true"></span>
            <div class="embed-apps">
                <For
                    each=move || model.with(|m| m.apps.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, a)| (*i, a.name.clone(), a.state, a.backup, a.listen.clone(), a.last)
                    children=move |(i, a)| view! {
                        <div class=format!("embed-box upstream state-{}{}", a.state, if a.backup { " backup" } else { "" })>
                            <span class="embed-box-head">
                                <b>{format!("{}{}", a.name, if a.backup { " (backup)" } else { "" })}</b>
                                <span class="embed-box-state" data-testid=if i == 0 { "embed-upstream-state" } else { "embed-upstream-state-more" }>{a.state}</span>
                            </span>
                            <span class="embed-box-detail" title=a.listen.clone()>{a.listen.clone()}</span>
                        </div>
                    }
                />
            </div>
        </div>
    }
}
