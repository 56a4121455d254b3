//! Addresses the embed needs: the full page with the same state ("Open in
//! Gateway Lab"), the embed's own address and the `<iframe>` snippet. The
//! builders are pure (tested natively); only `page_base` reads the browser
//! (the share link and the panic overlay use it too).

use crate::embed_api;
use crate::link;
use crate::sim::Scenario;

/// Width and height of the snippet's iframe, CSS pixels.
pub const WIDTH: u32 = 600;
pub const HEIGHT: u32 = 400;
/// The sandbox the snippet asks for (docs/EMBEDDING.md says why).
pub const SANDBOX: &str = "allow-scripts allow-same-origin";

/// This page's address without query or fragment.
pub fn page_base() -> String {
    let href = web_sys::window().and_then(|w| w.location().href().ok()).unwrap_or_default();
    strip_query(&href).to_string()
}

/// `href` up to its query or fragment.
pub fn strip_query(href: &str) -> &str {
    href.split(['?', '#']).next().unwrap_or_default()
}

/// The parameters of `l` the full page should keep: theme, lesson and view.
pub fn kept_params(l: &link::Link) -> Vec<(&'static str, String)> {
    [("theme", &l.theme), ("lesson", &l.lesson), ("view", &l.view)]
        .into_iter()
        .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
        .collect()
}

/// The full page on the same scenario, with `params` (see `kept_params`).
pub fn full_url(base: &str, params: &[(&str, String)], s: &Scenario) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)))
        .collect();
    let query = if query.is_empty() { String::new() } else { format!("?{}", query.join("&")) };
    format!("{base}{query}#{}", link::encode_fragment(s))
}

/// The embed on the same scenario.
pub fn embed_src(base: &str, s: &Scenario, click_to_start: bool) -> String {
    let start = if click_to_start { "&start=click" } else { "" };
    format!("{base}?embed=1{start}#{}", link::encode_fragment(s))
}

/// Text for an HTML attribute value in double quotes.
pub fn escape_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// The iframe's accessible name.
pub fn frame_title(s: &Scenario) -> String {
    format!("Gateway Lab: {} ({})", embed_api::title(s), s.proxy.flavor.as_str())
}

/// The `<iframe>` a documentation page pastes.
pub fn iframe_snippet(src: &str, title: &str) -> String {
    format!(
        "<iframe src=\"{}\" width=\"{WIDTH}\" height=\"{HEIGHT}\" title=\"{}\" sandbox=\"{SANDBOX}\" loading=\"lazy\" style=\"max-width:100%;border:1px solid #d5dae1;border-radius:8px\"></iframe>",
        escape_attr(src),
        escape_attr(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::scenario::Flavor;
    use crate::sim::{Fault, FaultKind};

    fn slow_haproxy() -> Scenario {
        let mut s = Scenario { seed: 42, ..Scenario::default() };
        s.faults.push(Fault::from(FaultKind::from_id("slow_app").unwrap()));
        s.proxy.flavor = Flavor::Haproxy;
        s
    }

    #[test]
    fn addresses_keep_the_scenario_and_drop_the_old_query() {
        let base = strip_query("https://docs.example.com/lab/?fault=app_down&embed=1#s=1.abc");
        assert_eq!(base, "https://docs.example.com/lab/");
        let s = slow_haproxy();
        let src = embed_src(base, &s, false);
        assert!(src.starts_with("https://docs.example.com/lab/?embed=1#s=1."), "{src}");
        let l = link::parse("?embed=1", src.split_once('#').unwrap().1, &[]);
        assert_eq!((l.embed, l.click_to_start, l.scenario), (true, false, Some(s.clone())));
        let src = embed_src(base, &s, true);
        let (query, frag) = src.split_once('?').unwrap().1.split_once('#').unwrap();
        let l = link::parse(query, frag, &[]);
        assert!(l.embed && l.click_to_start && l.problems.is_empty());
        let embed = link::parse("?embed=1&start=click&theme=dark&lesson=timeouts-504&origin=https://a.example&seed=3", "", &[]);
        let full = full_url(base, &kept_params(&embed), &s);
        let (query, frag) = full.split_once('?').unwrap().1.split_once('#').unwrap();
        assert_eq!(query, "theme=dark&lesson=timeouts%2D504");
        let l = link::parse(query, frag, &[]);
        assert_eq!((l.embed, l.click_to_start, l.origin.as_deref()), (false, false, None));
        assert_eq!((l.theme.as_deref(), l.lesson.as_deref(), l.scenario), (Some("dark"), Some("timeouts-504"), Some(s)));
        assert!(!full_url(base, &[], &Scenario::default()).contains('?'));
    }

    #[test]
    fn the_snippet_is_escaped_html() {
        let mut s = slow_haproxy();
        s.title = "Quotes \" & <tags>".into();
        let html = iframe_snippet("https://x/?embed=1&start=click#s=1.a", &frame_title(&s));
        assert_eq!(
            html,
            "<iframe src=\"https://x/?embed=1&amp;start=click#s=1.a\" width=\"600\" height=\"400\" \
             title=\"Gateway Lab: Quotes &quot; &amp; &lt;tags&gt; (haproxy)\" sandbox=\"allow-scripts allow-same-origin\" \
             loading=\"lazy\" style=\"max-width:100%;border:1px solid #d5dae1;border-radius:8px\"></iframe>"
        );
        assert_eq!(frame_title(&Scenario::default()), "Gateway Lab: Healthy upstream (nginx)");
    }
}
