use leptos::either::Either;
use leptos::prelude::*;

use crate::link::Link;
use crate::session::Session;
use crate::sim::Fault;

use super::controls::Controls;
use super::embed::{EmbedApp, EmbedSnippet};
use super::fix::FixPanel;
use super::lessons::LessonRun;
use super::lessons_bar::LessonBar;
use super::lazy::LazyPanel;
use super::presenter::{install_shortcuts, PresenterBar, PresenterToggle, Training};
use super::logs::{LineKey, LogPanel};
use super::paste::{Paste, PasteBox, PasteReport, StaleNote};
use super::requests::{Chip, RecentRequests};
use super::response::ResponseView;
use super::codec::{OpenState, Opening, OpeningNote, FAILED};
use super::lazy::LoadFailed;
use super::share::{link_notice, location, read_location, read_page, Address, LinkNotice, ShareLink};
use super::tabs::{scroll_to_tabs, TabList, TabPanel, Tabs, TABS};
use super::theme::ThemePicker;
use super::time::TimeControls;
use super::playground::Playground;
use super::telling::TellingLine;
use super::timeline::Timeline;
use super::topology::Topology;

/// What `?view=` may name: `topology` (the stage) or a tab (`tabs::TABS`).
fn view_names() -> String {
    std::iter::once("topology").chain(TABS.iter().map(|(n, _)| *n)).collect::<Vec<_>>().join(", ")
}

