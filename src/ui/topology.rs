use leptos::prelude::*;

use crate::sim::world::ClientResult;
use crate::sim::{app, Simulation};

/// What the topology draws, read off the simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub client: String,
    pub proxy_name: String,
    pub proxy_detail: String,
    pub proxy_running: bool,
    pub apps: Vec<AppBox>,
    pub inflight: Vec<Dot>,
    /// Outcome class of the newest finished request.
    pub last: &'static str,
    pub last_text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AppBox {
    pub name: String,
    pub listen: String,
    pub state: &'static str,
    pub backup: bool,
    /// Outcome class of the newest attempt that went to this app.
    pub last: &'static str,
}

/// A request in flight: which link it is on.
#[derive(Clone, Debug, PartialEq)]
pub struct Dot {
    pub id: usize,
    /// None: between client and proxy; Some(i): between proxy and app i.
    pub app: Option<usize>,
    pub returning: bool,
}

fn outcome(status: Option<u16>, ok_result: bool) -> &'static str {
    match status {
        Some(s) if (200..400).contains(&s) && ok_result => "ok",
        Some(s) if (400..500).contains(&s) => "warn",
        Some(_) | None => "fail",
    }
}

pub fn model(sim: &Simulation) -> Model {
    let w = sim.world();
    let sc = &w.scenario;
    let haproxy = sc.proxy.flavor == crate::sim::scenario::Flavor::Haproxy;
    let app_of_peer = |peer: &str| sc.apps.iter().position(|a| a.listen == peer);
    let mut apps: Vec<AppBox> = sc
        .apps
        .iter()
        .enumerate()
        .map(|(i, a)| AppBox {
            name: a.name.clone(),
            listen: a.listen.clone(),
            state: app::state(w, i),
            backup: sc.upstream.servers.iter().any(|s| s.backup && s.address == a.listen),
            last: "idle",
        })
        .collect();
    let mut inflight = Vec::new();
    let mut last = "idle";
    let mut last_text = "idle".to_string();
    for ex in w.exchanges.iter().rev().take(500) {
        if ex.is_finished() {
            let ok = matches!(ex.client_result, Some(ClientResult::Response));
            if last == "idle" {
                last = outcome(ex.logged_status, ok);
                last_text = match (ex.logged_status, &ex.client_result) {
                    (_, Some(ClientResult::ConnectFailed)) => "no connection".into(),
                    (Some(s), _) => format!("got {s:03}"),
                    _ => "no response".into(),
                };
            }
            if let Some(a) = ex.attempts.last().and_then(|a| app_of_peer(&a.peer)) {
                if apps[a].last == "idle" {
                    apps[a].last = outcome(ex.logged_status, ok);
                }
            }
            continue;
        }
        let open = ex.attempts.last().filter(|a| a.ended.is_none());
        inflight.push(Dot {
            id: ex.id,
            app: open.and_then(|a| app_of_peer(&a.peer)),
            returning: ex.response.is_some(),
        });
    }
    inflight.truncate(200);
    Model {
        client: format!("{} from {}", sc.clients.user_agent, sc.clients.ip),
        proxy_name: if haproxy { "haproxy".into() } else { "nginx".into() },
        proxy_detail: if haproxy {
            format!("bind :{} → backend be_app", sc.proxy.listen)
        } else {
            format!("listen {} → proxy_pass {}", sc.proxy.listen, sc.proxy.proxy_pass)
        },
        proxy_running: w.proxy_running,
        apps,
        inflight,
        last,
        last_text,
    }
}

const W: f64 = 900.0;
const BOX_W: f64 = 250.0;
const BOX_H: f64 = 64.0;
const GAP: f64 = 16.0;

fn app_y(i: usize) -> f64 {
    12.0 + i as f64 * (BOX_H + GAP)
}

