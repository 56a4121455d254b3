//! The discrete-event loop. `Simulation` owns the world and the proxy
//! flavour, pops events in (time, sequence) order and routes each to the
//! party it concerns. Nothing here knows about any particular fault.

use super::app::{self, JobResult, UnitAction};
use super::client;
use super::fault::Fault;
use super::proxy::Proxy;
use super::scenario::{RequestSpec, Scenario, ScenarioError};
use super::time::SimTime;
use super::window::Window;
use super::scenario::Flavor;
use super::world::{Event, Exchange, ReqId, UnitEntry, World};

/// The proxies' systemd units (Debian 12's packages): name and `Description=`.
pub fn proxy_unit(flavor: Flavor) -> (&'static str, &'static str) {
    match flavor {
        Flavor::Nginx => ("nginx.service", "A high performance web server and a reverse proxy server"),
        Flavor::Haproxy => ("haproxy.service", "HAProxy Load Balancer"),
        Flavor::Apache => ("apache2.service", "The Apache HTTP Server"),
        Flavor::Caddy => ("caddy.service", "Caddy"),
        Flavor::Varnish => ("varnish.service", "Varnish Cache, a high-performance HTTP accelerator"),
        Flavor::Envoy => ("envoy.service", "Envoy Proxy"),
        // A managed service: no unit on the host; the name is what the terminal says.
        Flavor::Alb => ("alb", "AWS Application Load Balancer (a managed service, not on this host)"),
    }
}

/// Debian 12's HAProxy package, as `haproxy -v` and its notices name it.
pub const HAPROXY_VERSION: &str = "2.6.12-1+deb12u4";

/// The host the proxy runs on, as its journal names it.
const HOST: &str = "web1";

/// What checking the proxy's configuration printed (`nginx -t`'s
/// `[emerg]` line, `haproxy -c`'s `[ALERT]`s), and whether it passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigCheck {
    pub ok: bool,
    /// The lines the proxy's start-up code wrote on stderr.
    pub stderr: Vec<String>,
}

/// Stops a run that would otherwise never end (a bug, or a hostile scenario).
pub const MAX_EVENTS_PER_RUN: u64 = 200_000_000;

/// Requests (tries) an interactive run keeps once they are over, and as many
/// connections and client operations (`World::retain`): the playground runs
/// for hours of virtual time, yet what it shows reaches back at most this far
/// (the request chips, the topology's newest 500, a lesson step's last 200).
pub const INTERACTIVE_RETAIN: usize = 1_000;

pub struct Simulation {
    world: World,
    proxy: Proxy,
    arrivals_sent: u64,
}

impl Simulation {
    /// Builds a run from a validated scenario; its requests are scheduled.
    pub fn new(scenario: Scenario) -> Result<Simulation, ScenarioError> {
        if !super::proxy::loaded(scenario.proxy.flavor) {
            return Err(ScenarioError(super::proxy::not_loaded_message(scenario.proxy.flavor)));
        }
        scenario.validate()?;
        let explicit = scenario.requests.clone();
        let mut world = World::new(scenario);
        let proxy = Proxy::start(&mut world);
        let ip = world.scenario.clients.ip.clone();
        for r in explicit {
            let at = SimTime::from_ms(r.at_ms);
            world.add_request(r, ip.clone(), at);
        }
        client::start(&mut world);
        Ok(Simulation { world, proxy, arrivals_sent: 0 })
    }

    /// A run for the playground, which may go on for ever: it keeps the
    /// newest `INTERACTIVE_RETAIN` requests and forgets older ones, so its
    /// memory stays flat. Everything else is as `new`.
    pub fn interactive(scenario: Scenario) -> Result<Simulation, ScenarioError> {
        let mut sim = Simulation::new(scenario)?;
        sim.world.retain = Some(INTERACTIVE_RETAIN);
        Ok(sim)
    }

    /// Runs every scheduled event.
    pub fn run(&mut self) {
        let mut budget = MAX_EVENTS_PER_RUN;
        while budget > 0 && self.step() {
            budget -= 1;
        }
    }

    /// Runs events until request `id` has finished (and the events due at
    /// that same instant). Later events, such as timers that can no longer
    /// matter or an app still busy with a request nginx gave up on, stay
    /// queued for when virtual time gets there.
    pub fn run_until_finished(&mut self, id: ReqId) {
        let mut budget = MAX_EVENTS_PER_RUN;
        while budget > 0 && self.world.exchanges.get(id).is_some_and(|e| !e.is_finished()) && self.step() {
            budget -= 1;
        }
        let now = self.world.now;
        while self.world.queue.peek_time() == Some(now) && self.step() {}
    }

