//! The embed's static preview (issue 20): what an embed shows before its
//! WebAssembly has loaded, produced by the engine at build time
//! (`gateway-previews`, run by Trunk's post-build hook into `previews.json`)
//! and drawn by `public/preview.js` with the live embed's classes.
//!
//! One entry per scenario an embed's address can open without a fragment
//! (`fault=` a catalog fault or a ready scenario, or none, times `flavor=`
//! none, nginx or haproxy), found the way the page finds it (`link::parse`),
//! and indexed both by those parameters and by the scenario's share fragment
//! (`link::encode_fragment`, each preview's `fragment`), so a snippet's
//! `#s=…` finds its preview too.
//! Each entry holds two states, read off a `Session` driven exactly as the
//! live embed drives it: `click`, what the reader sees after pressing "Run
//! this example" (`Session::paused`, `reset`, and one `send` when the
//! scenario has no requests of its own: `ui::embed::EmbedApp`'s `begin`),
//! and `auto`, what an embed without `start=click` shows when it starts
//! (`Session::new`). The texts are the ones the live embed renders: the
//! topology's model and the status headline (`view`), the log line, its
//! title and the HAProxy termination sentence (`embed_api`).
//!
//! An address outside this set (another seed or retry preset, a fragment
//! made by an older version, an edited scenario) has no entry: the loader
//! then names the scenario and its faults (from `faults`) and shows no
//! status it does not know.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::embed_api;
use crate::link;
use crate::scenarios;
use crate::session::Session;
use crate::sim::scenario::{Flavor, Scenario};
use crate::sim::FaultKind;
use crate::view;

/// The file's format; the loader refuses another.
pub const FORMAT: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Previews {
    pub format: u32,
    /// `fault|flavor` (each the parameter's value, or empty when absent) →
    /// index into `previews`. A share fragment finds its preview by the
    /// previews' own `fragment`.
    pub keys: BTreeMap<String, usize>,
    pub previews: Vec<Preview>,
    /// Every catalog fault's title under nginx and under HAProxy, to name
    /// the faults of a scenario that has no preview.
    pub faults: BTreeMap<&'static str, [&'static str; 2]>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Preview {
    /// As the embed's bar titles it: `embed_api::title` and the proxy.
    pub title: String,
    pub flavor: &'static str,
    /// The fault the embed's picker shows (the first active one, or the
    /// picker's default when nothing is broken).
    pub pick: &'static str,
    /// A fault is active (the embed's Fix button is enabled).
    pub broken: bool,
    /// The scenario's share fragment (`s=…`), for the "Open in Gateway Lab" link.
    pub fragment: String,
    pub click: State,
    /// None when it is the same as `click` (a scenario whose own requests
    /// run at once shows the same either way).
    pub auto: Option<State>,
}

