// The loading state, before the WebAssembly arrives (public/loader.js calls these hooks while it
// downloads and starts the wasm, as Trunk's `data-initializer` did). index.html shows #boot at once; this module
// fills in the progress, removes #boot once the app has mounted, and says clearly what went
// wrong if WebAssembly is missing or the download fails. No framework, no dependencies.
const el = (id) => document.getElementById(id);

let failed = false;

function fail(message) {
  const boot = el('boot');
  if (!boot || failed) return; // the first, most specific reason stays
  failed = true;
  boot.classList.add('boot-failed');
  boot.setAttribute('role', 'alert');
  el('boot-status').textContent = message;
  el('boot-bar')?.remove();
}

/** An element with attributes and children (strings become text). */
export function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== false && v != null) e.setAttribute(k, v === true ? '' : v);
  e.append(...children.filter((c) => c != null));
  return e;
}

/**
 * The topology in one row of boxes, from the engine's preview (crates/core/src/preview.rs
 * `Topology`), with the live embed's classes (src/ui/embed/topology.rs): client, the layers in
 * front of the proxy when there are (a column of their own), the proxy, the app servers.
 * The page's preview and the embed's (public/preview.js) both draw it.
 */
export function topology(t) {
  const box = (cls, name, state, detail) =>
    h('div', { class: `embed-box ${cls}` },
      h('span', { class: 'embed-box-head' }, h('b', {}, name), h('span', { class: 'embed-box-state' }, state)),
      h('span', { class: 'embed-box-detail', title: detail }, detail));
  const layers = t.layers ?? [];
  return h('div', { class: `embed-topology${layers.length ? ' with-layers' : ''}`, role: 'group', 'aria-label': t.describe },
    box(`client ${t.last}`, 'client', t.client_state, t.client),
    h('span', { class: `embed-link ${t.last}`, 'aria-hidden': 'true' }),
    // As src/ui/embed/topology.rs: name, then what it did, and the note under the column.
    layers.length
      ? h('div', { class: 'embed-layers' },
        ...layers.map((l) => h('div', { class: `embed-box layer ${l.last}` },
          h('span', { class: 'embed-box-head' }, h('b', {}, l.name)),
          h('span', { class: 'embed-box-state embed-layer-state' }, l.state))),
        h('span', { class: 'embed-layers-note' }, 'documented, not verified'))
      : null,
    layers.length ? h('span', { class: `embed-link ${t.last}`, 'aria-hidden': 'true' }) : null,
    box(`proxy ${t.proxy_running ? 'running' : 'down'}`, t.proxy, t.proxy_running ? 'running' : 'not running', t.proxy_detail),
    h('span', { class: `embed-link ${t.apps_last}`, 'aria-hidden': 'true' }),
    h('div', { class: 'embed-apps' },
      ...t.apps.map((a) => box(`upstream state-${a.state}${a.backup ? ' backup' : ''}`, `${a.name}${a.backup ? ' (backup)' : ''}`, a.state, a.listen))));
}

/**
 * Whether the address opens the page's start: no scenario, lesson, paste, view, embed or
 * presenter mode in it (`theme=` and `seed=` change nothing of what the start shows).
 */
