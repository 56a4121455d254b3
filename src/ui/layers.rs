//! The Config tab's layers in front of the proxy (Cloudflare, AWS ALB):
//! add, remove, and their few settings. Documented, not verified: the
//! engine's `sim::layer` says what each does; this only edits the scenario.

use leptos::prelude::*;

use super::number::NumberField;
use crate::sim::layer::cloudflare::{OriginRecord, OriginTls, SslMode};
use crate::sim::layer::{Firewall, Layer, LayerKind, MAX_LAYERS};
use crate::sim::scenario::Scenario;

#[component]
pub fn LayersPanel(scenario: RwSignal<Scenario>, on_change: Callback<Scenario>) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut Vec<Layer>)| {
        let mut next = scenario.get_untracked();
        f(&mut next.layers);
        on_change.run(next);
    };
    let full = move || scenario.with(|s| s.layers.len() >= MAX_LAYERS);
    let rows = move || scenario.with(|s| s.layers.iter().cloned().enumerate().collect::<Vec<_>>());
    view! {
        <div class="layers" data-testid="layers-panel">
            <p class="layers-note">
                "Layers in front of the proxy, outermost first: client → layers → proxy. Each has its own timeout, status and log. "
                <em>{crate::view::LAYER_NOTE}</em>
                ": Cloudflare and AWS ALB are services; their behaviour comes from their documentation (docs/research/layers-model.md)."
            </p>
            <ol class="layers-list">
                <For
                    each=rows
                    key=|(i, l)| (*i, format!("{l:?}"))
                    children=move |(i, l)| {
                        let num = move |label: &'static str, testid: &'static str, min: u64, max: u64, get: fn(&Layer) -> u64, set: fn(&mut Layer, u64)| {
                            let on_text = Callback::new(move |t: String| {
                                if let Ok(v) = t.parse::<u64>() {
                                    if (min..=max).contains(&v) {
                                        edit(&|ls| if let Some(l) = ls.get_mut(i) { set(l, v) });
                                    }
                                }
                            });
                            view! {
                                <NumberField label testid=format!("layer{}-{testid}", i + 1) min=min.to_string() max=max.to_string()
                                    value=Signal::derive(move || scenario.with(|s| s.layers.get(i).map(get).unwrap_or(0).to_string())) on_text />
                            }
                        };
                        let settings = match &l {
                            Layer::Cloudflare(_) => view! {
                                {num("Proxy Read Timeout (s, 524)", "read-timeout", 1, 6000,
                                    |l| if let Layer::Cloudflare(c) = l { c.proxy_read_timeout_s } else { 0 },
                                    |l, v| if let Layer::Cloudflare(c) = l { c.proxy_read_timeout_s = v })}
                                {num("connect timeout (s, 522)", "connect-timeout", 1, 600,
                                    |l| if let Layer::Cloudflare(c) = l { c.connect_timeout_s } else { 0 },
                                    |l, v| if let Layer::Cloudflare(c) = l { c.connect_timeout_s = v })}
                                <label class="field">
                                    <span class="field-label">"origin firewall"</span>
                                    <select data-testid=format!("layer{}-firewall", i + 1)
                                        prop:value=move || scenario.with(|s| match s.layers.get(i) {
                                            Some(Layer::Cloudflare(c)) => match c.origin_firewall { Firewall::Open => "open", Firewall::Reject => "reject", Firewall::Drop => "drop" },
                                            _ => "open",
                                        })
                                        on:change=move |ev| {
                                            let f = match event_target_value(&ev).as_str() { "reject" => Firewall::Reject, "drop" => Firewall::Drop, _ => Firewall::Open };
                                            edit(&|ls| if let Some(Layer::Cloudflare(c)) = ls.get_mut(i) { c.origin_firewall = f });
                                        }>
                                        <option value="open">"lets Cloudflare in"</option>
                                        <option value="reject">"rejects Cloudflare (RST → 521)"</option>
                                        <option value="drop">"drops Cloudflare's SYNs (→ 522)"</option>
                                    </select>
                                </label>
                                <label class="field">
                                    <span class="field-label">"DNS record points at"</span>
                                    <select data-testid=format!("layer{}-origin-record", i + 1)
                                        prop:value=move || scenario.with(|s| match s.layers.get(i) {
                                            Some(Layer::Cloudflare(c)) => c.origin_record.key(),
                                            _ => OriginRecord::default().key(),
                                        })
                                        on:change=move |ev| {
                                            let r = OriginRecord::parse(&event_target_value(&ev)).unwrap_or_default();
                                            edit(&|ls| if let Some(Layer::Cloudflare(c)) = ls.get_mut(i) { c.origin_record = r });
                                        }>
                                        <option value="proxy">"the proxy's address"</option>
                                        <option value="stale">{format!("a stale address, no route ({}, → 523)", crate::sim::layer::cloudflare::STALE_ORIGIN_IP)}</option>
                                    </select>
                                </label>
                                <label class="field">
                                    <span class="field-label">"SSL/TLS mode"</span>
                                    <select data-testid=format!("layer{}-ssl-mode", i + 1)
                                        prop:value=move || scenario.with(|s| match s.layers.get(i) {
                                            Some(Layer::Cloudflare(c)) => c.ssl_mode.key(),
                                            _ => SslMode::default().key(),
                                        })
                                        on:change=move |ev| {
                                            let m = SslMode::parse(&event_target_value(&ev)).unwrap_or_default();
                                            edit(&|ls| if let Some(Layer::Cloudflare(c)) = ls.get_mut(i) { c.ssl_mode = m });
                                        }>
                                        <option value="off">"Off (HTTP to the origin)"</option>
                                        <option value="flexible">"Flexible (HTTP to the origin)"</option>
                                        <option value="full">"Full (TLS, any certificate)"</option>
                                        <option value="strict">"Full (strict) (TLS, valid certificate)"</option>
                                    </select>
                                </label>
                                <label class="field">
                                    <span class="field-label">"origin's TLS"</span>
                                    <select data-testid=format!("layer{}-origin-tls", i + 1)
                                        prop:value=move || scenario.with(|s| match s.layers.get(i) {
                                            Some(Layer::Cloudflare(c)) => c.origin_tls.key(),
                                            _ => OriginTls::default().key(),
                                        })
                                        on:change=move |ev| {
                                            let t = OriginTls::parse(&event_target_value(&ev)).unwrap_or_default();
                                            edit(&|ls| if let Some(Layer::Cloudflare(c)) = ls.get_mut(i) { c.origin_tls = t });
                                        }>
                                        <option value="none">"no TLS on its port (Full → 525)"</option>
                                        <option value="valid">"valid certificate"</option>
                                        <option value="self_signed">"self-signed certificate (strict → 526)"</option>
                                        <option value="expired">"expired certificate (strict → 526)"</option>
                                        <option value="handshake_fails">"handshake fails: no shared cipher, no SNI match (→ 525)"</option>
                                    </select>
                                </label>
                            }.into_any(),
                            Layer::Alb(_) => view! {
                                {num("idle timeout (s, 504)", "idle-timeout", 1, 4000,
                                    |l| if let Layer::Alb(a) = l { a.idle_timeout_s } else { 0 },
                                    |l, v| if let Layer::Alb(a) = l { a.idle_timeout_s = v })}
                                <label class="field">
                                    <span class="field-label">"target group"</span>
                                    <select data-testid=format!("layer{}-targets", i + 1)
                                        prop:value=move || scenario.with(|s| match s.layers.get(i) {
                                            Some(Layer::Alb(a)) if !a.targets_registered => "none",
                                            _ => "registered",
                                        })
                                        on:change=move |ev| {
                                            let registered = event_target_value(&ev) != "none";
                                            edit(&|ls| if let Some(Layer::Alb(a)) = ls.get_mut(i) { a.targets_registered = registered });
                                        }>
                                        <option value="registered">"the proxy host is registered"</option>
                                        <option value="none">"no registered targets (→ 503)"</option>
                                    </select>
                                </label>
                            }.into_any(),
                        };
                        view! {
                            <li class="layer-row" data-testid="layer-row">
                                <span class="layer-name">{l.model().name()}</span>
                                <span class="badge-documented">{crate::view::LAYER_NOTE}</span>
                                {settings}
                                <button class="layer-remove" data-testid=format!("layer{}-remove", i + 1)
                                    on:click=move |_| edit(&|ls| if i < ls.len() { ls.remove(i); })>
                                    "Remove"
                                </button>
                            </li>
                        }
                    }
                />
            </ol>
            <div class="layers-add">
                <button data-testid="add-cloudflare" prop:disabled=full
                    on:click=move |_| edit(&|ls| ls.insert(0, LayerKind::Cloudflare.default_layer()))>
                    "Add Cloudflare (outermost)"
                </button>
                <button data-testid="add-alb" prop:disabled=full
                    on:click=move |_| edit(&|ls| ls.push(LayerKind::Alb.default_layer()))>
                    "Add AWS ALB (next to the proxy)"
                </button>
            </div>
        </div>
    }
}
