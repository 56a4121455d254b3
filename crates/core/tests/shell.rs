//! The diagnosis terminal's shell against the simulated world: for several
//! faults the key lines change when the fault is switched on and back off
//! (with `Simulation::set_faults`, as the page does), pipes work, the
//! terminal's own requests behave like curl's, and no input makes it panic.

use gateway_core::shell::{self, Output};
use gateway_core::sim::scenario::{Flavor, RetryPolicy};
use gateway_core::sim::time::SimTime;
use gateway_core::sim::{Fault, FaultKind, Scenario, Simulation};
use proptest::prelude::*;

use gateway_core::scenarios::blank;

fn sim() -> Simulation {
    Simulation::new(blank()).unwrap()
}

fn fault(id: &str) -> Vec<Fault> {
    vec![Fault::from(FaultKind::from_id(id).unwrap())]
}

fn run(sim: &mut Simulation, line: &str) -> Output {
    shell::run(sim, line)
}

/// The output with curl's CRLFs as a terminal shows them.
fn text(sim: &mut Simulation, line: &str) -> String {
    run(sim, line).text.replace("\r\n", "\n")
}

fn line_with<'a>(text: &'a str, needle: &str) -> Option<&'a str> {
    text.lines().find(|l| l.contains(needle))
}

#[test]
fn app_down_switched_on_and_off() {
    let mut s = sim();
    let status = text(&mut s, "systemctl status app");
    assert!(status.starts_with("● app.service\n"), "{status}");
    assert!(line_with(&status, "Active:").unwrap().contains("active (running) since Sat 2026-11-21 04:43:44 UTC"), "{status}");
    assert!(status.contains("   Main PID: 2817 (node)\n"), "{status}");
    assert!(text(&mut s, "ss -tlnp").contains("127.0.0.1:3000"));
    let ok = text(&mut s, "curl -v http://localhost/users");
    assert!(ok.contains("< HTTP/1.1 200 OK\n"), "{ok}");
    assert!(ok.contains("[{\"id\":1,\"name\":\"Ada\"},{\"id\":2,\"name\":\"Linus\"}]"), "{ok}");

    s.set_faults(fault("app_down"));
    let status = text(&mut s, "systemctl status app");
    assert!(status.starts_with("○ app.service\n"), "{status}");
    assert!(line_with(&status, "Active:").unwrap().contains("inactive (dead) since"), "{status}");
    assert!(status.contains("systemd[1]: Stopped app.service."), "{status}");
    assert_eq!(run(&mut s, "systemctl status app").status, 3);
    let ss = text(&mut s, "ss -tlnp");
    assert!(!ss.contains(":3000"), "{ss}");
    assert!(ss.contains("0.0.0.0:80"), "nginx still listens: {ss}");
    let bad = text(&mut s, "curl -v http://localhost/users");
    assert!(bad.contains("< HTTP/1.1 502 Bad Gateway\n"), "{bad}");
    assert!(bad.contains("<center><h1>502 Bad Gateway</h1></center>"), "{bad}");
    let direct = run(&mut s, "curl -sS http://127.0.0.1:3000/users");
    assert_eq!(direct.text, "curl: (7) Failed to connect to 127.0.0.1 port 3000 after 0 ms: Couldn't connect to server\n");
    assert_eq!(direct.status, 7);
    let log = text(&mut s, "tail -n 1 /var/log/nginx/error.log");
    assert!(log.contains("connect() failed (111: Connection refused) while connecting to upstream"), "{log}");

    s.set_faults(Vec::new());
    let status = text(&mut s, "systemctl status app");
    assert!(line_with(&status, "Active:").unwrap().contains("active (running)"), "{status}");
    assert!(status.contains("systemd[1]: Started app.service."), "{status}");
    assert!(text(&mut s, "ss -tlnp").contains("127.0.0.1:3000"));
    assert!(text(&mut s, "curl -s -o /dev/null -w '%{http_code}' http://localhost/users") == "200");
}

#[test]
fn oom_kill_shows_in_systemd_docker_and_the_kernel_log() {
    let mut s = sim();
    assert!(text(&mut s, "docker inspect app | grep -i oom").contains("\"OOMKilled\": false,"));
    s.set_faults(fault("oom_kill"));
    // The kill needs a request.
    assert_eq!(text(&mut s, "curl -s -o /dev/null -w '%{http_code}\\n' http://localhost/users"), "502\n");
    let oom = text(&mut s, "docker inspect app | grep -i oom");
    assert_eq!(oom, "            \"OOMKilled\": true,\n            \"OomKillDisable\": false,\n            \"OomScoreAdj\": 0\n");
    let status = text(&mut s, "systemctl status app");
    assert!(line_with(&status, "Active:").unwrap().contains("activating (auto-restart) (Result: oom-kill)"), "{status}");
    assert!(status.contains("   Main PID: 2817 (code=killed, signal=KILL)\n"), "{status}");
    assert!(text(&mut s, "journalctl -u app").contains("app.service: Main process exited, code=killed, status=9/KILL"));
    let kernel = text(&mut s, "journalctl -k");
    assert!(kernel.contains("kernel: Out of memory: Killed process 2817 (node)"), "{kernel}");
    assert!(!text(&mut s, "journalctl -u app").contains("kernel:"), "kernel lines are not the unit's");
    assert!(text(&mut s, "docker ps -a").contains("Exited (137)"));
    assert_eq!(text(&mut s, "docker ps | wc -l"), "1\n", "only the header: the container is not running");
    assert!(!text(&mut s, "ss -tlnp").contains(":3000"));

    // Healed, and a second later systemd has restarted it.
    s.set_faults(Vec::new());
    let t = s.now().plus_ms(2_000);
    s.run_until(t);
    // Without -l, systemctl cuts journal lines to the terminal's width.
    assert!(text(&mut s, "systemctl status app").contains("Scheduled restart job, restart co…\n"));
    let status = text(&mut s, "systemctl status app --full");
    assert!(line_with(&status, "Active:").unwrap().contains("active (running)"), "{status}");
    assert!(status.contains("Scheduled restart job, restart counter is at 1."), "{status}");
    assert!(text(&mut s, "ss -tlnp").contains("127.0.0.1:3000"));
    // Docker 20.10 keeps OOMKilled until the next exit; the exit code is reset.
    let state = text(&mut s, "docker inspect app | grep -E 'OOMKilled|ExitCode|\"Status\"'");
    assert_eq!(state, "            \"Status\": \"running\",\n            \"OOMKilled\": true,\n            \"ExitCode\": 0,\n");
}

