//! The postMessage bridge between an embed and the page that frames it.
//! `crate::embed_api` decides what a message means and what an event says;
//! this file only moves them: it listens to `message` events, runs the
//! commands through the `Playground`, and posts `ready`, `resize`,
//! `outcome`, `ack`, `pong`, `error` and `diagnosis` to `window.parent`.
//!
//! Origin policy (docs/EMBEDDING.md): a message counts only when its
//! `source` is this frame's parent window (and, with `origin=`, when it
//! comes from that origin). Events go to the parent with target origin `*`,
//! or to the `origin=` origin only.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};

use crate::embed_api::{self, Command, Event, Load, Message, ENVELOPE, MAX_MESSAGE_BYTES, SEND_GAP_MS};
use crate::ui::playground::Playground;

/// The page this embed is framed in.
pub struct Host {
    parent: web_sys::Window,
    /// `origin=`: the only origin we talk to.
    origin: Option<String>,
}

impl Host {
    /// The parent window, when this page is in a frame (None at top level).
    pub fn detect(origin: Option<String>) -> Option<Rc<Host>> {
        let me = web_sys::window()?;
        let parent = me.parent().ok().flatten()?;
        // At top level `window.parent === window`.
        if JsValue::from(parent.clone()) == JsValue::from(me) {
            return None;
        }
        Some(Rc::new(Host { parent, origin }))
    }

    /// Posts one event; a failure (a closed parent, an origin that does not
    /// match) is dropped, as postMessage drops it anyway.
    pub fn post(&self, event: &Event) {
        let Ok(text) = serde_json::to_string(&event.to_json()) else { return };
        let Ok(message) = js_sys::JSON::parse(&text) else { return };
        let _ = self.parent.post_message(&message, self.origin.as_deref().unwrap_or("*"));
    }

    /// Only our parent (from the configured origin) may drive the embed.
    fn accepts(&self, ev: &web_sys::MessageEvent) -> bool {
        let from_parent = ev.source().is_some_and(|s| JsValue::from(s) == JsValue::from(self.parent.clone()));
        from_parent && self.origin.as_deref().is_none_or(|o| ev.origin() == o)
    }
}

/// The message's JSON text if it may be ours: an object with the envelope
/// key, that JSON can write (no cycles, no BigInt), not too long. Other
/// libraries' messages are never even serialised.
fn message_text(data: &JsValue) -> Option<String> {
    if !data.is_object() || js_sys::Array::is_array(data) {
        return None;
    }
    let obj: &js_sys::Object = data.unchecked_ref();
    if !js_sys::Reflect::has(obj, &JsValue::from_str(ENVELOPE)).unwrap_or(false) {
        return None;
    }
    let text = js_sys::JSON::stringify(data).ok()?;
    if text.length() as usize > MAX_MESSAGE_BYTES {
        return None;
    }
    text.as_string()
}

/// Which finished requests of the current run (`Playground::epoch`) the
/// host has heard about, by index; requests before `first_open` all have.
#[derive(Default)]
struct Reported {
    epoch: u64,
    /// Finished requests at or after `first_open` already reported.
    seen: std::collections::BTreeSet<usize>,
    /// Every request below it was reported (or is no longer kept by the run).
    first_open: usize,
}

/// Host messages not yet carried out, in the order they came, and whether
/// a task is carrying them out.
#[derive(Default)]
struct Inbox {
    texts: VecDeque<String>,
    busy: bool,
}

/// Listens to the host, announces the embed, and reports every request that
/// finishes. `started` is false while a `start=click` embed waits; any
/// command but `ping` starts it (the host acts for its reader). `ready`
/// holds the address's problems once the embed has opened its scenario
/// (`codec::Opening`): `ready` is posted then, with them as warnings, and
/// the messages received meanwhile are carried out after it, in order. Each
/// message is read by the codec chunk (`codec::message`, issue 20).
pub fn connect(pg: Playground, host: Rc<Host>, started: RwSignal<bool>, ready: RwSignal<Option<Vec<String>>>) {
    let inbox = Rc::new(RefCell::new(Inbox::default()));
    let announced = Rc::new(Cell::new(false));
    let pump = {
        let (inbox, host, announced) = (inbox.clone(), host.clone(), announced.clone());
        Rc::new(move || {
            if !announced.get() || inbox.borrow().busy {
                return;
            }
            inbox.borrow_mut().busy = true;
            let (inbox, h) = (inbox.clone(), host.clone());
            leptos::task::spawn_local(async move {
                loop {
                    let Some(text) = inbox.borrow_mut().texts.pop_front() else { break };
                    match super::super::codec::message(text).await {
                        Ok(Ok(m)) => {
                            if let Some(reply) = run(pg, started, m).await {
                                h.post(&reply);
                            }
                        }
                        Ok(Err(reject)) => {
                            if let Some(e) = embed_api::reject_event(reject) {
                                h.post(&e);
                            }
                        }
                        // Without the codec chunk no message can be read (the embed says so).
                        Err(_) => leptos::logging::error!("Gateway Lab: a host message was dropped: the part of the simulator that reads messages did not download"),
                    }
                }
                inbox.borrow_mut().busy = false;
            });
        })
    };
    let h = host.clone();
    let (queue, next) = (inbox.clone(), pump.clone());
    let listener = window_event_listener(leptos::ev::message, move |ev: web_sys::MessageEvent| {
        if !h.accepts(&ev) {
            return;
        }
        let Some(text) = message_text(&ev.data()) else { return };
        queue.borrow_mut().texts.push_back(text);
        next();
    });
    // The embed lives as long as the page: the listener is never removed
    // (dropping the handle leaves it in place).
    drop(listener);

    // Only the requests not yet reported are looked at; a new run (load,
    // reset, seed) starts the count again.
    let reported = RefCell::new(None::<Reported>);
    Effect::new(move |_| {
        let Some(warnings) = ready.get() else { return };
        pg.revision.track();
        if !announced.get() {
            announced.set(true);
            host.post(&Event::Ready {
                scenario: embed_api::summary(&pg.scenario.get_untracked()),
                started: started.get_untracked(),
                warnings,
            });
            pump();
        }
        let epoch = pg.epoch.get_untracked();
        let outcomes = pg.with_sim(|s| {
            let flavor = s.world().scenario.proxy.flavor;
            let mut r = reported.borrow_mut();
            let r = r.get_or_insert_with(|| Reported { epoch, ..Reported::default() });
            if r.epoch != epoch {
                *r = Reported { epoch, ..Reported::default() };
            }
            let ex = s.exchanges();
            let mut out = Vec::new();
            let mut open = None;
            for e in ex.iter_from(r.first_open) {
                if !e.is_finished() {
                    open.get_or_insert(e.id);
                } else if r.seen.insert(e.id) {
                    out.push(embed_api::outcome(e, flavor));
                }
            }
            r.first_open = open.unwrap_or(ex.len());
            let first_open = r.first_open;
            r.seen = r.seen.split_off(&first_open);
            out
        });
        for o in outcomes {
            host.post(&Event::Outcome(o));
        }
    });
}

