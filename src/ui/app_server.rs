//! The app's server (issue 18): which program the apps run (`App::server`:
//! node, gunicorn, PHP-FPM, uWSGI) and its own settings, by their real
//! names. Shown in the Config tab under the proxy's directives. The engine
//! decides what each setting does (`sim::server`); this only edits the
//! scenario.

use leptos::prelude::*;

use super::number::NumberField;

use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::server::gunicorn::WorkerClass;
use crate::sim::server::php_fpm::Pm;
use crate::sim::server::ServerKind;

/// A numeric setting of the first app's server: label, test id, bounds, getter, setter.
struct Knob {
    label: &'static str,
    testid: &'static str,
    min: u64,
    max: u64,
    get: fn(&Scenario) -> u64,
    set: fn(&mut Scenario, u64),
}

fn each_app(s: &mut Scenario, f: impl Fn(&mut crate::sim::scenario::App)) {
    for a in &mut s.apps {
        f(a);
    }
}

const GUNICORN: &[Knob] = &[
    Knob { label: "--workers", testid: "gunicorn-workers", min: 1, max: 64, get: |s| s.apps[0].gunicorn.workers as u64, set: |s, v| each_app(s, |a| a.gunicorn.workers = v as u32) },
    Knob { label: "--timeout (s)", testid: "gunicorn-timeout", min: 1, max: 3600, get: |s| s.apps[0].gunicorn.timeout, set: |s, v| each_app(s, |a| a.gunicorn.timeout = v) },
    Knob { label: "--keep-alive (s, gthread)", testid: "gunicorn-keepalive", min: 1, max: 3600, get: |s| s.apps[0].gunicorn.keepalive, set: |s, v| each_app(s, |a| a.gunicorn.keepalive = v) },
];

const PHP_FPM: &[Knob] = &[
    Knob { label: "pm.max_children", testid: "fpm-max-children", min: 1, max: 1000, get: |s| s.apps[0].php_fpm.max_children as u64, set: |s, v| each_app(s, |a| a.php_fpm.max_children = v as u32) },
    Knob { label: "request_terminate_timeout (s, 0: off)", testid: "fpm-terminate", min: 0, max: 3600, get: |s| s.apps[0].php_fpm.request_terminate_timeout, set: |s, v| each_app(s, |a| a.php_fpm.request_terminate_timeout = v) },
];

const UWSGI: &[Knob] = &[
    Knob { label: "processes", testid: "uwsgi-processes", min: 1, max: 64, get: |s| s.apps[0].uwsgi.processes as u64, set: |s, v| each_app(s, |a| a.uwsgi.processes = v as u32) },
    Knob { label: "buffer-size (bytes)", testid: "uwsgi-buffer-size", min: 1024, max: 65535, get: |s| s.apps[0].uwsgi.buffer_size, set: |s, v| each_app(s, |a| a.uwsgi.buffer_size = v) },
    Knob { label: "harakiri (s, 0: off)", testid: "uwsgi-harakiri", min: 0, max: 3600, get: |s| s.apps[0].uwsgi.harakiri, set: |s, v| each_app(s, |a| a.uwsgi.harakiri = v) },
];

/// What a server is called on the page.
pub fn display(kind: ServerKind) -> &'static str {
    crate::view::server_name(kind)
}

/// Switches every app to `kind`. PHP-FPM runs scripts: the clients then
/// ask for /index.php (and back to /users when leaving it).
fn switch(s: &mut Scenario, kind: ServerKind) {
    for a in &mut s.apps {
        a.server = kind;
    }
    match kind {
        ServerKind::PhpFpm if s.clients.path == "/users" => s.clients.path = "/index.php".into(),
        k if k != ServerKind::PhpFpm && s.clients.path == "/index.php" => s.clients.path = "/users".into(),
        _ => {}
    }
}