    /// Runs events up to and including virtual time `until`.
    pub fn run_until(&mut self, until: SimTime) {
        while self.world.queue.peek_time().is_some_and(|t| t <= until) {
            self.step();
        }
        if self.world.now < until {
            self.world.now = until;
        }
    }

    /// Processes the next event; false when there is none.
    pub fn step(&mut self) -> bool {
        let Some((at, event)) = self.world.next_event() else { return false };
        debug_assert!(at >= self.world.now, "time never goes backwards");
        self.world.now = at;
        self.world.events_processed += 1;
        self.dispatch(event);
        if self.world.retire_due() {
            self.world.retire();
            self.proxy.flavor().forget_before(self.world.exchanges.first_id());
        }
        true
    }

    fn dispatch(&mut self, event: Event) {
        let w = &mut self.world;
        let proxy = self.proxy.flavor();
        match event {
            Event::ClientArrival => client::on_arrival(w, &mut self.arrivals_sent),
            Event::ClientSend(id) => client::on_send(w, id),
            Event::ProxyReceive(id) => {
                let n = w.next_connection_number();
                w.exchanges[id].client_connection = n;
                proxy.on_request(w, id)
            }
            Event::AppSyn { conn, syn } => app::on_syn(w, conn, syn),
            Event::ProxyConnectResult { conn, outcome } => proxy.on_connect_result(w, conn, outcome),
            Event::ProxyTlsDone { conn, result } => proxy.on_tls_done(w, conn, result),
            Event::AppRequest { conn } => app::on_request(w, conn),
            Event::AppWrite { conn, generation } => app::on_write(w, conn, generation),
            Event::ProxyRequestDrained { conn } => proxy.on_request_drained(w, conn),
            Event::ProxyUpstreamData { conn } => proxy.on_upstream_data(w, conn),
            Event::ProxyUpstreamClosed { conn, reset } => proxy.on_upstream_closed(w, conn, reset),
            Event::AppIdleTimeout { conn, token } => app::on_idle_timeout(w, conn, token),
            Event::AppAbort { conn, generation } => app::on_abort(w, conn, generation),
            Event::ProxyIdleTimeout { conn, token } => proxy.on_idle_timeout(w, conn, token),
            Event::AppRestarted { app: a, generation } => app::on_restarted(w, a, generation),
            Event::ProxyTimer { id, timer } => proxy.on_timer(w, id, timer),
            Event::ClientReceive(id) => {
                if w.exchanges[id].layers_trace.phase == super::layer::Phase::None {
                    client::on_receive(w, id)
                } else {
                    super::layer::on_proxy_answer(w, id)
                }
            }
            Event::Layer { id, layer, what } => super::layer::on_event(w, id, layer as usize, what),
            Event::ClientRetry { op } => client::on_retry(w, op),
            Event::ClientTimeout(id) => client::on_timeout(w, id),
            Event::ClientHedge { op, tries } => client::on_hedge(w, op, tries),
            Event::ClientDeadline { op } => client::on_deadline(w, op),
            Event::ProxyClientAbort(id) => {
                proxy.on_client_abort(w, id);
                super::layer::after_proxy_abort(w, id);
                w.compact(id);
            }
        }
    }

    /// Sends another request `delay_ms` after the current virtual time.
    pub fn send_after(&mut self, delay_ms: u64, request: RequestSpec) -> ReqId {
        let at = self.world.now.plus_ms(delay_ms);
        let request = RequestSpec { at_ms: at.as_micros() / 1_000, ..request };
        let ip = self.world.scenario.clients.ip.clone();
        self.world.add_request(request, ip, at)
    }

    /// Sends a one-off request now from a command-line tool on the proxy
    /// host (the diagnosis terminal's curl) that identifies itself as
    /// `user_agent`: no retry policy, no circuit breaker.
    pub fn send_tool(&mut self, request: RequestSpec, user_agent: &str) -> ReqId {
        let at = self.world.now;
        let request = RequestSpec { at_ms: at.as_micros() / 1_000, ..request };
        let ip = self.world.scenario.clients.ip.clone();
        self.world.add_tool_request(request, ip, at, user_agent)
    }

    /// The client of request `id` gives up now and closes its connection
    /// (curl's `--max-time`); `line` is what it prints. The proxy hears of
    /// it one hop later. No effect on a request that has ended.
    pub fn abandon(&mut self, id: ReqId, line: String) {
        if self.world.exchanges.get(id).is_some_and(|e| !e.is_finished()) {
            client::give_up(&mut self.world, id, line);
        }
    }