function opensTheStart() {
  const q = new URLSearchParams(location.search);
  return [...q.keys()].every((k) => k === 'theme' || k === 'seed') && !/(?:^#|&)s=/.test(location.hash);
}

/**
 * The full page's stage, drawn in place of the loading screen while the WebAssembly downloads
 * (issue 20), with the page's classes; inert, with the loading bar where Send will be.
 * `view`: `state` (crates/core/src/preview.rs `State`, as the engine produced it at build time),
 * `path` (Send's words), `fault` (the picker's title, null for none).
 */
function drawPage(boot, view) {
  if (!boot.isConnected || boot.classList.contains('boot-failed') || document.querySelector('[data-testid=app]')) return;
  // `theme=` as the live page applies it (src/ui/theme.rs): the last value wins.
  const theme = new URLSearchParams(location.search).getAll('theme').pop();
  if (theme === 'light' || theme === 'dark') document.documentElement.setAttribute('data-theme', theme);
  const st = view.state;
  const t = st.topology;
  const result = [h('p', { class: `status ${st.status_class}` }, st.status ?? 'No request sent yet')];
  if (st.log_line) {
    result.push(h('div', { class: 'telling' },
      h('div', { class: 'telling-head' }, h('span', { class: 'telling-title' }, st.log_title ?? '')),
      h('code', { class: 'telling-line', 'data-testid': 'preview-log-line' }, st.log_line)));
  }
  if (st.termination) result.push(h('p', { class: 'termination-sentence' }, st.termination));
  if (st.status) result.push(h('p', { class: 'explanation' }, st.explanation));
  const stage = h('div', { class: 'app page-preview', 'data-preview': true, 'data-testid': 'page-preview' },
    h('header', { class: 'masthead' },
      h('div', {},
        h('h1', {}, 'Gateway Lab'),
        h('p', { class: 'tagline' }, `Break the upstream, watch what ${t.proxy} does, read the exact log line.`)),
      h('div', { class: 'masthead-tools', inert: true },
        h('button', { class: 'presenter-toggle', disabled: true }, 'Presenter mode'),
        h('div', { class: 'share' }, h('button', { class: 'share-button', disabled: true }, 'Copy share link')),
        h('button', { class: 'share-button', disabled: true }, 'Embed'),
        h('label', { class: 'field inline theme' },
          h('span', { class: 'field-label' }, 'Theme'),
          h('select', { disabled: true }, h('option', {}, { light: 'Light', dark: 'Dark' }[theme] ?? 'System'))))),
    h('main', { inert: true },
      h('div', { class: 'stage' },
        // The live stage's words (src/ui/paste.rs, controls.rs): e2e/boot.test.mjs checks that
        // they are still the live page's.
        h('div', { class: 'stage-paste' },
          h('section', { class: 'paste', 'aria-label': 'Diagnose a log line' },
            h('div', { class: 'paste-row' },
              h('textarea', { class: 'paste-text', disabled: true, 'aria-label': 'Paste a line from your logs', placeholder: "Paste a line from your logs (nginx error.log, HAProxy's log, curl -v…)" }),
              h('button', { class: 'paste-go', disabled: true }, 'Diagnose')))),
        h('div', { class: 'stage-topology' },
          h('section', { class: 'topology', 'aria-label': 'Topology' }, topology(t))),
        h('div', { class: 'stage-controls' },
          h('section', { class: 'controls', 'aria-label': 'Break the upstream' },
            h('label', { class: 'field' },
              h('span', { class: 'field-label' }, 'Break the upstream'),
              h('select', { disabled: true }, h('option', {}, view.fault ?? 'Nothing broken (healthy)'))),
            view.fault ? null : h('p', { class: 'cause' }, 'Nothing is broken: the app listens on its port and answers quickly.'),
            h('button', { class: 'send', disabled: true }, `Send GET ${view.path}`),
            h('button', { class: 'burst', disabled: true }, 'Send 200 at 50/s'))),
        h('div', { class: 'stage-result' },
          h('section', { class: 'response', 'aria-label': 'What the client got' }, ...result)))));
  // The bar and its words move under Send, where the reader looks for it.
  const wait = h('div', { class: 'page-preview-loading' }, el('boot-bar'), el('boot-status'), h('p', { class: 'page-preview-note' }, 'Everything runs in your browser.'));
  stage.querySelector('.controls').append(wait);
  boot.replaceChildren(stage);
  boot.classList.add('boot-page');
}

/** The parameters of an address that only chooses a scenario (a docs link: `?fault=app_down`). */
const SCENARIO_KEYS = ['fault', 'flavor', 'theme'];

/**
 * What the page's stage will show first, when it is known before the WebAssembly runs: the
 * start (#gl-page, written into index.html at build time: crates/core/src/preview.rs `page`),
 * or for an address that only chooses a scenario (`fault=`, `flavor=`, a share link's `#s=`),
 * its prerendered preview (previews.json, the embed's: the page runs the scenario's requests at
 * start as an embed without start=click does, so its `auto` state). Anything else (a lesson, a
 * paste, a view, another seed or retry preset…) keeps the plain loading screen.
 */
async function pageView() {
  const q = new URLSearchParams(location.search);
  if (opensTheStart()) {
    try {
      const page = JSON.parse(el('gl-page')?.textContent ?? 'null');
      return page?.format === 1 && page.state ? { state: page.state, path: page.path, fault: null } : null;
    } catch {
      return null;
    }
  }
  if (![...q.keys()].every((k) => SCENARIO_KEYS.includes(k))) return null;
  const { pagePreview } = await import('./preview.js');
  const found = await pagePreview();
  return found ? { state: found.preview.auto ?? found.preview.click, path: '/users', fault: found.title } : null;
}

export default function initializer() {
  return {
    onStart() {
      const boot = el('boot');
      if (boot && !document.documentElement.classList.contains('gl-embed')) {
        pageView().then((view) => view && drawPage(boot, view)).catch((e) => console.error('Gateway Lab: the stage could not be drawn before the simulator:', e));
      }
      if (typeof WebAssembly !== 'object' || typeof WebAssembly.instantiate !== 'function') {
        fail('This browser cannot run WebAssembly, which Gateway Lab needs: the simulator runs entirely in your browser. Try a current Firefox, Chrome, Edge or Safari (WebAssembly may also be switched off by a policy or a lockdown mode).');
      }
    },
    onProgress({ current, total }) {
      const bar = el('boot-bar');
      if (!bar || !total) return;
      const pct = Math.min(100, Math.round((current / total) * 100));
      bar.value = pct;
      el('boot-status').textContent = `Loading the simulator… ${pct} %`;
    },
    onComplete() {
      // The wasm has arrived and main() has run; if the live root still reads its address's
      // scenario (src/ui/codec.rs), the preview stays up and says so, not "100 %".
      if (document.querySelector('[data-testid=app-opening], [data-testid=embed-opening]')) {
        const status = el('boot-status');
        if (status) status.textContent = "Opening the link's scenario…";
        const note = document.querySelector('[data-preview] .embed-preview-note');
        if (note) note.textContent = "Opening the link's scenario…";
      }
    },
    onSuccess() {
      // main() has run: the app (or the panic overlay) is on the page.
      el('boot')?.remove();
    },
    onFailure(reason) {
      // A panic while starting shows its own overlay (src/ui/panic.rs), which says more.
      if (document.querySelector('[data-testid=panic-overlay]')) {
        el('boot')?.remove();
        return;
      }
      const why = reason && reason.message ? reason.message : String(reason);
      fail(`Gateway Lab could not start: the simulator (WebAssembly) did not load (${why}). Check your connection and reload the page.`);
    },
  };
}