#[component]
pub fn AppServerPanel(scenario: RwSignal<Scenario>, on_change: Callback<Scenario>) -> impl IntoView {
    let edit = move |f: &dyn Fn(&mut Scenario)| {
        let mut next = scenario.get_untracked();
        if next.apps.is_empty() {
            return;
        }
        f(&mut next);
        on_change.run(next);
    };
    let kind = move || scenario.with(|s| s.apps.first().map(|a| a.server).unwrap_or_default());
    let haproxy = move || scenario.with(|s| s.proxy.flavor == Flavor::Haproxy);
    let control = move |k: &'static Knob| {
        let on_text = Callback::new(move |text: String| {
            if let Ok(v) = text.parse::<u64>() {
                if (k.min..=k.max).contains(&v) {
                    edit(&|s| (k.set)(s, v));
                }
            }
        });
        view! {
            <NumberField label=k.label testid=k.testid.to_string() min=k.min.to_string() max=k.max.to_string()
                value=Signal::derive(move || scenario.with(|s| s.apps.first().map(|_| (k.get)(s).to_string()).unwrap_or_default())) on_text />
        }
    };
    view! {
        <div class="config-controls app-server" data-testid="app-server">
            <label class="field">
                <span class="field-label">"App server"</span>
                <select data-testid="server-select"
                    prop:value=move || kind().as_str()
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        if let Some(k) = ServerKind::all().into_iter().find(|k| k.as_str() == v) {
                            edit(&|s| switch(s, k));
                        }
                    }>
                    {ServerKind::all().into_iter().map(|k| {
                        // HAProxy speaks HTTP only: not FastCGI nor uwsgi.
                        let disabled = move || haproxy() && k.protocol() != crate::sim::server::Protocol::Http;
                        view! { <option value=k.as_str() disabled=disabled>{display(k)}</option> }
                    }).collect_view()}
                </select>
            </label>
            {move || (kind().protocol() != crate::sim::server::Protocol::Http).then(|| view! {
                <span class="field-note" data-testid="server-protocol-note">{format!(
                    "nginx passes to it with {p}_pass: the proxy_* timeouts and buffers above stand for {p}_connect_timeout, {p}_read_timeout, {p}_buffer_size… (see the config below)",
                    p = kind().protocol().prefix()
                )}</span>
            })}
            {move || match kind() {
                ServerKind::Node => view! {
                    <span class="field-note">"workers, backlog and the idle keep-alive close are the app's own settings (the scenario's apps[]), not the proxy's"</span>
                }.into_any(),
                ServerKind::Gunicorn => view! {
                    {GUNICORN.iter().map(control).collect_view()}
                    <label class="field">
                        <span class="field-label">"--worker-class"</span>
                        <select data-testid="gunicorn-worker-class"
                            prop:value=move || scenario.with(|s| if s.apps.first().is_some_and(|a| a.gunicorn.worker_class == WorkerClass::Gthread) { "gthread" } else { "sync" })
                            on:change=move |ev| {
                                let c = if event_target_value(&ev) == "gthread" { WorkerClass::Gthread } else { WorkerClass::Sync };
                                edit(&|s| each_app(s, |a| a.gunicorn.worker_class = c));
                            }>
                            <option value="sync">"sync"</option>
                            <option value="gthread">"gthread"</option>
                        </select>
                    </label>
                }.into_any(),
                ServerKind::PhpFpm => view! {
                    <label class="field">
                        <span class="field-label">"pm"</span>
                        <select data-testid="fpm-pm"
                            prop:value=move || scenario.with(|s| match s.apps.first().map(|a| a.php_fpm.pm) {
                                Some(Pm::Static) => "static",
                                Some(Pm::Ondemand) => "ondemand",
                                _ => "dynamic",
                            })
                            on:change=move |ev| {
                                let pm = match event_target_value(&ev).as_str() { "static" => Pm::Static, "ondemand" => Pm::Ondemand, _ => Pm::Dynamic };
                                edit(&|s| each_app(s, |a| a.php_fpm.pm = pm));
                            }>
                            {["static", "dynamic", "ondemand"].into_iter().map(|p| view! { <option value=p>{p}</option> }).collect_view()}
                        </select>
                    </label>
                    {PHP_FPM.iter().map(control).collect_view()}
                    <label class="field">
                        <span class="field-label">"listen.owner"</span>
                        <input type="text" data-testid="fpm-listen-owner"
                            prop:value=move || scenario.with(|s| s.apps.first().map(|a| a.php_fpm.listen_owner.clone()).unwrap_or_default())
                            on:change=move |ev| { let v = event_target_value(&ev).trim().to_string(); edit(&|s| each_app(s, |a| a.php_fpm.listen_owner = v.clone())) } />
                    </label>
                    <label class="field">
                        <span class="field-label">"listen.group"</span>
                        <input type="text" data-testid="fpm-listen-group"
                            prop:value=move || scenario.with(|s| s.apps.first().map(|a| a.php_fpm.listen_group.clone()).unwrap_or_default())
                            on:change=move |ev| { let v = event_target_value(&ev).trim().to_string(); edit(&|s| each_app(s, |a| a.php_fpm.listen_group = v.clone())) } />
                    </label>
                    <label class="field">
                        <span class="field-label">"listen.mode"</span>
                        <input type="text" data-testid="fpm-listen-mode"
                            prop:value=move || scenario.with(|s| s.apps.first().map(|a| a.php_fpm.listen_mode.clone()).unwrap_or_default())
                            on:change=move |ev| { let v = event_target_value(&ev).trim().to_string(); edit(&|s| each_app(s, |a| a.php_fpm.listen_mode = v.clone())) } />
                    </label>
                }.into_any(),
                ServerKind::Uwsgi => view! { {UWSGI.iter().map(control).collect_view()} }.into_any(),
            }}
        </div>
    }
}