    /// Replaces the active faults from now on. Like `nginx -s reload`, the
    /// proxy re-reads its (effective) configuration.
    pub fn set_faults(&mut self, faults: Vec<Fault>) {
        if self.world.base.faults == faults {
            return;
        }
        let base = Scenario { faults, ..self.world.base.clone() };
        self.reload(base);
    }

    /// Replaces the whole scenario from now on (time, logs and history are
    /// kept), like editing the config and running `nginx -s reload`.
    pub fn reconfigure(&mut self, base: Scenario) -> Result<(), ScenarioError> {
        if !super::proxy::loaded(base.proxy.flavor) {
            return Err(ScenarioError(super::proxy::not_loaded_message(base.proxy.flavor)));
        }
        base.validate()?;
        // The run's clock and PRNG stream stay those it started with.
        let base = Scenario { start_unix: self.world.base.start_unix, seed: self.world.base.seed, ..base };
        self.reload(base);
        Ok(())
    }

    /// Installs `base` as the user's scenario and restarts the proxy on its
    /// effective configuration.
    fn reload(&mut self, base: Scenario) {
        if self.world.base.clients.retry != base.clients.retry {
            self.world.guards = super::client::guards::Guards::new(&base.clients.retry);
        }
        let stopped = app::stopped_services(&self.world);
        let stoppers = app::stopping_faults(&self.world);
        let (was_running, old_flavor) = (self.world.proxy_running, self.world.scenario.proxy.flavor);
        self.world.base = base;
        self.world.scenario = super::world::effective(&self.world.base);
        // A proxy stopped by hand stays stopped (its configuration is read
        // when it starts), unless the other proxy takes its place.
        if old_flavor != self.world.scenario.proxy.flavor {
            self.world.proxy_stopped = false;
        }
        let restart_proxy = !self.world.proxy_stopped;
        if restart_proxy {
            self.world.proxy_running = true;
        }
        self.world.sync_apps();
        let n = self.world.scenario.layers.len();
        self.world.layer_logs.truncate(n);
        while self.world.layer_logs.len() < n {
            self.world.layer_logs.push(super::log::LogBuffer::new(super::world::LOG_CAPACITY));
        }
        app::forget_starts_by_hand(&mut self.world, &stoppers);
        app::on_reload(&mut self.world, &stopped);
        if !restart_proxy {
            return;
        }
        self.proxy = Proxy::start(&mut self.world);
        // A reload keeps a running proxy's master process; a failed one, or
        // a switch to the other proxy, starts (or fails) anew.
        if !was_running || !self.world.proxy_running || old_flavor != self.world.scenario.proxy.flavor {
            self.world.proxy_since = self.world.now;
        }
    }

    /// `systemctl start|stop|restart|reload` on app `a`'s unit, now (see
    /// `app::unit_action`).
    pub fn app_unit(&mut self, a: usize, action: UnitAction) -> JobResult {
        self.world.service_commands += 1;
        app::unit_action(&mut self.world, a, action)
    }

    /// `systemctl start|stop|restart|reload` on the proxy's unit, now.
    /// A start runs the proxy's start-up on the current configuration (it
    /// fails as nginx's `ExecStartPre=nginx -t` or HAProxy's `-c` does); a
    /// stop ends it: nothing listens on its port. A reload checks the
    /// configuration first and, if it passes, re-reads it (nginx's new
    /// workers, HAProxy's re-exec); if it fails the running proxy keeps its
    /// old configuration. Each writes the unit's journal lines.
    pub fn proxy_unit(&mut self, action: UnitAction) -> JobResult {
        self.world.service_commands += 1;
        let running = self.world.proxy_running;
        match action {
            UnitAction::Stop if !running => JobResult::Done,
            UnitAction::Stop => {
                self.stop_proxy();
                JobResult::Done
            }
            UnitAction::Start if running => JobResult::Done,
            UnitAction::Start => self.start_proxy(),
            UnitAction::Restart => {
                if running {
                    self.stop_proxy();
                }
                self.start_proxy()
            }
            UnitAction::Reload if !running => JobResult::NotActive,
            UnitAction::Reload => self.reload_proxy_unit(),
        }
    }

    /// What the proxy's start-up would print on the current configuration,
    /// run as process `pid` (`nginx -t`, `haproxy -c`, a reload's check):
    /// the very start-up code the run uses, on a scratch copy of the world,
    /// so nothing in the run changes.
    pub fn check_config(&self, pid: u32) -> ConfigCheck {
        let mut scratch = World::new(self.world.base.clone());
        scratch.now = self.world.now;
        scratch.scenario.proxy.worker_pid = match scratch.scenario.proxy.flavor {
            // nginx names its master (worker - 1) in the `[emerg]` line.
            Flavor::Nginx => pid.saturating_add(1),
            Flavor::Haproxy | Flavor::Apache | Flavor::Caddy | Flavor::Varnish | Flavor::Envoy | Flavor::Alb => pid,
        };
        let _ = Proxy::start(&mut scratch);
        ConfigCheck { ok: scratch.proxy_running, stderr: scratch.proxy_stderr.lines().cloned().collect() }
    }

