//! The page's built-in scenario list is exactly scenarios/, and every entry parses.

use gateway_lab::sim::Scenario;
use gateway_lab::ui::library::SCENARIOS;

#[test]
fn the_page_offers_every_scenario_file() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let listed: Vec<String> = SCENARIOS.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(listed, files, "src/ui/library.rs must list every file in scenarios/, sorted");
    for (name, text) in SCENARIOS {
        Scenario::from_json(text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
