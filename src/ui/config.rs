use leptos::prelude::*;

use crate::sim::proxy::{haproxy, nginx};
use crate::sim::scenario::{Flavor, Scenario};

/// The configuration the engine runs, as the real proxy would read it.
pub fn render(effective: &Scenario) -> String {
    match effective.proxy.flavor {
        Flavor::Nginx => nginx::conf::render(effective, &nginx::conf::Paths::default()).text,
        Flavor::Haproxy => haproxy::conf::render(effective).text,
    }
}

/// Proxy panel: flavor, the directives that matter, and the live config.
#[component]
pub fn ConfigPanel(
    text: Signal<String>,
    flavor: Signal<Flavor>,
    read_timeout_ms: Signal<u64>,
    on_flavor: impl Fn(Flavor) + 'static,
    on_read_timeout: impl Fn(u64) + 'static,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text.get_untracked());
            copied.set(true);
        }
    };
    let file = move || match flavor.get() {
        Flavor::Nginx => "/etc/nginx/conf.d/gateway-lab.conf",
        Flavor::Haproxy => "/etc/haproxy/haproxy.cfg",
    };
    view! {
        <section class="config" aria-label="Proxy configuration">
            <h2>"Proxy"</h2>
            <div class="config-controls">
                <label class="field">
                    <span class="field-label">"Proxy"</span>
                    <select
                        data-testid="flavor-select"
                        prop:value=move || if flavor.get() == Flavor::Haproxy { "haproxy" } else { "nginx" }
                        on:change=move |ev| on_flavor(if event_target_value(&ev) == "haproxy" { Flavor::Haproxy } else { Flavor::Nginx })
                    >
                        <option value="nginx">"nginx 1.22"</option>
                        <option value="haproxy">"HAProxy 2.6"</option>
                    </select>
                </label>
                <label class="field">
                    <span class="field-label">
                        {move || if flavor.get() == Flavor::Haproxy { "timeout server (s)" } else { "proxy_read_timeout (s)" }}
                    </span>
                    <input
                        type="number"
                        min="1"
                        max="3600"
                        data-testid="read-timeout"
                        prop:value=move || (read_timeout_ms.get() / 1000).to_string()
                        on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse::<u64>() {
                                if (1..=3600).contains(&s) {
                                    on_read_timeout(s * 1000);
                                }
                            }
                        }
                    />
                </label>
            </div>
            <div class="config-head">
                <code class="config-file">{file}</code>
                <button class="copy" data-testid="copy-config" on:click=copy>
                    {move || if copied.get() { "Copied" } else { "Copy" }}
                </button>
            </div>
            <pre class="config-text" data-testid="config-preview">{move || text.get()}</pre>
        </section>
    }
}
