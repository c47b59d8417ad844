//! Poll-interval learning from request arrival times.
//!
//! Windows Time polls every 64 s .. 1 week, chrony and ntpd 64 s .. 1024 s,
//! and all of them start with a burst of quick requests (iburst, `w32tm
//! /resync`). The learned interval is the median of the recent gaps after
//! dropping those shorter than a quarter of the longest recent gap: a
//! start-up burst (2 s gaps before 64 s polls) never becomes the interval,
//! and one late request moves a median, not a mean.

use crate::time::NS_PER_SEC;

/// Gaps remembered per client.
const WINDOW: usize = 9;
/// Gaps needed before an interval counts as learned.
const MIN_GAPS: usize = 4;

#[derive(Debug, Clone, Default)]
pub struct PollLearner {
    gaps: [i64; WINDOW],
    /// Gaps recorded so far (saturating at `WINDOW` for indexing).
    count: usize,
    next: usize,
    last_rx_ns: Option<i64>,
}

impl PollLearner {
    /// Account one request; returns the gap since the previous one.
    pub fn on_request(&mut self, rx_ns: i64) -> Option<i64> {
        let gap = self.last_rx_ns.map(|l| rx_ns.saturating_sub(l));
        self.last_rx_ns = Some(rx_ns.max(self.last_rx_ns.unwrap_or(i64::MIN)));
        let g = gap.filter(|&g| g > 0)?;
        if let Some(slot) = self.gaps.get_mut(self.next) {
            *slot = g;
        }
        self.next = (self.next + 1) % WINDOW;
        self.count = self.count.saturating_add(1);
        Some(g)
    }

    fn recent(&self) -> &[i64] {
        self.gaps.get(..self.count.min(WINDOW)).unwrap_or(&[])
    }

    /// Recent gaps, oldest first.
    fn ordered(&self) -> Vec<i64> {
        let n = self.count.min(WINDOW);
        (0..n)
            .filter_map(|i| {
                self.gaps
                    .get((self.next + WINDOW - n + i) % WINDOW)
                    .copied()
            })
            .collect()
    }

    /// The recent gaps that are polls, not bursts.
    fn polls(&self) -> Vec<i64> {
        let max = self.recent().iter().copied().max().unwrap_or(0);
        self.ordered()
            .into_iter()
            .filter(|&g| g >= max / 4)
            .collect()
    }

    /// The learned interval (ns), once enough gaps were seen.
    pub fn learned_ns(&self) -> Option<i64> {
        if self.count < MIN_GAPS {
            return None;
        }
        let mut p = self.polls();
        p.sort_unstable();
        p.get(p.len() / 2).copied()
    }

    /// The longest recent poll gap (for the FAIL deadline of a learned
    /// interval: a client that moved to a longer poll is not lost).
    pub fn longest_ns(&self) -> Option<i64> {
        self.recent().iter().copied().max()
    }

    /// Polling is irregular against a configured interval when one of the
    /// last three gaps (bursts under an eighth of it ignored) falls outside
    /// 0.5 .. 1.5 × it; against a learned one when the last four polls
    /// spread by more than a factor 4 (Windows Time doubles its poll
    /// routinely; erratic is more than that).
    pub fn irregular(&self, configured_ns: Option<i64>) -> bool {
        match configured_ns {
            Some(iv) if iv > 0 => self
                .ordered()
                .into_iter()
                .filter(|&g| g >= iv / 8)
                .rev()
                .take(3)
                .any(|g| g < iv / 2 || g > iv + iv / 2),
            _ => {
                if self.count < MIN_GAPS {
                    return false;
                }
                let m = self.learned_ns().unwrap_or(0);
                let last: Vec<i64> = self
                    .ordered()
                    .into_iter()
                    .filter(|&g| g >= m / 8)
                    .rev()
                    .take(4)
                    .collect();
                let (lo, hi) = (
                    last.iter().copied().min().unwrap_or(0),
                    last.iter().copied().max().unwrap_or(0),
                );
                last.len() >= 2 && lo > 0 && hi / lo > 4 && hi - lo > NS_PER_SEC
            }
        }
    }
}
