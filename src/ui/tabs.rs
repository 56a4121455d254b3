//! The tabs below the stage (WAI-ARIA tabs: a tablist with roving tabindex,
//! ArrowLeft/Right/Home/End, automatic activation). A panel mounts the first
//! time its tab is opened and then stays mounted, only hidden: the terminal's
//! history and the retry lab's results survive switching tabs. The chosen tab
//! is the address's `view=` (`share::Address`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::sim::scenario::Flavor;

/// (name in `view=` and in element ids, label), in order.
pub const TABS: &[(&str, &str)] = &[
    ("lessons", "Lessons"),
    ("logs", "Logs"),
    ("timeline", "Timeline"),
    ("terminal", "Terminal"),
    ("compare", "502 vs 503 vs 504"),
    ("quiz", "Quiz"),
    ("lab", "Retry lab"),
    ("build", "Build"),
    ("config", "Config"),
];

/// The tab a tab's name stands for.
pub fn index(name: &str) -> Option<usize> {
    TABS.iter().position(|(n, _)| *n == name)
}

/// A tab's label in the chosen proxy's words where it differs.
fn label(i: usize, flavor: Flavor) -> &'static str {
    match (TABS[i].0, flavor) {
        ("logs", Flavor::Haproxy) => "HAProxy logs",
        ("logs", Flavor::Apache) => "Apache logs",
        ("config", Flavor::Apache) => "apache2 site",
        ("logs", Flavor::Caddy) => "Caddy logs",
        ("config", Flavor::Caddy) => "Caddyfile",
        ("logs", Flavor::Varnish) => "Varnish logs",
        ("config", Flavor::Varnish) => "default.vcl",
        ("logs", Flavor::Envoy) => "Envoy logs",
        ("config", Flavor::Envoy) => "envoy.yaml",
        ("logs", Flavor::Alb) => "ALB logs",
        ("config", Flavor::Alb) => "alb.sh",
        ("logs", _) => "nginx logs",
        ("config", Flavor::Haproxy) => "haproxy.cfg",
        ("config", _) => "nginx.conf",
        _ => TABS[i].1,
    }
}

#[derive(Clone, Copy)]
pub struct Tabs {
    /// The selected tab.
    pub current: RwSignal<usize>,
    /// A bit per tab that has been opened (its panel is mounted).
    opened: RwSignal<u32>,
}

impl Tabs {
    pub fn new(initial: usize) -> Tabs {
        let tabs = Tabs { current: RwSignal::new(initial), opened: RwSignal::new(1 << initial) };
        provide_context(tabs);
        tabs
    }

    pub fn get() -> Tabs {
        expect_context::<Tabs>()
    }

    /// Selects tab `i` (mounting its panel the first time).
    pub fn select(self, i: usize) {
        if i >= TABS.len() {
            return;
        }
        if self.opened.get_untracked() & (1 << i) == 0 {
            self.opened.update(|o| *o |= 1 << i);
        }
        if self.current.get_untracked() != i {
            self.current.set(i);
        }
    }
}

/// Scrolls the tabs (the tablist and the open panel) into view.
pub fn scroll_to_tabs() {
    if let Some(el) = document().get_element_by_id("tabs") {
        el.scroll_into_view();
    }
}

fn focus_tab(i: usize) {
    if let Some(el) = document().get_element_by_id(&format!("tab-{}", TABS[i].0)).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
        let _ = el.focus();
    }
}

/// The row of tabs. `on_select` hears every choice the user makes.
#[component]
pub fn TabList(flavor: Signal<Flavor>, on_select: Callback<usize>) -> impl IntoView {
    let tabs = Tabs::get();
    let n = TABS.len();
    let keydown = move |ev: web_sys::KeyboardEvent| {
        let i = tabs.current.get_untracked();
        let to = match ev.key().as_str() {
            "ArrowRight" => (i + 1) % n,
            "ArrowLeft" => (i + n - 1) % n,
            "Home" => 0,
            "End" => n - 1,
            _ => return,
        };
        ev.prevent_default();
        on_select.run(to);
        focus_tab(to);
    };
    view! {
        <div class="tablist" role="tablist" aria-label="More about this request" data-testid="tablist" on:keydown=keydown>
            {(0..n).map(|i| {
                let (name, _) = TABS[i];
                let selected = move || tabs.current.get() == i;
                view! {
                    <button
                        type="button"
                        role="tab"
                        class="tab"
                        id=format!("tab-{name}")
                        data-testid=format!("tab-{name}")
                        aria-controls=format!("panel-{name}")
                        aria-selected=move || selected().to_string()
                        tabindex=move || if selected() { "0" } else { "-1" }
                        on:click=move |_| on_select.run(i)
                    >
                        {move || label(i, flavor.get())}
                    </button>
                }
            }).collect_view()}
        </div>
    }
}

/// A tab's panel: mounted the first time its tab is selected, hidden (not unmounted) after.
#[component]
pub fn TabPanel(name: &'static str, children: ChildrenFn) -> impl IntoView {
    let tabs = Tabs::get();
    let i = index(name).expect("a tab of TABS");
    let opened = Memo::new(move |_| tabs.opened.get() & (1 << i) != 0);
    view! {
        <div
            role="tabpanel"
            class="tab-panel"
            id=format!("panel-{name}")
            data-testid=format!("panel-{name}")
            aria-labelledby=format!("tab-{name}")
            tabindex="0"
            hidden=move || tabs.current.get() != i
        >
            {move || opened.get().then(|| children())}
        </div>
    }
}
