//! The diagnosis terminal: a prompt on web1 whose commands run through the
//! page's `Session` (`Session::run_command`, which runs `crate::shell`
//! against the simulation and keeps the history and the transcript). A
//! lesson's "Show me" runs its commands the same way, so they appear here
//! too. The component keeps only the input, the arrow keys' position and
//! the suggested commands.

use leptos::prelude::*;

use crate::shell;

use super::playground::Playground;

/// The prompt, as Debian's default root prompt shows it.
const PS1: &str = "root@web1:~#";

/// A terminal shows `\r\n` as a line break and a bare `\r` as a return to
/// the line's start (curl's meter redraws itself that way).
fn screen_text(s: &str) -> String {
    s.replace("\r\n", "\n").replace('\r', "")
}

#[component]
pub fn Terminal() -> impl IntoView {
    let pg = Playground::get();
    let input = RwSignal::new(String::new());
    // Position in the history while browsing it with the arrow keys.
    let browsing = StoredValue::new(None::<usize>);
    let screen = NodeRef::<leptos::html::Div>::new();
    let measure = NodeRef::<leptos::html::Span>::new();

    // The terminal's width in characters, for the tools that fit to it.
    let columns = move || -> usize {
        let (Some(s), Some(m)) = (screen.get_untracked(), measure.get_untracked()) else { return shell::DEFAULT_COLS };
        let ten = m.offset_width();
        let width = s.client_width() - 20;
        if ten <= 0 || width <= 0 {
            return shell::DEFAULT_COLS;
        }
        // Narrower screens wrap an 80-column terminal's lines rather than
        // have the tools cut them.
        ((width as f64) / (ten as f64 / 10.0)).floor().max(shell::DEFAULT_COLS as f64) as usize
    };
    let run = move |line: String| {
        browsing.set_value(None);
        input.set(String::new());
        pg.run_command(&line, columns());
    };
    // The transcript's entry ids; an entry's text never changes, so a row
    // reads it once, when it is created.
    let ids = Memo::new(move |_| {
        pg.terminal_revision.track();
        pg.with(|s| s.terminal().transcript().iter().map(|e| e.id).collect::<Vec<_>>())
    });
    Effect::new(move |_| {
        ids.track();
        request_animation_frame(move || {
            if let Some(s) = screen.get_untracked() {
                s.set_scroll_top(s.scroll_height());
            }
        });
    });
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let key = ev.key();
        if key != "ArrowUp" && key != "ArrowDown" {
            return;
        }
        ev.prevent_default();
        let history: Vec<String> = pg.with(|s| s.terminal().history().to_vec());
        if history.is_empty() {
            return;
        }
        let pos = browsing.get_value();
        let next = match (key.as_str(), pos) {
            ("ArrowUp", None) => Some(history.len() - 1),
            ("ArrowUp", Some(p)) => Some(p.saturating_sub(1)),
            ("ArrowDown", Some(p)) if p + 1 < history.len() => Some(p + 1),
            _ => None,
        };
        browsing.set_value(next);
        input.set(next.and_then(|i| history.get(i).cloned()).unwrap_or_default());
    };
    // The effective scenario changes only with the user's scenario or a new run, not every tick.
    let suggested = Memo::new(move |_| {
        pg.scenario.track();
        pg.epoch.track();
        pg.with_sim(|s| shell::suggestions(&s.world().scenario))
    });

    view! {
        <section id="terminal" class="terminal" aria-label="Diagnosis terminal" data-testid="terminal">
            <h2>"Diagnosis terminal"</h2>
            <p class="terminal-intro">
                "A shell on web1, the proxy host. Run the admin's commands against the simulated world: "
                "they show what the current fault does to the services, the sockets and the logs. Type "
                <code>"help"</code>
                " for the list."
            </p>
            <div class="terminal-suggestions" role="group" aria-label="Suggested commands">
                <For
                    each=move || suggested.get()
                    key=|cmd| cmd.clone()
                    children=move |cmd| {
                        let c = cmd.clone();
                        view! {
                            <button
                                type="button"
                                class="terminal-suggestion"
                                data-testid="terminal-suggestion"
                                title=format!("Run: {cmd}")
                                on:click=move |_| run(c.clone())
                            >
                                {cmd.clone()}
                            </button>
                        }
                    }
                />
            </div>
            <div class="terminal-window">
                <div
                    class="terminal-screen"
                    data-testid="terminal-output"
                    role="log"
                    aria-live="polite"
                    aria-label="Terminal output"
                    tabindex="0"
                    node_ref=screen
                >
                    <span class="terminal-measure" aria-hidden="true" node_ref=measure>"0000000000"</span>
                    <For
                        each=move || ids.get()
                        key=|id| *id
                        children=move |id| {
                            let e = pg.with(|s| s.terminal().transcript().iter().find(|e| e.id == id).cloned());
                            let Some(e) = e else { return ().into_any() };
                            let failed = e.status != 0;
                            view! {
                                <div class="terminal-entry" data-testid="terminal-entry" data-status=e.status.to_string()>
                                    <div class="terminal-command">
                                        <span class="terminal-ps1">{PS1}</span>
                                        " "
                                        <span class="terminal-typed">{e.line}</span>
                                    </div>
                                    <pre class="terminal-text" class:terminal-failed=failed>{screen_text(&e.text)}</pre>
                                </div>
                            }
                            .into_any()
                        }
                    />
                </div>
                <form
                    class="terminal-line"
                    on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        run(input.get_untracked());
                    }
                >
                    <label class="terminal-ps1" for="terminal-input">
                        <span aria-hidden="true">{PS1}</span>
                        <span class="terminal-sr">"Command"</span>
                    </label>
                    <input
                        id="terminal-input"
                        class="terminal-input"
                        data-testid="terminal-input"
                        type="text"
                        autocomplete="off"
                        autocapitalize="off"
                        spellcheck="false"
                        enterkeyhint="send"
                        prop:value=move || input.get()
                        on:input=move |ev| input.set(event_target_value(&ev))
                        on:keydown=on_key
                    />
                </form>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_screen_shows_crlf_and_cr_as_a_terminal_does() {
        assert_eq!(screen_text("a\r\nb\r  0 x\n"), "a\nb  0 x\n");
    }
}
