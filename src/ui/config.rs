use leptos::prelude::*;

use super::number::NumberField;

use crate::sim::proxy::{alb, apache, caddy, envoy, haproxy, nginx, varnish};
use crate::sim::scenario::{Flavor, Scenario};

/// The configuration the engine runs, as the real proxy would read it.
pub fn render(effective: &Scenario) -> String {
    match effective.proxy.flavor {
        Flavor::Nginx => nginx::conf::render(effective, &nginx::conf::Paths::default()).text,
        Flavor::Haproxy => haproxy::conf::render(effective).text,
        Flavor::Apache => apache::conf::render(effective),
        Flavor::Caddy => caddy::conf::render(effective),
        Flavor::Varnish => varnish::conf::render(effective),
        Flavor::Envoy => envoy::conf::render(effective),
        Flavor::Alb => alb::conf::render(effective),
    }
}

/// A numeric directive: label, test id, unit divisor, getter, setter.
struct Num {
    label: &'static str,
    testid: &'static str,
    /// The input shows `value / scale` (ms → s, bytes → KB).
    scale: u64,
    min: u64,
    max: u64,
    get: fn(&Scenario) -> u64,
    set: fn(&mut Scenario, u64),
}

const NGINX: &[Num] = &[
    Num { label: "proxy_connect_timeout (s)", testid: "connect-timeout", scale: 1000, min: 1, max: 3600, get: |s| s.proxy.proxy_connect_timeout_ms, set: |s, v| s.proxy.proxy_connect_timeout_ms = v },
    Num { label: "proxy_read_timeout (s)", testid: "read-timeout", scale: 1000, min: 1, max: 3600, get: |s| s.proxy.proxy_read_timeout_ms, set: |s, v| s.proxy.proxy_read_timeout_ms = v },
    Num { label: "proxy_next_upstream_tries (0: all)", testid: "next-upstream-tries", scale: 1, min: 0, max: 100, get: |s| s.proxy.proxy_next_upstream_tries as u64, set: |s, v| s.proxy.proxy_next_upstream_tries = v as u32 },
    Num { label: "proxy_buffer_size (KB)", testid: "buffer-size", scale: 1024, min: 1, max: 1024, get: |s| s.proxy.proxy_buffer_size, set: |s, v| s.proxy.proxy_buffer_size = v },
    Num { label: "proxy_buffers size (KB, ×8)", testid: "buffers-size", scale: 1024, min: 1, max: 1024, get: |s| s.proxy.proxy_buffers_size, set: |s, v| s.proxy.proxy_buffers_size = v },
    Num { label: "upstream keepalive (connections)", testid: "keepalive", scale: 1, min: 0, max: 1024, get: |s| s.upstream.keepalive as u64, set: |s, v| {
        s.upstream.keepalive = v as u32;
        // keepalive only works with HTTP/1.1 and an empty Connection header.
        if v > 0 {
            s.proxy.proxy_http_version = "1.1".into();
            s.proxy.proxy_set_header.insert("Connection".into(), String::new());
        }
    } },
    Num { label: "client_max_body_size (KB, 0: off)", testid: "max-body", scale: 1024, min: 0, max: 1 << 20, get: |s| s.proxy.client_max_body_size, set: |s, v| s.proxy.client_max_body_size = v },
    Num { label: "large_client_header_buffers (KB, ×4)", testid: "header-buffers", scale: 1024, min: 1, max: 1024, get: |s| s.proxy.large_client_header_buffers_size, set: |s, v| s.proxy.large_client_header_buffers_size = v },
    Num { label: "worker_connections", testid: "worker-connections", scale: 1, min: 3, max: 65536, get: |s| s.proxy.worker_connections as u64, set: |s, v| s.proxy.worker_connections = v as u32 },
];

