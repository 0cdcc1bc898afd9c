//! Topics a connector publishes to, and the patterns that grant them
//! (`[capabilities] publish = ["order.*"]`).
//!
//! The grammar is NATS's, since subjects are the most constrained of the
//! brokers Ferry relays to (RabbitMQ routing keys, MQTT topics and Redis
//! stream names take every NATS subject as it is):
//!
//! - a topic is 1 to 8 segments separated by `.`, each 1 to 64 ASCII
//!   letters, digits, `-` or `_` (`order.imported`), at most 255 bytes;
//! - in a pattern, a segment `*` matches exactly one segment
//!   (`order.*` matches `order.imported`, not `order` nor `order.a.b`), and a
//!   last segment `>` matches one or more segments (`order.>` matches
//!   `order.a` and `order.a.b`); `**` is taken as `>`.
//!
//! Deny by default: a topic no pattern matches is refused, and the refusal
//! names the manifest key to add.

/// Most segments in a topic.
pub const MAX_TOPIC_SEGMENTS: usize = 8;
/// Longest topic, in bytes.
pub const MAX_TOPIC_BYTES: usize = 255;

fn valid_segment(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Check a topic a guest publishes to: why it is not one, if it is not.
pub fn check_topic(topic: &str) -> Result<(), String> {
    if topic.is_empty() || topic.len() > MAX_TOPIC_BYTES {
        return Err(format!(
            "topic {topic:?}: must be 1 to {MAX_TOPIC_BYTES} bytes"
        ));
    }
    let segments: Vec<&str> = topic.split('.').collect();
    if segments.len() > MAX_TOPIC_SEGMENTS {
        return Err(format!(
            "topic {topic:?}: has {} segments, at most {MAX_TOPIC_SEGMENTS}",
            segments.len()
        ));
    }
    match segments.iter().find(|s| !valid_segment(s)) {
        Some(bad) => Err(format!(
            "topic {topic:?}: segment {bad:?} must be 1 to 64 letters, digits, `-` or `_` \
             (segments are separated by `.`, e.g. `order.imported`)"
        )),
        None => Ok(()),
    }
}

/// One segment of a [`TopicPattern`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// This segment exactly.
    Exact(String),
    /// `*`: any one segment.
    One,
    /// `>` (last only): one or more segments.
    Rest,
}

/// A pattern of topics (see the [module doc](self)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicPattern {
    text: String,
    parts: Vec<Part>,
}

impl TopicPattern {
    /// Parse a pattern, or say why it is not one.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.is_empty() || text.len() > MAX_TOPIC_BYTES {
            return Err(format!(
                "topic pattern {text:?}: must be 1 to {MAX_TOPIC_BYTES} bytes"
            ));
        }
        let segments: Vec<&str> = text.split('.').collect();
        if segments.len() > MAX_TOPIC_SEGMENTS {
            return Err(format!(
                "topic pattern {text:?}: at most {MAX_TOPIC_SEGMENTS} segments"
            ));
        }
        let mut parts = Vec::with_capacity(segments.len());
        for (i, s) in segments.iter().enumerate() {
            let part = match *s {
                "*" => Part::One,
                ">" | "**" if i + 1 == segments.len() => Part::Rest,
                ">" | "**" => {
                    return Err(format!(
                        "topic pattern {text:?}: `{s}` matches the rest of a topic, so it must be \
                         the last segment"
                    ));
                }
                s if valid_segment(s) => Part::Exact(s.to_string()),
                s => {
                    return Err(format!(
                        "topic pattern {text:?}: segment {s:?} must be `*`, `>` (last) or 1 to 64 \
                         letters, digits, `-` or `_`"
                    ));
                }
            };
            parts.push(part);
        }
        Ok(TopicPattern {
            text: text.to_string(),
            parts,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `topic` (a checked topic) matches.
    pub fn matches(&self, topic: &str) -> bool {
        let segments: Vec<&str> = topic.split('.').collect();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Rest => return segments.len() > i,
                Part::One if i < segments.len() => {}
                Part::Exact(s) if segments.get(i) == Some(&s.as_str()) => {}
                _ => return false,
            }
        }
        segments.len() == self.parts.len()
    }

    /// How specific the pattern is, to pick the most specific of several
    /// that match: exact segments count most, then the number of segments.
    pub fn specificity(&self) -> (usize, usize) {
        let exact = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Exact(_)))
            .count();
        (exact, self.parts.len())
    }
}

#[cfg(test)]
mod tests {
    use super::{TopicPattern, check_topic};

    fn matches(pattern: &str, topic: &str) -> bool {
        TopicPattern::parse(pattern).unwrap().matches(topic)
    }

    #[test]
    fn star_is_one_segment_and_rest_is_one_or_more() {
        assert!(matches("order.*", "order.imported"));
        assert!(!matches("order.*", "order"));
        assert!(!matches("order.*", "order.a.b"));
        assert!(matches("order.>", "order.a"));
        assert!(matches("order.>", "order.a.b"));
        assert!(!matches("order.>", "order"));
        assert!(matches("order.**", "order.a.b"));
        assert!(matches("*.imported", "order.imported"));
        assert!(matches("order.imported", "order.imported"));
        assert!(!matches("order.imported", "order.importe"));
        assert!(matches(">", "anything.at.all"));
    }

    #[test]
    fn bad_patterns_and_topics_say_why() {
        assert!(TopicPattern::parse("a.>.b").unwrap_err().contains("last"));
        assert!(TopicPattern::parse("a..b").is_err());
        assert!(TopicPattern::parse("a b").is_err());
        assert!(check_topic("order.*").is_err());
        assert!(check_topic("order.imported").is_ok());
        assert!(check_topic("").is_err());
        assert!(check_topic("a.b.c.d.e.f.g.h.i").is_err());
    }

    #[test]
    fn specific_patterns_rank_higher() {
        let exact = TopicPattern::parse("order.imported").unwrap();
        let star = TopicPattern::parse("order.*").unwrap();
        let any = TopicPattern::parse(">").unwrap();
        assert!(exact.specificity() > star.specificity());
        assert!(star.specificity() > any.specificity());
    }
}