#[test]
fn wrong_port_the_app_listens_where_nginx_does_not_look() {
    let mut s = sim();
    s.set_faults(fault("wrong_port"));
    let ss = text(&mut s, "ss -tlnp | grep node");
    assert!(ss.contains("127.0.0.1:3000"), "the app still listens on its port: {ss}");
    assert_eq!(text(&mut s, "grep 'server [0-9]' /etc/nginx/conf.d/gateway-lab.conf"), "    server 127.0.0.1:3001;\n");
    assert_eq!(run(&mut s, "curl -s http://127.0.0.1:3000/users").status, 0);
    assert_eq!(run(&mut s, "curl -s http://127.0.0.1:3001/users").status, 7);
    assert!(text(&mut s, "curl -s http://localhost/users").contains("502 Bad Gateway"));
    s.set_faults(Vec::new());
    assert_eq!(text(&mut s, "grep 'server [0-9]' /etc/nginx/conf.d/gateway-lab.conf"), "    server 127.0.0.1:3000;\n");
}

#[test]
fn unix_sockets_missing_or_private() {
    let mut s = sim();
    s.set_faults(fault("unix_socket_missing"));
    let ls = run(&mut s, "ls -la /run/app/app.sock");
    assert_eq!((ls.text.as_str(), ls.status), ("ls: cannot access '/run/app/app.sock': No such file or directory\n", 2));
    let c = run(&mut s, "curl -sS --unix-socket /run/app/app.sock http://localhost/users");
    assert_eq!((c.text.as_str(), c.status), ("curl: (7) Failed to connect to localhost port 80 after 0 ms: Couldn't connect to server\n", 7));
    assert!(text(&mut s, "curl -s localhost/users").contains("502"));
    assert!(text(&mut s, "tail -n 1 error.log").contains("[crit]"));

    s.set_faults(fault("unix_socket_permission"));
    assert_eq!(text(&mut s, "ls -la /run/app/app.sock"), "srw------- 1 app app 0 Nov 21 04:43 /run/app/app.sock\n");
    assert!(text(&mut s, "ss -xlp").contains("/run/app/app.sock"));
    // root may connect; nginx's user may not.
    assert_eq!(run(&mut s, "curl -s --unix-socket /run/app/app.sock http://localhost/users").status, 0);
    let denied = text(&mut s, "sudo -u www-data curl -v --unix-socket /run/app/app.sock http://localhost/users");
    assert!(denied.contains("* connect to /run/app/app.sock port 0 failed: Permission denied"), "{denied}");
    assert!(text(&mut s, "curl -s localhost/users").contains("502 Bad Gateway"));
    assert!(text(&mut s, "tail -n 1 error.log").contains("(13: Permission denied)"));

    s.set_faults(Vec::new());
    assert_eq!(run(&mut s, "ls /run/app/app.sock").status, 2, "the app listens on TCP again");
    // Its directory stays (bind-mounted into the container), empty.
    assert_eq!(text(&mut s, "ls -la /run/app | head -n 1"), "total 0\n");
    // GNU head: a negative count keeps all but the last N lines; tail's is its last N.
    let all = text(&mut s, "systemctl status app");
    let n = all.lines().count();
    assert!(n > 3);
    let but_two: String = all.lines().take(n - 2).map(|l| format!("{l}\n")).collect();
    assert_eq!(text(&mut s, "systemctl status app | head -n -2"), but_two);
    assert_eq!(text(&mut s, "systemctl status app | head -n-2"), but_two);
    assert_eq!(text(&mut s, "systemctl status app | head --lines=-2"), but_two);
    assert_eq!(text(&mut s, "systemctl status app | head -n -999"), "");
    assert_eq!(text(&mut s, "systemctl status app | tail -n -2"), text(&mut s, "systemctl status app | tail -n 2"));
    assert_eq!(text(&mut s, "ls -la /run/app | wc -l"), "3\n");
}

#[test]
fn slow_app_curl_waits_and_max_time_gives_up() {
    let mut s = sim();
    s.set_faults(fault("slow_app"));
    let t0 = s.now();
    let c = run(&mut s, "curl -sS -m 5 http://localhost/users");
    assert_eq!((c.text.as_str(), c.status), ("curl: (28) Operation timed out after 5000 milliseconds with 0 bytes received\n", 28));
    assert!(s.now().since(t0) >= 5_000_000, "curl waited five virtual seconds");
    assert!(text(&mut s, "tail -n 1 access.log").contains("\"GET /users HTTP/1.1\" 499 0 \"-\" \"curl/7.88.1\""), "nginx logged the client's abort");
    // Without -m curl waits for nginx's proxy_read_timeout.
    let c = text(&mut s, "curl -s -o /dev/null -w '%{http_code} %{time_total}' http://localhost/users");
    assert!(c.starts_with("504 60."), "{c}");
    // Straight to the app: the answer comes after the app's delay.
    assert_eq!(run(&mut s, "curl -sS -m 3 http://127.0.0.1:3000/users").status, 28);
    let t1 = s.now();
    assert_eq!(run(&mut s, "curl -s http://127.0.0.1:3000/users").status, 0);
    assert_eq!(s.now().since(t1), 90_000_000);
    assert!(text(&mut s, "journalctl -u app | tail -n 1").contains("GET /users 200 90000ms (slow query)"));
}

#[test]
fn black_hole_crash_maintenance_and_not_http_straight_to_the_app() {
    let mut s = sim();
    s.set_faults(fault("connect_black_hole"));
    let c = text(&mut s, "curl -v -m 2 http://127.0.0.1:3000/users");
    assert!(c.contains("*   Trying 127.0.0.1:3000...\n"), "{c}");
    assert!(c.ends_with("curl: (28) Connection timed out after 2000 milliseconds\n"), "{c}");
    let c = text(&mut s, "curl -sS http://127.0.0.1:3000/users");
    assert_eq!(c, "curl: (28) Failed to connect to 127.0.0.1 port 3000 after 127000 ms: Couldn't connect to server\n");

    let mut s = sim();
    s.set_faults(fault("crash_mid_request"));
    let c = run(&mut s, "curl -sS http://127.0.0.1:3000/users");
    assert_eq!((c.text.as_str(), c.status), ("curl: (52) Empty reply from server\n", 52));
    let j = text(&mut s, "journalctl -u app");
    assert!(j.contains("app[2817]: Uncaught TypeError"), "{j}");
    assert!(text(&mut s, "systemctl status app").contains("activating (auto-restart) (Result: exit-code)"));
    assert!(text(&mut s, "docker inspect app").contains("\"ExitCode\": 1,"));

    let mut s = sim();
    s.set_faults(fault("maintenance"));
    let c = text(&mut s, "curl -si http://127.0.0.1:3000/users");
    assert!(c.starts_with("HTTP/1.1 503 Service Unavailable\nContent-Type: text/plain; charset=utf-8\n"), "{c}");
    assert!(c.contains("Retry-After: 120\n") && c.ends_with("Down for maintenance. Please retry later.\n"), "{c}");

    let mut s = sim();
    s.set_faults(fault("not_http"));
    let c = run(&mut s, "curl -sS http://127.0.0.1:3000/users");
    assert_eq!((c.text.as_str(), c.status), ("curl: (1) Received HTTP/0.9 when not allowed\n", 1));
}

