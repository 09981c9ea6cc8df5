//! Progress of long work (`make soak`, `make cost`, `make bench`), on stderr, as people expect of
//! it: where stderr is a terminal, one live line rewritten in place (`\r`) every second, with a
//! bar; elsewhere (CI, a pipe, a file) a plain line every 10 seconds. Each shows what is done of
//! the total, the counts the work chose to show (notes posted, stored, dead-lettered, messages
//! queued…), the rate over the last 30 seconds and an estimate of the time left at that rate.
//!
//! `PROGRESS=live`, `PROGRESS=lines` or `PROGRESS=off` overrides the choice; with `CI` set it is
//! `lines`. A thread of its own prints, so a busy runtime does not hold the lines back.
//!
//! ```no_run
//! # use notes_e2e::progress::Progress;
//! let progress = Progress::start("bench");
//! progress.phase("notes", 100, "notes");
//! for i in 0..100 {
//!     // … the work …
//!     progress.set_done(i + 1);
//! }
//! progress.finish();
//! ```

use std::collections::VecDeque;
use std::io::IsTerminal as _;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// One line rewritten in place every [`LIVE_EVERY`], with a bar: stderr is a terminal.
    Live,
    /// A plain line every [`LINES_EVERY`]: stderr is not a terminal, or `CI` is set.
    Lines,
    /// Nothing.
    Off,
}

pub const LIVE_EVERY: Duration = Duration::from_secs(1);
pub const LINES_EVERY: Duration = Duration::from_secs(10);
/// The rate (and so the time left) is measured over this much of the recent past.
pub const RATE_WINDOW: Duration = Duration::from_secs(30);
/// The live line's width when the terminal's is unknown. A line wider than the terminal wraps, and
/// `\r` then rewrites only its last row, so the line is cut to the terminal's width.
const LIVE_WIDTH: usize = 100;

impl Mode {
    /// `PROGRESS` if set; otherwise `Lines` under CI or when stderr is not a terminal, else `Live`.
    pub fn detect() -> Mode {
        match std::env::var("PROGRESS").ok().as_deref().map(str::trim) {
            Some("off") | Some("0") => Mode::Off,
            Some("lines") => Mode::Lines,
            Some("live") => Mode::Live,
            _ if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => Mode::Lines,
            _ if std::io::stderr().is_terminal() => Mode::Live,
            _ => Mode::Lines,
        }
    }

    fn every(self) -> Duration {
        match self {
            Mode::Live => LIVE_EVERY,
            Mode::Lines | Mode::Off => LINES_EVERY,
        }
    }
}

/// What one line shows.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub title: String,
    pub phase: String,
    pub done: u64,
    /// 0 when the total is unknown: no bar, no percentage, no time left.
    pub total: u64,
    pub unit: String,
    pub counts: Vec<(String, u64)>,
    /// Since the work started.
    pub elapsed: Duration,
    /// `unit`s per second over the recent past; `None` until there is enough of it.
    pub rate: Option<f64>,
}

impl View {
    /// The time left at the recent rate: `None` when the total or the rate is unknown or zero.
    pub fn left(&self) -> Option<Duration> {
        let rate = self.rate.filter(|r| *r > 0.0)?;
        if self.total == 0 {
            return None;
        }
        let left = self.total.saturating_sub(self.done) as f64 / rate;
        Some(Duration::from_secs_f64(left.min(1e7)))
    }

    fn percent(&self) -> Option<u64> {
        (self.total > 0).then(|| (self.done.min(self.total) * 100) / self.total)
    }

    fn counts_text(&self) -> String {
        self.counts.iter().map(|(name, value)| format!("{name} {}", thousands(*value))).collect::<Vec<_>>().join(", ")
    }

    fn rate_and_left(&self) -> String {
        let mut text = String::new();
        if let Some(rate) = self.rate {
            text.push_str(&format!("{} {}/s", one_decimal(rate), self.unit));
        }
        if self.total > 0 && self.done >= self.total {
            return text;
        }
        match self.left() {
            Some(left) => {
                if !text.is_empty() {
                    text.push_str(", ");
                }
                text.push_str(&format!("about {} left", duration(left)));
            }
            None if self.total > 0 && self.rate.is_some() => text.push_str(", time left unknown"),
            None => {}
        }
        text
    }

