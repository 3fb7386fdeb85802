//! The README's "Your own stack" example, kept compiling and true.

use frugal_constructs::{
    rules, Budget, BudgetProps, LogGroupName, PrefixTier, RetainedLogGroup, RetainedLogGroupProps,
    RetentionDays, TieredBucket, TieredBucketProps,
};
use frugal_core::App;

fn shop(archive_after_days: u32) -> Result<frugal_core::Assembly, frugal_core::Violations> {
    let mut app = App::new("shop");
    app.set_tag("Project", "Shop");
    app.require_tags(["Project"]);
    rules::add_rule_pack(&mut app);

    let mut stack = app.new_stack("Shop-Data");
    TieredBucket::new(
        &mut stack.root(),
        "Uploads",
        TieredBucketProps::new("shop-uploads-dev").tier(
            PrefixTier::intelligent_tiering("images/", 0).with_archive(archive_after_days, 180),
        ),
    )?;
    RetainedLogGroup::new(
        &mut stack.root(),
        "Api",
        RetainedLogGroupProps::new(LogGroupName::custom("/shop/api"), RetentionDays::TwoWeeks),
    )?;
    Budget::new(
        &mut stack.root(),
        "Budget",
        BudgetProps::new(50.0, vec!["ops@example.com".into()]),
    )?;
    app.add_stack(stack);
    app.synth()
}

#[test]
fn readme_example_synthesizes_what_it_says() {
    let asm = shop(90).expect("the README example is valid");
    let t = asm.stack("Shop-Data").expect("stack").template();
    let filter = &t["Resources"]["Budget"]["Properties"]["Budget"]["CostFilters"]["TagKeyValue"][0];
    assert_eq!(filter, "user:Project$Shop");
    assert_eq!(t["Resources"]["Api"]["Properties"]["RetentionInDays"], 14);
}

#[test]
fn readme_error_example_is_the_real_message() {
    let err = shop(30)
        .expect_err("30 days is below the archive minimum")
        .to_string();
    let readme = include_str!("../../README.md");
    let line = "  - Shop-Data/Uploads: tiers[0].archive.archive_after_days: ARCHIVE_ACCESS takes 90 to 730 days, not 30";
    assert!(err.contains(line), "{err}");
    assert!(readme.contains(line), "README shows a different message");
}