#[test]
fn haproxy_flavor_has_no_nginx_logs() {
    let sc = Scenario { proxy: gateway_core::sim::scenario::ProxyConfig { flavor: Flavor::Haproxy, ..Default::default() }, ..blank() };
    let mut s = Simulation::new(sc).unwrap();
    s.set_faults(fault("app_down"));
    let t = run(&mut s, "tail /var/log/nginx/error.log");
    assert_eq!((t.text.as_str(), t.status), ("tail: cannot open '/var/log/nginx/error.log' for reading: No such file or directory\n", 1));
    assert!(text(&mut s, "curl -s localhost/users").contains("503 Service Unavailable"));
    let j = text(&mut s, "journalctl -u haproxy");
    assert!(j.contains("Started haproxy.service - HAProxy Load Balancer."), "{j}");
    assert!(j.contains("fe_main be_app/app1") && j.contains(" SC-- "), "{j}");
    assert!(text(&mut s, "ss -tlnp").contains("(\"haproxy\",pid=4453,fd=7)"));
    assert_eq!(run(&mut s, "systemctl status nginx").text, "Unit nginx.service could not be found.\n");
    assert!(text(&mut s, "cat /etc/haproxy/haproxy.cfg").contains("backend be_app"));
}

#[test]
fn nginx_that_failed_to_start() {
    let text_ = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../scenarios/dns_failure_startup.json")).unwrap();
    let mut s = Simulation::new(Scenario::from_json(&text_).unwrap()).unwrap();
    s.run();
    let st = text(&mut s, "systemctl status nginx -l");
    assert!(st.starts_with("× nginx.service - A high performance web server and a reverse proxy server\n"), "{st}");
    assert!(st.contains("Active: failed (Result: exit-code)"), "{st}");
    assert!(st.contains("[emerg] 4452#4452: host not found in upstream"), "{st}");
    assert!(!text(&mut s, "ss -tln").contains(":80 "), "nothing listens on :80");
    assert!(text(&mut s, "curl -sS localhost/users").starts_with("curl: (7) Failed to connect to localhost port 80"));
}

#[test]
fn pipes_filters_and_exit_statuses() {
    let mut s = sim();
    for _ in 0..3 {
        run(&mut s, "curl -s http://localhost/users");
    }
    assert_eq!(text(&mut s, "cat /var/log/nginx/access.log | wc -l"), "3\n");
    assert_eq!(text(&mut s, "grep -c 'GET /users' access.log"), "3\n");
    assert_eq!(text(&mut s, "cat access.log | grep -v ' 200 ' | wc -l"), "0\n");
    assert_eq!(run(&mut s, "grep ' 502 ' /var/log/nginx/access.log").status, 1);
    assert_eq!(text(&mut s, "ss -tlnp | grep -E ':(80|3000) ' | wc -l"), "2\n");
    assert_eq!(text(&mut s, "journalctl -u app | grep -o '[0-9]*ms$' | head -n 1").len(), "25ms\n".len());
    assert_eq!(text(&mut s, "systemctl status app | grep -A 1 Active"), text(&mut s, "systemctl status app | head -n 4 | tail -n 2"));
    assert_eq!(text(&mut s, "ss -tln | grep -E ':80 |:3000 ' | wc -l"), "2\n");
    // Context as large as a usize: everything, once (it overflowed).
    assert_eq!(text(&mut s, "grep -B 18446744073709551615 -A 18446744073709551615 -c GET access.log"), "3\n");
    assert_eq!(text(&mut s, "grep -B 18446744073709551615 'GET /users' access.log | wc -l"), "3\n");
    assert_eq!(text(&mut s, "docker inspect app | grep '\"Running\"'"), "            \"Running\": true,\n");
    // curl -v writes to stderr: only the body goes through the pipe, unless 2>&1.
    let piped = text(&mut s, "curl -sv http://localhost/users | wc -c");
    assert!(piped.contains("< HTTP/1.1 200 OK") && piped.ends_with("48\n"), "{piped}");
    assert!(text(&mut s, "curl -sv http://localhost/users 2>&1 | grep '^< HTTP'").starts_with("< HTTP/1.1 200 OK"));
    assert_eq!(text(&mut s, "curl -sv http://localhost/users 2>/dev/null"), "[{\"id\":1,\"name\":\"Ada\"},{\"id\":2,\"name\":\"Linus\"}]\n");
    // Without -s, a piped curl draws its progress meter on stderr.
    let meter = text(&mut s, "curl http://localhost/users | wc -l");
    assert!(meter.starts_with("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"), "{meter}");
    let o = run(&mut s, "nosuchtool --help");
    assert_eq!((o.text.as_str(), o.status), ("bash: nosuchtool: command not found\nType help for the commands this terminal simulates.\n", 127));
    let o = run(&mut s, "curl --bogus http://localhost/");
    assert_eq!(o.status, 2);
    assert!(o.text.starts_with("curl: option --bogus: is unknown\n"), "{}", o.text);
    assert_eq!(run(&mut s, "curl").text, "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information\n");
    assert_eq!(run(&mut s, "| grep x").status, 2);
    assert_eq!(run(&mut s, "echo 'unterminated").status, 2);
    assert!(run(&mut s, "clear").clear);
    assert!(text(&mut s, "help").contains("docker inspect NAME"));
    assert_eq!(text(&mut s, "tail -f /var/log/nginx/error.log").lines().count(), 1);
    assert_eq!(text(&mut s, "ls -la /etc/shadow"), "ls: /etc/shadow: not modelled in this lab (it models /var/log/nginx, /etc/nginx/conf.d and the apps' sockets)\n");
}

#[test]
fn the_terminals_curl_is_one_real_request_without_retries() {
    // A client retry policy on the page does not make curl retry.
    let mut sc = blank();
    sc.clients.retry = RetryPolicy::python_requests();
    let mut s = Simulation::new(sc).unwrap();
    s.set_faults(fault("app_down"));
    let before = s.exchanges().len();
    run(&mut s, "curl -s http://localhost/users");
    let t = s.now().plus_ms(120_000);
    s.run_until(t);
    assert_eq!(s.exchanges().len(), before + 1, "one try, no retry");
    let access = text(&mut s, "tail -n 1 access.log");
    assert!(access.ends_with("\"GET /users HTTP/1.1\" 502 157 \"-\" \"curl/7.88.1\"\n"), "{access}");
    // -H Host: reaches nginx (its error.log names the host).
    run(&mut s, "curl -s -H 'Host: shop.example' http://localhost/users");
    assert!(text(&mut s, "tail -n 1 error.log").ends_with("host: \"shop.example\"\n"));
}

