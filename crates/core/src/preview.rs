//! The embed's static preview (issue 20): what an embed shows before its
//! WebAssembly has loaded, produced by the engine at build time
//! (`gateway-previews`, run by Trunk's post-build hook into `previews.json`)
//! and drawn by `public/preview.js` with the live embed's classes.
//!
//! One entry per scenario an embed's address can open without a fragment
//! (`fault=` a catalog fault or a ready scenario, or none, times `flavor=`
//! none or any flavor of `Flavor::ALL` that does not refuse it), found the
//! way the page finds it (`link::parse`),
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
//! `previews.json` holds no flavor and the first two (nginx, HAProxy), the
//! addresses most embeds use; each other flavor's previews are a file of
//! their own (`files`: `previews-apache.json`, …), which the loader fetches
//! only for an address of that flavor, so an embed's first load does not
//! grow with every flavor added ([`split`]).
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

/// The flavors whose previews `previews.json` itself holds (with the
/// address without `flavor=`); every other flavor gets a file of its own.
pub const IN_MAIN: [Flavor; 2] = [Flavor::Nginx, Flavor::Haproxy];

#[derive(Debug, Serialize)]
pub struct Previews {
    pub format: u32,
    /// `fault|flavor` (each the parameter's value, or empty when absent) →
    /// index into `previews`. A share fragment finds its preview by the
    /// previews' own `fragment`.
    pub keys: BTreeMap<String, usize>,
    pub previews: Vec<Preview>,
    /// Every catalog fault's title under each flavor, in `flavors`' order,
    /// to name the faults of a scenario that has no preview.
    pub faults: BTreeMap<&'static str, Vec<&'static str>>,
    /// `Flavor::ALL`'s names, the order of `faults`' titles.
    pub flavors: Vec<&'static str>,
    /// A flavor whose previews are in another file → that file's name (in
    /// the same directory). Empty in those files.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<&'static str, String>,
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
    /// The layers in front of the proxy (a chain), outermost first; absent without.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<LayerBox>,
    /// `view::Model::describe`, the topology's aria-label.
    pub describe: String,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LayerBox {
    pub name: &'static str,
    /// What it did with the newest request (`view::LayerBox::state`).
    pub state: String,
    /// That status's class (ok, warn, fail), or idle.
    pub last: &'static str,
}

#[derive(Debug, PartialEq, Serialize)]
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

/// What the full page shows first (issue 20): its start, `scenarios::blank` with nothing sent
/// yet, as the live stage first draws it. `gateway-previews --page INDEX.html` writes it into the
/// build's index.html (Trunk's post-build hook), and `public/boot.js` draws it while the
/// WebAssembly downloads, for an address that opens the page's start (no scenario, lesson,
/// paste or view in it), so the stage is on screen with the first bytes.
#[derive(Debug, Serialize)]
pub struct Page {
    pub format: u32,
    /// The clients' path (the Send button's words).
    pub path: String,
    pub state: State,
}

/// The page's start (see [`Page`]).
pub fn page() -> Result<Page, String> {
    let sc = scenarios::blank();
    let s = Session::new(sc.clone()).map_err(|e| e.to_string())?;
    Ok(Page { format: FORMAT, path: sc.clients.path.clone(), state: state(&s, sc.proxy.flavor) })
}

/// Every preview in one set (every flavor's addresses): what [`split`] cuts
/// into files.
pub fn all() -> Result<Previews, String> {
    let flavors: Vec<&str> = std::iter::once("").chain(Flavor::ALL.iter().map(|f| f.as_str())).collect();
    of(&flavors)
}

/// `previews.json` (no `flavor=`, and the flavors of [`IN_MAIN`], with
/// `files` naming the others' files) and each other flavor's file, as
/// (file name, previews).
pub fn split() -> Result<(Previews, Vec<(String, Previews)>), String> {
    let mut main_flavors = vec![""];
    main_flavors.extend(IN_MAIN.iter().map(|f| f.as_str()));
    let mut main = of(&main_flavors)?;
    let mut others = Vec::new();
    for f in Flavor::ALL.into_iter().filter(|f| !IN_MAIN.contains(f)) {
        let file = format!("previews-{}.json", f.as_str());
        main.files.insert(f.as_str(), file.clone());
        others.push((file, of(&[f.as_str()])?));
    }
    Ok((main, others))
}

/// The previews of every base address under each `flavor=` value of `flavors` ("": none).
fn of(flavors: &[&str]) -> Result<Previews, String> {
    let mut out = Previews {
        format: FORMAT,
        keys: BTreeMap::new(),
        previews: Vec::new(),
        faults: BTreeMap::new(),
        flavors: Flavor::ALL.iter().map(|f| f.as_str()).collect(),
        files: BTreeMap::new(),
    };
    for kind in FaultKind::catalog() {
        out.faults.insert(kind.id(), Flavor::ALL.iter().map(|&f| kind.title_in(f)).collect());
    }
    let bases: Vec<&str> = std::iter::once("")
        .chain(FaultKind::catalog().iter().map(|k| k.id()))
        .chain(scenarios::READY.iter().map(|(name, _)| *name))
        .collect();
    let mut by_fragment: BTreeMap<String, usize> = BTreeMap::new();
    for base in bases {
        for &flavor in flavors {
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
                // A flavor that refuses the scenario (its `unsupported()`: TLS to the
                // backend, WebSocket, a fault it was not measured for): the live embed says
                // so with that message; no preview either.
                if !flavor.is_empty() && link.problems.iter().all(|p| p.starts_with("the linked scenario is not valid: proxy.flavor: ")) {
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
        layers: m.layers.into_iter().map(|l| LayerBox { name: l.name, state: l.state, last: l.last }).collect(),
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
        log_title: log_line.as_ref().and(line.as_ref()).map(|(log, _)| embed_api::log_title_in(log, flavor)),
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
    fn the_page_starts_with_nothing_sent_and_the_app_listening() {
        let p = page().unwrap();
        assert_eq!(p.path, "/users");
        assert_eq!(p.state.status, None);
        assert_eq!(p.state.request, None);
        assert_eq!(p.state.topology.proxy, "nginx");
        assert!(p.state.topology.proxy_running);
        assert_eq!(p.state.topology.apps.len(), 1);
        assert_eq!(p.state.topology.apps[0].state, "listening");
        assert_eq!(p.state.topology.apps[0].listen, "127.0.0.1:3000");
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
    fn every_flavor_has_previews_of_what_it_models_and_none_of_what_it_refuses() {
        let p = all().unwrap();
        let catalog = FaultKind::catalog();
        let bases = std::iter::once("").chain(catalog.iter().map(|k| k.id())).chain(scenarios::READY.iter().map(|(n, _)| *n));
        let mut counted = 0;
        for base in bases {
            for f in Flavor::ALL {
                let fault = if base.is_empty() { String::new() } else { format!("&fault={base}") };
                let query = format!("?embed=1{fault}&flavor={}", f.as_str());
                let runs = link::parse(&query, "", scenarios::READY).problems.is_empty();
                assert_eq!(p.keys.contains_key(&format!("{base}|{}", f.as_str())), runs, "{query}");
                counted += usize::from(runs && !IN_MAIN.contains(&f));
            }
        }
        assert!(counted >= 60, "only {counted} previews for the flavors after nginx and HAProxy");
    }

    #[test]
    fn apache_caddy_and_varnish_previews_are_in_their_words() {
        let p = all().unwrap();
        let apache = &p.previews[p.keys["app_down|apache"]].click;
        assert_eq!(apache.status.as_deref(), Some("503 Service Unavailable"));
        assert_eq!(apache.log_title, Some("Apache error.log"));
        assert!(apache.log_line.as_deref().unwrap().contains("AH00957"), "{apache:?}");
        let caddy = &p.previews[p.keys["app_down|caddy"]].click;
        assert_eq!(caddy.status.as_deref(), Some("502 Bad Gateway"));
        assert_eq!(caddy.log_title, Some("Caddy error log (JSON)"));
        let varnish = &p.previews[p.keys["slow_app|varnish"]];
        assert_eq!(varnish.click.status.as_deref(), Some("503 Backend fetch failed"));
        assert_eq!(varnish.title, "App slower than .first_byte_timeout · varnish");
        let i = p.flavors.iter().position(|f| *f == "varnish").unwrap();
        assert_eq!(p.faults["slow_app"][i], "App slower than .first_byte_timeout");
    }

    #[test]
    fn the_split_keeps_every_preview_and_puts_each_flavor_after_the_first_two_in_its_file() {
        let whole = all().unwrap();
        let (main, others) = split().unwrap();
        assert!(main.keys.keys().all(|k| k.ends_with('|') || k.ends_with("|nginx") || k.ends_with("|haproxy")));
        assert_eq!(others.len(), Flavor::ALL.len() - IN_MAIN.len());
        let mut n = main.keys.len();
        for (file, part) in &others {
            let flavor = file.trim_start_matches("previews-").trim_end_matches(".json");
            assert_eq!(main.files.get(flavor), Some(file));
            assert!(part.files.is_empty() && !part.keys.is_empty());
            for (k, &i) in &part.keys {
                assert!(k.ends_with(&format!("|{flavor}")), "{k} in {file}");
                assert_eq!(part.previews[i], whole.previews[whole.keys[k]], "{k}");
            }
            n += part.keys.len();
        }
        assert_eq!(n, whole.keys.len());
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
