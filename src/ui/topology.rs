use leptos::prelude::*;

/// Client → proxy → app, each box with its state; the links take the colour
/// of the last outcome.
#[component]
pub fn Topology(
    app_state: Signal<&'static str>,
    last_status: Signal<Option<u16>>,
    /// `listen 80 → proxy_pass 127.0.0.1:3000`
    proxy_label: Signal<String>,
    /// `127.0.0.1:3000`
    app_label: Signal<String>,
    client_label: Signal<String>,
    /// `nginx` or `haproxy`.
    proxy_name: Signal<String>,
) -> impl IntoView {
    let outcome_class = move || match last_status.get() {
        None => "link idle",
        Some(0) => "link fail",
        Some(s) if s < 400 => "link ok",
        Some(s) if s >= 500 => "link fail",
        Some(_) => "link warn",
    };
    view! {
        <section class="topology" aria-label="Topology">
            <div class="node client" data-testid="box-client">
                <span class="node-name">"client"</span>
                <span class="node-detail">{client_label}</span>
                <span class="node-state">
                    {move || match last_status.get() {
                        None => "idle".to_string(),
                        Some(0) => "no HTTP response".to_string(),
                        Some(s) => format!("got {s}"),
                    }}
                </span>
            </div>
            <div class=outcome_class aria-hidden="true"></div>
            <div class="node proxy" data-testid="box-proxy">
                <span class="node-name">{move || proxy_name.get()}</span>
                <span class="node-detail">{proxy_label}</span>
                <span class="node-state">"running"</span>
            </div>
            <div class=outcome_class aria-hidden="true"></div>
            <div class=move || format!("node upstream state-{}", app_state.get()) data-testid="box-upstream">
                <span class="node-name">"app"</span>
                <span class="node-detail">{app_label}</span>
                <span class="node-state" data-testid="upstream-state">{move || app_state.get()}</span>
            </div>
        </section>
    }
}
