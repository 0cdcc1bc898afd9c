//! Channels: a tree of capacities (`root:4,root.shop:2`) that caps how many
//! jobs run at once per backend instance or per job kind, as in Odoo's job
//! queue. A job runs in its channel; a channel nobody configured counts
//! against its nearest configured ancestor, and every channel against all of
//! its ancestors. Counts are taken across all workers of the database.

use crate::error::{Error, Result};
use crate::store::{Candidate, ClaimLoad};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

/// Channel capacities. The default caps nothing (each worker's concurrency
/// still applies).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    capacity: BTreeMap<String, i64>,
}

impl FromStr for Channels {
    type Err = Error;

    /// Parse `root:4,root.shop:2` (a channel without `:N` gets capacity 1).
    fn from_str(text: &str) -> Result<Self> {
        let mut capacity = BTreeMap::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, cap) = part.split_once(':').unwrap_or((part, "1"));
            let name = name.trim();
            let valid = name == "root" || name.starts_with("root.");
            if !valid || name.split('.').any(str::is_empty) {
                return Err(Error::Invalid(format!(
                    "channel `{name}` in `{text}`: channels are `root` or below it, e.g. root.shop"
                )));
            }
            let cap: i64 = cap.trim().parse().ok().filter(|c| *c > 0).ok_or_else(|| {
                Error::Invalid(format!(
                    "channel `{name}` in `{text}`: capacity `{cap}` is not a positive number"
                ))
            })?;
            capacity.insert(name.to_string(), cap);
        }
        Ok(Channels { capacity })
    }
}

impl fmt::Display for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .capacity
            .iter()
            .map(|(name, cap)| format!("{name}:{cap}"))
            .collect();
        f.write_str(&parts.join(","))
    }
}

impl Channels {
    /// Whether any capacity is configured (claims then count running jobs).
    pub fn is_capped(&self) -> bool {
        !self.capacity.is_empty()
    }

    /// The configured channels a job of `channel` counts against: its own (or
    /// nearest configured ancestor) and every configured ancestor.
    fn counted(&self, channel: &str) -> Vec<&str> {
        let mut path = Vec::new();
        let mut name = channel;
        loop {
            if let Some((key, _)) = self.capacity.get_key_value(name) {
                path.push(key.as_str());
            }
            match name.rfind('.') {
                Some(dot) => name = &name[..dot],
                None => break,
            }
        }
        path
    }

    /// Choose, in order, the candidates that fit: at most `max`, and no
    /// configured channel over its capacity given what already runs.
    pub fn pick(&self, load: &ClaimLoad, candidates: &[Candidate], max: usize) -> Vec<i64> {
        if !self.is_capped() {
            return candidates.iter().take(max).map(|c| c.id).collect();
        }
        let mut used: HashMap<&str, i64> = HashMap::new();
        for (channel, n) in &load.running {
            for counted in self.counted(channel) {
                *used.entry(counted).or_default() += n;
            }
        }
        let mut chosen = Vec::new();
        for candidate in candidates {
            if chosen.len() >= max {
                break;
            }
            let path = self.counted(&candidate.channel);
            let fits = path
                .iter()
                .all(|c| used.get(c).copied().unwrap_or(0) < self.capacity[*c]);
            if fits {
                for c in path {
                    *used.entry(c).or_default() += 1;
                }
                chosen.push(candidate.id);
            }
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use crate::queue::channels::Channels;
    use crate::store::{Candidate, ClaimLoad};

    fn candidates(channels: &[&str]) -> Vec<Candidate> {
        channels
            .iter()
            .enumerate()
            .map(|(i, c)| Candidate {
                id: i as i64 + 1,
                channel: c.to_string(),
            })
            .collect()
    }

    #[test]
    fn a_sub_channel_is_capped_within_its_parent() {
        let channels: Channels = "root:3,root.shop:1".parse().unwrap();
        let jobs = candidates(&["root.shop", "root.shop", "root", "root.shop.slow", "root"]);
        // One shop job (its sub-channel counts against root.shop), then root fills up.
        assert_eq!(
            channels.pick(&ClaimLoad::default(), &jobs, 10),
            vec![1, 3, 5]
        );
    }

    #[test]
    fn running_jobs_use_up_capacity() {
        let channels: Channels = "root.shop:2".parse().unwrap();
        let load = ClaimLoad {
            running: [("root.shop".to_string(), 2)].into_iter().collect(),
        };
        let jobs = candidates(&["root.shop", "root.crm"]);
        assert_eq!(channels.pick(&load, &jobs, 10), vec![2]);
    }

    #[test]
    fn bad_channels_are_refused_with_the_reason() {
        let err = "shop:2".parse::<Channels>().unwrap_err().to_string();
        assert!(err.contains("channels are `root` or below it"), "{err}");
        let err = "root.shop:zero"
            .parse::<Channels>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a positive number"), "{err}");
        assert_eq!(
            "root:4, root.shop:2"
                .parse::<Channels>()
                .unwrap()
                .to_string(),
            "root:4,root.shop:2"
        );
    }
}