/// What the live embed shows in one state.
#[derive(Debug, Serialize, PartialEq)]
pub struct State {
    pub topology: Topology,
    /// `view::headline` of the newest request, or None when none was sent.
    pub status: Option<String>,
    pub status_class: &'static str,
    /// 1 for the first request, as the page numbers them.
    pub request: Option<usize>,
    /// `embed_api::log_title`, and the line (finished requests only).
    pub log_title: Option<&'static str>,
    pub log_line: Option<String>,
    pub termination: Option<String>,
    pub explanation: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct Topology {
    pub client: String,
    pub client_state: String,
    pub last: &'static str,
    pub proxy: String,
    pub proxy_detail: String,
    pub proxy_running: bool,
    pub apps_last: &'static str,
    pub apps: Vec<AppBox>,
    /// `view::Model::describe`, the topology's aria-label.
    pub describe: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct AppBox {
    pub name: String,
    /// The server program when it is not node (`PHP-FPM`, `gunicorn`, `uWSGI`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<&'static str>,
    pub listen: String,
    pub state: &'static str,
    pub backup: bool,
}

/// The picker's choice when nothing is broken (`ui::embed::DEFAULT_PICK`).
const DEFAULT_PICK: &str = "app_down";

/// Every preview, as `previews.json` holds them.
pub fn all() -> Result<Previews, String> {
    let mut out = Previews { format: FORMAT, keys: BTreeMap::new(), previews: Vec::new(), faults: BTreeMap::new() };
    for kind in FaultKind::catalog() {
        out.faults.insert(kind.id(), [kind.title_in(Flavor::Nginx), kind.title_in(Flavor::Haproxy)]);
    }
    let bases: Vec<&str> = std::iter::once("")
        .chain(FaultKind::catalog().iter().map(|k| k.id()))
        .chain(scenarios::READY.iter().map(|(name, _)| *name))
        .collect();
    let mut by_fragment: BTreeMap<String, usize> = BTreeMap::new();
    for base in bases {
        for flavor in ["", "nginx", "haproxy"] {
            let mut query = String::from("?embed=1");
            if !base.is_empty() {
                query.push_str(&format!("&fault={base}"));
            }
            if !flavor.is_empty() {
                query.push_str(&format!("&flavor={flavor}"));
            }
            let link = link::parse(&query, "", scenarios::READY);
            if !link.problems.is_empty() {
                // A ready scenario that only nginx can run (a PHP-FPM or uWSGI app
                // under `flavor=haproxy`): the live embed says why; no preview.
                if flavor == "haproxy" && link.problems.iter().all(|p| p.contains("speaks HTTP to its servers")) {
                    continue;
                }
                return Err(format!("{query}: {}", link.problems.join("; ")));
            }
            let sc = link.scenario.unwrap_or_else(scenarios::blank);
            let fragment = link::encode_fragment(&sc);
            let index = match by_fragment.get(&fragment) {
                Some(&i) => i,
                None => {
                    let i = out.previews.len();
                    out.previews.push(preview(&sc).map_err(|e| format!("{query}: {e}"))?);
                    by_fragment.insert(fragment, i);
                    i
                }
            };
            out.keys.insert(format!("{base}|{flavor}"), index);
        }
    }
    Ok(out)
}

/// The preview of one scenario.
pub fn preview(sc: &Scenario) -> Result<Preview, String> {
    let flavor = sc.proxy.flavor;
    // After the reader's click: `begin` in ui/embed/mod.rs.
    let mut clicked = Session::paused(sc.clone()).map_err(|e| e.to_string())?;
    clicked.reset().map_err(|e| e.to_string())?;
    if sc.clients.requests == 0 && sc.requests.is_empty() {
        clicked.send(1, 0).map_err(|e| e.to_string())?;
    }
    let auto = Session::new(sc.clone()).map_err(|e| e.to_string())?;
    let (click, auto) = (state(&clicked, flavor), state(&auto, flavor));
    Ok(Preview {
        title: format!("{} · {}", embed_api::title(sc), flavor.as_str()),
        flavor: flavor.as_str(),
        pick: sc.faults.first().map(|f| f.kind.id()).unwrap_or(DEFAULT_PICK),
        broken: !sc.faults.is_empty(),
        fragment: link::encode_fragment(sc),
        auto: (auto != click).then_some(auto),
        click,
    })
}

fn state(s: &Session, flavor: Flavor) -> State {
    let m = view::model(s.sim());
    let topology = Topology {
        describe: m.describe(),
        client: m.client,
        client_state: m.last_text,
        last: m.last,
        proxy: m.proxy_name,
        proxy_detail: m.proxy_detail,
        proxy_running: m.proxy_running,
        apps_last: m.apps_last,
        apps: m.apps.into_iter().map(|a| AppBox { name: a.name, server: a.server, listen: a.listen, state: a.state, backup: a.backup }).collect(),
    };
    let last = s.sim().exchanges().last();
    let head = last.map(view::headline);
    let line = last.filter(|e| e.is_finished()).map(|e| embed_api::log_line(e, flavor));
    let log_line = line.as_ref().and_then(|(_, l)| l.clone());
    State {
        topology,
        status: head.as_ref().map(|h| h.0.clone()),
        status_class: head.map(|h| h.1).unwrap_or("none"),
        request: last.map(|e| e.id + 1),
        log_title: log_line.as_ref().and(line.as_ref()).map(|(log, _)| embed_api::log_title(log)),
        termination: log_line.as_deref().and_then(embed_api::termination).map(|t| t.sentence),
        log_line,
        explanation: last.and_then(|e| e.explanation.as_deref()).map(embed_api::one_line).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalog_fault_and_ready_scenario_has_a_preview_under_both_proxies() {
        let p = all().unwrap();
        for kind in FaultKind::catalog() {
            for flavor in ["", "nginx", "haproxy"] {
                assert!(p.keys.contains_key(&format!("{}|{flavor}", kind.id())), "{} {flavor}", kind.id());
            }
        }
        for (name, json) in scenarios::READY {
            // PHP-FPM and uWSGI apps need nginx (HAProxy speaks HTTP only): nginx's preview only.
            let nginx_only = Scenario::from_json(json).unwrap().apps.iter().any(|a| a.server.protocol() != crate::sim::server::Protocol::Http);
            assert_eq!(p.keys.contains_key(&format!("{name}|haproxy")), !nginx_only, "{name}");
            assert!(p.keys.contains_key(&format!("{name}|")), "{name}");
        }
        assert!(p.keys.contains_key("|"));
    }

    #[test]
    fn app_down_after_the_click_is_nginx_s_502_and_its_connect_line() {
        let p = all().unwrap();
        let pv = &p.previews[p.keys["app_down|"]];
        assert_eq!(pv.flavor, "nginx");
        let st = &pv.click;
        assert_eq!(st.status.as_deref(), Some("502 Bad Gateway"));
        assert_eq!(st.status_class, "fail");
        assert_eq!(st.log_title, Some("nginx error.log"));
        assert!(st.log_line.as_deref().unwrap().contains("connect() failed (111: Connection refused) while connecting to upstream"));
        assert_eq!(st.topology.apps[0].state, "down");
        // The fragment of the same scenario finds the same preview.
        let sc = link::parse("?fault=app_down", "", scenarios::READY).scenario.unwrap();
        assert_eq!(pv.fragment, link::encode_fragment(&sc));
        assert_eq!(p.previews.iter().filter(|q| q.fragment == pv.fragment).count(), 1, "one preview per scenario");
    }

    #[test]
    fn haproxy_previews_carry_the_termination_state() {
        let p = all().unwrap();
        let st = &p.previews[p.keys["slow_app|haproxy"]].click;
        assert_eq!(st.log_title, Some("HAProxy log (option httplog)"));
        assert!(st.termination.is_some(), "{st:?}");
    }

    #[test]
    fn a_fault_without_requests_of_its_own_starts_with_none_sent() {
        let p = all().unwrap();
        let pv = &p.previews[p.keys["|"]];
        let auto = pv.auto.as_ref().expect("nothing sent differs from one request sent");
        assert_eq!(auto.status, None);
        assert_eq!(auto.status_class, "none");
        assert_eq!(pv.click.request, Some(1));
    }
}