#[test]
fn a_direct_curl_leaves_the_runs_random_stream_alone() {
    let mut sc = blank();
    sc.faults = vec![Fault { probability: 0.5, ..Fault::from(FaultKind::SlowApp { delay_ms: 500 }) }];
    let mut s = Simulation::new(sc).unwrap();
    let draw = |s: &Simulation| s.world().rng.clone().between(0, u64::MAX);
    let before = draw(&s);
    for _ in 0..5 {
        run(&mut s, "curl -s http://127.0.0.1:3000/users");
    }
    assert_eq!(draw(&s), before);
}

#[test]
fn same_commands_same_output() {
    let lines = ["curl -v http://localhost/users", "systemctl status app", "ss -tlnp", "docker ps -a", "docker inspect app", "journalctl -u app"];
    let go = || {
        let mut s = sim();
        s.set_faults(fault("crash_mid_request"));
        lines.iter().map(|l| shell::run(&mut s, l)).collect::<Vec<_>>()
    };
    assert_eq!(go(), go());
}

#[test]
fn every_catalog_fault_answers_the_diagnosis_commands() {
    for kind in FaultKind::catalog() {
        let mut s = sim();
        s.set_faults(vec![Fault::from(kind.clone())]);
        for line in [
            "curl -sS -m 90 -o /dev/null -w '%{http_code}' http://localhost/users",
            "curl -sS -m 2 http://127.0.0.1:3000/users",
            "curl -sS -m 2 --unix-socket /run/app/app.sock http://localhost/users",
            "systemctl status app",
            "journalctl -u app",
            "ss -tlnp",
            "ss -xlp",
            "docker inspect app",
            "tail /var/log/nginx/error.log",
            "ls -la /run/app",
        ] {
            let o = shell::run(&mut s, line);
            assert!(!o.text.is_empty() || line.starts_with("ss -x") || line.starts_with("tail") || line.starts_with("ls"), "{} / {line}: no output", kind.id());
            assert!((0..=255).contains(&o.status), "{} / {line}: status {}", kind.id(), o.status);
        }
        assert!(s.now() >= SimTime::ZERO);
    }
}

/// Words that reach deep into the tools, for the fuzzing below.
fn vocabulary() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "curl", "-v", "-s", "-S", "-i", "-m", "0.5", "-m0", "--max-time", "-H", "Host: x", "--unix-socket", "/run/app/app.sock",
        "http://localhost/users", "http://127.0.0.1:3000/", "https://127.0.0.1:3000/", "localhost:22", "-w", "%{http_code}", "-o",
        "/dev/null", "-X", "POST", "systemctl", "status", "app", "nginx", "is-active", "journalctl", "-u", "-n", "-k", "-xeu", "ss",
        "-tlnp", "-xlp", "-a", "docker", "ps", "-a", "inspect", "logs", "--tail", "tail", "head", "cat", "ls", "-la", "error.log",
        "/var/log/nginx", "/run/app", "grep", "-i", "-v", "-c", "-E", "oom", "[", "a|b", "^x$", "wc", "-l", "|", "2>&1", "sudo", "-u",
        "www-data", "'", "\"", "\\", "#", "start", "stop", "restart", "reload", "try-restart", "service", "haproxy", "-t", "-T",
        "-q", "-s", "-c", "-f", "/etc/haproxy/haproxy.cfg", "nginx.service", "", "   ", "\u{1F600}", "ß", "-", "--", "-n-1", "+1", "-99999999999999999999",
    ]);
    prop::collection::vec(words, 0..12).prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_lines_never_panic(line in any::<String>()) {
        let mut s = sim();
        let o = shell::run(&mut s, &line);
        prop_assert!((0..=255).contains(&o.status));
    }

    #[test]
    fn command_like_lines_never_panic(line in vocabulary(), fault_index in 0usize..22) {
        let mut s = sim();
        if let Some(kind) = FaultKind::catalog().get(fault_index) {
            s.set_faults(vec![Fault::from(kind.clone())]);
        }
        let o = shell::run(&mut s, &line);
        prop_assert!((0..=255).contains(&o.status));
        prop_assert!(o.text.len() <= shell::MAX_OUTPUT + 64);
    }
}


fn haproxy_sim() -> Simulation {
    let sc = Scenario { proxy: gateway_core::sim::scenario::ProxyConfig { flavor: Flavor::Haproxy, ..Default::default() }, ..blank() };
    Simulation::new(sc).unwrap()
}