/// Carries out one command; the reply to post, if any.
/// (`diagnose` waits for the diagnosis' wasm chunk, `lazy::verdict`: the pump of `connect` carries
/// out the messages in order, so the ones after it wait for its answer.)
async fn run(pg: Playground, started: RwSignal<bool>, m: Message) -> Option<Event> {
    let Message { id, command } = m;
    if command != Command::Ping && !started.get_untracked() {
        super::start(pg, started);
    }
    // Every command is a Session command; its error goes back to the host.
    let result = match &command {
        Command::Load(Load::Named(name)) => pg.load_named(name).await,
        Command::Load(Load::Scenario(sc)) => pg.load((**sc).clone()).await.map_err(|e| e.to_string()),
        Command::Break(fault) => pg.break_with(fault).map_err(|e| e.to_string()),
        Command::Fix => pg.fix().map_err(|e| e.to_string()),
        Command::Send(n) => pg.run(|s| s.send(*n, SEND_GAP_MS).map(|_| ())).map_err(|e| e.to_string()),
        Command::Play => {
            pg.set_playing(true);
            Ok(())
        }
        Command::Pause => {
            pg.set_playing(false);
            Ok(())
        }
        Command::Reset => pg.reset().map_err(|e| e.to_string()),
        Command::Ping => return Some(Event::Pong { id }),
        // Recognised: the reproduction is loaded (and runs its requests);
        // the reply says what was found either way.
        // The diagnosis is the wasm chunk `diagnose` (`lazy::verdict`): the reply is posted when it
        // has loaded and run, then the messages that came meanwhile are carried out; a chunk that
        // did not download is an `error`.
        Command::Diagnose(text) => {
            return Some(match crate::ui::lazy::verdict(text.clone()).await {
                Err(crate::ui::lazy::LoadFailed) => Event::Error {
                    id,
                    message: "diagnose: the log reader (its part of the simulator) did not download; check the connection and try again".into(),
                },
                Ok(verdict) => match &verdict {
                    Ok(d) => match pg.run(|s| s.load(d.scenario.clone())) {
                        Err(e) => Event::Error { id, message: format!("diagnose: {e}") },
                        Ok(()) => Event::Diagnosis { id, report: embed_api::diagnosis_report(&verdict) },
                    },
                    Err(_) => Event::Diagnosis { id, report: embed_api::diagnosis_report(&verdict) },
                },
            });
        }
    };
    match (result, id) {
        (Err(e), id) => Some(Event::Error { id, message: format!("{}: {e}", command.name()) }),
        (Ok(()), Some(id)) => Some(Event::Ack { id, command: command.name(), scenario: embed_api::summary(&pg.scenario.get_untracked()) }),
        (Ok(()), None) => None,
    }
}

/// Posts `resize` whenever the height of `root` changes (a ResizeObserver
/// watches it; `root` has no fixed height, so its box follows its content).
pub fn report_height(root: NodeRef<leptos::html::Div>, host: Rc<Host>) {
    let last = Cell::new(0u32);
    let check = Rc::new(move || {
        let Some(el) = root.get_untracked() else { return };
        let h = el.scroll_height().max(0) as u32;
        if h != last.get() {
            last.set(h);
            host.post(&Event::Resize { height: h });
        }
    });
    Effect::new(move |observing: Option<bool>| {
        if observing == Some(true) {
            return true;
        }
        let Some(el) = root.get() else { return false };
        let cb = check.clone();
        let cb = Closure::<dyn FnMut()>::new(move || cb());
        if let Ok(obs) = web_sys::ResizeObserver::new(cb.as_ref().unchecked_ref()) {
            obs.observe(&el);
            // The observer and its callback live as long as the page.
            std::mem::forget(obs);
        }
        cb.forget();
        check();
        true
    });
}