    fn done_text(&self) -> String {
        if self.total == 0 && self.unit.is_empty() {
            String::new()
        } else if self.total > 0 {
            format!("{}/{} {}", thousands(self.done), thousands(self.total), self.unit)
        } else {
            format!("{} {}", thousands(self.done), self.unit)
        }
    }

    /// The plain line: `soak 5m40s, posting: 4,812/10,000 notes (48%); posted 5,000, stored 4,790; 14.2 notes/s, about 6m05s left`.
    pub fn line(&self) -> String {
        let mut line = format!("{} {}, {}", self.title, duration(self.elapsed), self.phase);
        let done = self.done_text();
        if !done.is_empty() {
            line.push_str(": ");
            line.push_str(&done);
        }
        if let Some(percent) = self.percent() {
            line.push_str(&format!(" ({percent}%)"));
        }
        for part in [self.counts_text(), self.rate_and_left()] {
            if !part.is_empty() {
                line.push_str("; ");
                line.push_str(&part);
            }
        }
        line
    }

    /// The live line: `soak posting [#########-----------]  48% 4,812/10,000 notes | 14.2 notes/s, about 6m05s left | posted 5,000, … | 5m40s`,
    /// at most `width` characters (what matters most first, so a cut takes the least).
    pub fn live(&self, width: usize) -> String {
        let mut line = format!("{} {}", self.title, self.phase);
        if let Some(percent) = self.percent() {
            const BAR: usize = 20;
            let filled = (self.done.min(self.total) as usize * BAR) / self.total as usize;
            line.push_str(&format!(" [{}{}] {percent:>3}%", "#".repeat(filled), "-".repeat(BAR - filled)));
        }
        let done = self.done_text();
        if !done.is_empty() {
            line.push(' ');
            line.push_str(&done);
        }
        for part in [self.rate_and_left(), self.counts_text()] {
            if !part.is_empty() {
                line.push_str(" | ");
                line.push_str(&part);
            }
        }
        line.push_str(&format!(" | {}", duration(self.elapsed)));
        if line.chars().count() > width {
            line = line.chars().take(width.saturating_sub(1)).collect::<String>() + "…";
        }
        line
    }
}

/// `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn one_decimal(x: f64) -> String {
    if x >= 100.0 { format!("{x:.0}") } else { format!("{x:.1}") }
}

/// `42s`, `6m05s`, `1h02m`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The rate over the samples of the last [`RATE_WINDOW`]: what was done between the oldest and
/// the newest, over the time between them; `None` over less than two seconds.
pub fn recent_rate(samples: &VecDeque<(Instant, u64)>) -> Option<f64> {
    let (first, last) = (samples.front()?, samples.back()?);
    let span = last.0.duration_since(first.0).as_secs_f64();
    (span >= 2.0).then(|| last.1.saturating_sub(first.1) as f64 / span)
}

struct State {
    phase: String,
    total: u64,
    done: u64,
    unit: String,
    counts: Vec<(String, u64)>,
    samples: VecDeque<(Instant, u64)>,
    stopped: bool,
}

struct Inner {
    title: String,
    mode: Mode,
    started: Instant,
    state: Mutex<State>,
    wake: Condvar,
}

impl Inner {
    fn view(&self, state: &State) -> View {
        View {
            title: self.title.clone(),
            phase: state.phase.clone(),
            done: state.done,
            total: state.total,
            unit: state.unit.clone(),
            counts: state.counts.clone(),
            elapsed: self.started.elapsed(),
            rate: recent_rate(&state.samples),
        }
    }

    fn sample(state: &mut State, now: Instant) {
        state.samples.push_back((now, state.done));
        while state.samples.front().is_some_and(|(at, _)| now.duration_since(*at) > RATE_WINDOW) {
            state.samples.pop_front();
        }
    }

    fn print(&self, view: &View, last: bool) {
        match self.mode {
            Mode::Off => {}
            Mode::Lines => eprintln!("{}", view.line()),
            Mode::Live => {
                let line = view.live(terminal_width().unwrap_or(LIVE_WIDTH).saturating_sub(1).max(20));
                // `\x1b[K` clears what a longer line before left on the right.
                eprint!("\r{line}\x1b[K{}", if last { "\n" } else { "" });
            }
        }
    }
}

