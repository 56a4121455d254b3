//! Virtual time. The engine never reads a wall clock: every instant is an
//! integer count of microseconds since the scenario started, and the
//! calendar time printed in log lines is `Scenario::start_unix` plus that
//! offset.

use serde::{Deserialize, Serialize};
use time::macros::format_description;
use time::OffsetDateTime;

/// An instant on the virtual clock, in microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SimTime(pub u64);

pub const MICROS_PER_MS: u64 = 1_000;
pub const MICROS_PER_SEC: u64 = 1_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);

    pub fn from_ms(ms: u64) -> Self {
        SimTime(ms.saturating_mul(MICROS_PER_MS))
    }
    pub fn as_micros(self) -> u64 {
        self.0
    }
    pub fn plus_us(self, us: u64) -> Self {
        SimTime(self.0.saturating_add(us))
    }
    pub fn plus_ms(self, ms: u64) -> Self {
        self.plus_us(ms.saturating_mul(MICROS_PER_MS))
    }
    /// Microseconds from `earlier` to `self` (0 if `earlier` is later).
    pub fn since(self, earlier: SimTime) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
    /// `+12.345678s`, used in the engine's trace.
    pub fn offset_label(self) -> String {
        format!("+{}.{:06}s", self.0 / MICROS_PER_SEC, self.0 % MICROS_PER_SEC)
    }
}

/// Maps virtual instants to calendar time for log lines (UTC, as a server
/// with `TZ=UTC` prints them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    start_unix: i64,
}