const HAPROXY: &[Num] = &[
    Num { label: "retries", testid: "retries", scale: 1, min: 0, max: 100, get: |s| s.proxy.haproxy.retries as u64, set: |s, v| s.proxy.haproxy.retries = v as u32 },
    Num { label: "timeout connect (ms)", testid: "timeout-connect", scale: 1, min: 1, max: 3_600_000, get: |s| s.proxy.haproxy.timeout_connect_ms, set: |s, v| s.proxy.haproxy.timeout_connect_ms = v },
    Num { label: "timeout server (s)", testid: "read-timeout", scale: 1000, min: 1, max: 3600, get: |s| s.proxy.haproxy.timeout_server_ms, set: |s, v| s.proxy.haproxy.timeout_server_ms = v },
    Num { label: "tune.bufsize (bytes)", testid: "bufsize", scale: 1, min: 1024, max: 1_048_576, get: |s| s.proxy.haproxy.bufsize, set: |s, v| s.proxy.haproxy.bufsize = v },
];

const APACHE: &[Num] = &[
    Num { label: "ProxyTimeout (s)", testid: "read-timeout", scale: 1000, min: 1, max: 3600, get: |s| s.proxy.apache.proxy_timeout_ms, set: |s, v| s.proxy.apache.proxy_timeout_ms = v },
    Num { label: "retry= of a balancer member (s)", testid: "apache-retry", scale: 1, min: 0, max: 86_400, get: |s| s.proxy.apache.retry_s, set: |s, v| s.proxy.apache.retry_s = v },
    Num { label: "ttl= of pooled connections (s, 0: none)", testid: "apache-ttl", scale: 1, min: 0, max: 86_400, get: |s| s.proxy.apache.ttl_s, set: |s, v| s.proxy.apache.ttl_s = v },
];

const CADDY: &[Num] = &[
    Num { label: "dial_timeout (ms)", testid: "timeout-connect", scale: 1, min: 1, max: 3_600_000, get: |s| s.proxy.caddy.dial_timeout_ms, set: |s, v| s.proxy.caddy.dial_timeout_ms = v },
    Num { label: "response_header_timeout (ms, 0: none)", testid: "read-timeout", scale: 1, min: 0, max: 3_600_000, get: |s| s.proxy.caddy.response_header_timeout_ms, set: |s, v| s.proxy.caddy.response_header_timeout_ms = v },
    Num { label: "lb_try_duration (ms, 0: no retries)", testid: "caddy-try-duration", scale: 1, min: 0, max: 3_600_000, get: |s| s.proxy.caddy.lb_try_duration_ms, set: |s, v| s.proxy.caddy.lb_try_duration_ms = v },
    Num { label: "lb_try_interval (ms)", testid: "caddy-try-interval", scale: 1, min: 1, max: 3_600_000, get: |s| s.proxy.caddy.lb_try_interval_ms, set: |s, v| s.proxy.caddy.lb_try_interval_ms = v },
];

const VARNISH: &[Num] = &[
    Num { label: ".connect_timeout (ms)", testid: "timeout-connect", scale: 1, min: 1, max: 3_600_000, get: |s| s.proxy.varnish.connect_timeout_ms, set: |s, v| s.proxy.varnish.connect_timeout_ms = v },
    Num { label: ".first_byte_timeout (s)", testid: "read-timeout", scale: 1000, min: 1, max: 3600, get: |s| s.proxy.varnish.first_byte_timeout_ms, set: |s, v| s.proxy.varnish.first_byte_timeout_ms = v },
];

