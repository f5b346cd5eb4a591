//! Compile-time behaviour of the macros (trybuild): every supported form compiles, and
//! every mistake is an error with a span on the offending token (reviewed `.stderr`).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
