//! [`Tape`]: a cassette being recorded or played while a scenario runs.

use super::{Cassette, Interaction, RecordedRequest, RecordedResponse, Redactor};
use std::sync::Mutex;

/// What a [`Tape`] does with the requests it sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TapeMode {
    /// Requests go to the live API; each exchange is kept.
    Record,
    /// Requests are answered from the cassette; nothing reaches the network.
    Replay {
        /// A request must match a recorded one exactly (method, URL, body).
        /// When false (a canary, whose new version may write other bodies),
        /// a request with the same method and URL gets that response, and
        /// its body difference is noted.
        strict: bool,
    },
}

/// What a replay saw, for the verdict.
#[derive(Debug, Clone, Default)]
pub struct Played {
    /// Every request asked, in order (redacted).
    pub asked: Vec<RecordedRequest>,
    /// Requests with no recorded answer (`METHOD URL`), in order.
    pub unmatched: Vec<String>,
    /// Recorded requests nobody asked (`METHOD URL`).
    pub unplayed: Vec<String>,
}

/// A cassette being recorded or played by the outbound HTTP capability (see
/// the [module docs](super)). Shared by every instance of a scenario's runs.
#[derive(Debug)]
pub struct Tape {
    mode: TapeMode,
    redactor: Redactor,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    interactions: Vec<Interaction>,
    played: Vec<bool>,
    asked: Vec<RecordedRequest>,
    unmatched: Vec<String>,
}

impl Tape {
    /// A tape recording what the live API answers.
    pub fn record(redactor: Redactor) -> Tape {
        Tape {
            mode: TapeMode::Record,
            redactor,
            state: Mutex::default(),
        }
    }

    /// A tape answering from `cassette`.
    pub fn replay(cassette: &Cassette, strict: bool, redactor: Redactor) -> Tape {
        let interactions = cassette.interactions.clone();
        Tape {
            mode: TapeMode::Replay { strict },
            redactor,
            state: Mutex::new(State {
                played: vec![false; interactions.len()],
                interactions,
                ..State::default()
            }),
        }
    }

    /// Whether it records or replays.
    pub fn mode(&self) -> TapeMode {
        self.mode
    }

    /// The redactor requests and responses go through.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The recorded answer to `request` (already redacted): the first
    /// unplayed interaction that matches it, else, when not strict, the
    /// first unplayed one with the same method and URL, else none.
    pub fn play(&self, request: &RecordedRequest) -> Option<RecordedResponse> {
        let strict = !matches!(self.mode, TapeMode::Replay { strict: false });
        let mut state = self.state();
        state.asked.push(request.clone());
        let free = |state: &State, test: &dyn Fn(&RecordedRequest) -> bool| {
            (0..state.interactions.len())
                .find(|&i| !state.played[i] && test(&state.interactions[i].request))
        };
        let found = free(&state, &|r| r.matches(request))
            .or_else(|| (!strict).then(|| free(&state, &|r| r.same_target(request)))?);
        match found {
            Some(i) => {
                state.played[i] = true;
                Some(state.interactions[i].response.clone())
            }
            None => {
                state.unmatched.push(request.line());
                None
            }
        }
    }

    /// Keep one exchange (record mode; both already redacted).
    pub fn keep(&self, request: RecordedRequest, response: RecordedResponse) {
        let mut state = self.state();
        state.asked.push(request.clone());
        state.interactions.push(Interaction { request, response });
        state.played.push(true);
    }

    /// What was asked, unmatched and left unplayed so far.
    pub fn played(&self) -> Played {
        let state = self.state();
        Played {
            asked: state.asked.clone(),
            unmatched: state.unmatched.clone(),
            unplayed: (0..state.interactions.len())
                .filter(|&i| !state.played[i])
                .map(|i| state.interactions[i].request.line())
                .collect(),
        }
    }

    /// The exchanges on the tape, in order (what a recording saves).
    pub fn interactions(&self) -> Vec<Interaction> {
        self.state().interactions.clone()
    }
}
