use leptos::prelude::*;

use super::motion::Replay;
use crate::sim::motion::Node;

pub use crate::view::{model, Model};

const BOX_H: f64 = 64.0;
const GAP: f64 = 16.0;

/// Where every box goes: left to right on wide screens, top to bottom on
/// narrow ones (so text stays readable at 360 px).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Layout {
    w: f64,
    h: f64,
    box_w: f64,
    client: (f64, f64),
    proxy: (f64, f64),
    apps_x: f64,
    apps_y0: f64,
    vertical: bool,
    apps: usize,
    /// The layers in front of the proxy (Cloudflare, an ALB): their boxes
    /// sit between the client and the proxy, on the client's link.
    layers: usize,
    layer_w: f64,
}

/// A layer box's width on wide screens.
const LAYER_W: f64 = 200.0;

impl Layout {
    fn new(vertical: bool, apps: usize, layers: usize) -> Layout {
        let n = apps.max(1) as f64;
        let k = layers as f64;
        if vertical {
            let w = 360.0;
            let box_w = w - 8.0;
            // Each layer takes a row between the client and the proxy.
            let proxy_y = BOX_H + 2.0 * GAP + 4.0 + k * (BOX_H + 2.0 * GAP);
            let apps_y0 = proxy_y + BOX_H + 2.0 * GAP;
            Layout { w, h: apps_y0 + n * (BOX_H + GAP), box_w, client: (4.0, 4.0), proxy: (4.0, proxy_y), apps_x: 4.0, apps_y0, vertical, apps, layers, layer_w: box_w }
        } else {
            // Without layers: 900 wide, the proxy in the middle. Each layer widens the
            // drawing by its box and a gap, left of the proxy.
            let extra = k * (LAYER_W + 2.0 * GAP);
            let w = 900.0 + extra;
            let box_w = 250.0;
            let h = n * (BOX_H + GAP) + 8.0;
            let mid = h / 2.0 - BOX_H / 2.0;
            Layout {
                w,
                h,
                box_w,
                client: (4.0, mid),
                proxy: ((900.0 - box_w) / 2.0 + extra, mid),
                apps_x: w - box_w - 4.0,
                apps_y0: 12.0,
                vertical,
                apps,
                layers,
                layer_w: LAYER_W,
            }
        }
    }

    /// Layer `i`'s box (0: the outermost, next to the client).
    fn layer(&self, i: usize) -> (f64, f64) {
        if self.vertical {
            (4.0, self.client.1 + (i as f64 + 1.0) * (BOX_H + 2.0 * GAP))
        } else {
            // Side by side after the client, a link's gap between boxes.
            (self.client.0 + self.box_w + 2.0 * GAP + i as f64 * (self.layer_w + 2.0 * GAP), self.client.1)
        }
    }

    fn app(&self, i: usize) -> (f64, f64) {
        (self.apps_x, self.apps_y0 + i as f64 * (BOX_H + GAP))
    }

    /// Link from the client to the proxy, then from the proxy to app `i`.
    fn client_link(&self) -> (f64, f64, f64, f64) {
        if self.vertical {
            let x = self.w / 2.0;
            (x, self.client.1 + BOX_H, x, self.proxy.1)
        } else {
            (self.client.0 + self.box_w, self.client.1 + BOX_H / 2.0, self.proxy.0, self.proxy.1 + BOX_H / 2.0)
        }
    }

    fn app_link(&self, i: usize) -> (f64, f64, f64, f64) {
        let (ax, ay) = self.app(i);
        if self.vertical {
            let x = self.w / 2.0 + (i as f64) * 12.0;
            (x, self.proxy.1 + BOX_H, x, ay)
        } else {
            (self.proxy.0 + self.box_w, self.proxy.1 + BOX_H / 2.0, ax, ay + BOX_H / 2.0)
        }
    }

    fn mid((x1, y1, x2, y2): (f64, f64, f64, f64)) -> (f64, f64) {
        ((x1 + x2) / 2.0, (y1 + y2) / 2.0)
    }

    /// The point `f` of the way along the link from node `a` to its neighbour
    /// `b`. An upstream no app listens on is drawn halfway along the first
    /// app's link (nobody there answers).
    fn along(&self, a: Node, b: Node, f: f64) -> (f64, f64) {
        let ((x1, y1, x2, y2), f) = match (a, b) {
            (Node::Client, _) => (self.client_link(), f),
            (_, Node::Client) => (self.client_link(), 1.0 - f),
            (Node::Upstream { .. }, _) => return self.along(b, a, 1.0 - f),
            (_, Node::Upstream { app: Some(i) }) => (self.app_link(i.min(self.apps.saturating_sub(1))), f),
            (_, Node::Upstream { app: None }) => (self.app_link(0), f / 2.0),
            _ => (self.client_link(), 1.0),
        };
        (x1 + (x2 - x1) * f, y1 + (y2 - y1) * f)
    }
}

