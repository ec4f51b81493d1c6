//! The `tlsferry` command line, built inside the tests package so that its integration
//! tests can run it as a process through `env!("CARGO_BIN_EXE_tlsferry-cli")`: cargo
//! then always builds it fresh with the code under test. It is the same one-line
//! program as `native/src/main.rs`.

fn main() -> std::process::ExitCode {
    tlsferry_cli::main()
}
