//! `challenge fmt`: canonical output, `--check`, `--write`, and files with errors.

use crate::util::{self, fixture};

const MESSY: &str = "// A messy file.\nchallenge \"messy\" { goal   every day { count(workouts)>=1 } title \"Messy\"\n  window 2026-08-01 to 2026-08-31 // the window\n}\n";

#[test]
fn check_write_and_stdout() {
    let dir = util::scratch("fmt");
    let file = dir.join("messy.chal");
    std::fs::write(&file, MESSY).expect("write");
    let check = util::challenge(["fmt".as_ref(), "--check".as_ref(), file.as_os_str()]);
    assert_eq!(check.code, 1);
    assert!(check.stdout.is_empty());
    let printed = util::challenge(["fmt".as_ref(), file.as_os_str()]);
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    insta::assert_snapshot!("fmt_messy", printed.stdout);
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        MESSY,
        "stdout mode leaves the file alone"
    );
    let write = util::challenge(["fmt".as_ref(), "--write".as_ref(), file.as_os_str()]);
    assert_eq!(write.code, 0);
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        printed.stdout
    );
    let check = util::challenge(["fmt".as_ref(), "--check".as_ref(), file.as_os_str()]);
    assert_eq!(check.code, 0, "{}", check.stderr);
}

#[test]
fn syntax_errors_print_diagnostics_and_no_output() {
    let run = util::challenge(["fmt", &fixture("invalid/syntax.chal").display().to_string()]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("E0001"), "{}", run.stderr);
}