/// `translate(x y)`: boxes and the replay's pieces are drawn in their own
/// coordinates and moved as one (one reactive attribute instead of one per child).
pub(super) fn translate((x, y): (f64, f64)) -> String {
    format!("translate({x} {y})")
}

/// Clients → proxy → upstream servers (backup dashed), each box with its
/// state; links coloured by the last outcome; requests in flight drawn on
/// their link (click one to see its timeline); the stage's request replayed
/// hop by hop (`ui::motion`), with the waiting proxy's timer over its box.
#[component]
pub fn Topology(model: Signal<Model>, on_select: Callback<usize>) -> impl IntoView {
    let narrow = RwSignal::new(is_narrow());
    let handle = window_event_listener(leptos::ev::resize, move |_| narrow.set(is_narrow()));
    on_cleanup(move || handle.remove());
    let layout = Memo::new(move |_| Layout::new(narrow.get(), model.with(|m| m.apps.len()), model.with(|m| m.layers.len())));
    let box_text = move |(x, y): (f64, f64), line: f64| (x + 12.0, y + line);
    // The stage's request, replayed over screen time (ui::motion), painted on the pieces of
    // ui::motion::SKELETON in this layout's coordinates.
    let replay = Replay::follow(move |f, outcome| {
        let l = layout.get();
        let place = super::motion::Place {
            dot: f.map_or((-20.0, -20.0), |f| l.along(f.from, f.to, f.f)),
            proxy: l.proxy,
            box_w: l.box_w,
            vertical: l.vertical,
        };
        super::motion::paint(f, outcome, &place);
    });
    view! {
        <section id="topology" class="topology" aria-label="Topology">
            <svg
                class="topo"
                viewBox=move || layout.with(|l| format!("0 0 {} {}", l.w, l.h))
                role="group"
                aria-label=move || model.with(Model::describe)
            >
                // Links first, boxes on top.
                <line
                    class=move || format!("topo-link {}", model.with(|m| m.last))
                    x1=move || layout.get().client_link().0 y1=move || layout.get().client_link().1
                    x2=move || layout.get().client_link().2 y2=move || layout.get().client_link().3
                />
                <For
                    each=move || model.with(|m| m.apps.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, a)| (*i, a.last)
                    children=move |(i, a)| view! {
                        <line
                            class=format!("topo-link {}", a.last)
                            x1=move || layout.get().app_link(i).0 y1=move || layout.get().app_link(i).1
                            x2=move || layout.get().app_link(i).2 y2=move || layout.get().app_link(i).3
                        />
                    }
                />
                <g class=move || format!("topo-box client {}", model.with(|m| m.last)) data-testid="box-client">
                    <rect x=move || layout.get().client.0 y=move || layout.get().client.1 width=move || layout.get().box_w height=BOX_H rx="8" />
                    <text x=move || box_text(layout.get().client, 22.0).0 y=move || box_text(layout.get().client, 22.0).1 class="topo-name">"client"</text>
                    <text x=move || box_text(layout.get().client, 40.0).0 y=move || box_text(layout.get().client, 40.0).1 class="topo-detail">{move || model.with(|m| m.client.clone())}</text>
                    <text x=move || box_text(layout.get().client, 57.0).0 y=move || box_text(layout.get().client, 57.0).1 class="topo-state">{move || model.with(|m| m.last_text.clone())}</text>
                </g>
                // The layers in front of the proxy, each with what it did with the newest request.
                <For
                    each=move || model.with(|m| m.layers.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, l)| (*i, l.name, l.detail.clone(), l.state.clone(), l.last)
                    children=move |(i, l)| {
                        let at = move || layout.get().layer(i);
                        view! {
                            <g class=format!("topo-box layer {}", l.last) data-testid="box-layer">
                                <rect x=move || at().0 y=move || at().1 width=move || layout.get().layer_w height=BOX_H rx="8" />
                                <text x=move || at().0 + 12.0 y=move || at().1 + 17.0 class="topo-name">{l.name}</text>
                                <text x=move || at().0 + 12.0 y=move || at().1 + 31.0 class="topo-note">{crate::view::LAYER_NOTE}</text>
                                <text x=move || at().0 + 12.0 y=move || at().1 + 45.0 class="topo-detail">{l.detail.clone()}</text>
                                <text x=move || at().0 + 12.0 y=move || at().1 + 59.0 class="topo-state" data-testid="layer-state">{l.state.clone()}</text>
                            </g>
                        }
                    }
                />
                <g class=move || format!("topo-box proxy {}", if model.with(|m| m.proxy_running) { "running" } else { "down" }) data-testid="box-proxy">
                    <rect x=move || layout.get().proxy.0 y=move || layout.get().proxy.1 width=move || layout.get().box_w height=BOX_H rx="8" />
                    <text x=move || box_text(layout.get().proxy, 22.0).0 y=move || box_text(layout.get().proxy, 22.0).1 class="topo-name">{move || model.with(|m| m.proxy_name.clone())}</text>
                    <text x=move || box_text(layout.get().proxy, 40.0).0 y=move || box_text(layout.get().proxy, 40.0).1 class="topo-detail">{move || model.with(|m| m.proxy_detail.clone())}</text>
                    <text x=move || box_text(layout.get().proxy, 57.0).0 y=move || box_text(layout.get().proxy, 57.0).1 class="topo-state">
                        {move || if model.with(|m| m.proxy_running) { "running" } else { "not running (config error)" }}
                    </text>
                </g>
                <For
                    each=move || model.with(|m| m.apps.iter().cloned().enumerate().collect::<Vec<_>>())
                    key=|(i, a)| (*i, a.name.clone(), a.state, a.backup, a.listen.clone(), a.server)
                    children=move |(i, a)| {
                        let at = move || layout.get().app(i);
                        view! {
                            <g
                                class=format!("topo-box upstream state-{}{}", a.state, if a.backup { " backup" } else { "" })
                                data-testid=if i == 0 { "box-upstream" } else { "box-upstream-more" }
                            >
                                <rect x=move || at().0 y=move || at().1 width=move || layout.get().box_w height=BOX_H rx="8" />
                                <text x=move || at().0 + 12.0 y=move || at().1 + 22.0 class="topo-name">
                                    {match a.server {
                                        // The server names the box: `PHP-FPM: php8.2-fpm`, `gunicorn`.
                                        Some(srv) if !a.name.eq_ignore_ascii_case(srv) => format!("{srv}: {}{}", a.name, if a.backup { " (backup)" } else { "" }),
                                        _ => format!("{}{}", a.name, if a.backup { " (backup)" } else { "" }),
                                    }}
                                </text>
                                <text x=move || at().0 + 12.0 y=move || at().1 + 40.0 class="topo-detail">{a.listen.clone()}</text>
                                <text x=move || at().0 + 12.0 y=move || at().1 + 57.0 class="topo-state" data-testid=if i == 0 { "upstream-state" } else { "upstream-state-more" }>
                                    {a.state}
                                </text>
                            </g>
                        }
                    }
                />
                <For
                    each=move || model.with(|m| m.inflight.clone())
                    key=|d| (d.id, d.app, d.at_app, d.returning, d.outcome)
                    children=move |d| {
                        let id = d.id;
                        let jitter = (id % 7) as f64 * 6.0 - 18.0;
                        let pos = move || {
                            let l = layout.get();
                            let (x, y) = match (d.outcome, d.app) {
                                // Done: at the client's end of its link.
                                (Some(_), _) => {
                                    let (x1, y1, x2, y2) = l.client_link();
                                    // With layers on the link, stay in the gap before the first one.
                                    let len = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt().max(1.0);
                                    let f = if l.layers > 0 { (GAP / len).min(0.15) } else { 0.15 };
                                    (x1 + (x2 - x1) * f, y1 + (y2 - y1) * f)
                                }
                                // At the app: its end of the link.
                                (None, Some(i)) if d.at_app => {
                                    let (x1, y1, x2, y2) = l.app_link(i);
                                    (x1 + (x2 - x1) * 0.85, y1 + (y2 - y1) * 0.85)
                                }
                                (None, Some(i)) => Layout::mid(l.app_link(i)),
                                (None, None) => Layout::mid(l.client_link()),
                            };
                            let back = if d.returning { 10.0 } else { -10.0 };
                            if l.vertical { (x + back + jitter, y) } else { (x + jitter, y + back) }
                        };
                        let class = match d.outcome {
                            Some(o) => format!("topo-dot done {o}"),
                            None => "topo-dot".to_string(),
                        };
                        // While its journey is replayed, the replay's dot stands for it.
                        let class = move || if replay.moving.get() == Some(id) { format!("{class} motion-hidden") } else { class.clone() };
                        let testid = if d.outcome.is_some() { "done" } else { "inflight" };
                        view! {
                            <circle
                                class=class
                                data-testid=testid
                                cx=move || pos().0
                                cy=move || pos().1
                                r="7"
                                tabindex="0"
                                role="button"
                                aria-label=format!("request #{}{}: show its timeline", id + 1, if d.outcome.is_some() { "" } else { " in flight" })
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
                // The replay's pieces: the waiting proxy's timer over the proxy box, the dot and what
                // it carries on top of everything (ui::motion::paint draws them every frame).
                <g inner_html=super::motion::SKELETON />
            </svg>
        </section>
    }
}

fn is_narrow() -> bool {
    web_sys::window()
        .and_then(|w| w.inner_width().ok())
        .and_then(|v| v.as_f64())
        .is_some_and(|w| w < 640.0)
}