    /// The running proxy re-reads its configuration now (nginx's SIGHUP:
    /// `nginx -s reload`; the caller has checked it passes). Requests in
    /// flight are not cut; the proxy's new processes take the next ones.
    pub fn reread_proxy_config(&mut self) {
        self.world.service_commands += 1;
        if self.world.proxy_running {
            self.proxy = Proxy::start(&mut self.world);
        }
    }

    /// The first service command fixes the start the journal shows first.
    fn begin_unit_journal(&mut self) {
        if self.world.proxy_journal.is_empty() {
            let w = &mut self.world;
            let entry = UnitEntry::Start { at: w.proxy_since, ok: w.proxy_running, stderr: (0, w.proxy_stderr.total()) };
            w.unit_entry(entry);
        }
    }

    fn unit_line(&mut self, tag: &str, msg: &str) {
        let t = self.world.clock.journal(self.world.now);
        self.world.unit_entry(UnitEntry::Line(format!("{t} {HOST} {tag}: {msg}")));
    }

    fn stop_proxy(&mut self) {
        self.begin_unit_journal();
        let (unit, desc) = proxy_unit(self.world.scenario.proxy.flavor);
        self.unit_line("systemd[1]", &format!("Stopping {unit} - {desc}..."));
        if self.world.scenario.proxy.flavor == Flavor::Haproxy {
            // The master gets SIGTERM (KillMode=mixed) and its worker too.
            let worker = self.world.scenario.proxy.worker_pid;
            let master = worker.saturating_sub(1);
            let tag = format!("haproxy[{master}]");
            for msg in [
                format!("[NOTICE]   ({master}) : haproxy version is {HAPROXY_VERSION}"),
                format!("[NOTICE]   ({master}) : path to executable is /usr/sbin/haproxy"),
                format!("[WARNING]  ({master}) : Exiting Master process..."),
                format!("[ALERT]    ({master}) : Current worker ({worker}) exited with code 143 (Terminated)"),
                format!("[WARNING]  ({master}) : All workers exited. Exiting... (0)"),
            ] {
                self.unit_line(&tag, &msg);
            }
        }
        self.unit_line("systemd[1]", &format!("{unit}: Deactivated successfully."));
        self.unit_line("systemd[1]", &format!("Stopped {unit} - {desc}."));
        let w = &mut self.world;
        w.proxy_running = false;
        w.proxy_stopped = true;
        w.proxy_since = w.now;
    }

    fn start_proxy(&mut self) -> JobResult {
        self.begin_unit_journal();
        let from = self.world.proxy_stderr.total();
        self.world.proxy_running = true;
        self.world.proxy_stopped = false;
        self.proxy = Proxy::start(&mut self.world);
        let w = &mut self.world;
        w.proxy_since = w.now;
        let entry = UnitEntry::Start { at: w.now, ok: w.proxy_running, stderr: (from, w.proxy_stderr.total()) };
        w.unit_entry(entry);
        if w.proxy_running {
            JobResult::Done
        } else {
            JobResult::Failed
        }
    }

