use super::*;

#[test]
fn two_registries_do_not_mix_counts() {
    let (a, b) = (Metrics::new(), Metrics::new());
    a.job_enqueued("shop", "import");
    a.job_enqueued("shop", "import");
    b.job_enqueued("shop", "import");
    let text = a.render(&[]);
    assert!(
        text.contains("ferry_jobs_enqueued_total{instance=\"shop\",job=\"import\"} 2"),
        "{text}"
    );
    let text = b.render(&[]);
    assert!(
        text.contains("ferry_jobs_enqueued_total{instance=\"shop\",job=\"import\"} 1"),
        "{text}"
    );
}

#[test]
fn text_names_every_family_with_help_and_type() {
    let metrics = Metrics::new();
    metrics.job_started("shop", "import", Duration::from_millis(20));
    metrics.job_ended(
        "shop",
        "import",
        JobOutcome::Retried,
        Duration::from_secs(1),
    );
    metrics.outbound("api.example.com", None, Some(Refusal::Address));
    metrics.webhook(202);
    metrics.rescued(3);
    let depth = [QueueDepth {
        state: "pending".into(),
        channel: "root".into(),
        jobs: 7,
    }];
    let text = metrics.render(&depth);
    for line in [
        "# TYPE ferry_jobs_retried_total counter",
        "ferry_jobs_retried_total{instance=\"shop\",job=\"import\"} 1",
        "ferry_job_duration_seconds_count{instance=\"shop\",job=\"import\"} 1",
        "ferry_job_queue_wait_seconds_count{instance=\"shop\",job=\"import\"} 1",
        "ferry_outbound_requests_total{host=\"api.example.com\",status=\"\",refusal=\"address\"} 1",
        "ferry_webhook_calls_total{status=\"202\"} 1",
        "ferry_lease_rescues_total 3",
        "# TYPE ferry_queue_jobs gauge",
        "ferry_queue_jobs{state=\"pending\",channel=\"root\"} 7",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("# EOF"), "{text}");
}

#[test]
fn label_values_with_quotes_and_newlines_are_escaped() {
    let metrics = Metrics::new();
    metrics.job_enqueued("a\"b\nc", "x\\y");
    let text = metrics.render(&[]);
    assert!(
        text.contains(r#"ferry_jobs_enqueued_total{instance="a\"b\nc",job="x\\y"} 1"#),
        "{text}"
    );
}
