//! Copying text. `navigator.clipboard` is missing on insecure pages and may
//! refuse in sandboxed frames; callers learn which and can fall back.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;

/// Writes `text` to the clipboard, then calls `done(true)`; calls
/// `done(false)` when there is no clipboard or it refused.
pub fn copy(text: &str, done: impl Fn(bool) + Clone + 'static) {
    let Some(nav) = web_sys::window().map(|w| w.navigator()) else { return done(false) };
    let present = js_sys::Reflect::get(&nav, &JsValue::from_str("clipboard")).is_ok_and(|c| !c.is_undefined() && !c.is_null());
    if !present {
        return done(false);
    }
    let ok = done.clone();
    let copied = Closure::<dyn FnMut(JsValue)>::new(move |_| ok(true));
    let failed = Closure::<dyn FnMut(JsValue)>::new(move |_| done(false));
    let _ = nav.clipboard().write_text(text).then2(&copied, &failed);
    // Handed to the JS garbage collector, which frees them once the promise settles.
    let _ = (copied.into_js_value(), failed.into_js_value());
}
