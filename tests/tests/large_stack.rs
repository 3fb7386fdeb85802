//! A stack large enough to be rendered on several threads still synthesizes the same
//! bytes every time, in logical-id order, with every resource checked.

#[test]
fn large_stack_synthesis_is_deterministic_and_complete() {
    let copies = 60; // 720 resources: above the threshold for parallel rendering
    let first = bench_synth::app(copies)
        .and_then(|a| a.synth())
        .expect("valid");
    let second = bench_synth::app(copies)
        .and_then(|a| a.synth())
        .expect("valid");
    assert_eq!(first.outputs(), second.outputs());
    let template = first.stacks[0].template();
    let ids: Vec<&String> = template["Resources"]
        .as_object()
        .expect("resources")
        .keys()
        .collect();
    assert_eq!(ids.len(), copies * bench_synth::RESOURCES_PER_COPY);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "resources are written in logical id order");
}

#[test]
fn findings_in_a_large_stack_are_all_reported() {
    // Every copy's log groups lose their retention through an unacknowledged rule
    // violation; each must be reported, whichever thread rendered it.
    let mut app = bench_synth::app(60).expect("valid");
    app.add_check(Box::new(EveryLogGroup));
    let err = app
        .synth()
        .expect_err("the extra rule fails every log group")
        .to_string();
    assert!(
        err.starts_with("180 validation errors"),
        "{}",
        &err[..200.min(err.len())]
    );
}

struct EveryLogGroup;
impl frugal_core::Check for EveryLogGroup {
    fn rule(&self) -> &'static str {
        "TEST-EVERY-LOG-GROUP"
    }
    fn check(
        &self,
        _: &frugal_core::CheckContext<'_>,
        r: &frugal_core::CheckedResource<'_>,
        findings: &mut Vec<frugal_core::Finding>,
    ) {
        if r.type_name == "AWS::Logs::LogGroup" {
            findings.push(frugal_core::Finding::new("LogGroupName", "flagged"));
        }
    }
}