// Documented, not verified (docs/research/envoy-alb-model.md): the fields by their API names.
const ENVOY: &[Num] = &[
    Num { label: "cluster connect_timeout (ms)", testid: "timeout-connect", scale: 1, min: 1, max: 3_600_000, get: |s| s.proxy.envoy.connect_timeout_ms, set: |s, v| s.proxy.envoy.connect_timeout_ms = v },
    Num { label: "route timeout (ms, 0: none)", testid: "read-timeout", scale: 1, min: 0, max: 3_600_000, get: |s| s.proxy.envoy.route_timeout_ms, set: |s, v| s.proxy.envoy.route_timeout_ms = v },
    Num { label: "upstream idle_timeout (s)", testid: "envoy-idle-timeout", scale: 1000, min: 1, max: 86_400, get: |s| s.proxy.envoy.idle_timeout_ms, set: |s, v| s.proxy.envoy.idle_timeout_ms = v },
    Num { label: "retry_policy num_retries", testid: "envoy-num-retries", scale: 1, min: 0, max: 10, get: |s| s.proxy.envoy.num_retries as u64, set: |s, v| s.proxy.envoy.num_retries = v as u32 },
];

const ALB: &[Num] = &[
    Num { label: "idle_timeout.timeout_seconds (s)", testid: "read-timeout", scale: 1, min: 1, max: 4000, get: |s| s.proxy.alb.idle_timeout_s, set: |s, v| s.proxy.alb.idle_timeout_s = v },
];

/// An on/off directive: label, test id, getter, setter.
struct Flag {
    label: &'static str,
    testid: &'static str,
    get: fn(&Scenario) -> bool,
    set: fn(&mut Scenario, bool),
}

const ALB_TARGETS: Flag = Flag { label: "targets registered in the target group (off: 503)", testid: "alb-targets-registered", get: |s| s.proxy.alb.targets_registered, set: |s, on| s.proxy.alb.targets_registered = on };
const REDISPATCH: Flag = Flag { label: "option redispatch", testid: "redispatch", get: |s| s.proxy.haproxy.redispatch, set: |s, on| s.proxy.haproxy.redispatch = on };
const SSL_SERVER_NAME: Flag = Flag { label: "proxy_ssl_server_name on", testid: "ssl-server-name", get: |s| s.proxy.proxy_ssl_server_name, set: |s, on| s.proxy.proxy_ssl_server_name = on };
const LOCALHOST_IPV6: Flag = Flag { label: "/etc/hosts: ::1 localhost", testid: "localhost-ipv6", get: |s| s.proxy.localhost_ipv6, set: |s, on| s.proxy.localhost_ipv6 = on };