    /// `systemctl reload` of the running proxy: Debian's `ExecReload=`
    /// (nginx: `nginx -s reload`, which reads the configuration before it
    /// signals; HAProxy: `haproxy -c -q`, then SIGUSR2 to the master).
    fn reload_proxy_unit(&mut self) -> JobResult {
        self.begin_unit_journal();
        let flavor = self.world.scenario.proxy.flavor;
        let (unit, desc) = proxy_unit(flavor);
        self.unit_line("systemd[1]", &format!("Reloading {unit} - {desc}..."));
        let pid = self.world.spawn_pid();
        let check = self.check_config(pid);
        let tag = match flavor {
            Flavor::Nginx => format!("nginx[{pid}]"),
            Flavor::Haproxy => format!("haproxy[{pid}]"),
            Flavor::Apache => format!("apachectl[{pid}]"),
            Flavor::Caddy => format!("caddy[{pid}]"),
            Flavor::Varnish => format!("varnishd[{pid}]"),
            Flavor::Envoy => format!("envoy[{pid}]"),
            Flavor::Alb => format!("alb[{pid}]"),
        };
        if !check.ok {
            if flavor == Flavor::Haproxy {
                self.unit_line(&tag, &format!("[NOTICE]   ({pid}) : haproxy version is {HAPROXY_VERSION}"));
                self.unit_line(&tag, &format!("[NOTICE]   ({pid}) : path to executable is /usr/sbin/haproxy"));
            }
            for l in &check.stderr {
                self.unit_line(&tag, l);
            }
            self.unit_line("systemd[1]", &format!("{unit}: Control process exited, code=exited, status=1/FAILURE"));
            self.unit_line("systemd[1]", &format!("Reload failed for {unit} - {desc}."));
            return JobResult::Failed;
        }
        match flavor {
            Flavor::Nginx => {
                let date = self.world.clock.error_log(self.world.now);
                self.unit_line(&tag, &format!("{date} [notice] {pid}#{pid}: signal process started"));
            }
            Flavor::Haproxy => {
                let master = self.world.scenario.proxy.worker_pid.saturating_sub(1);
                let mtag = format!("haproxy[{master}]");
                self.unit_line(&mtag, &format!("[NOTICE]   ({master}) : Reloading HAProxy"));
                self.unit_line(&mtag, &format!("[NOTICE]   ({master}) : Loading success."));
            }
            Flavor::Apache | Flavor::Caddy | Flavor::Varnish | Flavor::Envoy | Flavor::Alb => {}
        }
        self.reread_proxy_config();
        self.unit_line("systemd[1]", &format!("Reloaded {unit} - {desc}."));
        JobResult::Done
    }

    /// When the next scheduled event is due, if any.
    pub fn next_event_at(&self) -> Option<SimTime> {
        self.world.queue.peek_time()
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn world_mut(&mut self) -> &mut World {
        &mut self.world
    }

    pub fn now(&self) -> SimTime {
        self.world.now
    }

    /// The kept requests (tries), by id: see `World::retain`.
    pub fn exchanges(&self) -> &Window<Exchange> {
        &self.world.exchanges
    }

    /// Everything observable about the run as text: the same scenario and
    /// seed always give byte-identical transcripts.
    pub fn transcript(&self) -> String {
        let w = &self.world;
        let mut out = String::new();
        for ex in &w.exchanges {
            let outcome = match (&ex.response, &ex.client_result) {
                (_, Some(super::world::ClientResult::ConnectFailed)) => "(could not connect)".to_string(),
                (Some(r), _) if r.status == 9 => "(HTTP/0.9 bytes)".to_string(),
                (Some(r), _) => r.status_line(),
                (None, _) => "(no response)".to_string(),
            };
            out.push_str(&format!(
                "request #{} {} -> {} attempts={}\n",
                ex.id + 1,
                ex.request_line(),
                outcome,
                ex.attempts.len()
            ));
            for s in &ex.timeline {
                out.push_str(&format!("  {} {:<6} {}\n", s.at.offset_label(), s.actor.as_str(), s.text));
            }
        }
        if let Some(b) = &w.guards.breaker {
            out.push_str("== circuit breaker\n");
            for (at, state) in &b.timeline {
                out.push_str(&format!("  {} {}\n", at.offset_label(), state.as_str()));
            }
        }
        if !w.proxy_journal.is_empty() {
            out.push_str("== proxy unit\n");
            for e in &w.proxy_journal {
                match e {
                    UnitEntry::Start { at, ok, .. } => {
                        out.push_str(&format!("  {} start {}\n", at.offset_label(), if *ok { "ok" } else { "failed" }))
                    }
                    UnitEntry::Line(l) => {
                        out.push_str(l);
                        out.push('\n');
                    }
                }
            }
        }
        for (name, log) in [
            ("proxy stderr", &w.proxy_stderr),
            ("client console", &w.console),
            ("error.log", &w.error_log),
            ("access.log", &w.access_log),
            ("app log", &w.app_log),
        ] {
            out.push_str(&format!("== {name}\n"));
            for l in log.lines() {
                out.push_str(l);
                out.push('\n');
            }
        }
        // Only a scenario with layers has these sections (older transcripts stay byte-identical).
        for (name, log) in super::layer::log_sections(w) {
            out.push_str(&format!("== {name}\n"));
            for l in log.lines() {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }
}

/// Runs a scenario to completion.
pub fn run(scenario: Scenario) -> Result<Simulation, ScenarioError> {
    let mut sim = Simulation::new(scenario)?;
    sim.run();
    Ok(sim)
}

/// `250 µs`, `12.3 ms`, `60.0 s`.
pub fn fmt_duration(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.1} s", us as f64 / 1_000_000.0)
    }
}
