//! Panels below the fold mount after the first paint, one per task, so the
//! page can be used sooner (docs/PERFORMANCE.md, "Start-up"). Each
//! `<Deferred>` takes the next place in line when it is created; `Stage::start`
//! (after the page is drawn) lets them in one `setTimeout` at a time. A
//! `?view=` deep link mounts everything at once, so the section it names is
//! there to scroll to.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Stage {
    /// How many deferred panels may be in the page.
    open: RwSignal<usize>,
    /// How many `<Deferred>` there are (each took a place in line).
    count: StoredValue<usize>,
}

impl Stage {
    /// `eager`: every panel mounts with the page.
    pub fn new(eager: bool) -> Stage {
        let stage = Stage { open: RwSignal::new(if eager { usize::MAX } else { 0 }), count: StoredValue::new(0) };
        provide_context(stage);
        stage
    }

    /// After the next frame, lets the panels in, one task each.
    pub fn start(self) {
        if self.open.get_untracked() == usize::MAX {
            return;
        }
        request_animation_frame(move || self.next());
    }

    fn next(self) {
        gloo_timers::callback::Timeout::new(0, move || {
            let Some(open) = self.open.try_get_untracked() else { return };
            self.open.set(open + 1);
            if open + 1 < self.count.get_value() {
                self.next();
            }
        })
        .forget();
    }
}

/// Its children mount when the `Stage` lets them in (at once without a `Stage`).
#[component]
pub fn Deferred(children: ChildrenFn) -> impl IntoView {
    let ready: Signal<bool> = match use_context::<Stage>() {
        Some(stage) => {
            let place = stage.count.get_value();
            stage.count.set_value(place + 1);
            Memo::new(move |_| stage.open.get() > place).into()
        }
        None => Signal::stored(true),
    };
    move || ready.get().then(|| children())
}