/// Proxy panel: flavor, the directives that matter, and the live config.
#[component]
pub fn ConfigPanel(text: Signal<String>, scenario: RwSignal<Scenario>, on_change: Callback<Scenario>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.navigator().clipboard().write_text(&text.get_untracked());
            copied.set(true);
        }
    };
    let flavor = move || scenario.with(|s| s.proxy.flavor);
    let file = move || match flavor() {
        Flavor::Nginx => "/etc/nginx/conf.d/gateway-lab.conf",
        Flavor::Haproxy => "/etc/haproxy/haproxy.cfg",
        Flavor::Apache => apache::conf::SITE_PATH,
        Flavor::Caddy => caddy::conf::PATH,
        Flavor::Varnish => varnish::conf::PATH,
        Flavor::Envoy => envoy::conf::PATH,
        Flavor::Alb => alb::conf::PATH,
    };
    let edit = move |f: &dyn Fn(&mut Scenario)| {
        let mut next = scenario.get_untracked();
        f(&mut next);
        on_change.run(next);
    };
    let control = move |n: &'static Num| {
        let on_text = Callback::new(move |text: String| {
            if let Ok(v) = text.parse::<u64>() {
                if (n.min..=n.max).contains(&v) {
                    edit(&|s| (n.set)(s, v * n.scale));
                }
            }
        });
        view! {
            <NumberField label=n.label testid=n.testid.to_string() min=n.min.to_string() max=n.max.to_string()
                value=Signal::derive(move || scenario.with(|s| ((n.get)(s) / n.scale).to_string())) on_text />
        }
    };
    let check = move |f: &'static Flag| {
        view! {
            <label class="field check">
                <input type="checkbox" data-testid=f.testid
                    prop:checked=move || scenario.with(|s| (f.get)(s))
                    on:change=move |ev| { let on = event_target_checked(&ev); edit(&|s| (f.set)(s, on)) } />
                <span class="field-label">{f.label}</span>
            </label>
        }
    };
    view! {
        <section id="config" class="config" aria-label="Proxy configuration">
            <h2>"Proxy"</h2>
            <div class="config-controls">
                <label class="field">
                    <span class="field-label">"Proxy"</span>
                    <select
                        data-testid="flavor-select"
                        prop:value=move || flavor().as_str()
                        on:change=move |ev| {
                            let f = Flavor::parse(&event_target_value(&ev)).unwrap_or_default();
                            edit(&|s| s.proxy.flavor = f);
                        }
                    >
                        <option value="nginx">"nginx 1.22"</option>
                        <option value="haproxy">"HAProxy 2.6"</option>
                        <option value="apache">"Apache httpd 2.4"</option>
                        <option value="caddy">"Caddy 2.6"</option>
                        <option value="varnish">"Varnish 7.1"</option>
                        // The flavor's evidence decides the badge (Flavor::evidence): documented flavors say so.
                        {[Flavor::Envoy, Flavor::Alb].into_iter().map(|f| {
                            let text = format!("{} ({})", f.display(), crate::sim::scenario::Evidence::BADGE);
                            view! { <option value=f.as_str()>{text}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <Show when=move || !flavor().evidence().is_verified()>
                    <span class="badge badge-documented" data-testid="flavor-evidence"
                        title="Modelled from the software's documentation and source (docs/research/envoy-alb-model.md); no real program ran, so the fidelity harness compares nothing for it.">
                        {crate::sim::scenario::Evidence::BADGE}
                    </span>
                </Show>
                <Show when=move || flavor() == Flavor::Apache>
                    {APACHE.iter().map(control).collect_view()}
                    <label class="field">
                        <span class="field-label">"LogLevel"</span>
                        <select data-testid="error-log-level"
                            prop:value=move || scenario.with(|s| s.proxy.error_log_level.clone())
                            on:change=move |ev| { let l = event_target_value(&ev); edit(&|s| s.proxy.error_log_level = l.clone()) }>
                            {["crit", "error", "warn", "notice", "info"].into_iter().map(|l| view! { <option value=l>{l}</option> }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=move || flavor() == Flavor::Varnish>
                    {VARNISH.iter().map(control).collect_view()}
                </Show>
                <Show when=move || flavor() == Flavor::Caddy>
                    {CADDY.iter().map(control).collect_view()}
                </Show>
                <Show when=move || flavor() == Flavor::Envoy>
                    {ENVOY.iter().map(control).collect_view()}
                    <fieldset class="field retry-on" data-testid="envoy-retry-on">
                        <legend class="field-label">"retry_policy retry_on (none: no retries)"</legend>
                        {crate::sim::scenario::ENVOY_RETRY_ON.into_iter().map(|c| view! {
                            <label class="check">
                                <input type="checkbox" data-testid=format!("envoy-retry-on-{c}")
                                    prop:checked=move || scenario.with(|s| s.proxy.envoy.retry_on.iter().any(|r| r == c))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        edit(&|s| {
                                            let r = &mut s.proxy.envoy.retry_on;
                                            r.retain(|x| x != c);
                                            if on {
                                                r.push(c.to_string());
                                            }
                                        })
                                    } />
                                {c}
                            </label>
                        }).collect_view()}
                    </fieldset>
                </Show>
                <Show when=move || flavor() == Flavor::Alb>
                    {ALB.iter().map(control).collect_view()}
                    {check(&ALB_TARGETS)}
                </Show>
                <Show when=move || flavor() == Flavor::Nginx || flavor() == Flavor::Haproxy>
                <Show when=move || flavor() == Flavor::Nginx fallback=move || view! {
                    {HAPROXY.iter().map(control).collect_view()}
                    {check(&REDISPATCH)}
                }>
                    {NGINX.iter().map(control).collect_view()}
                    <label class="field">
                        <span class="field-label">"error_log level"</span>
                        <select data-testid="error-log-level"
                            prop:value=move || scenario.with(|s| s.proxy.error_log_level.clone())
                            on:change=move |ev| { let l = event_target_value(&ev); edit(&|s| s.proxy.error_log_level = l.clone()) }>
                            {["crit", "error", "warn", "notice", "info"].into_iter().map(|l| view! { <option value=l>{l}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span class="field-label">"access_log format"</span>
                        <select data-testid="access-log-format"
                            prop:value=move || scenario.with(|s| s.proxy.access_log_format.clone())
                            on:change=move |ev| { let l = event_target_value(&ev); edit(&|s| s.proxy.access_log_format = l.clone()) }>
                            {["combined", "upstreaminfo"].into_iter().map(|l| view! { <option value=l>{l}</option> }).collect_view()}
                        </select>
                    </label>
                    {check(&SSL_SERVER_NAME)}
                    <label class="field">
                        <span class="field-label">"proxy_ssl_name"</span>
                        <input type="text" data-testid="ssl-name" placeholder="(proxy_pass host)"
                            prop:value=move || scenario.with(|s| s.proxy.proxy_ssl_name.clone())
                            on:change=move |ev| { let n = event_target_value(&ev).trim().to_string(); edit(&|s| s.proxy.proxy_ssl_name = n.clone()) } />
                    </label>
                    <label class="field">
                        <span class="field-label">"proxy_http_version"</span>
                        <select data-testid="http-version"
                            prop:value=move || scenario.with(|s| s.proxy.proxy_http_version.clone())
                            on:change=move |ev| { let v = event_target_value(&ev); edit(&|s| s.proxy.proxy_http_version = v.clone()) }>
                            {["1.0", "1.1"].into_iter().map(|l| view! { <option value=l>{l}</option> }).collect_view()}
                        </select>
                    </label>
                    // WebSocket: both headers, as the nginx docs' example sets them.
                    <label class="field check">
                        <input type="checkbox" data-testid="upgrade-headers"
                            prop:checked=move || scenario.with(|s| s.proxy.proxy_set_header.contains_key("Upgrade"))
                            on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                edit(&|s| {
                                    let h = &mut s.proxy.proxy_set_header;
                                    if on {
                                        h.insert("Upgrade".into(), "$http_upgrade".into());
                                        h.insert("Connection".into(), "upgrade".into());
                                    } else {
                                        h.remove("Upgrade");
                                        if h.get("Connection").is_some_and(|v| v == "upgrade") {
                                            h.remove("Connection");
                                        }
                                    }
                                })
                            } />
                        <span class="field-label">"proxy_set_header Upgrade/Connection (WebSocket)"</span>
                    </label>
                </Show>
                // Off by default in both (nginx's proxy_ssl_verify, HAProxy's `verify none`
                // when no CA is given): an invalid certificate then passes silently.
                <label class="field check">
                    <input type="checkbox" data-testid="ssl-verify"
                        prop:checked=move || scenario.with(|s| s.proxy.proxy_ssl_verify)
                        on:change=move |ev| { let on = event_target_checked(&ev); edit(&|s| s.proxy.proxy_ssl_verify = on) } />
                    <span class="field-label">{move || if flavor() == Flavor::Nginx { "proxy_ssl_verify on" } else { "ssl verify required" }}</span>
                </label>
                // The host's /etc/hosts (Debian's has it): `localhost` is [::1] and 127.0.0.1.
                {check(&LOCALHOST_IPV6)}
                </Show>
            </div>
            <h2>"App server"</h2>
            <super::app_server::AppServerPanel scenario on_change />
            // Layers in front of the proxy (issue 19 item 3): their own block, `ui::layers`.
            <h2>"In front of the proxy"</h2>
            <super::layers::LayersPanel scenario on_change />
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
