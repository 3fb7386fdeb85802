//! Where deploy, diff and destroy talk to people: progress lines or bars, prompts, and
//! Ctrl-C.

use std::collections::VecDeque;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::Notify;

#[derive(Debug)]
enum Mode {
    Terminal(MultiProgress),
    Plain,
    Capture {
        lines: Mutex<Vec<String>>,
        answers: Mutex<VecDeque<String>>,
        interactive: bool,
    },
}

/// The output side of a command: a terminal (colours, live progress bars, prompts), plain
/// lines (CI, pipes), or a capture for tests and embedding apps.
#[derive(Clone, Debug)]
pub struct Console {
    mode: Arc<Mode>,
    color: bool,
}

impl Console {
    /// A terminal console when stdout and stdin are terminals, plain lines otherwise.
    /// Colours follow the terminal and `NO_COLOR`.
    pub fn detect() -> Console {
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stdout());
            Console {
                mode: Arc::new(Mode::Terminal(multi)),
                color: std::env::var_os("NO_COLOR").is_none(),
            }
        } else {
            Console::plain()
        }
    }

    /// Plain lines on stdout, no colours, no prompts.
    pub fn plain() -> Console {
        Console {
            mode: Arc::new(Mode::Plain),
            color: false,
        }
    }

    /// A console that records lines instead of printing them and answers prompts from
    /// `answers` (interactive when `answers` is Some).
    pub fn capture(answers: Option<Vec<String>>) -> Console {
        let interactive = answers.is_some();
        let mode = Mode::Capture {
            lines: Mutex::new(Vec::new()),
            answers: Mutex::new(answers.unwrap_or_default().into()),
            interactive,
        };
        Console {
            mode: Arc::new(mode),
            color: false,
        }
    }

    /// The lines recorded by a capture console (one entry per line).
    pub fn captured(&self) -> Vec<String> {
        match &*self.mode {
            Mode::Capture { lines, .. } => {
                lines.lock().unwrap_or_else(PoisonError::into_inner).clone()
            }
            _ => Vec::new(),
        }
    }

    /// Whether output is coloured.
    pub fn color(&self) -> bool {
        self.color
    }

    /// Whether someone can answer prompts.
    pub fn is_interactive(&self) -> bool {
        match &*self.mode {
            Mode::Terminal(_) => true,
            Mode::Plain => false,
            Mode::Capture { interactive, .. } => *interactive,
        }
    }

    /// Prints one or more lines (above any progress bars).
    pub fn line(&self, text: impl AsRef<str>) {
        let text = text.as_ref().trim_end_matches('\n');
        match &*self.mode {
            Mode::Terminal(multi) => {
                if multi.println(text).is_err() {
                    println!("{text}");
                }
            }
            Mode::Plain => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{text}");
                let _ = out.flush();
            }
            Mode::Capture { lines, .. } => {
                lines
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .extend(text.split('\n').map(str::to_owned));
            }
        }
    }

    /// A progress bar for a stack operation of about `total` steps (a live bar on a
    /// terminal, nothing elsewhere).
    pub fn progress(&self, stack: &str, total: u64) -> Progress {
        match &*self.mode {
            Mode::Terminal(multi) => {
                let bar = multi.add(ProgressBar::new(total.max(1)));
                let style = ProgressStyle::with_template(
                    "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} {elapsed} {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(stack.to_owned());
                bar.enable_steady_tick(std::time::Duration::from_millis(200));
                Progress(Some(bar))
            }
            _ => Progress(None),
        }
    }

    /// Asks a question; None when nobody can answer (no terminal) or the answer could not
    /// be read. Ctrl-C while waiting gives None too (check [`Cancel::is_cancelled`]).
    pub async fn ask(&self, question: &str, cancel: &Cancel) -> Option<String> {
        match &*self.mode {
            Mode::Plain => None,
            Mode::Capture {
                lines,
                answers,
                interactive,
            } => {
                if !interactive {
                    return None;
                }
                lines
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(question.to_owned());
                answers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop_front()
            }
            Mode::Terminal(multi) => {
                // Print the question with the bars out of the way, then read without holding
                // any lock: Ctrl-C must still be able to print and the console to go on.
                multi.suspend(|| {
                    let mut err = std::io::stderr();
                    let _ = write!(err, "{question} ");
                    let _ = err.flush();
                });
                let read = tokio::task::spawn_blocking(|| {
                    let mut answer = String::new();
                    std::io::stdin()
                        .read_line(&mut answer)
                        .ok()
                        .map(|_| answer.trim().to_owned())
                });
                tokio::select! {
                    answer = read => answer.ok().flatten(),
                    _ = cancel.cancelled() => None,
                }
            }
        }
    }
}

/// A progress bar, or nothing.
#[derive(Debug)]
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// One more step done.
    pub fn inc(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }

    /// Shows the current status.
    pub fn message(&self, msg: &str) {
        if let Some(b) = &self.0 {
            b.set_message(msg.to_owned());
        }
    }

    /// Ends the bar, leaving `msg`.
    pub fn finish(&self, msg: &str) {
        if let Some(b) = &self.0 {
            b.finish_with_message(msg.to_owned());
        }
    }
}

/// Ctrl-C, as a flag any task can check or wait for.
#[derive(Clone, Debug, Default)]
pub struct Cancel {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancel {
    /// A fresh, not cancelled handle.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels (what Ctrl-C does).
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Completes when cancelled.
    pub async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }

    /// Cancels on Ctrl-C; a second Ctrl-C exits at once with status 130 (spawns a task;
    /// needs a Tokio runtime with signals).
    pub fn on_ctrl_c(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                me.cancel();
                eprintln!("\nstopping at the next safe point (Ctrl-C again to quit now)");
            }
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn capture_records_lines_and_answers() {
        let c = Console::capture(Some(vec!["yes".into()]));
        c.line("a\nb");
        let cancel = Cancel::new();
        assert_eq!(c.ask("sure?", &cancel).await.as_deref(), Some("yes"));
        assert_eq!(c.ask("again?", &cancel).await, None);
        assert_eq!(c.captured(), ["a", "b", "sure?", "again?"]);
        assert!(!Console::capture(None).is_interactive());
        assert!(!Console::plain().is_interactive());
    }

    #[tokio::test]
    async fn cancel_wakes_waiters() {
        let cancel = Cancel::new();
        let waiter = {
            let c = cancel.clone();
            tokio::spawn(async move { c.cancelled().await })
        };
        cancel.cancel();
        assert!(waiter.await.is_ok());
        assert!(cancel.is_cancelled());
        cancel.cancelled().await;
    }
}
