//! The `tlsferry` binary: everything is in the `tlsferry_cli` library.

fn main() -> std::process::ExitCode {
    tlsferry_cli::main()
}