/// Clients → proxy → upstream servers (backup dashed), each box with its
/// state; links coloured by the last outcome; requests in flight drawn on
/// their link (click one to see its timeline).
#[component]
pub fn Topology(model: Signal<Model>, on_select: Callback<usize>) -> impl IntoView {
    let height = move || model.with(|m| m.apps.len().max(1) as f64 * (BOX_H + GAP) + 8.0);
    let mid = move || height() / 2.0 - BOX_H / 2.0;
    let proxy_x = (W - BOX_W) / 2.0;
    let app_x = W - BOX_W - 4.0;
    view! {
        <section class="topology" aria-label="Topology">
            <svg
                class="topo"
                viewBox=move || format!("0 0 {W} {}", height())
                role="img"
                aria-label=move || model.with(|m| format!(
                    "client, {} ({}), and {} upstream server(s): {}",
                    m.proxy_name,
                    if m.proxy_running { "running" } else { "not running" },
                    m.apps.len(),
                    m.apps.iter().map(|a| format!("{} {}", a.name, a.state)).collect::<Vec<_>>().join(", ")
                ))
            >
                // Links first, boxes on top.
                <line
                    class=move || format!("topo-link {}", model.with(|m| m.last))
                    x1=BOX_W + 4.0 y1=move || mid() + BOX_H / 2.0 x2=proxy_x y2=move || mid() + BOX_H / 2.0
                />
                <For
                    each=move || model.with(|m| m.apps.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, a)| (*i, a.last)
                    children=move |(i, a)| view! {
                        <line
                            class=format!("topo-link {}", a.last)
                            x1=proxy_x + BOX_W y1=move || mid() + BOX_H / 2.0 x2=app_x y2=app_y(i) + BOX_H / 2.0
                        />
                    }
                />
                <g class=move || format!("topo-box client {}", model.with(|m| m.last)) data-testid="box-client">
                    <rect x="4" y=mid width=BOX_W height=BOX_H rx="8" />
                    <text x="16" y=move || mid() + 22.0 class="topo-name">"client"</text>
                    <text x="16" y=move || mid() + 40.0 class="topo-detail">{move || model.with(|m| m.client.clone())}</text>
                    <text x="16" y=move || mid() + 57.0 class="topo-state">{move || model.with(|m| m.last_text.clone())}</text>
                </g>
                <g class=move || format!("topo-box proxy {}", if model.with(|m| m.proxy_running) { "running" } else { "down" }) data-testid="box-proxy">
                    <rect x=proxy_x y=mid width=BOX_W height=BOX_H rx="8" />
                    <text x=proxy_x + 12.0 y=move || mid() + 22.0 class="topo-name">{move || model.with(|m| m.proxy_name.clone())}</text>
                    <text x=proxy_x + 12.0 y=move || mid() + 40.0 class="topo-detail">{move || model.with(|m| m.proxy_detail.clone())}</text>
                    <text x=proxy_x + 12.0 y=move || mid() + 57.0 class="topo-state">
                        {move || if model.with(|m| m.proxy_running) { "running" } else { "not running (config error)" }}
                    </text>
                </g>
                <For
                    each=move || model.with(|m| m.apps.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, a)| (*i, a.name.clone(), a.state, a.backup, a.listen.clone())
                    children=move |(i, a)| {
                        let y = app_y(i);
                        view! {
                            <g
                                class=format!("topo-box upstream state-{}{}", a.state, if a.backup { " backup" } else { "" })
                                data-testid=if i == 0 { "box-upstream" } else { "box-upstream-more" }
                            >
                                <rect x=app_x y=y width=BOX_W height=BOX_H rx="8" />
                                <text x=app_x + 12.0 y=y + 22.0 class="topo-name">
                                    {format!("{}{}", a.name, if a.backup { " (backup)" } else { "" })}
                                </text>
                                <text x=app_x + 12.0 y=y + 40.0 class="topo-detail">{a.listen.clone()}</text>
                                <text x=app_x + 12.0 y=y + 57.0 class="topo-state" data-testid=if i == 0 { "upstream-state" } else { "upstream-state-more" }>
                                    {a.state}
                                </text>
                            </g>
                        }
                    }
                />
                <For
                    each=move || model.with(|m| m.inflight.clone())
                    key=|d| (d.id, d.app, d.returning)
                    children=move |d| {
                        let id = d.id;
                        let (cx, cy) = move || -> (f64, f64) {
                            let m = mid() + BOX_H / 2.0;
                            match d.app {
                                None if d.returning => ((BOX_W + proxy_x) / 2.0 - 20.0, m + 8.0),
                                None => ((BOX_W + proxy_x) / 2.0, m - 8.0),
                                Some(i) => ((proxy_x + BOX_W + app_x) / 2.0, (m + app_y(i) + BOX_H / 2.0) / 2.0 - 8.0),
                            }
                        }()
                        .into();
                        let jitter = (id % 7) as f64 * 6.0 - 18.0;
                        view! {
                            <circle
                                class="topo-dot"
                                data-testid="inflight"
                                cx=cx + jitter
                                cy=cy
                                r="7"
                                tabindex="0"
                                role="button"
                                aria-label=format!("request #{} in flight: show its timeline", id + 1)
                                on:click=move |_| on_select.run(id)
                                on:keydown=move |ev| {
                                    if ev.key() == "Enter" || ev.key() == " " {
                                        on_select.run(id);
                                    }
                                }
                            />
                        }
                    }
                />
            </svg>
        </section>
    }
}
