// Starts Gateway Lab (issue 20); Trunk.toml's pattern_script calls start() with the hashed file
// names. The full page loads the WebAssembly at once. An embed draws its static preview
// (preview.js) and loads it on the reader's click (start=click), when the frame is in view, or on
// the host's first message (queued, then handed to the live embed in order); the live embed
// replaces the preview in the same task. docs/EMBEDDING.md says what a host sees.
import initializer from './boot.js';

let loading = null;
/** Host messages received before the live embed listens: [{ data, origin, source }]. */
const queued = [];

const drawPreview = (cfg, wake) =>
  import('./preview.js').then((m) => m.preview(cfg, wake, () => loading !== null)).catch((e) => console.error('Gateway Lab: the preview could not be drawn:', e));

export function start(cfg) {
  if (!cfg.embed || cfg.eager) {
    if (cfg.embed) drawPreview(cfg, null);
    load(cfg);
    return;
  }
  let wake = null;
  drawPreview(cfg, (how) => wake?.(how));
  wake = (how) => {
    observer?.disconnect();
    load(cfg, how);
  };
  window.addEventListener('message', onEarlyMessage);
  function onEarlyMessage(ev) {
    // Only what the live embed itself would consider (src/ui/embed/api.rs: from the parent, with
    // the envelope); it applies its own origin policy when the message is handed over.
    if (ev.source !== window.parent || !ev.data || typeof ev.data !== 'object' || !('gatewayLab' in ev.data)) return;
    queued.push({ data: ev.data, origin: ev.origin, source: ev.source });
    wake('message');
  }
  cfg.stopEarly = () => window.removeEventListener('message', onEarlyMessage);
  let observer = null;
  if (!cfg.click) {
    if (typeof IntersectionObserver !== 'function') return wake('view');
    observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) wake('view');
    });
    observer.observe(document.documentElement);
  }
}

/** Loads and starts the WebAssembly (once). `how`: 'click' when the reader pressed the preview's button. */
function load(cfg, how) {
  if (loading) return loading;
  document.querySelector('[data-preview]')?.setAttribute('aria-busy', 'true');
  const note = document.querySelector('[data-preview] .embed-preview-note');
  if (note) note.textContent = 'Loading the simulator…';
  const hooks = initializer();
  hooks.onStart?.();
  const total = Number(cfg.wasmSize) || 0;
  loading = import(new URL(cfg.js, document.baseURI).href)
    .then(async (bindings) => {
      const response = fetch(cfg.wasm).then((r) => withProgress(r, total, hooks));
      await bindings.default({ module_or_path: response });
      window.wasmBindings = bindings;
      // main() has run: the live embed (or the page) is mounted. While it still reads its
      // address's scenario (src/ui/codec.rs), the preview stays, and index.html's style hides the
      // live root: the reader goes from the preview to the same scenario live, with no
      // "Opening…" stage in between.
      cfg.stopEarly?.();
      hooks.onComplete?.();
      // (`embed-opening` while the link's scenario is being read: the click waits for it.)
      if (how === 'click') document.querySelector('[data-testid=embed] [data-testid=embed-start], [data-testid=embed-opening] [data-testid=embed-start]')?.click();
      for (const m of queued.splice(0)) {
        window.dispatchEvent(new MessageEvent('message', { data: m.data, origin: m.origin, source: m.source }));
      }
      await opened();
      document.querySelector('[data-preview]')?.remove();
      hooks.onSuccess?.();
    })
    .catch((reason) => {
      hooks.onComplete?.();
      hooks.onFailure?.(reason);
    });
  return loading;
}

/**
 * Resolves once the live page or embed has its address's scenario: its root says
 * `app-opening` / `embed-opening` while the codec chunk reads it, then `app` / `embed` (opened,
 * or a message that it could not be, which the reader must see).
 */
function opened() {
  const pending = () => document.querySelector('[data-testid=app-opening], [data-testid=embed-opening]');
  if (!pending()) return Promise.resolve();
  return new Promise((resolve) => {
    const watch = new MutationObserver(() => {
      if (pending()) return;
      watch.disconnect();
      resolve();
    });
    watch.observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-testid'] });
  });
}

/** The response, its body counted for the loading bar as it streams. */
function withProgress(response, total, hooks) {
  if (!response.ok || !response.body) return response;
  // Without a known size: the body's length when it is sent as it is.
  if (!total && !response.headers.get('content-encoding')) total = Number(response.headers.get('content-length')) || 0;
  let current = 0;
  const counted = response.body.pipeThrough(
    new TransformStream({
      transform(chunk, controller) {
        current += chunk.byteLength;
        hooks.onProgress?.({ current, total });
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(counted, { headers: response.headers, status: response.status, statusText: response.statusText });
}