/// Go's RFC 3339 with nanoseconds (`2026-11-21T04:43:44.5Z`; trailing
/// zeros of the fraction dropped), as Docker prints times.
pub fn rfc3339_nano(dt: OffsetDateTime, nanos: u32) -> String {
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let base = dt.format(&f).unwrap_or_default();
    let frac = format!("{nanos:09}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { format!("{base}Z") } else { format!("{base}.{frac}Z") }
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

fn month_short(d: OffsetDateTime) -> &'static str {
    MONTHS[u8::from(d.month()) as usize - 1]
}

/// Two digits, zero-padded (`time`'s default for day, month, hour...).
fn push2(s: &mut String, n: u8) {
    s.push(char::from(b'0' + n / 10 % 10));
    s.push(char::from(b'0' + n % 10));
}

/// `[year]`: four digits, zero-padded. `Clock::new` keeps every instant
/// within 1970–9999, where that is all there is to it.
fn push_year(s: &mut String, year: i32) {
    let y = year.clamp(0, 9_999) as u16;
    push2(s, (y / 100) as u8);
    push2(s, (y % 100) as u8);
}

/// `[hour]:[minute]:[second]`.
fn push_hms(s: &mut String, d: OffsetDateTime) {
    push2(s, d.hour());
    s.push(':');
    push2(s, d.minute());
    s.push(':');
    push2(s, d.second());
}

impl Clock {
    pub fn new(start_unix: i64) -> Self {
        // Clamp to a range `time` can represent so bad input cannot panic.
        Clock { start_unix: start_unix.clamp(0, 253_402_300_799 - 1_000_000_000) }
    }

    fn datetime(&self, t: SimTime) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.unix(t)).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    // The formats the engine writes for every request (log lines, the Date
    // header) are written by hand from the date's fields: `time`'s general
    // formatter was a few per cent of a large run. The test
    // `hand_written_formats_match_time` holds them to `time`'s output.

    /// nginx error.log time: `2026/11/21 04:43:44`.
    pub fn error_log(&self, t: SimTime) -> String {
        let d = self.datetime(t);
        let mut s = String::with_capacity(19);
        push_year(&mut s, d.year());
        s.push('/');
        push2(&mut s, u8::from(d.month()));
        s.push('/');
        push2(&mut s, d.day());
        s.push(' ');
        push_hms(&mut s, d);
        s
    }

    /// nginx `$time_local` in UTC: `21/Nov/2026:04:43:44 +0000`.
    pub fn time_local(&self, t: SimTime) -> String {
        let d = self.datetime(t);
        let mut s = String::with_capacity(26);
        push2(&mut s, d.day());
        s.push('/');
        s.push_str(month_short(d));
        s.push('/');
        push_year(&mut s, d.year());
        s.push(':');
        push_hms(&mut s, d);
        s.push_str(" +0000");
        s
    }

    /// HTTP `Date:` header: `Sat, 21 Nov 2026 04:43:44 GMT`.
    pub fn http_date(&self, t: SimTime) -> String {
        let d = self.datetime(t);
        let mut s = String::with_capacity(29);
        s.push_str(WEEKDAYS[d.weekday().number_days_from_monday() as usize]);
        s.push_str(", ");
        push2(&mut s, d.day());
        s.push(' ');
        s.push_str(month_short(d));
        s.push(' ');
        push_year(&mut s, d.year());
        s.push(' ');
        push_hms(&mut s, d);
        s.push_str(" GMT");
        s
    }

    /// HAProxy's accept date: `21/Nov/2026:04:43:44.123`.
    pub fn haproxy_accept(&self, t: SimTime) -> String {
        let f = format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second]");
        format!("{}.{:03}", self.datetime(t).format(&f).unwrap_or_default(), (t.0 % MICROS_PER_SEC) / MICROS_PER_MS)
    }

    /// Apache httpd's error log time: `Sun Dec 06 07:00:42.551571 2026`.
    pub fn apache_error(&self, t: SimTime) -> String {
        let d = self.datetime(t);
        let mut s = String::with_capacity(32);
        s.push_str(WEEKDAYS[d.weekday().number_days_from_monday() as usize]);
        s.push(' ');
        s.push_str(month_short(d));
        s.push(' ');
        push2(&mut s, d.day());
        s.push(' ');
        push_hms(&mut s, d);
        s.push_str(&format!(".{:06} ", t.0 % MICROS_PER_SEC));
        push_year(&mut s, d.year());
        s
    }

    /// journald's short format: `Nov 21 04:43:44`.
    pub fn journal(&self, t: SimTime) -> String {
        let d = self.datetime(t);
        let mut s = String::with_capacity(15);
        s.push_str(month_short(d));
        s.push(' ');
        push2(&mut s, d.day());
        s.push(' ');
        push_hms(&mut s, d);
        s
    }

    /// systemd's timestamps (`systemctl status`): `Sat 2026-11-21 04:43:44 UTC`.
    pub fn systemd(&self, t: SimTime) -> String {
        let f = format_description!("[weekday repr:short] [year]-[month]-[day] [hour]:[minute]:[second] UTC");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// `date`'s default output in the C locale: `Sat Nov 21 04:43:44 UTC 2026`.
    pub fn date(&self, t: SimTime) -> String {
        let f = format_description!("[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] UTC [year]");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// `ls -l`'s time of a recent file: `Nov 21 04:43` (day padded with a space).
    pub fn ls(&self, t: SimTime) -> String {
        let f = format_description!("[month repr:short] [day padding:space] [hour]:[minute]");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// Go's RFC 3339 with nanoseconds, trailing zeros trimmed (`docker
    /// inspect`): `2026-11-21T04:43:44.5Z`, `2026-11-21T04:43:44Z`.
    pub fn rfc3339_nano(&self, t: SimTime) -> String {
        rfc3339_nano(self.datetime(t), (t.0 % MICROS_PER_SEC) as u32 * 1_000)
    }

    /// gunicorn's log time: `2026-12-06 07:02:59 +0000` (its `[%Y-%m-%d %H:%M:%S %z]`).
    pub fn gunicorn(&self, t: SimTime) -> String {
        let f = format_description!("[year]-[month]-[day] [hour]:[minute]:[second] +0000");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// PHP-FPM's log time: `06-Dec-2026 06:58:41`.
    pub fn php_fpm(&self, t: SimTime) -> String {
        let f = format_description!("[day]-[month repr:short]-[year] [hour]:[minute]:[second]");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// C's `ctime()` without the newline (uWSGI's log): `Sun Dec  6 07:10:07 2026`.
    pub fn ctime(&self, t: SimTime) -> String {
        let f = format_description!("[weekday repr:short] [month repr:short] [day padding:space] [hour]:[minute]:[second] [year]");
        self.datetime(t).format(&f).unwrap_or_default()
    }

    /// Calendar seconds at virtual time `t` (after clamping the start).
    pub fn unix(&self, t: SimTime) -> i64 {
        self.start_unix.saturating_add((t.0 / MICROS_PER_SEC) as i64)
    }

    /// Application log time (ISO 8601 with milliseconds).
    pub fn iso(&self, t: SimTime) -> String {
        let f = format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
        );
        let dt = self.datetime(t)
            + time::Duration::milliseconds(((t.0 % MICROS_PER_SEC) / MICROS_PER_MS) as i64);
        dt.format(&f).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: i64 = 1_795_236_224; // 2026-11-21 04:43:44 UTC

    #[test]
    fn formats_like_nginx() {
        let c = Clock::new(START);
        assert_eq!(c.error_log(SimTime::ZERO), "2026/11/21 04:43:44");
        assert_eq!(c.time_local(SimTime::from_ms(61_500)), "21/Nov/2026:04:44:45 +0000");
        assert_eq!(c.http_date(SimTime::ZERO), "Sat, 21 Nov 2026 04:43:44 GMT");
        assert_eq!(c.iso(SimTime::from_ms(1_234)), "2026-11-21T04:43:45.234Z");
    }

    #[test]
    fn formats_like_systemd_date_ls_and_go() {
        let c = Clock::new(START);
        assert_eq!(c.systemd(SimTime::ZERO), "Sat 2026-11-21 04:43:44 UTC");
        assert_eq!(c.date(SimTime::ZERO), "Sat Nov 21 04:43:44 UTC 2026");
        assert_eq!(c.ls(SimTime::ZERO), "Nov 21 04:43");
        assert_eq!(Clock::new(1_796_112_000).ls(SimTime::ZERO), "Dec  1 08:00");
        assert_eq!(c.rfc3339_nano(SimTime::ZERO), "2026-11-21T04:43:44Z");
        assert_eq!(c.rfc3339_nano(SimTime(1_250_000)), "2026-11-21T04:43:45.25Z");
    }

    #[test]
    fn hand_written_formats_match_time() {
        let formats = |c: &Clock, t: SimTime| {
            let d = c.datetime(t);
            let f = |f: &[time::format_description::BorrowedFormatItem<'_>]| d.format(&f).unwrap();
            (
                [c.error_log(t), c.time_local(t), c.http_date(t), c.journal(t)],
                [
                    f(format_description!("[year]/[month]/[day] [hour]:[minute]:[second]")),
                    f(format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000")),
                    f(format_description!("[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT")),
                    f(format_description!("[month repr:short] [day] [hour]:[minute]:[second]")),
                ],
            )
        };
        let mut rng = crate::sim::rng::SimRng::seeded(3);
        let mut starts = vec![0, START, 951_782_400, i64::MAX];
        starts.extend((0..2_000).map(|_| rng.between(0, 253_402_300_799) as i64));
        for start in starts {
            let c = Clock::new(start);
            for t in [SimTime::ZERO, SimTime(rng.between(0, 400 * 86_400 * MICROS_PER_SEC)), SimTime(u64::MAX)] {
                let (ours, theirs) = formats(&c, t);
                assert_eq!(ours, theirs, "start {start}, t {t:?}");
            }
        }
    }

    #[test]
    fn absurd_start_does_not_panic() {
        let c = Clock::new(i64::MAX);
        assert!(!c.error_log(SimTime(u64::MAX)).is_empty());
        let c = Clock::new(i64::MIN);
        assert_eq!(c.error_log(SimTime::ZERO), "1970/01/01 00:00:00");
    }
}