/// Focuses the stage's Send button (after a fix, after opening a scenario).
pub fn focus_send() {
    request_animation_frame(|| {
        if let Some(el) = document().query_selector("[data-testid=send-request]").ok().flatten() {
            use wasm_bindgen::JsCast;
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    });
}

/// Brings the stage into view and focuses Send ("Open it in the playground").
pub fn show_stage() {
    if let Some(el) = document().query_selector("[data-testid=stage]").ok().flatten() {
        el.scroll_into_view();
    }
    focus_send();
}

/// Lines of each log rendered in the page (the engine keeps more).
const SHOWN_LINES: usize = 200;

/// Request chips shown (the newest ones).
const RECENT: usize = 40;

/// The test build's hidden triggers (`--features debug-hooks`); nothing otherwise.
fn debug_hooks() -> impl IntoView {
    #[cfg(feature = "debug-hooks")]
    return view! { <super::panic::DebugPanic /> };
    #[cfg(not(feature = "debug-hooks"))]
    ()
}

/// Adds a sentence to the link notice.
fn add_problem(notice: RwSignal<Option<String>>, msg: String) {
    notice.update(|n| *n = Some(match n.take() { Some(m) => format!("{m} {msg}"), None => msg }));
}

/// The problems of an address that only the whole page sees (a lesson id no lesson has, a `view=`
/// no section has, a lesson's starting scenario over the link's choices), after its link's own.
fn page_problems(notice: RwSignal<Option<String>>, link: &Link, lesson_known: bool, view_known: bool) {
    notice.set(link_notice(link));
    if let Some(id) = &link.lesson {
        if !lesson_known {
            add_problem(notice, format!("lesson={id:?} is not a lesson this page knows."));
        }
    }
    if let Some(v) = &link.view {
        if !view_known {
            add_problem(notice, format!("view={v:?} is not a section of this page (one of {}).", view_names()));
        }
    }
    // A lesson starts from its own scenario (with the room's seed), so what the address chose
    // besides the seed cannot be honoured: say so rather than drop it silently.
    if let Some(id) = link.lesson.as_ref().filter(|_| lesson_known) {
        if link.scenario.is_some() && !link.chosen_by.is_empty() {
            add_problem(notice, format!("{} was ignored: lesson={id:?} starts from its own scenario.", link.chosen_by.join(", ")));
        }
    }
}

/// Whether `view=` names the stage or a tab.
fn known_view(v: &str) -> bool {
    v == "topology" || super::tabs::index(v).is_some()
}

#[component]
pub fn App() -> impl IntoView {
    // The address's flags, read without JSON; if it names a scenario (a share link, `?fault=`, …)
    // or a lesson, the codec chunk reads it (`codec.rs`, issue 20) while the stage says so.
    let (link, wants_scenario) = read_page();
    let here = location();
    let paused = link.embed && link.click_to_start;
    // Its own requests run, as when a ready scenario is loaded (a
    // click-to-start embed runs them when the reader clicks).
    let open = |sc| if paused { Session::paused(sc) } else { Session::new(sc) };
    let session = open(crate::scenarios::blank()).expect("the default scenario is valid");
    let needs_codec = wants_scenario || (!link.embed && link.lesson.is_some());
    let notice = RwSignal::new(None);
    let pg = Playground::new(session);
    provide_context(pg);
    pg.start_clock();
    let opening = Opening::new(if needs_codec { OpenState::Pending } else { OpenState::Done });
    if link.embed {
        if needs_codec {
            // The link's scenario, read by the codec chunk; the embed's `ready` waits for it.
            let read = Callback::new(move |_: ()| {
                opening.state.set(OpenState::Pending);
                let here = here.clone();
                leptos::task::spawn_local(async move {
                    match read_location(here).await {
                        Ok(full) => {
                            if let Some(sc) = full.scenario.clone() {
                                let _ = pg.open(sc, paused).await;
                                pg.notice.set(None);
                            }
                            notice.set(link_notice(&full));
                            opening.problems.set(Some(full.problems));
                            opening.state.set(OpenState::Done);
                        }
                        Err(LoadFailed) => {
                            opening.state.set(OpenState::Failed);
                            if opening.problems.get_untracked().is_none() {
                                opening.problems.set(Some(vec![FAILED.to_string()]));
                            }
                        }
                    }
                });
            });
            opening.on_retry(read);
            read.run(());
        } else {
            notice.set(link_notice(&link));
            opening.problems.set(Some(link.problems.clone()));
        }
        // Either, not into_any(): AnyView over the whole page costs ~24 KB of gzipped wasm.
        return Either::Left(view! { <EmbedApp link=link.clone() notice /> });
    }
    let training = Training::new(link.present);
    provide_context(training);
    install_shortcuts(pg, training);
    // `view=NAME`: a tab to open (and scroll to), or `topology`, the stage.
    let view = link.view.clone().filter(|v| known_view(v));
    let tabs = Tabs::new(view.as_deref().and_then(super::tabs::index).unwrap_or(0));
    let address = Address::new(pg.scenario, training.present, link.theme.clone(), None, view.clone());
    address.follow();
    // The lessons are read by the codec chunk only when one starts (the Lessons tab's Start, a
    // `lesson=` link) or a paste report names one: the tab lists them from `catalog::INDEX`
    // (build.rs), so the plain page never downloads the codec chunk (issue 20).
    let lesson_run = LessonRun::new();
    // "Paste a line from your logs"; `?paste=` opens the page on its diagnosis.
    let paste = Paste::new(pg, Some(address), Some(lesson_run));
    if needs_codec {
        // The address's scenario and lesson, through the codec chunk; the paste (which loads its
        // own scenario) after them.
        let link = link.clone();
        let read = Callback::new(move |_: ()| {
            opening.state.set(OpenState::Pending);
            let (link, here) = (link.clone(), here.clone());
            leptos::task::spawn_local(async move {
                let full = if wants_scenario { read_location(here).await } else { Ok(link.clone()) };
                let mut lesson_known = true;
                let opened = match full {
                    Ok(full) => {
                        if let Some(sc) = full.scenario.clone() {
                            let _ = pg.open(sc, false).await;
                        }
                        let started = match &full.lesson {
                            Some(id) => match lesson_run.load().await {
                                Ok(()) => {
                                    lesson_known = lesson_run.knows(id);
                                    if lesson_known { lesson_run.start_id(id).await } else { Ok(()) }
                                }
                                Err(e) => Err(e),
                            },
                            None => Ok(()),
                        };
                        started.map(|()| full)
                    }
                    Err(e) => Err(e),
                };
                match opened {
                    Ok(full) => {
                        page_problems(notice, &full, lesson_known, full.view.as_deref().is_none_or(known_view));
                        opening.state.set(OpenState::Done);
                        if let Some(text) = full.paste.clone() {
                            paste.open_on(text);
                        }
                    }
                    Err(LoadFailed) => {
                        // The default scenario, as a link that could not be opened.
                        let _ = pg.open(crate::scenarios::blank(), false).await;
                        lesson_run.leave();
                        opening.state.set(OpenState::Failed);
                    }
                }
            });
        });
        opening.on_retry(read);
        read.run(());
    } else {
        page_problems(notice, &link, true, link.view.as_deref().is_none_or(known_view));
        if let Some(text) = link.paste.clone() {
            paste.open_on(text);
        }
    }
    if let Some(v) = view {
        // A tab's panel may still be loading its chunk (`lazy.rs`): it scrolls again once drawn.
        provide_context(super::lazy::ScrollWhenLoaded(RwSignal::new(!matches!(v.as_str(), "topology" | "logs" | "timeline"))));
        request_animation_frame(move || match v.as_str() {
            "topology" => show_stage(),
            _ => scroll_to_tabs(),
        });
    }
    // Back and Forward: the address's scenario (or lesson) and tab, through the Session, without
    // a new history entry. The newest one wins when the codec chunk answers late.
    let latest = StoredValue::new(0u64);
    let popstate = window_event_listener(leptos::ev::popstate, move |_| {
        let (link, wants_scenario) = read_page();
        let here = location();
        if let Some(i) = link.view.as_deref().and_then(super::tabs::index) {
            tabs.select(i);
        }
        address.view.set(link.view.clone().filter(|v| known_view(v)));
        latest.update_value(|n| *n += 1);
        if !wants_scenario && link.lesson.is_none() {
            lesson_run.leave();
            let _ = pg.run(|s| s.load(crate::scenarios::blank()));
            return;
        }
        let this = latest.get_value();
        leptos::task::spawn_local(async move {
            let link = if wants_scenario {
                match read_location(here).await {
                    Ok(l) => l,
                    Err(LoadFailed) => {
                        if latest.get_value() == this {
                            opening.state.set(OpenState::Failed);
                        }
                        return;
                    }
                }
            } else {
                link
            };
            if latest.get_value() != this {
                return;
            }
            let lesson = match link.lesson {
                Some(id) if lesson_run.load().await.is_ok() && lesson_run.knows(&id) => Some(id),
                _ => None,
            };
            if latest.get_value() != this {
                return;
            }
            match lesson {
                Some(id) => {
                    let _ = lesson_run.start_id(&id).await;
                }
                None => {
                    lesson_run.leave();
                    let sc = link.scenario.unwrap_or_else(crate::scenarios::blank);
                    let _ = pg.load(sc).await;
                }
            }
        });
    });
    std::mem::forget(popstate);
    let select_tab = Callback::new(move |i: usize| {
        tabs.select(i);
        address.view.set(Some(TABS[i].0.to_string()));
    });
    // Every control runs a Session command; a refused one shows as the notice
    // next to the controls (`Playground::run`), so the results are not needed here.
    let Playground { scenario, revision, playing, speed, selected, notice: config_error, .. } = pg;
    // A discrete choice (a fault, a ready scenario, a flavor) is a new history entry.
    let set_faults = Callback::new(move |faults: Vec<Fault>| {
        let kinds = |fs: &[Fault]| fs.iter().map(|f| f.kind.id()).collect::<Vec<_>>();
        let before = scenario.with_untracked(|s| kinds(&s.faults));
        let after = kinds(&faults);
        if pg.run(|s| s.set_faults(faults)).is_ok() && before != after {
            address.push();
        }
    });
    let send = move || {
        let _ = pg.send();
    };
    let burst = move || {
        let _ = pg.burst();
    };
    let load = Callback::new(move |name: String| {
        leptos::task::spawn_local(async move {
            if pg.load_named(&name).await.is_ok() {
                address.push();
            }
        });
    });
    let step = Callback::new(move |_| pg.step());
    let reset = Callback::new(move |_| {
        let _ = pg.reset();
    });
    let set_seed = Callback::new(move |seed: u64| {
        let _ = pg.set_seed(seed);
    });
    let clock = Signal::derive(move || {
        revision.track();
        pg.with_sim(|s| format!("virtual time {}  ·  {}", s.now().offset_label(), s.world().clock.error_log(s.now())))
    });
    let pending = Signal::derive(move || {
        revision.track();
        pg.with_sim(|s| s.exchanges().iter().filter(|e| !e.is_finished()).count())
    });

    let fault_id = Signal::derive(move || {
        scenario.with(|s| s.faults.first().map(|f| f.kind.id().to_string()).unwrap_or_else(|| "none".into()))
    });
    let choose_fault = move |id: String| {
        if pg.break_with(&id).is_ok() {
            address.push();
        }
    };
    // After a fix the stage says what changed and invites the next request; focus goes to Send
    // (the Fix card, which had it, disappears with the fault).
    let fixed = RwSignal::new(None::<String>);
    let apply_fix = move || {
        // The fault's fix, or, for a scenario whose break is a layer's setting (a stale DNS record,
        // no registered targets), the layer's: what the Fix box offered.
        let title = scenario.with_untracked(crate::sim::fault::Fault::fix_for).map(|f| f.title);
        if pg.fix().is_ok() {
            fixed.set(title.map(str::to_string));
            focus_send();
        }
    };
    // The banner lasts until the next request (or a new run).
    Effect::new(move |before: Option<(u64, usize)>| {
        revision.track();
        let now = (pg.epoch.get_untracked(), pg.with_sim(|s| s.exchanges().len()));
        if before.is_some_and(|b| b != now) {
            fixed.set(None);
        }
        now
    });

    let topology = Memo::new(move |_| {
        revision.track();
        pg.with_sim(super::topology::model)
    });
    let topology = Signal::from(topology);
    // The request the response and timeline panels show: the newest one,
    // unless the user picked another.
    let last = Memo::new(move |_| {
        revision.track();
        let pick = selected.get();
        pg.with_sim(|s| match pick {
            // A picked request that the run no longer keeps: the newest.
            Some(i) => s.exchanges().get(i).or_else(|| s.exchanges().last()).cloned(),
            None => s.exchanges().last().cloned(),
        })
    });
    let chips = Signal::derive(move || {
        revision.track();
        pg.with_sim(|s| {
            let ex = s.exchanges();
            ex.iter_from(ex.len().saturating_sub(RECENT)).map(Chip::of).collect::<Vec<_>>()
        })
    });
    let select = Callback::new(move |id: usize| selected.set(Some(id)));
    // Each line is keyed by its run (the epoch) and its number in that run's
    // log: a new run's line 3 is a new row, never the old run's line 3 reused.
    let log = move |pick: fn(&crate::sim::world::World) -> &crate::sim::log::LogBuffer| {
        Signal::derive(move || {
            revision.track();
            pg.with(|s| {
                let epoch = s.epoch();
                let buf = pick(s.sim().world());
                let skip = buf.len().saturating_sub(SHOWN_LINES);
                let first = buf.total() - buf.len() as u64 + skip as u64;
                buf.lines().skip(skip).cloned().enumerate().map(|(i, l)| (LineKey { run: epoch, n: first + i as u64 }, l)).collect::<Vec<_>>()
            })
        })
    };
    let error_lines = log(|w| &w.error_log);
    let access_lines = log(|w| &w.access_log);
    let app_lines = log(|w| &w.app_log);
    let stderr_lines = log(|w| &w.proxy_stderr);
    // The stage's log line for the request `last` shows, chosen by the engine (it also reads the
    // world, e.g. the proxy's stderr, so it follows every revision).
    let telling = Memo::new(move |_| {
        revision.track();
        last.with(|e| e.as_ref().and_then(|e| pg.with_sim(|s| super::telling::telling(s.world(), e))))
    });
    let proxy_name = Signal::derive(move || {
        scenario.with(|s| s.proxy.flavor.as_str().to_string())
    });

    // The stage waits for the address's scenario (codec chunk) or its flavor's model.
    let waiting = move || opening.pending() || pg.flavors.pending();
    Either::Right(view! {
        // `data-testid=app` once the address's scenario is open (`app-opening` while the codec chunk reads it).
        <div class="app" class:presenter=move || training.present.get() data-testid=move || if waiting() { "app-opening" } else { "app" } aria-busy=move || waiting().then_some("true")>
            <header class="masthead">
                <div>
                    <h1>"Gateway Lab"</h1>
                    <p class="tagline" data-testid="tagline">{move || format!("Break the upstream, watch what {} does, read the exact log line.", scenario.with(|s| s.proxy.flavor.display()))}</p>
                </div>
                <div class="masthead-tools">
                    <PresenterToggle />
                    <ShareLink scenario=scenario />
                    <EmbedSnippet scenario=scenario />
                    <ThemePicker initial=link.theme.clone().unwrap_or_else(|| "system".into()) />
                </div>
            </header>
            <LinkNotice message=notice />
            <PresenterBar />
            <main>
                <LessonBar />
                // The stage: the break, the request's path, the status, the full log line with its
                // level, the why and the fix, together in the first screen. Everything else follows.
                <div class="stage" class:stage-pasted=move || paste.recognised() || paste.stale() data-testid="stage">
                    <div class="stage-paste"><PasteBox paste /></div>
                    <div class="stage-topology"><Topology model=topology on_select=select /></div>
                    <div class="stage-controls">
                        // Disabled (Send included) while the codec chunk reads the address's scenario,
                        // or the flavors' chunk loads the model it runs on (`flavors.rs`).
                        <fieldset class="stage-gate" style="display: contents" disabled=waiting>
                        <Controls
                            fault_id=fault_id
                            flavor=Signal::derive(move || scenario.with(|s| s.proxy.flavor))
                            pattern=Signal::derive(move || scenario.with(crate::sim::fault::pattern_for))
                            on_fault=choose_fault
                            on_send=send
                            on_burst=burst
                            on_demonstrate=Callback::new(move |_| {
                                // Show the first request of the pattern that failed.
                                if let Ok(d) = pg.run(|s| s.demonstrate()) {
                                    selected.set(d.failed);
                                }
                            })
                        />
                        <RecentRequests chips selected=selected.into() on_select=select />
                        <TimeControls
                            playing
                            speed
                            seed=Signal::derive(move || scenario.with(|s| s.seed))
                            clock
                            pending
                            on_step=step
                            on_reset=reset
                            on_seed=set_seed
                        />
                        </fieldset>
                    </div>
                    <div class="stage-result" class:stage-stale=move || paste.stale()>
                        <Show when=move || !pg.flavors.pending()><OpeningNote /></Show>
                        <super::flavors::FlavorNote />
                        <StaleNote paste />
                        <ResponseView exchange=last.into()>
                            <TellingLine line=telling.into() />
                        </ResponseView>
                        <FixPanel exchange=last.into() scenario=scenario on_fix=Callback::new(move |_| apply_fix()) />
                        <Show when=move || fixed.with(|f| f.is_some())>
                            <p class="fixed-note" role="status" data-testid="fixed-note">
                                {move || format!("Fixed: {}. The answer above is from before the fix: send a request to see what the client gets now.", fixed.get().unwrap_or_default())}
                            </p>
                        </Show>
                    </div>
                    <div class="stage-report"><PasteReport paste /></div>
                </div>
                // Everything else is a tab away; a panel mounts the first time its tab opens.
                <div class="tabs" id="tabs">
                    <TabList flavor=Signal::derive(move || scenario.with(|s| s.proxy.flavor)) on_select=select_tab />
                    // The panels below the stage but the logs and the timeline load their code when
                    // their tab first opens (`lazy.rs`; issue 20).
                    <TabPanel name="lessons"><LazyPanel what="the lessons" load=move || super::lazy::lessons() /></TabPanel>
                    <TabPanel name="logs"><section id="logs" class="logs" aria-label="Logs">
                        <Show when=move || proxy_name.get() != "haproxy">
                            <LogPanel title=Signal::derive(move || match proxy_name.get().as_str() {
                                "apache" => "/var/log/apache2/error.log".to_string(),
                                "caddy" => "caddy errors (journalctl -u caddy)".to_string(),
                                "varnish" => "varnishlog (backend transactions)".to_string(),
                                _ => "nginx error.log".to_string(),
                            }) testid="error-log" lines=error_lines />
                        </Show>
                        <LogPanel
                            title=Signal::derive(move || match proxy_name.get().as_str() {
                                "nginx" => "nginx access.log".to_string(),
                                "apache" => "/var/log/apache2/access.log".to_string(),
                                "caddy" => "/var/log/caddy/access.log".to_string(),
                                "varnish" => "varnishncsa".to_string(),
                                _ => "haproxy log (option httplog)".to_string(),
                            })
                            testid="access-log"
                            lines=access_lines
                        />
                        <LogPanel title=Signal::derive(|| "app log (journalctl)".to_string()) testid="app-log" lines=app_lines />
                        <super::logs::LayerLogs />
                        <Show when=move || stderr_lines.with(|l| !l.is_empty())>
                            <LogPanel title=Signal::derive(move || { let unit = if proxy_name.get() == "apache" { "apache2".to_string() } else { proxy_name.get() }; format!("{unit} stderr (journalctl -u {unit})") }) testid="proxy-stderr" lines=stderr_lines />
                        </Show>
                    </section></TabPanel>
                    <TabPanel name="timeline"><Timeline exchange=last.into() /></TabPanel>
                    <TabPanel name="terminal"><LazyPanel what="the terminal" load=super::lazy::terminal /></TabPanel>
                    <TabPanel name="compare"><LazyPanel what="the comparison" load=move || super::lazy::compare(scenario) /></TabPanel>
                    <TabPanel name="quiz"><LazyPanel what="the quiz" load=super::lazy::quiz /></TabPanel>
                    <TabPanel name="lab"><LazyPanel what="the retry lab" load=move || super::lazy::lab(scenario) /></TabPanel>
                    <TabPanel name="build"><LazyPanel what="the fault palette" load=move || super::lazy::build(scenario, config_error, set_faults, load) /></TabPanel>
                    <TabPanel name="config"><LazyPanel what="the configuration" load=move || super::lazy::config(pg, address) /></TabPanel>
                </div>
            </main>
            {debug_hooks()}
            <footer class="footer">
                "Virtual time; everything runs in your browser. "
                <span data-testid="footer-proxy">
                    {move || scenario.with(|s| match s.proxy.flavor {
                        crate::sim::scenario::Flavor::Nginx => format!("nginx {}", s.proxy.version),
                        crate::sim::scenario::Flavor::Haproxy => format!("HAProxy {}", s.proxy.haproxy.version),
                        crate::sim::scenario::Flavor::Apache => format!("Apache httpd {}", s.proxy.apache.version),
                        crate::sim::scenario::Flavor::Caddy => format!("Caddy {}", s.proxy.caddy.version),
                        crate::sim::scenario::Flavor::Varnish => format!("Varnish {}", s.proxy.varnish.version),
                        f @ (crate::sim::scenario::Flavor::Envoy | crate::sim::scenario::Flavor::Alb) => format!("{} ({})", f.display(), crate::sim::scenario::Evidence::BADGE),
                    })}
                </span>
                " semantics."
            </footer>
        </div>
    })
}
