//! Interleaved, paired measurement: the contenders of one comparison take
//! turns, round after round, so that a change in the machine's load hits
//! them all alike and the ratio of two contenders in one round stays
//! meaningful on a shared machine. Criterion measures one function after the
//! other, which lets a burst of load land on one side only; these rounds are
//! what the report's ratios come from.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// One side of a comparison: a name and one iteration of the work.
pub struct Contender<'a> {
    /// Name, e.g. `ours`.
    pub name: &'static str,
    /// One iteration.
    pub run: Box<dyn FnMut() + 'a>,
}

impl<'a> Contender<'a> {
    /// A contender whose iteration calls `run` and keeps its result alive
    /// until the call returns (through [`black_box`]).
    pub fn new<T>(name: &'static str, mut run: impl FnMut() -> T + 'a) -> Self {
        Self {
            name,
            run: Box::new(move || {
                black_box(run());
            }),
        }
    }
}

impl std::fmt::Debug for Contender<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Contender")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// How long and how often to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Rounds; each runs every contender once for about `sample`.
    pub rounds: usize,
    /// Target duration of one contender's turn.
    pub sample: Duration,
}

impl Plan {
    /// The plan of `--quick` runs, or a longer one.
    pub fn new(quick: bool) -> Self {
        if quick {
            Self {
                rounds: 15,
                sample: Duration::from_millis(40),
            }
        } else {
            Self {
                rounds: 41,
                sample: Duration::from_millis(100),
            }
        }
    }
}

/// Per-iteration times, one per round, in nanoseconds, for each contender in
/// the order given.
pub fn measure(plan: Plan, contenders: &mut [Contender<'_>]) -> Vec<(&'static str, Vec<f64>)> {
    // Warm up, and find how many iterations fill a turn.
    let batches: Vec<u64> = contenders
        .iter_mut()
        .map(|c| {
            (c.run)();
            let started = Instant::now();
            let mut n = 0u64;
            while started.elapsed() < plan.sample / 2 || n == 0 {
                (c.run)();
                n += 1;
            }
            let per = started.elapsed().as_secs_f64() / n as f64;
            ((plan.sample.as_secs_f64() / per).ceil() as u64).max(1)
        })
        .collect();
    let mut times = vec![Vec::with_capacity(plan.rounds); contenders.len()];
    let count = contenders.len();
    for round in 0..plan.rounds {
        // Rotate who goes first, so no one always follows the same neighbour.
        for k in 0..count {
            let i = (round + k) % count;
            let started = Instant::now();
            for _ in 0..batches[i] {
                (contenders[i].run)();
            }
            times[i].push(started.elapsed().as_nanos() as f64 / batches[i] as f64);
        }
    }
    contenders.iter().map(|c| c.name).zip(times).collect()
}

/// Measures `contenders` and returns the JSON line `bench-report` reads:
/// `{"bench":"paired","group":..,"bytes"|"elements":..,"times_ns":{name:[..]}}`.
pub fn report(
    group: &str,
    work: Work,
    plan: Plan,
    contenders: &mut [Contender<'_>],
) -> serde_json::Value {
    let times: serde_json::Map<String, serde_json::Value> = measure(plan, contenders)
        .into_iter()
        .map(|(name, times)| (name.to_owned(), times.into()))
        .collect();
    let mut line = serde_json::json!({ "bench": "paired", "group": group, "times_ns": times });
    match work {
        Work::Bytes(n) => line["bytes"] = n.into(),
        Work::Elements(n) => line["elements"] = n.into(),
    }
    line
}

/// Work done by one iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Bytes decoded.
    Bytes(u64),
    /// Requests or operations.
    Elements(u64),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_contender_gets_every_round() {
        let mut calls = [0u32; 2];
        let (a, b) = calls.split_at_mut(1);
        let mut contenders = [
            Contender::new("a", || a[0] += 1),
            Contender::new("b", || b[0] += 1),
        ];
        let plan = Plan {
            rounds: 3,
            sample: Duration::from_micros(200),
        };
        let line = report("g", Work::Elements(1), plan, &mut contenders);
        assert_eq!(line["times_ns"]["a"].as_array().unwrap().len(), 3);
        assert_eq!(line["times_ns"]["b"].as_array().unwrap().len(), 3);
        assert_eq!(line["elements"], 1);
        drop(contenders);
        assert!(calls.iter().all(|&n| n > 3));
    }
}