fn scenario_file(name: &str) -> Simulation {
    let path = format!("{}/../../scenarios/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let mut s = Simulation::new(Scenario::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()).unwrap();
    s.run();
    s
}

/// The next request through the proxy: its status (None: no HTTP answer)
/// and the newest error.log line.
fn next_request(s: &mut Simulation) -> (Option<u16>, String) {
    let id = s.send_after(0, gateway_core::sim::RequestSpec::default());
    s.run_until_finished(id);
    let status = s.exchanges().get(id).and_then(|e| e.status());
    (status, s.world().error_log.lines().last().cloned().unwrap_or_default())
}

#[test]
fn systemctl_stop_and_start_the_app() {
    for flavor in [Flavor::Nginx, Flavor::Haproxy] {
        let mut s = if flavor == Flavor::Nginx { sim() } else { haproxy_sim() };
        let stop = run(&mut s, "systemctl stop app");
        assert_eq!((stop.text.as_str(), stop.status), ("", 0), "{flavor:?}");
        // No fault was added: the process state changed.
        assert!(s.world().base.faults.is_empty() && s.world().scenario.faults.is_empty());
        assert!(!s.world().apps[0].running);
        let st = run(&mut s, "systemctl status app");
        assert_eq!(st.status, 3);
        assert!(st.text.starts_with("○ app.service\n"), "{}", st.text);
        assert!(line_with(&st.text, "Active:").unwrap().contains("inactive (dead) since Sat 2026-11-21 04:43:44 UTC; now"), "{}", st.text);
        assert!(st.text.contains("   Main PID: 2817 (code=killed, signal=TERM)\n"), "{}", st.text);
        for l in ["systemd[1]: Stopping app.service...", "systemd[1]: app.service: Deactivated successfully.", "systemd[1]: Stopped app.service."] {
            assert!(st.text.contains(l), "{flavor:?} {l}: {}", st.text);
        }
        assert_eq!(text(&mut s, "systemctl is-active app"), "inactive\n");
        assert!(!text(&mut s, "ss -tlnp").contains(":3000"));
        assert_eq!(text(&mut s, "docker ps | grep -c app"), "0\n", "the container is not running");
        // The next request fails as app_down makes it fail: refused.
        let (status, log) = next_request(&mut s);
        match flavor {
            Flavor::Nginx => {
                assert_eq!(status, Some(502));
                assert!(log.contains("connect() failed (111: Connection refused) while connecting to upstream"), "{log}");
            }
            Flavor::Haproxy => assert_eq!(status, Some(503)),
            Flavor::Varnish => {
                assert_eq!(status, Some(503));
                assert!(log.contains("FetchError     backend default: fail errno 111 (Connection refused)"), "{log}");
            }
            Flavor::Caddy => {
                assert_eq!(status, Some(502));
                assert!(log.contains("dial tcp 127.0.0.1:3000: connect: connection refused"), "{log}");
            }
            Flavor::Apache => {
                assert_eq!(status, Some(503));
                assert!(log.contains("(111)Connection refused: AH00957: http: attempt to connect to 127.0.0.1:3000"), "{log}");
            }
            Flavor::Envoy => assert_eq!(status, Some(503)),
            Flavor::Alb => assert_eq!(status, Some(502)),
        }
        let direct = run(&mut s, "curl -sS http://127.0.0.1:3000/users");
        assert_eq!((direct.text.as_str(), direct.status), ("curl: (7) Failed to connect to 127.0.0.1 port 3000 after 0 ms: Couldn't connect to server\n", 7));
        // Stopping it again changes nothing.
        let again = run(&mut s, "systemctl stop app.service");
        assert_eq!((again.text.as_str(), again.status), ("", 0));

        let start = run(&mut s, "systemctl start app");
        assert_eq!((start.text.as_str(), start.status), ("", 0));
        let st = text(&mut s, "systemctl status app");
        assert!(st.starts_with("● app.service\n"), "{st}");
        assert!(line_with(&st, "Active:").unwrap().contains("active (running)"), "{st}");
        assert!(st.ends_with("systemd[1]: Started app.service.\n"), "{st}");
        assert_eq!(next_request(&mut s).0, Some(200));
        assert_eq!(text(&mut s, "systemctl is-active app"), "active\n");
    }
}

#[test]
fn restart_and_reload_of_the_app() {
    let mut s = sim();
    let r = run(&mut s, "systemctl restart app");
    assert_eq!((r.text.as_str(), r.status), ("", 0));
    let j = text(&mut s, "journalctl -u app");
    assert_eq!(
        j,
        "Nov 21 04:43:44 web1 systemd[1]: Stopping app.service...\n\
         Nov 21 04:43:44 web1 systemd[1]: app.service: Deactivated successfully.\n\
         Nov 21 04:43:44 web1 systemd[1]: Stopped app.service.\n\
         Nov 21 04:43:44 web1 systemd[1]: Started app.service.\n"
    );
    let r = run(&mut s, "systemctl reload app");
    assert_eq!((r.text.as_str(), r.status), ("Failed to reload app.service: Job type reload is not applicable for unit app.service.\n", 1));
    // Debian's `service` wrapper.
    assert_eq!(run(&mut s, "service app stop").status, 0);
    assert_eq!(text(&mut s, "systemctl is-active app"), "inactive\n");
    assert_eq!(run(&mut s, "service app start").status, 0);
    assert_eq!(next_request(&mut s).0, Some(200));
    // Only root may.
    let r = run(&mut s, "sudo -u www-data systemctl stop app");
    assert_eq!(r.status, 1);
    assert!(r.text.starts_with("Failed to stop app.service: Interactive authentication required.\n"), "{}", r.text);
    assert!(s.world().apps[0].running);
    let r = run(&mut s, "systemctl stop nosuch");
    assert_eq!((r.text.as_str(), r.status), ("Failed to stop nosuch.service: Unit nosuch.service not found.\n", 5));
}

#[test]
fn starting_the_app_overrules_app_down_but_not_a_broken_process() {
    // app_down: the unit is stopped; systemctl start starts it.
    let mut s = sim();
    s.set_faults(fault("app_down"));
    assert_eq!(next_request(&mut s).0, Some(502));
    assert_eq!(run(&mut s, "systemctl start app").status, 0);
    assert!(text(&mut s, "systemctl status app").starts_with("● app.service\n"));
    assert_eq!(next_request(&mut s).0, Some(200));
    assert_eq!(text(&mut s, "curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:3000/users"), "200");
    // Fixing the fault afterwards starts nothing twice.
    s.set_faults(Vec::new());
    assert_eq!(text(&mut s, "journalctl -u app | grep -c Started"), "1\n");
    assert_eq!(next_request(&mut s).0, Some(200));
    // Breaking it again stops it again.
    s.set_faults(fault("app_down"));
    assert_eq!(next_request(&mut s).0, Some(502));

    // oom_kill: a restart brings the process back, and the next request kills it again.
    let mut s = sim();
    s.set_faults(fault("oom_kill"));
    assert_eq!(next_request(&mut s).0, Some(502));
    assert!(text(&mut s, "systemctl status app").contains("activating (auto-restart) (Result: oom-kill)"));
    assert_eq!(run(&mut s, "systemctl restart app").status, 0);
    let st = text(&mut s, "systemctl status app");
    assert!(line_with(&st, "Active:").unwrap().contains("active (running)"), "{st}");
    assert_eq!(next_request(&mut s).0, Some(502));
    assert!(text(&mut s, "journalctl -k").contains("Out of memory: Killed process 2817 (node)"));

    // A socket path nginx does not look at: the restarted app still listens elsewhere.
    let mut s = sim();
    s.set_faults(fault("unix_socket_missing"));
    let before = next_request(&mut s);
    assert_eq!(run(&mut s, "systemctl restart app").status, 0);
    let after = next_request(&mut s);
    assert_eq!(after.0, before.0);
    assert!(after.1.contains("(2: No such file or directory)"), "{}", after.1);
}

#[test]
fn systemctl_stop_and_start_the_proxy() {
    for flavor in [Flavor::Nginx, Flavor::Haproxy] {
        let mut s = if flavor == Flavor::Nginx { sim() } else { haproxy_sim() };
        let unit = if flavor == Flavor::Nginx { "nginx" } else { "haproxy" };
        assert_eq!(run(&mut s, &format!("systemctl stop {unit}")).status, 0);
        let st = run(&mut s, &format!("systemctl status {unit} -l"));
        assert_eq!(st.status, 3);
        assert!(st.text.starts_with(&format!("○ {unit}.service - ")), "{}", st.text);
        assert!(st.text.contains("Active: inactive (dead) since"), "{}", st.text);
        assert!(st.text.contains(&format!("systemd[1]: {unit}.service: Deactivated successfully.")), "{}", st.text);
        assert!(st.text.contains(&format!("systemd[1]: Stopped {unit}.service - ")), "{}", st.text);
        assert_eq!(text(&mut s, &format!("systemctl is-active {unit}")), "inactive\n");
        assert!(!text(&mut s, "ss -tln").contains(":80 "), "nothing listens on :80");
        let c = run(&mut s, "curl -sS localhost/users");
        assert_eq!((c.text.as_str(), c.status), ("curl: (7) Failed to connect to localhost port 80 after 0 ms: Couldn't connect to server\n", 7));
        let (status, _) = next_request(&mut s);
        assert_eq!(status, None);
        let ex = s.exchanges().last().unwrap();
        assert!(ex.explanation.as_deref().unwrap().contains("is stopped (systemctl stop)"), "{:?}", ex.explanation);
        // The page's changes do not start it.
        s.set_faults(fault("slow_app"));
        s.set_faults(Vec::new());
        assert!(!s.world().proxy_running);
        let r = run(&mut s, &format!("systemctl reload {unit}"));
        assert_eq!((r.text.as_str(), r.status), (format!("{unit}.service is not active, cannot reload.\n").as_str(), 1));

        assert_eq!(run(&mut s, &format!("systemctl start {unit}")).status, 0);
        assert_eq!(text(&mut s, &format!("systemctl is-active {unit}")), "active\n");
        assert_eq!(next_request(&mut s).0, Some(200));
        let j = text(&mut s, &format!("journalctl -u {unit}"));
        let started = j.lines().filter(|l| l.contains(&format!("Started {unit}.service"))).count();
        assert_eq!(started, 2, "{j}");
        if flavor == Flavor::Haproxy {
            assert!(j.contains("[ALERT]    (4452) : Current worker (4453) exited with code 143 (Terminated)"), "{j}");
            assert!(j.contains(" fe_main be_app/app1 "), "the request log stays in the journal: {j}");
        }
    }
}

#[test]
fn reloading_the_proxy() {
    let mut s = sim();
    let r = run(&mut s, "systemctl reload nginx");
    assert_eq!((r.text.as_str(), r.status), ("", 0));
    let j = text(&mut s, "journalctl -u nginx -n 3");
    assert_eq!(
        j,
        "Nov 21 04:43:44 web1 systemd[1]: Reloading nginx.service - A high performance web server and a reverse proxy server...\n\
         Nov 21 04:43:44 web1 nginx[4454]: 2026/11/21 04:43:44 [notice] 4454#4454: signal process started\n\
         Nov 21 04:43:44 web1 systemd[1]: Reloaded nginx.service - A high performance web server and a reverse proxy server.\n"
    );
    assert_eq!(next_request(&mut s).0, Some(200));
    let r = run(&mut s, "nginx -s reload");
    assert_eq!((r.text.as_str(), r.status), ("2026/11/21 04:43:44 [notice] 4455#4455: signal process started\n", 0));
    assert_eq!(next_request(&mut s).0, Some(200));

    let mut s = haproxy_sim();
    assert_eq!(run(&mut s, "systemctl reload haproxy").status, 0);
    let j = text(&mut s, "journalctl -u haproxy");
    assert!(j.contains("haproxy[4452]: [NOTICE]   (4452) : Reloading HAProxy\n"), "{j}");
    assert!(j.contains("Reloaded haproxy.service - HAProxy Load Balancer.\n"), "{j}");
    assert_eq!(next_request(&mut s).0, Some(200));
}

#[test]
fn nginx_t_and_haproxy_c() {
    let mut s = sim();
    let t = run(&mut s, "nginx -t");
    assert_eq!(
        (t.text.as_str(), t.status),
        ("nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\nnginx: configuration file /etc/nginx/nginx.conf test is successful\n", 0)
    );
    assert_eq!(run(&mut s, "nginx -t -q").text, "");
    assert_eq!(run(&mut s, "nginx -tq").status, 0);
    assert_eq!(run(&mut s, "nginx -t 2>/dev/null").text, "", "nginx -t writes on stderr");
    assert_eq!(run(&mut s, "nginx -v").text, "nginx version: nginx/1.22.1\n");
    assert_eq!(run(&mut s, "nginx -x").text, "nginx: invalid option: \"x\"\n");
    assert_eq!(run(&mut s, "nginx -s foo").text, "nginx: invalid option: \"-s foo\"\n");
    let h = run(&mut s, "haproxy -c -f /etc/haproxy/haproxy.cfg");
    assert_eq!(h.status, 127);
    assert!(h.text.starts_with("bash: haproxy: command not found\n"), "{}", h.text);
    // nginx -t changes nothing: no request, no log line, no time.
    assert!(s.exchanges().is_empty() && s.world().proxy_stderr.is_empty());

    // The DNS-at-start-up fault: nginx -t fails with the [emerg] nginx printed at start.
    let mut s = scenario_file("dns_failure_startup");
    let t = run(&mut s, "nginx -t");
    assert_eq!(t.status, 1);
    let lines: Vec<&str> = t.text.lines().collect();
    assert_eq!(lines.len(), 2, "{}", t.text);
    assert!(lines[0].starts_with("2026/11/21 04:43:44 [emerg] "), "{}", t.text);
    assert!(lines[0].contains(": host not found in upstream \"app.internal:3000\" in /etc/nginx/conf.d/gateway-lab.conf:"), "{}", t.text);
    assert_eq!(lines[1], "nginx: configuration file /etc/nginx/nginx.conf test failed");
    // The same message the failed start wrote, from another process.
    let started = s.world().proxy_stderr.lines().next().unwrap().clone();
    assert_eq!(started.split_once(": ").unwrap().1, lines[0].split_once(": ").unwrap().1);
    // nginx -s reload reads the configuration first: it fails there.
    let r = run(&mut s, "nginx -s reload");
    assert_eq!((r.status, r.text.lines().count()), (1, 1), "{}", r.text);
    assert!(r.text.contains("[emerg]") && r.text.contains("host not found in upstream"), "{}", r.text);
    // systemctl start fails the same way, and says so.
    let st = run(&mut s, "systemctl start nginx");
    assert_eq!(
        (st.text.as_str(), st.status),
        ("Job for nginx.service failed because the control process exited with error code.\nSee \"systemctl status nginx.service\" and \"journalctl -xeu nginx.service\" for details.\n", 1)
    );
    let j = text(&mut s, "journalctl -u nginx");
    assert_eq!(j.matches("Failed to start nginx.service").count(), 2, "{j}");
    assert_eq!(j.matches("host not found in upstream").count(), 2, "{j}");
    assert!(!s.world().proxy_running);

    let mut s = haproxy_sim();
    let h = run(&mut s, "haproxy -c -f /etc/haproxy/haproxy.cfg");
    assert_eq!((h.text.as_str(), h.status), ("Configuration file is valid\n", 0));
    assert_eq!(run(&mut s, "haproxy -c -q -f /etc/haproxy/haproxy.cfg").text, "");
    assert_eq!(run(&mut s, "nginx -t").status, 127);
    let h = run(&mut s, "haproxy -c -f /tmp/x.cfg");
    assert!(h.text.ends_with(") : config : Cannot open configuration file/directory /tmp/x.cfg : No such file or directory\n"), "{}", h.text);
    assert_eq!(h.status, 1);
    let mut sc = Scenario::from_json(&std::fs::read_to_string(format!("{}/../../scenarios/dns_failure_startup.json", env!("CARGO_MANIFEST_DIR"))).unwrap()).unwrap();
    sc.proxy.flavor = Flavor::Haproxy;
    let mut s = Simulation::new(sc).unwrap();
    s.run();
    let h = run(&mut s, "haproxy -c -f /etc/haproxy/haproxy.cfg");
    assert_eq!(h.status, 1);
    let lines: Vec<&str> = h.text.lines().collect();
    assert!(lines[0].starts_with("[NOTICE]   (") && lines[0].ends_with(") : haproxy version is 2.6.12-1+deb12u4"), "{}", h.text);
    assert!(lines[2].starts_with("[ALERT]    (") && lines[2].ends_with(": 'server be_app/app1' : could not resolve address 'app.internal'."), "{}", h.text);
    assert!(lines[3].ends_with(") : config : Failed to initialize server(s) addr."), "{}", h.text);
}

#[test]
fn unknown_commands_point_to_help() {
    let mut s = sim();
    let o = run(&mut s, "ngnix -t");
    assert_eq!((o.text.as_str(), o.status), ("bash: ngnix: command not found\nDid you mean nginx? Type help for the commands this terminal simulates.\n", 127));
    assert!(run(&mut s, "netstat -tlnp").text.contains("Did you mean ss -tlnp?"));
    assert!(run(&mut s, "systemclt status app").text.contains("Did you mean systemctl?"));
    let help = run(&mut s, "help").text;
    for c in ["systemctl start|stop|restart|reload UNIT", "nginx -t", "systemctl status app|nginx "] {
        assert!(help.contains(c), "{help}");
    }
    // Only the proxy the scenario runs is installed, so help lists its tools only.
    assert!(!help.contains("haproxy"), "{help}");
    let mut sc = blank();
    sc.proxy.flavor = Flavor::Haproxy;
    let mut h = Simulation::new(sc).unwrap();
    let help = run(&mut h, "help").text;
    for c in ["systemctl start|stop|restart|reload UNIT", "haproxy -c -f /etc/haproxy/haproxy.cfg", "systemctl status app|haproxy ", "journalctl -u app|haproxy", "sudo -u haproxy COMMAND"] {
        assert!(help.contains(c), "{help}");
    }
    assert!(!help.contains("nginx") && !help.contains("www-data"), "{help}");
    // A slip towards the proxy that is not installed is not suggested.
    let o = run(&mut h, "ngnix -t");
    assert!(!o.text.contains("Did you mean nginx"), "{}", o.text);
    assert!(run(&mut h, "haprxy -c").text.contains("Did you mean haproxy?"));
}

#[test]
fn service_commands_are_deterministic() {
    let lines = ["systemctl stop app", "curl -s localhost/users", "systemctl restart nginx", "systemctl start app", "curl -s localhost/users", "systemctl reload nginx", "journalctl -u nginx"];
    let go = || {
        let mut s = sim();
        let out: Vec<Output> = lines.iter().map(|l| run(&mut s, l)).collect();
        (out, s.transcript())
    };
    let (a, b) = (go(), go());
    assert_eq!(a, b);
    assert!(a.1.contains("== proxy unit\n"), "the transcript records the unit's changes");
    let mut s = sim();
    for l in lines {
        run(&mut s, l);
        s.world().audit().unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn service_command_sequences_never_panic(
        cmds in prop::collection::vec(prop::sample::select(vec![
            "systemctl stop app", "systemctl start app", "systemctl restart app", "systemctl stop nginx", "systemctl start nginx",
            "systemctl reload nginx", "systemctl restart haproxy", "nginx -s reload", "nginx -t", "curl -s localhost/users",
            "systemctl status app nginx haproxy", "journalctl -u nginx", "haproxy -c -f /etc/haproxy/haproxy.cfg",
        ]), 1..8),
        fault_index in 0usize..22,
        haproxy in any::<bool>(),
    ) {
        let mut s = if haproxy { haproxy_sim() } else { sim() };
        if let Some(kind) = FaultKind::catalog().get(fault_index) {
            s.set_faults(vec![Fault::from(kind.clone())]);
        }
        for c in cmds {
            let o = shell::run(&mut s, c);
            prop_assert!((0..=255).contains(&o.status));
            s.world().audit().map_err(TestCaseError::fail)?;
        }
        let id = s.send_after(0, gateway_core::sim::RequestSpec::default());
        s.run_until_finished(id);
    }
}

fn ready(name: &str) -> Simulation {
    let text = gateway_core::scenarios::READY.iter().find(|(n, _)| *n == name).unwrap().1;
    let mut sim = Simulation::new(Scenario::from_json(text).unwrap()).unwrap();
    sim.run();
    sim
}

/// Issue 18: the terminal tells each server's story.
#[test]
fn php_fpm_socket_status_and_processes() {
    let mut s = ready("php_fpm_socket_permission");
    let ls = text(&mut s, "ls -la /run/php/php8.2-fpm.sock");
    assert!(ls.starts_with("srw-rw---- 1 nobody nogroup 0 "), "{ls}");
    assert!(ls.trim_end().ends_with(" /run/php/php8.2-fpm.sock"), "{ls}");
    let st = text(&mut s, "systemctl status php8.2-fpm");
    assert!(st.starts_with("● php8.2-fpm.service - The PHP 8.2 FastCGI Process Manager\n"), "{st}");
    assert!(st.contains("     Loaded: loaded (/lib/systemd/system/php8.2-fpm.service; enabled; preset: enabled)\n"), "{st}");
    assert!(st.contains("   Main PID: 21694 (php-fpm8.2)\n"), "{st}");
    assert!(st.contains("     Status: \"Processes active: 0, idle: 2, Requests: 0, slow: 0, Traffic: 0req/sec\"\n"), "{st}");
    assert!(st.contains("├─21694 \"php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)\"\n"), "{st}");
    assert!(st.contains("└─21696 \"php-fpm: pool www\"\n"), "{st}");
    let ps = text(&mut s, "ps aux | grep php-fpm");
    assert_eq!(ps.lines().count(), 3, "{ps}");
    assert_eq!(ps.lines().next().unwrap(), "root      21694  0.0  0.1 201612 21400 ?        Ss   04:43   0:00 php-fpm: master process (/etc/php/8.2/fpm/php-fpm.conf)", "{ps}");
    assert!(ps.lines().nth(1).unwrap().starts_with("www-data  21695  0.0  0.1 201932  8548 ?        S    04:43   0:00 php-fpm: pool www"), "{ps}");
    // The default pool's socket lets nginx (www-data) in.
    let mut d = ready("php_fpm_primary_script_unknown");
    assert!(text(&mut d, "ls -la /run/php/php8.2-fpm.sock").starts_with("srw-rw---- 1 www-data www-data 0 "));
}

#[test]
fn gunicorn_worker_timeout_in_the_journal_and_ps() {
    let mut s = ready("gunicorn_worker_timeout");
    let j = text(&mut s, "journalctl -u gunicorn");
    assert!(j.contains(" gunicorn[2979]: [2026-11-21 04:44:15 +0000] [2979] [CRITICAL] WORKER TIMEOUT (pid:2980)\n"), "{j}");
    assert!(j.contains(" gunicorn[2980]: [2026-11-21 04:44:15 +0000] [2980] [INFO] Worker exiting (pid: 2980)\n"), "{j}");
    let logs = text(&mut s, "docker logs gunicorn");
    assert!(logs.contains("[2026-11-21 04:44:15 +0000] [2979] [CRITICAL] WORKER TIMEOUT (pid:2980)\n"), "{logs}");
    let ps = text(&mut s, "ps aux | grep gunicorn");
    // The master and its two workers (one booted after the timeout).
    assert_eq!(ps.lines().count(), 3, "{ps}");
    assert!(ps.lines().all(|l| l.contains("/usr/bin/python3 /usr/bin/gunicorn --workers 2 --timeout 30 --bind 127.0.0.1:3000 app.wsgi")), "{ps}");
    assert!(ps.contains(" 2982 "), "the new worker's pid: {ps}");
    let st = text(&mut s, "systemctl status gunicorn -l");
    assert!(st.starts_with("● gunicorn.service - gunicorn daemon\n"), "{st}");
    assert!(st.contains("[CRITICAL] WORKER TIMEOUT (pid:2980)"), "{st}");
}

#[test]
fn apaches_own_commands_and_files() {
    let mut sc = blank();
    sc.proxy.flavor = Flavor::Apache;
    sc.faults = fault("app_down");
    let mut s = Simulation::new(sc).unwrap();
    let r = run(&mut s, "curl -s http://localhost/users");
    assert!(r.text.contains("<title>503 Service Unavailable</title>"), "{}", r.text);
    let t = run(&mut s, "apachectl -t");
    assert_eq!((t.text.as_str(), t.status), ("Syntax OK\n", 0));
    let log = text(&mut s, "tail -n 2 /var/log/apache2/error.log");
    assert!(log.contains("] [proxy:error] [pid ") && log.contains("AH00957") && log.contains("AH01114"), "{log}");
    assert!(text(&mut s, "cat /var/log/apache2/access.log").contains("\"GET /users HTTP/1.1\" 503 339 \"-\""));
    assert!(text(&mut s, "cat /etc/apache2/sites-available/gateway-lab.conf").contains("ProxyPass \"/\" \"http://127.0.0.1:3000/\""));
    let st = text(&mut s, "systemctl status apache2");
    assert!(st.starts_with("● apache2.service - The Apache HTTP Server\n"), "{st}");
    assert!(text(&mut s, "help").contains("apachectl -t"));
    // The other proxies are not installed on this host.
    let other = run(&mut s, "nginx -t");
    assert_eq!(other.status, 127);
    assert!(other.text.contains("try apachectl -t"), "{}", other.text);
    assert!(shell::suggestions(&s.world().scenario).iter().any(|c| c == "tail -n 5 /var/log/apache2/error.log"));
}

#[test]
fn caddys_own_commands_and_files() {
    let mut sc = blank();
    sc.proxy.flavor = Flavor::Caddy;
    sc.faults = fault("app_down");
    let mut s = Simulation::new(sc).unwrap();
    let r = run(&mut s, "curl -s -i http://localhost/users");
    assert!(r.text.contains("502 Bad Gateway") && r.text.contains("Server: Caddy"), "{}", r.text);
    let v = run(&mut s, "caddy validate --config /etc/caddy/Caddyfile");
    assert_eq!((v.text.as_str(), v.status), ("Valid configuration\n", 0));
    let j = text(&mut s, "journalctl -u caddy -n 1");
    assert!(j.contains("caddy[") && j.contains("\"logger\":\"http.log.error.log0\",\"msg\":\"dial tcp 127.0.0.1:3000: connect: connection refused\""), "{j}");
    assert!(text(&mut s, "cat /var/log/caddy/access.log").contains("\"status\":502,\"resp_headers\":{\"Server\":[\"Caddy\"]}"));
    assert!(text(&mut s, "cat /etc/caddy/Caddyfile").contains("reverse_proxy 127.0.0.1:3000 {"));
    assert!(text(&mut s, "help").contains("caddy validate"));
    assert_eq!(run(&mut s, "apachectl -t").status, 127);
}

#[test]
fn varnishs_own_commands() {
    let mut sc = blank();
    sc.proxy.flavor = Flavor::Varnish;
    sc.faults = fault("app_down");
    let mut s = Simulation::new(sc).unwrap();
    let r = run(&mut s, "curl -s http://localhost/users");
    assert!(r.text.contains("<title>503 Backend fetch failed</title>") && r.text.contains("Guru Meditation"), "{}", r.text);
    let log = text(&mut s, "varnishlog -d");
    assert!(log.contains("--  FetchError     backend default: fail errno 111 (Connection refused)"), "{log}");
    assert!(text(&mut s, "varnishncsa -d").contains("\"GET http://localhost/users HTTP/1.1\" 503 278"));
    assert_eq!(run(&mut s, "varnishd -C -f /etc/varnish/default.vcl").status, 0);
    assert!(text(&mut s, "cat /etc/varnish/default.vcl").contains(".first_byte_timeout = 60s;"));
    assert!(text(&mut s, "systemctl status varnish").starts_with("● varnish.service"));
    assert!(text(&mut s, "help").contains("varnishlog -d"));
}