/// The width of the terminal stderr writes to, read each time (it may be resized), or `COLUMNS`.
fn terminal_width() -> Option<usize> {
    #[cfg(unix)]
    {
        let mut size = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        // SAFETY: TIOCGWINSZ writes one `winsize` into `size`, which lives across the call.
        let read = unsafe { libc::ioctl(libc::STDERR_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
        if read && size.ws_col > 0 {
            return Some(usize::from(size.ws_col));
        }
    }
    std::env::var("COLUMNS").ok()?.parse().ok()
}

/// A handle to report progress through; cheap to clone into tasks.
#[derive(Clone)]
pub struct Reporter(Arc<Inner>);

impl Reporter {
    /// A new phase: its label, its total (0 when unknown) and its unit; what is done starts at 0.
    pub fn phase(&self, phase: &str, total: u64, unit: &str) {
        let mut state = self.0.state.lock().expect("not poisoned");
        state.phase = phase.to_owned();
        state.total = total;
        state.unit = unit.to_owned();
        state.done = 0;
        state.samples.clear();
        Inner::sample(&mut state, Instant::now());
    }

    /// A new label for the same phase, keeping what is done (posting, then draining, the same notes).
    pub fn label(&self, phase: &str) {
        self.0.state.lock().expect("not poisoned").phase = phase.to_owned();
    }

    pub fn set_done(&self, done: u64) {
        self.0.state.lock().expect("not poisoned").done = done;
    }

    pub fn add_done(&self, n: u64) {
        self.0.state.lock().expect("not poisoned").done += n;
    }

    /// A count shown after what is done, in the order first set (`posted 5,000`).
    pub fn set(&self, name: &str, value: u64) {
        let mut state = self.0.state.lock().expect("not poisoned");
        match state.counts.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => *v = value,
            None => state.counts.push((name.to_owned(), value)),
        }
    }

    /// Removes the counts, for a phase that shows others.
    pub fn clear_counts(&self) {
        self.0.state.lock().expect("not poisoned").counts.clear();
    }

    pub fn view(&self) -> View {
        let state = self.0.state.lock().expect("not poisoned");
        self.0.view(&state)
    }
}

/// Progress of one piece of long work: prints until [`Progress::finish`] (or drop).
pub struct Progress {
    reporter: Reporter,
    ticker: Option<JoinHandle<()>>,
}

impl std::ops::Deref for Progress {
    type Target = Reporter;
    fn deref(&self) -> &Reporter {
        &self.reporter
    }
}

impl Progress {
    /// Starts showing the progress of `title` as [`Mode::detect`] says.
    pub fn start(title: &str) -> Progress {
        Progress::with_mode(title, Mode::detect())
    }

    pub fn with_mode(title: &str, mode: Mode) -> Progress {
        let now = Instant::now();
        let inner = Arc::new(Inner {
            title: title.to_owned(),
            mode,
            started: now,
            state: Mutex::new(State {
                phase: "starting".to_owned(),
                total: 0,
                done: 0,
                unit: String::new(),
                counts: Vec::new(),
                samples: VecDeque::new(),
                stopped: false,
            }),
            wake: Condvar::new(),
        });
        let ticker = (mode != Mode::Off).then(|| {
            let inner = inner.clone();
            std::thread::Builder::new()
                .name(format!("{title} progress"))
                .spawn(move || tick(&inner))
                .expect("a thread for the progress")
        });
        Progress { reporter: Reporter(inner), ticker }
    }

    pub fn reporter(&self) -> Reporter {
        self.reporter.clone()
    }

    /// Stops the updates and prints the last state once more (ending the live line).
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some(ticker) = self.ticker.take() else { return };
        let inner = &self.reporter.0;
        inner.state.lock().expect("not poisoned").stopped = true;
        inner.wake.notify_all();
        let _ = ticker.join();
        let view = self.reporter.view();
        inner.print(&view, true);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Samples what is done every second (for the rate) and prints every `mode.every()`.
fn tick(inner: &Inner) {
    let every = inner.mode.every();
    let mut last_print = Instant::now();
    let mut state = inner.state.lock().expect("not poisoned");
    loop {
        let (next, _) = inner.wake.wait_timeout(state, Duration::from_secs(1)).expect("not poisoned");
        state = next;
        if state.stopped {
            return;
        }
        let now = Instant::now();
        Inner::sample(&mut state, now);
        if now.duration_since(last_print) + Duration::from_millis(50) >= every {
            last_print = now;
            let view = inner.view(&state);
            drop(state);
            inner.print(&view, false);
            state = inner.state.lock().expect("not poisoned");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> View {
        View {
            title: "soak".into(),
            phase: "posting".into(),
            done: 4_812,
            total: 10_000,
            unit: "notes".into(),
            counts: vec![("posted".into(), 5_000), ("stored".into(), 4_790), ("dead-lettered".into(), 22)],
            elapsed: Duration::from_secs(340),
            rate: Some(14.2),
        }
    }

    #[test]
    fn thousands_and_durations_read_as_people_write_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(Duration::from_secs(42)), "42s");
        assert_eq!(duration(Duration::from_secs(365)), "6m05s");
        assert_eq!(duration(Duration::from_secs(3_720)), "1h02m");
    }

    #[test]
    fn a_line_shows_what_is_done_the_counts_the_rate_and_the_time_left() {
        // 5,188 notes left at 14.2 a second: 365 s.
        assert_eq!(
            view().line(),
            "soak 5m40s, posting: 4,812/10,000 notes (48%); posted 5,000, stored 4,790, dead-lettered 22; \
             14.2 notes/s, about 6m05s left"
        );
    }

    #[test]
    fn the_live_line_has_a_bar_and_fits_the_width() {
        let line = view().live(200);
        assert_eq!(
            line,
            "soak posting [#########-----------]  48% 4,812/10,000 notes | 14.2 notes/s, about 6m05s left \
             | posted 5,000, stored 4,790, dead-lettered 22 | 5m40s"
        );
        let narrow = view().live(60);
        assert_eq!(narrow.chars().count(), 60);
        assert!(narrow.ends_with('…'));
    }

    #[test]
    fn without_a_total_or_a_rate_there_is_no_estimate() {
        let mut v = view();
        v.rate = None;
        assert_eq!(v.left(), None);
        assert!(!v.line().contains("left"), "{}", v.line());
        v.rate = Some(0.0);
        assert!(v.line().ends_with("0.0 notes/s, time left unknown"), "{}", v.line());
        v.total = 0;
        v.rate = Some(3.0);
        assert_eq!(
            v.line(),
            "soak 5m40s, posting: 4,812 notes; posted 5,000, stored 4,790, dead-lettered 22; 3.0 notes/s"
        );
        let phase_only = View { total: 0, unit: String::new(), counts: Vec::new(), rate: None, ..view() };
        assert_eq!(phase_only.line(), "soak 5m40s, posting");
        assert_eq!(phase_only.live(200), "soak posting | 5m40s");
        let mut done = view();
        done.done = 10_000;
        assert!(done.line().ends_with("14.2 notes/s"), "nothing left: {}", done.line());
    }

    #[test]
    fn the_rate_is_over_the_recent_window_only() {
        let t0 = Instant::now();
        let at = |s: u64, done: u64| (t0 + Duration::from_secs(s), done);
        assert_eq!(recent_rate(&VecDeque::from([at(0, 0), at(1, 10)])), None, "under two seconds");
        assert_eq!(recent_rate(&VecDeque::from([at(0, 100), at(10, 150)])), Some(5.0));
        // Samples older than the window are dropped as new ones come.
        let mut state = State {
            phase: String::new(),
            total: 0,
            done: 0,
            unit: String::new(),
            counts: Vec::new(),
            samples: VecDeque::from([at(0, 0)]),
            stopped: false,
        };
        state.done = 1_000;
        Inner::sample(&mut state, t0 + Duration::from_secs(31));
        assert_eq!(state.samples.len(), 1);
    }

    #[test]
    fn a_reporter_keeps_counts_in_order_and_a_phase_starts_from_zero() {
        let progress = Progress::with_mode("bench", Mode::Off);
        progress.phase("notes", 105, "notes");
        progress.set("posted", 3);
        progress.set("heard", 2);
        progress.set("posted", 4);
        progress.add_done(2);
        progress.add_done(1);
        let v = progress.view();
        assert_eq!((v.done, v.total), (3, 105));
        assert_eq!(v.counts, vec![("posted".to_owned(), 4), ("heard".to_owned(), 2)]);
        progress.label("draining");
        assert_eq!((progress.view().phase.as_str(), progress.view().done), ("draining", 3));
        progress.phase("connections", 10, "connections");
        assert_eq!(progress.view().done, 0);
        progress.finish();
    }
}
