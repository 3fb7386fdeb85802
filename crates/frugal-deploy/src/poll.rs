//! Adaptive polling: fast at first, backing off while nothing happens, capped so a
//! command notices a settled stack within about a second.

use std::time::Duration;

/// A polling schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PollConfig {
    /// First delay, and the delay after something happened.
    pub initial: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Give up after this long (stack operations can take hours; the default is 4 h).
    pub timeout: Duration,
}

impl Default for PollConfig {
    fn default() -> Self {
        PollConfig {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            timeout: Duration::from_secs(4 * 3600),
        }
    }
}

impl PollConfig {
    /// A schedule for tests: 1 ms steps, 10 s timeout.
    pub fn immediate() -> Self {
        PollConfig {
            initial: Duration::from_millis(1),
            max: Duration::from_millis(2),
            timeout: Duration::from_secs(10),
        }
    }
}

/// The delays of one wait: doubling from `initial` up to `max`, back to `initial` when
/// [`Backoff::activity`] reports progress.
#[derive(Clone, Debug)]
pub struct Backoff {
    config: PollConfig,
    next: Duration,
}

impl Backoff {
    /// A new schedule.
    pub fn new(config: PollConfig) -> Self {
        Backoff {
            config,
            next: config.initial,
        }
    }

    /// The delay before the next poll.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.config.max);
        d
    }

    /// Something happened: poll fast again.
    pub fn activity(&mut self) {
        self.next = self.config.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_to_the_cap_and_resets_on_activity() {
        let mut b = Backoff::new(PollConfig::default());
        let ms: Vec<u128> = (0..6).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(ms, [100, 200, 400, 800, 1000, 1000]);
        b.activity();
        assert_eq!(b.next_delay(), Duration::from_millis(100));
    }
}
